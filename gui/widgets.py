"""Small widgets the panels share: the log pane, the progress line, buttons and rows, columns and a
form scroller that are never narrower than their contents, CSV export."""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QObject, QSize, QT_TRANSLATE_NOOP, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QLabel, QPlainTextEdit, QProgressBar, QPushButton,
                               QScrollArea, QSizePolicy, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from gui.progress import EtaEstimator, format_duration

FAILED_COLOR = "#d64545"  # the error line's red
STAGE_WORDS = {"train": QT_TRANSLATE_NOOP("ProgressLine", "training"),
               "eval": QT_TRANSLATE_NOOP("ProgressLine", "evaluating"),
               "features": QT_TRANSLATE_NOOP("ProgressLine", "extracting features"),
               "tune": QT_TRANSLATE_NOOP("ProgressLine", "tuning"),
               "predict": QT_TRANSLATE_NOOP("ProgressLine", "predicting")}


class LogPane(QPlainTextEdit):
    """Read-only, time-stamped lines; keeps the newest 5000."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("logPane")
        self.setReadOnly(True)
        self.setMaximumBlockCount(5000)
        self.setPlaceholderText(self.tr("Messages from the engine appear here."))

    def add(self, text: str, level: str = "info") -> None:
        prefix = "⚠ " if level == "warning" else ""
        self.appendPlainText(f"{time.strftime('%H:%M:%S')}  {prefix}{text}")


class ProgressLine(QProgressBar):
    """Progress over all epochs, with the batch, the epoch and a smoothed time left as text."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setRange(0, 1000)
        self.setTextVisible(True)
        self.eta = EtaEstimator()
        self.idle()

    def idle(self, text: str | None = None) -> None:
        self.set_failed(False)
        self.setValue(0)
        self.setFormat(self.tr("Ready") if text is None else text)
        self.eta.reset()

    def done(self, text: str) -> None:
        self.set_failed(False)
        self.setValue(self.maximum())
        self.setFormat(text)

    def fail(self, text: str | None = None) -> None:
        """A failure: the bar stays where the task stopped, in red, with ⚠ before the text."""
        self.set_failed(True)
        self.setFormat(f"⚠ {self.tr('Failed') if text is None else text}")

    def set_failed(self, failed: bool) -> None:
        if bool(self.property("failed")) == failed:
            return
        self.setProperty("failed", failed)
        if failed:
            palette = self.palette()
            palette.setColor(QPalette.ColorRole.Highlight, QColor(FAILED_COLOR))
            self.setPalette(palette)
        else:
            self.setPalette(QPalette())  # back to the application's (theme) palette

    def show_progress(self, epoch: int, epochs: int, batch: int, batches: int, stage: str = "train",
                      stage_name: str = "") -> str:
        """Update from a Progress event; returns the text shown (for the status bar too).
        ``stage_name`` names the running stage of a multi-stage run; feature extraction counts
        passes over the data, not epochs."""
        self.set_failed(False)
        epochs, batches = max(1, epochs), max(1, batches)
        word = self.tr(STAGE_WORDS.get(stage, stage)).capitalize()
        if stage in ("train", "tune", "predict"):
            left = self.eta.update(epoch, epochs, batch, batches)
            self.setValue(int(1000 * ((epoch - 1) * batches + batch) / (epochs * batches)))
            eta = self.tr(" · {0} left").format(format_duration(left))
        else:
            eta = ""
        if stage_name:
            word = self.tr("{0} · stage {1}").format(word, stage_name)
        if stage == "predict":
            text = self.tr("{0} · image {1}/{2}{3}").format(word, batch, batches, eta)
        elif stage == "features":
            text = self.tr("{0} · pass {1}/{2} · batch {3}/{4}{5}").format(word, epoch, epochs, batch, batches, eta)
        else:
            text = self.tr("{0} · epoch {1}/{2} · batch {3}/{4}{5}").format(word, epoch, epochs, batch, batches, eta)
        self.setFormat(text)
        return text


