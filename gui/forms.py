"""Form fields with tooltips, persistence and an error marker.

Each :class:`Field` knows the config path it fills (``"optim.lr"``) and the names a
``ConfigError.field_name`` uses for it, so a failed ``RunConfig.validate()`` is flagged at
the field the user must change. Values are plain Python (str, int, float, bool).
"""
from __future__ import annotations

import math
from functools import partial
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QT_TRANSLATE_NOOP, Qt, QTimer
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QFormLayout, QGroupBox, QLabel, QLineEdit,
                               QScrollArea, QSizePolicy, QSpinBox, QWidget)

from engine.knobs import ConfigError
from gui.errors import message_text
from gui.form_widgets import RefreshingCombo, WidestTextLabel, compact_combo, refill_combo, with_browse_button
from gui.settings import Settings
from gui.widgets import row_of


class Field:
    """One labelled input. Subclasses implement ``value`` and ``set_value`` over ``self.editor``;
    ``persist`` says whether the settings keep its value between sessions."""

    persist = True

    def __init__(self, key: str, label: str, tooltip: str, editor: QWidget, config_path: str | None = None,
                 error_names: Iterable[str] = ()):
        self.key, self.label, self.tooltip = key, label, tooltip
        self.editor = editor
        self.widget: QWidget = editor  # what goes into the layout (a row for compound fields)
        self.config_path = config_path
        self.error_name = config_path.rsplit(".", 1)[-1] if config_path else key
        self.error_names = {self.error_name, key, *error_names}
        self.editor.setToolTip(tooltip)
        self.editor.setObjectName(f"field_{key}")
        self.error: str | None = None

    def value(self) -> Any:
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def saved_value(self) -> Any:
        """What the settings keep: the value (fields that can hold unreadable text keep the text)."""
        return self.value()

    def set_error(self, message: str | None) -> None:
        """Mark the field invalid (red frame, message as tooltip) or clear the mark."""
        self.error = message
        self.editor.setProperty("invalid", message is not None)
        self.editor.setToolTip(f"⚠ {message}\n\n{self.tooltip}" if message else self.tooltip)
        self.editor.style().unpolish(self.editor)
        self.editor.style().polish(self.editor)

    def flag(self, error: ConfigError) -> Field | None:
        """Mark and focus the field ``error`` names; returns the field marked (None: not this one)."""
        if error.field_name not in self.error_names:
            return None
        self.set_error(message_text(error))
        self.editor.setFocus()
        return self

    def align_labels(self, width: int) -> None:
        """Fields with labels of their own (compound fields) give them ``width``; others have none."""


class TextField(Field):
    def __init__(self, key: str, label: str, tooltip: str, config_path: str | None = None,
                 placeholder: str = "", **kwargs):
        editor = QLineEdit()
        editor.setPlaceholderText(placeholder)
        super().__init__(key, label, tooltip, editor, config_path, **kwargs)

    def value(self) -> str:
        return self.editor.text().strip()

    def set_value(self, value: Any) -> None:
        self.editor.setText("" if value is None else str(value))


class FloatField(TextField):
    """A number typed as text (``0.1``, ``2e-4``): any spelling is accepted, bad text is flagged."""

    def value(self) -> float:
        text = self.editor.text().strip().replace(",", ".")
        try:
            number = float(text)
        except ValueError:
            raise ConfigError(self.error_name, QCoreApplication.translate(
                "Forms", "{0} is not a number; type e.g. 0.1 or 2e-4").format(repr(text))) from None
        return number

    def saved_value(self) -> float | str:
        try:
            return self.value()
        except ConfigError:
            return self.editor.text()  # keep what was typed, even if it is not a number yet

    def set_value(self, value: Any) -> None:
        self.editor.setText(format_number(float(value)))


class IntField(Field):
    def __init__(self, key: str, label: str, tooltip: str, config_path: str | None = None,
                 minimum: int = 0, maximum: int = 1_000_000, suffix: str = "", **kwargs):
        editor = QSpinBox()
        editor.setRange(minimum, maximum)
        editor.setSuffix(suffix)
        editor.setAccelerated(True)
        super().__init__(key, label, tooltip, editor, config_path, **kwargs)

    def value(self) -> int:
        return self.editor.value()

    def set_value(self, value: Any) -> None:
        self.editor.setValue(int(value))


