"""The chosen loss's hyperparameters as one compound form field.

Every registered method declares ``defaults`` (its paper's values), ``param_help``, ``param_labels``
and, when it has several stages, ``param_sections``; the engine info brings them to the GUI
(``EngineInfo.method_params``). The field shows one number row per hyperparameter of the loss
that its loss field selects, named in words and grouped under the stage it acts in, rebuilt
whenever that choice changes.
Its value holds only the numbers that differ from the defaults, which is what
``RunConfig.method.params`` expects (the method fills in the rest).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QFormLayout, QLabel, QWidget

from engine.knobs import ConfigError
from gui.engine_info import MethodParam
from gui.forms import ChoiceField, Field, FloatField, format_number


class MethodParamsField(Field):
    """Number rows for the hyperparameters of the loss chosen in ``loss``; values typed for one
    loss are kept while another is shown. ``empty_text`` is shown for a loss without any (or,
    when empty, the field hides)."""

    def __init__(self, key: str, tooltip: str, loss: ChoiceField, config_path: str | None = None,
                 empty_text: str = "", **kwargs):
        box = QWidget()
        self.rows_layout = QFormLayout(box)
        self.rows_layout.setContentsMargins(0, 0, 0, 0)
        self.rows_layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        super().__init__(key, "", tooltip, box, config_path, **kwargs)
        self.loss, self.empty_text = loss, empty_text
        self.catalog: dict[str, list[MethodParam]] = {}
        self.rows: dict[str, FloatField] = {}
        self.typed: dict[str, dict[str, Any]] = {}  # loss → the values set or typed for it (numbers or text)
        self.shown_loss: str | None = None
        self.label_width = 0
        loss.editor.currentIndexChanged.connect(self.follow_loss)
        self._rebuild()

    def set_catalog(self, catalog: Mapping[str, list[MethodParam]]) -> None:
        """The hyperparameters of every loss (from the engine); rebuilds the rows."""
        self._remember_rows()
        self.catalog = dict(catalog)
        self._rebuild()

    def follow_loss(self, _index: int = -1) -> None:
        """The loss changed: keep what was typed for the old one, show the new one's rows."""
        self._remember_rows()
        self._rebuild()

    def params(self) -> list[MethodParam]:
        return self.catalog.get(self.loss.value(), [])

    # --- Field ----------------------------------------------------------------------------
    def value(self) -> dict[str, float]:
        """The hyperparameters that differ from their defaults (ConfigError for unreadable or
        infinite text, naming the hyperparameter)."""
        changed = {}
        for param in self.params():
            number = self._read(self.rows[param.name], param)
            if number != param.default:
                changed[param.name] = number
        return changed

    def set_value(self, value: Any) -> None:
        """Show ``value`` (name → number) for the current loss; the others take their defaults."""
        if not isinstance(value, Mapping):
            raise TypeError(f"hyperparameters are a mapping, not {type(value).__name__}")
        self._remember_rows()
        self.typed[self.loss.value()] = dict(value)
        self._rebuild()

    def saved_value(self) -> dict[str, Any]:
        """What differs from the defaults, numbers or (unreadable) text as typed."""
        self._remember_rows()
        defaults = {param.name: param.default for param in self.params()}
        return {name: typed for name, typed in self.typed.get(self.loss.value(), {}).items()
                if typed != defaults.get(name)}

    def flag(self, error: ConfigError) -> Field | None:
        row = self.rows.get(error.field_name)
        if row is None:
            return super().flag(error)
        self.error = error.message  # so that Form.clear_errors clears the row again
        return row.flag(error)

    def set_error(self, message: str | None) -> None:
        if message is None:
            for row in self.rows.values():
                row.set_error(None)
        super().set_error(message)

    def align_labels(self, width: int) -> None:
        self.label_width = width
        for row in self.rows.values():
            self.rows_layout.labelForField(row.editor).setMinimumWidth(width)

    # --- rows -----------------------------------------------------------------------------
    def _remember_rows(self) -> None:
        if self.shown_loss is not None and self.rows:
            self.typed[self.shown_loss] = {name: row.saved_value() for name, row in self.rows.items()}

    def _rebuild(self) -> None:
        while self.rows_layout.rowCount():
            self.rows_layout.removeRow(0)
        self.rows = {}
        self.shown_loss = self.loss.value()
        typed = self.typed.get(self.shown_loss, {})
        section = ""
        for param in self.params():
            if param.section != section:  # a multi-stage method: its hyperparameters under their stage
                section = param.section
                title = QLabel(QCoreApplication.translate("Settings", section))  # engine texts: gui/engine_strings.py
                title.setObjectName("paramSection")
                self.rows_layout.addRow(title)
            label = param.label or param.name.replace("_", " ").capitalize()
            row = FloatField(param.name, QCoreApplication.translate("Settings", label), _describe(param))
            row.editor.setPlaceholderText(format_number(param.default))
            _show(row, typed.get(param.name, param.default))
            label = QLabel(row.label)
            label.setToolTip(row.tooltip)
            label.setBuddy(row.editor)
            label.setMinimumWidth(self.label_width)
            self.rows_layout.addRow(label, row.editor)
            self.rows[param.name] = row
        if not self.rows and self.empty_text:
            note = QLabel(self.empty_text)
            note.setObjectName("hint")
            self.rows_layout.addRow(note)
        if not self.rows and not self.empty_text:
            self.widget.hide()
        elif self.widget.parentWidget() is not None:  # showing a widget without a parent would open a window
            self.widget.show()

    @staticmethod
    def _read(row: FloatField, param: MethodParam) -> float:
        """The row's number; an empty row means the default."""
        if not row.editor.text().strip():
            return param.default
        number = row.value()
        if not math.isfinite(number):
            raise ConfigError(param.name, QCoreApplication.translate(
                "MethodParams", "{0!r} is not a finite number; the default is {1}").format(
                row.editor.text().strip(), format_number(param.default)))
        return number


def _describe(param: MethodParam) -> str:
    default = QCoreApplication.translate("MethodParams", "Default: {0}.").format(format_number(param.default))
    return f"{QCoreApplication.translate('Settings', param.help)}\n\n{default}" if param.help else default


def _show(row: FloatField, value: Any) -> None:
    """Show a number, or text typed earlier that is not (yet) one."""
    if isinstance(value, str):
        row.editor.setText(value)
    else:
        row.set_value(value)
