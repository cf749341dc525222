"""Small Qt pieces the form fields are built from: compact combo boxes, rows with a "…" button,
a label that reserves the width of its widest text."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QComboBox, QLabel, QToolButton, QWidget

from gui.widgets import row_of


def compact_combo(combo: QComboBox, visible_chars: int) -> QComboBox:
    """Size ``combo`` for ``visible_chars`` characters, not for its longest item."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(visible_chars)
    return combo


def refill_combo(combo: QComboBox, options: Sequence[tuple[Any, str]], tooltips: bool = False) -> None:
    """Replace the items with ``(data, text)`` options without emitting signals; with ``tooltips``
    each item's tooltip is its data (a full path), or its text when the data is empty."""
    combo.blockSignals(True)
    combo.clear()
    for value, text in options:
        combo.addItem(text, value)
        if tooltips:
            combo.setItemData(combo.count() - 1, value or text, Qt.ItemDataRole.ToolTipRole)
    combo.blockSignals(False)


def with_browse_button(editor: QWidget, tooltip: str, browse: Callable[[], None]) -> QWidget:
    """``editor`` with a "…" button after it that calls ``browse``."""
    button = QToolButton()
    button.setText("…")
    button.setToolTip(tooltip)
    button.clicked.connect(browse)
    return row_of((editor, 1), button, spacing=4)


class WidestTextLabel(QLabel):
    """A label that always reserves the width of its widest text, measured in its current
    (styled) font, so neither it nor its neighbours jump or clip as its text changes."""

    def __init__(self, widest: str):
        super().__init__()
        self.widest = widest

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(max(hint.width(), self._widest_width()), hint.height())

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(max(hint.width(), self._widest_width()), hint.height())

    def _widest_width(self) -> int:
        margins = self.contentsMargins()
        return self.fontMetrics().horizontalAdvance(self.widest) + margins.left() + margins.right() + 2 * self.margin()


class RefreshingCombo(QComboBox):
    """A combo box that re-lists its items each time its list opens."""

    def __init__(self, refresh: Callable[[], None]):
        super().__init__()
        self._refresh = refresh

    def showPopup(self) -> None:
        self._refresh()
        super().showPopup()