class ChoiceField(Field):
    """A combo box of ``(value, text)`` options; ``value()`` is the option's value."""

    def __init__(self, key: str, label: str, tooltip: str, options: Sequence[tuple[Any, str]],
                 config_path: str | None = None, **kwargs):
        editor = QComboBox()
        editor.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)  # no option is ever cut off
        super().__init__(key, label, tooltip, editor, config_path, **kwargs)
        self.set_options(options)

    def set_options(self, options: Sequence[tuple[Any, str]]) -> None:
        """Replace the options, keeping the current value when it is still offered."""
        current = self.value() if self.editor.count() else None
        refill_combo(self.editor, options)
        if current is not None:
            self.set_value(current)

    def value(self) -> Any:
        return self.editor.currentData()

    def set_value(self, value: Any) -> None:
        """Select ``value``; one not offered (yet) is added, so a restored choice survives until
        the engine lists the options, and a wrong one is flagged by validation."""
        index = self.editor.findData(value)
        if index < 0:
            self.editor.addItem(str(value), value)
            index = self.editor.count() - 1
        self.editor.setCurrentIndex(index)


class BoolField(Field):
    def __init__(self, key: str, label: str, tooltip: str, config_path: str | None = None, text: str = "", **kwargs):
        super().__init__(key, label, tooltip, QCheckBox(text), config_path, **kwargs)

    def value(self) -> bool:
        return self.editor.isChecked()

    def set_value(self, value: Any) -> None:
        self.editor.setChecked(bool(value))


class PathField(TextField):
    """A path typed or picked with "…" (a folder, or a file matching ``file_filter``)."""

    def __init__(self, key: str, label: str, tooltip: str, config_path: str | None = None,
                 folder: bool = True, file_filter: str = "", placeholder: str = "", **kwargs):
        super().__init__(key, label, tooltip, config_path, placeholder=placeholder, **kwargs)
        self.folder, self.file_filter = folder, file_filter
        tip = QCoreApplication.translate("Forms", "Choose a folder") if folder else QCoreApplication.translate(
            "Forms", "Choose a file")
        self.widget = with_browse_button(self.editor, tip, self.browse)

    def browse(self) -> None:
        start = self.value()
        if self.folder:
            chosen = QFileDialog.getExistingDirectory(self.widget, self.label, start)
        else:
            chosen, _ = QFileDialog.getOpenFileName(self.widget, self.label, start, self.file_filter)
        if chosen:
            self.set_value(chosen)


def format_number(value: float) -> str:
    """Short, exact-enough text for a float: 0.1, 0.0002 → 2e-04, 100."""
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e6):
        return f"{value:.0e}" if float(f"{value:.0e}") == value else f"{value:.3e}"
    return f"{value:g}"


class Form:
    """An ordered set of fields in titled groups, with persistence and error flagging."""

    def __init__(self, settings_prefix: str):
        self.prefix = settings_prefix
        self.fields: dict[str, Field] = {}
        self.labels: list[QLabel] = []
        self.scroll_area: QScrollArea | None = None  # the page's scroller, to bring a flagged field into view

    def group(self, title: str, fields: Sequence[Field], tooltip: str = "") -> QGroupBox:
        box = QGroupBox(title)
        box.setToolTip(tooltip)
        layout = QFormLayout(box)
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for field in fields:
            self.fields[field.key] = field
            field.widget.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            if not field.label:  # a compound field with labelled rows of its own spans both columns
                layout.addRow(field.widget)
                continue
            label = QLabel(field.label)
            label.setToolTip(field.tooltip)
            label.setBuddy(field.editor)
            self.labels.append(label)
            layout.addRow(label, field.widget)
        return box

    def align_labels(self) -> None:
        """Give every group's labels one width, so the fields line up across groups."""
        width = max((label.sizeHint().width() for label in self.labels), default=0)
        for label in self.labels:
            label.setMinimumWidth(width)
        for field in self.fields.values():
            field.align_labels(width)

    def __getitem__(self, key: str) -> Field:
        return self.fields[key]

    def values(self) -> dict[str, Any]:
        return {key: field.value() for key, field in self.fields.items()}

    def save(self, settings: Settings) -> None:
        for key, field in self.fields.items():
            if field.persist:
                settings.set(f"{self.prefix}/{key}", field.saved_value())

    def restore(self, settings: Settings) -> None:
        for key, field in self.fields.items():
            value = settings.get(f"{self.prefix}/{key}") if field.persist else None
            if value is None:
                continue
            try:
                field.set_value(value)
            except (TypeError, ValueError):
                pass  # a stored value from an older version that no longer fits

    def clear_errors(self) -> None:
        for field in self.fields.values():
            if field.error:
                field.set_error(None)

    def flag(self, error: ConfigError) -> Field | None:
        """Mark the field ``error`` names and focus it; returns it (None if no field matches)."""
        for field in self.fields.values():
            flagged = field.flag(error)
            if flagged is not None:
                return flagged
        return None

    def _owner(self, field: Field) -> Field:
        """The form's field that holds ``field`` (a hyperparameter row belongs to its compound field)."""
        return field if field in self.fields.values() else next(
            (owner for owner in self.fields.values() if owner.widget.isAncestorOf(field.editor)), field)

    def position(self, field: Field | None) -> int:
        """Where ``field`` (or the compound field holding it) sits in the form; after every field
        for None."""
        owners = list(self.fields.values())
        owner = None if field is None else self._owner(field)
        return owners.index(owner) if owner in owners else len(owners)

    def show_first(self, flagged: Sequence[Field | None]) -> None:
        """Focus the first of the ``flagged`` fields in form order and scroll it into view."""
        shown = min((field for field in flagged if field is not None), key=self.position, default=None)
        if shown is not None:
            shown.editor.setFocus()
            if self.scroll_area is not None:  # once the page has laid out the error line above the form
                QTimer.singleShot(0, partial(self.scroll_area.ensureWidgetVisible, shown.editor))