def push_button(text: str, tooltip: str, clicked: Callable[[], None]) -> QPushButton:
    button = QPushButton(text)
    button.setToolTip(tooltip)
    button.clicked.connect(clicked)
    return button


def row_of(*items: QWidget | tuple[QWidget, int] | None, spacing: int | None = None) -> QWidget:
    """Widgets side by side in a margin-less row: ``(widget, stretch)`` to stretch one, ``None`` for
    a gap that pushes its neighbours apart; ``spacing`` defaults to the style's."""
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    if spacing is not None:
        layout.setSpacing(spacing)
    for item in items:
        if item is None:
            layout.addStretch(1)
        else:
            widget, stretch = item if isinstance(item, tuple) else (item, 0)
            layout.addWidget(widget, stretch)
    return row


class Column(QWidget):
    """Widgets stacked top to bottom (``(widget, stretch)`` to stretch one). A ``fitted`` column is
    never narrower than its contents want, so a splitter cannot squeeze it into clipping them."""

    def __init__(self, *items: QWidget | tuple[QWidget, int], margins: tuple[int, int, int, int] = (0, 0, 0, 0),
                 fitted: bool = False):
        super().__init__()
        self.fitted = fitted
        layout = QVBoxLayout(self)
        layout.setContentsMargins(*margins)
        for item in items:
            widget, stretch = item if isinstance(item, tuple) else (item, 0)
            layout.addWidget(widget, stretch)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(self.sizeHint().width(), hint.height()) if self.fitted else hint


class FormScrollArea(QScrollArea):
    """Scrolls a tall form vertically and is always as wide as the form wants (plus the scroll
    bar), measured when asked, after styling, and again whenever the form's layout changes."""

    def __init__(self, form: QWidget):
        super().__init__()
        self.setWidget(form)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def form_width(self) -> int:
        scroll_bar = self.verticalScrollBar().sizeHint().width()
        return self.widget().sizeHint().width() + scroll_bar + 2 * self.frameWidth()

    def sizeHint(self) -> QSize:
        return QSize(self.form_width(), super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        return QSize(self.form_width(), super().minimumSizeHint().height())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()  # the form's size hint may have changed: let the splitter know
        return super().eventFilter(watched, event)


def wrapping_label(object_name: str) -> QLabel:
    """A word-wrapped label that takes the width its column has instead of widening the column."""
    label = QLabel()
    label.setObjectName(object_name)
    label.setWordWrap(True)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label


def read_only_table(headers: Sequence[str], tooltip: str,
                    selection: QAbstractItemView.SelectionMode = QAbstractItemView.SelectionMode.SingleSelection,
                    ) -> QTableWidget:
    """A table whose rows are read and selected whole, never edited, without row numbers."""
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.setToolTip(tooltip)
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(selection)
    return table


class NumberItem(QTableWidgetItem):
    """A table cell that sorts by its number (kept in UserRole), not by its text."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine, theirs = self.data(Qt.ItemDataRole.UserRole), other.data(Qt.ItemDataRole.UserRole)
        return (mine if mine is not None else -1.0) < (theirs if theirs is not None else -1.0)


def number_item(value: float | None, percent: bool = False) -> NumberItem:
    """A right-aligned cell: a fraction shown in percent, a count as is, None as a dash."""
    text = "—" if value is None else (f"{100 * value:.2f}" if percent else f"{value:g}")
    item = NumberItem(text)
    item.setData(Qt.ItemDataRole.UserRole, value)
    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


def choose_folders(parent: QWidget, title: str, start: str) -> list[str]:
    """Let the user pick one or more folders (Qt's own dialog: the native one picks a single folder)."""
    from PySide6.QtWidgets import QAbstractItemView, QFileDialog

    dialog = QFileDialog(parent, title, start)
    dialog.setFileMode(QFileDialog.FileMode.Directory)
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    for view in dialog.findChildren(QAbstractItemView):
        view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    return dialog.selectedFiles() if dialog.exec() else []
