"""Per-class views that stay readable at 100 classes: a sortable class table (name, training
images, group, recall, precision, zero-recall marked) and a confusion matrix ordered by training
count on a log colour scale, where a click names the two classes confused and how often."""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QCursor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QToolTip, QWidget

from gui.plots import ZERO_COLOR, ThemedPlot
from gui.widgets import Column, number_item, wrapping_label

CLASS_COLUMNS = ("#", "Class", "Training images", "Group", "Recall %", "Precision %")
ZERO_MARK = "✕ 0.00"


def group_of(count: int) -> str:
    from engine.metrics import FEW_THRESHOLD, MANY_THRESHOLD

    return "many" if count > MANY_THRESHOLD else "few" if count < FEW_THRESHOLD else "medium"


def order_by_count(counts: Sequence[int]) -> list[int]:
    """Class indices, most training images first (ties keep the class order)."""
    return sorted(range(len(counts)), key=lambda i: -counts[i])


class ClassTable(QTableWidget):
    """One row per class, ranked by training count; sorts by any column (numbers as numbers).
    A zero-recall class reads "✕ 0.00" in red; a class never predicted has precision "—"."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(0, len(CLASS_COLUMNS), parent)
        self.setHorizontalHeaderLabels(CLASS_COLUMNS)
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)  # 100 rows: compact
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.setToolTip("Every class, ranked by training images. Many / medium / few: > 100, 20–100, < 20 "
                        "training images. Click a header to sort.")

    def set_classes(self, names: Sequence[str], counts: Sequence[int], recall: Sequence[float],
                    precision: Sequence[float] | None = None) -> None:
        self.setSortingEnabled(False)
        self.setRowCount(len(counts))
        for row, i in enumerate(order_by_count(counts)):
            self.setItem(row, 0, number_item(row + 1))
            self.setItem(row, 1, QTableWidgetItem(names[i] if i < len(names) else str(i)))
            self.setItem(row, 2, number_item(counts[i]))
            self.setItem(row, 3, QTableWidgetItem(group_of(counts[i])))
            value = recall[i] if i < len(recall) else math.nan
            cell = number_item(None if value != value else value, percent=True)
            if value == 0:
                cell.setText(ZERO_MARK)
                cell.setForeground(QColor(ZERO_COLOR))
                cell.setToolTip("zero recall: no test image of this class is recognised")
            self.setItem(row, 4, cell)
            p = precision[i] if precision is not None and i < len(precision) else math.nan
            self.setItem(row, 5, number_item(None if p != p else p, percent=True))
        self.setSortingEnabled(True)  # keeps a sort the user chose; none at first: ranked by count

    def zero_rows(self) -> list[str]:
        """Names of the classes shown at zero recall."""
        return [self.item(r, 1).text() for r in range(self.rowCount()) if self.item(r, 4).text() == ZERO_MARK]


class ConfusionView(Column):
    """The confusion matrix, rows = true class, columns = predicted, both ordered by training
    count (most first); colour = log10(1 + count). Hover for the cell, click to keep it below."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__()
        self.plot = ThemedPlot("Confusion matrix", "predicted class, most → fewest training images",
                               "true class (most → fewest)", legend_columns=1, percent=False)
        self.plot.item.invertY(True)
        self.plot.item.showGrid(x=False, y=False)
        self.plot.item.setMouseEnabled(x=False, y=False)  # the whole matrix always shows; hover and click instead
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get("viridis"))
        self.plot.item.addItem(self.image)
        self.colorbar = pg.ColorBarItem(colorMap=pg.colormap.get("viridis"), interactive=False, width=12,
                                        label="log10(1 + images)")
        self.colorbar.setImageItem(self.image, insert_in=self.plot.item)
        self.detail = wrapping_label("hint")
        self.detail.setText("Click a cell to see which classes are confused.")
        self.layout().addWidget(self.plot, 1)
        self.layout().addWidget(self.detail)
        self.names: list[str] = []
        self.order: list[int] = []
        self.matrix = np.zeros((0, 0), dtype=np.int64)  # in display order
        self.selected: tuple[int, int] | None = None  # (true, predicted) dataset class indices
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        self.plot.scene().sigMouseMoved.connect(self._hovered)

    def set_confusion(self, names: Sequence[str], counts: Sequence[int], confusion, title: str = "") -> None:
        """Show ``confusion`` ((C, C) counts in dataset class order); None or empty clears the view."""
        matrix = np.asarray(confusion if confusion is not None else [], dtype=np.int64)
        if matrix.ndim != 2 or matrix.shape[0] == 0 or matrix.shape[0] != len(counts):
            self.names, self.order, self.matrix = [], [], np.zeros((0, 0), dtype=np.int64)
            self.image.clear()
            self.plot.set_title("Confusion matrix: not saved for this run yet")
            return
        self.names = [names[i] if i < len(names) else str(i) for i in range(len(counts))]
        self.order = order_by_count(counts)
        self.matrix = matrix[np.ix_(self.order, self.order)]
        shown = np.log10(1.0 + self.matrix)
        top = max(1.0, float(shown.max()))
        self.image.setImage(shown, levels=(0.0, top), autoLevels=False)
        self.image.setRect(-0.5, -0.5, len(self.order), len(self.order))
        self.colorbar.setLevels((0.0, top))
        self.plot.item.setRange(xRange=(-0.5, len(self.order) - 0.5), yRange=(-0.5, len(self.order) - 0.5),
                                padding=0.01)
        step = 1 if len(self.order) <= 20 else max(1, len(self.order) // 10)
        ticks = [(rank, _short(self.names[self.order[rank]])) for rank in range(0, len(self.order), step)]
        for axis in ("bottom", "left"):
            self.plot.item.getAxis(axis).setTicks([ticks, []])
        self.plot.set_title(title or f"Confusion matrix · {len(self.order)} classes · rows: true class")
        if self.selected is not None:
            self.select(*self.selected)

    def cell_at(self, scene_position: QPointF) -> tuple[int, int] | None:
        """(true, predicted) dataset class indices under a scene position, or None."""
        if not self.order or not self.plot.item.vb.sceneBoundingRect().contains(scene_position):
            return None
        point = self.plot.item.vb.mapSceneToView(scene_position)
        column, row = int(round(point.x())), int(round(point.y()))
        if not (0 <= row < len(self.order) and 0 <= column < len(self.order)):
            return None
        return self.order[row], self.order[column]

    def describe(self, true: int, predicted: int) -> str:
        row, column = self.order.index(true), self.order.index(predicted)
        count = int(self.matrix[row, column])
        support = int(self.matrix[row].sum())
        share = f" ({100 * count / support:.1f} % of its {support} test images)" if support else ""
        if true == predicted:
            return f"{self.names[true]} recognised as itself {count} time{'' if count == 1 else 's'}{share}"
        return f"{self.names[true]} taken for {self.names[predicted]} {count} time{'' if count == 1 else 's'}{share}"

    def select(self, true: int, predicted: int) -> str:
        """Keep the cell (true, predicted) described below the matrix; returns the text."""
        self.selected = (true, predicted)
        if true >= len(self.names) or predicted >= len(self.names):
            return ""
        text = self.describe(true, predicted)
        self.detail.setText(text)
        return text

    def _clicked(self, event) -> None:
        cell = self.cell_at(event.scenePos())
        if cell is not None:
            self.select(*cell)

    def _hovered(self, position: QPointF) -> None:
        cell = self.cell_at(position)
        if cell is not None:
            QToolTip.showText(QCursor.pos(), self.describe(*cell), self.plot)


def _short(name: str, limit: int = 10) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"