class ImbalanceField(FloatField):
    """The imbalance in either convention (100 or 0.01), with both spelled out beside it."""

    def __init__(self, key: str, label: str, tooltip: str, config_path: str | None = None, **kwargs):
        super().__init__(key, label, tooltip, config_path, **kwargs)
        self.editor.setMaximumWidth(90)
        self.hint = WidestTextLabel(describe_imbalance("1000"))
        self.hint.setObjectName("hint")
        self.widget = row_of(self.editor, (self.hint, 1), spacing=8)
        self.editor.textChanged.connect(self.update_hint)

    def update_hint(self) -> None:
        self.hint.setText(describe_imbalance(self.editor.text()))


def describe_imbalance(text: str) -> str:
    """``"100"`` or ``"0.01"`` → ``"ratio n_max/n_min = 100 (factor 0.01)"``."""
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        return QCoreApplication.translate("Forms", "type a ratio such as 100, or a factor such as 0.01")
    if not math.isfinite(value) or value <= 0:
        return QCoreApplication.translate("Forms", "must be positive")
    ratio = 1.0 / value if value < 1 else value
    return QCoreApplication.translate("Forms", "ratio n_max/n_min = {0} (factor {1})").format(
        f"{ratio:g}", f"{1.0 / ratio:.3g}")


class CheckpointField(Field):
    """A checkpoint picked from a list (refreshed whenever the list opens) or with "…".

    The list is first filled by ``refresh()`` (panels call it once the engine has loaded, as
    listing runs imports it); until then only the current value is offered."""

    def __init__(self, key: str, label: str, tooltip: str, choices: Callable[[], list[tuple[str, str]]],
                 config_path: str | None = None, none_text: str = "", visible_chars: int = 14, **kwargs):
        super().__init__(key, label, tooltip, compact_combo(RefreshingCombo(self.refresh), visible_chars), config_path,
                         **kwargs)
        self.choices, self.none_text = choices, none_text
        self.widget = with_browse_button(self.editor, QCoreApplication.translate(
            "Forms", "Choose a checkpoint file (.pt, .pth, .tar, .ckpt)"), self.browse)
        if none_text:
            self.editor.addItem(none_text, "")

    def refresh(self) -> None:
        """Re-list the choices, keeping the current one (also when it is not in the list)."""
        current = self.value() if self.editor.count() else ""
        options = ([("", self.none_text)] if self.none_text else []) + list(self.choices())
        refill_combo(self.editor, options, tooltips=True)
        self.set_value(current)

    def value(self) -> str:
        return self.editor.currentData() or ""

    def set_value(self, value: Any) -> None:
        path = str(value or "")
        index = self.editor.findData(path)
        if index < 0 and path:
            self.editor.addItem(Path(path).name, path)
            index = self.editor.count() - 1
            self.editor.setItemData(index, path, Qt.ItemDataRole.ToolTipRole)
        if index >= 0:
            self.editor.setCurrentIndex(index)

    def browse(self) -> None:
        start = str(Path(self.value()).parent) if self.value() else ""
        chosen, _ = QFileDialog.getOpenFileName(self.widget, self.label, start,
                                                QCoreApplication.translate("Forms", CHECKPOINT_FILTER))
        if chosen:
            self.set_value(chosen)


# translated where used: QCoreApplication.translate("Forms", CHECKPOINT_FILTER)
CHECKPOINT_FILTER = QT_TRANSLATE_NOOP("Forms", "Checkpoints (*.pt *.pth *.tar *.ckpt);;All files (*)")
CHECKPOINT_SUFFIXES = (".pt", ".pth", ".tar", ".ckpt")
