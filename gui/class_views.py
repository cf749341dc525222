"""Per-class views that stay usable from 10 to 1,000 classes: a class table (search, a
zero-recall filter, sort by any column; a model/view table whose refresh costs the same per class
at any class count) and a confusion matrix ordered by training count on a log colour scale, with
zoom and pan, names on the ticks once zoomed in, hover and click to name the two classes
confused, and the most confused pairs beside it."""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QAbstractTableModel, QCoreApplication, QModelIndex, QPointF, QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor, QCursor
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QGraphicsRectItem, QHeaderView, QLabel, QLineEdit,
                               QSplitter, QTableView, QTableWidgetItem, QToolTip, QWidget)

from gui.plots import GROUP_WORDS, ZERO_COLOR, ThemedPlot, group_of
from gui.widgets import Column, number_item, push_button, read_only_table, row_of, wrapping_label

ZERO_MARK = "✕ 0.00"
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
# the kinds of column a class table can show: how a value is written, aligned and sorted
TEXT_KINDS = ("name", "group")
PERCENT_KINDS = ("recall", "percent", "change")


def order_by_count(counts: Sequence[int]) -> list[int]:
    """Class indices, most training images first (ties keep the class order)."""
    return sorted(range(len(counts)), key=lambda i: -counts[i])


@dataclass(frozen=True)
class ClassColumn:
    title: str
    kind: str  # rank | name | count | group | recall (zero marked) | percent | change (points, signed)


def cell_text(kind: str, value) -> str:
    """How a class table writes ``value`` in a column of ``kind``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if kind == "recall" and value == 0:
        return ZERO_MARK
    if kind in ("recall", "percent"):
        return f"{100 * value:.2f}"
    if kind == "change":
        return f"{100 * value:+.2f}"
    if kind == "group":
        return QCoreApplication.translate("ClassBars", GROUP_WORDS.get(value, value))
    return str(value)


class ClassModel(QAbstractTableModel):
    """Rows of per-class values; one reset per refresh, so a refresh costs O(classes)."""

    def __init__(self, columns: Sequence[ClassColumn], parent=None):
        super().__init__(parent)
        self.columns = list(columns)
        self.rows: list[tuple] = []
        self.texts: list[tuple[str, ...]] = []

    def set_rows(self, rows: list[tuple]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.texts = [tuple(cell_text(c.kind, v) for c, v in zip(self.columns, row)) for row in rows]
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section].title
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        row, column = index.row(), index.column()
        kind = self.columns[column].kind
        if role == Qt.ItemDataRole.DisplayRole:
            return self.texts[row][column]
        value = self.rows[row][column]
        if role == SORT_ROLE:
            if kind in TEXT_KINDS:
                return str(value).lower()
            return -math.inf if value is None or value != value else float(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and kind not in TEXT_KINDS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and kind == "recall" and value == 0:
            return QColor(ZERO_COLOR)
        return None


class ClassFilter(QSortFilterProxyModel):
    """Sorts by each column's value; keeps the classes whose name holds the search text (and,
    when asked, only those at zero recall)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.text = ""
        self.zero_only = False

    def set_filter(self, text: str, zero_only: bool) -> None:
        self.beginFilterChange()
        self.text, self.zero_only = text.strip().lower(), zero_only
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, _parent: QModelIndex) -> bool:
        model: ClassModel = self.sourceModel()
        row = model.rows[source_row]
        for column, value in zip(model.columns, row):
            if column.kind == "name" and self.text and self.text not in str(value).lower():
                return False
            if column.kind == "recall" and self.zero_only and value != 0:
                return False
        return True


class ClassTable(Column):
    """One row per class, ranked by training count; sorts by any column (numbers as numbers),
    searches by name, can show only the classes at zero recall. A zero-recall class reads
    "✕ 0.00" in red; a class never predicted has precision "—"."""

    def __init__(self, change: tuple[str, str] | None = None):
        """``change`` (titles of the before and after columns): a table for :meth:`set_change`."""
        super().__init__()
        self.model = ClassModel(self.change_columns(*change) if change else self.recall_columns(), self)
        self.proxy = ClassFilter(self)
        self.proxy.setSourceModel(self.model)
        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)  # compact rows
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)  # ranked by count
        self.view.setSortingEnabled(True)
        self._fix_column_widths()
        self.view.setToolTip(self.tr("Every class, ranked by training images. Many / medium / few: > 100, "
                                     "20–100, < 20 training images. Click a header to sort."))
        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("Search classes…"))
        self.search.setClearButtonEnabled(True)
        self.zero_only = QCheckBox(self.tr("Only classes at zero recall"))
        self.count_label = QLabel()
        self.search.textChanged.connect(self._filter_changed)
        self.zero_only.toggled.connect(self._filter_changed)
        self.layout().addWidget(row_of((self.search, 1), self.zero_only, self.count_label))
        self.layout().addWidget(self.view, 1)

    def recall_columns(self) -> list[ClassColumn]:
        return [ClassColumn("#", "rank"), ClassColumn(self.tr("Class"), "name"),
                ClassColumn(self.tr("Training images"), "count"), ClassColumn(self.tr("Group"), "group"),
                ClassColumn(self.tr("Recall %"), "recall"), ClassColumn(self.tr("Precision %"), "percent")]

    def change_columns(self, old: str, new: str) -> list[ClassColumn]:
        """For :meth:`set_change`: each class's recall before and after, and the change."""
        return [ClassColumn("#", "rank"), ClassColumn(self.tr("Class"), "name"),
                ClassColumn(self.tr("Training images"), "count"), ClassColumn(self.tr("Group"), "group"),
                ClassColumn(self.tr("{0} %").format(old), "percent"),
                ClassColumn(self.tr("{0} %").format(new), "recall"),
                ClassColumn(self.tr("Change (points)"), "change")]

    def set_classes(self, names: Sequence[str], counts: Sequence[int], recall: Sequence[float],
                    precision: Sequence[float] | None = None) -> None:
        """Show each class's recall (and precision), in dataset class order."""
        self.model.set_rows([(rank + 1, _name(names, i), counts[i], group_of(counts[i]), _at(recall, i),
                              _at(precision, i)) for rank, i in enumerate(order_by_count(counts))])
        self._count_changed()

    def set_change(self, names: Sequence[str], counts: Sequence[int], old: Sequence[float],
                   new: Sequence[float]) -> None:
        """Show each class's recall in ``old`` and ``new`` and the change (the columns of
        :meth:`change_columns`)."""
        rows = []
        for rank, i in enumerate(order_by_count(counts)):
            before, after = _at(old, i), _at(new, i)
            rows.append((rank + 1, _name(names, i), counts[i], group_of(counts[i]), before, after,
                         after - before if before is not None and after is not None else None))
        self.model.set_rows(rows)
        self._count_changed()

    def zero_rows(self) -> list[str]:
        """Names of the classes at zero recall (whatever the filter shows)."""
        recall = next(c for c, column in enumerate(self.model.columns) if column.kind == "recall")
        name = next(c for c, column in enumerate(self.model.columns) if column.kind == "name")
        return [row[name] for row in self.model.rows if row[recall] == 0]

    def shown_rows(self) -> list[tuple[str, ...]]:
        """The rows as shown (filtered, sorted), as text."""
        return [self.model.texts[self.proxy.mapToSource(self.proxy.index(r, 0)).row()]
                for r in range(self.proxy.rowCount())]

    def sort_by(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.view.sortByColumn(column, order)

    def _filter_changed(self) -> None:
        self.proxy.set_filter(self.search.text(), self.zero_only.isChecked())
        self._count_changed()

    def _count_changed(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.count_label.setText(self.tr("{0} classes").format(total) if shown == total
                                 else self.tr("{0} of {1} classes").format(shown, total))

    def _fix_column_widths(self) -> None:
        """Widths from the titles and the widest value a column can hold, set once: a header that
        sizes to its contents re-measures every row on each change (quadratic in the classes)."""
        header, metrics = self.view.horizontalHeader(), self.fontMetrics()
        widest = {"rank": "10000", "count": "100000", "group": "medium", "recall": ZERO_MARK, "percent": "100.00",
                  "change": "+100.00"}
        for column, spec in enumerate(self.model.columns):
            if spec.kind == "name":
                header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
                continue
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            text = max(spec.title, widest[spec.kind], key=metrics.horizontalAdvance)
            header.resizeSection(column, metrics.horizontalAdvance(text) + 28)  # room for the sort arrow


def _name(names: Sequence[str], i: int) -> str:
    return names[i] if i < len(names) else str(i)


def _at(values: Sequence[float] | None, i: int) -> float | None:
    if values is None or i >= len(values) or values[i] != values[i]:
        return None
    return float(values[i])


class ConfusionView(QSplitter):
    """The confusion matrix, rows = true class, columns = predicted, both ordered by training
    count (most first); colour = log10(1 + count). Wheel or drag to zoom and pan (class names
    appear on the ticks once few enough classes show), hover for a cell, click to keep it below.
    Beside it, the most confused pairs; clicking one zooms to its cell."""

    PAIRS = 30  # pairs listed
    ZOOM_CLASSES = 24  # classes shown around a pair picked from the list

    def __init__(self, parent: QWidget | None = None):
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.plot = ThemedPlot(self.tr("Confusion matrix"), self.tr("predicted class, most → fewest training images"),
                               self.tr("true class (most → fewest)"), legend_columns=1, percent=False)
        self.plot.item.invertY(True)
        self.plot.item.setAspectLocked(True)  # square cells: zoomed in, a row and a column are as wide
        self.plot.item.showGrid(x=False, y=False)
        self.plot.item.setMenuEnabled(False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get("viridis"))
        self.plot.item.addItem(self.image)
        self.colorbar = pg.ColorBarItem(colorMap=pg.colormap.get("viridis"), interactive=False, width=12,
                                        label=self.tr("log10(1 + images)"))
        self.colorbar.setImageItem(self.image, insert_in=self.plot.item)
        self.marker = QGraphicsRectItem(0, 0, 1, 1)  # the selected cell, outlined
        self.marker.setPen(pg.mkPen(ZERO_COLOR, width=2))
        self.marker.setZValue(10)
        self.marker.hide()
        self.plot.item.addItem(self.marker, ignoreBounds=True)
        self.detail = wrapping_label("hint")
        self.detail.setText(self.tr("Wheel to zoom, drag to pan; click a cell to see which classes are confused."))
        whole = push_button(self.tr("Whole matrix"), self.tr("Zoom out to every class."), self.show_whole)
        self.pairs = read_only_table([self.tr("True class → taken for"), self.tr("Images"), self.tr("% of class")],
                                     self.tr("The off-diagonal cells with the most test images: which class is "
                                             "taken for which. Click one to zoom to it."))
        self.pairs.setWordWrap(False)
        self.pairs.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.pairs.cellClicked.connect(self._pair_clicked)
        self.addWidget(Column((self.plot, 1), row_of((self.detail, 1), whole)))
        self.addWidget(Column(QLabel(self.tr("Most confused pairs")), (self.pairs, 1)))
        self.setStretchFactor(0, 3)
        self.setStretchFactor(1, 1)
        self.setSizes([620, 280])
        self.names: list[str] = []
        self.order: list[int] = []
        self.matrix = np.zeros((0, 0), dtype=np.int64)  # in display order
        self._rank: dict[int, int] = {}  # dataset class index → its rank by training count
        self.top_pairs: list[tuple[int, int, int]] = []  # (true, predicted, count), dataset class indices
        self.selected: tuple[int, int] | None = None  # (true, predicted) dataset class indices
        self.plot.item.vb.sigRangeChanged.connect(self._name_ticks)
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        self.plot.scene().sigMouseMoved.connect(self._hovered)

    def set_confusion(self, names: Sequence[str], counts: Sequence[int], confusion, title: str = "",
                      pairs: Sequence | None = None) -> None:
        """Show ``confusion`` ((C, C) counts in dataset class order); None or empty clears the
        matrix. ``pairs`` ((true, predicted, count), most first: ``Metrics.confused_pairs``, or a run's
        ``confused_pairs_<tag>.csv`` where no dense matrix is kept) are ranked from the matrix by the
        engine's confusion record (``engine.confusion_counts``) when not given."""
        matrix = np.asarray(confusion if confusion is not None else [], dtype=np.int64)
        self.names = [names[i] if i < len(names) else str(i) for i in range(len(counts))]
        dense = matrix.ndim == 2 and matrix.shape[0] == len(counts) and len(counts) > 0
        if pairs is None and dense:
            import torch

            from engine.confusion_counts import ConfusionCounts

            pairs = ConfusionCounts.from_matrix(torch.from_numpy(np.ascontiguousarray(matrix))).pairs.tolist()
        self._fill_pairs([tuple(pair) for pair in (pairs or [])[:self.PAIRS]],
                         matrix.sum(axis=1).tolist() if dense else None)
        if matrix.ndim != 2 or matrix.shape[0] == 0 or matrix.shape[0] != len(counts):
            self.order, self.matrix = [], np.zeros((0, 0), dtype=np.int64)
            self.image.clear()
            self.marker.hide()
            self.plot.set_title(self.tr("Confusion matrix: not saved for this run yet"))
            return
        previous = self.matrix.shape[0]
        self.order = order_by_count(counts)
        self._rank = {c: rank for rank, c in enumerate(self.order)}
        self.matrix = matrix[np.ix_(self.order, self.order)]
        shown = np.log10(1.0 + self.matrix)
        top = max(1.0, float(shown.max()))
        self.image.setImage(shown, levels=(0.0, top), autoLevels=False)
        self.image.setRect(-0.5, -0.5, len(self.order), len(self.order))
        self.colorbar.setLevels((0.0, top))
        n = len(self.order)
        slack = n / 2  # square cells in a box that is not square: room for the margin beside the matrix
        self.plot.item.vb.setLimits(xMin=-0.5 - slack, xMax=n - 0.5 + slack, yMin=-0.5 - slack, yMax=n - 0.5 + slack,
                                    minXRange=2, minYRange=2)
        if self.matrix.shape[0] != previous:  # a new class count: show it whole (a new epoch keeps the zoom)
            self.show_whole()
        self._name_ticks()
        self.plot.set_title(title or self.tr("Confusion matrix · {0} classes · rows: true class").format(n))
        if self.selected is not None:
            self.select(*self.selected)

    def show_whole(self) -> None:
        n = max(1, len(self.order))
        self.plot.item.setRange(xRange=(-0.5, n - 0.5), yRange=(-0.5, n - 0.5), padding=0.01)

    def zoom_to(self, true: int, predicted: int, classes: int | None = None) -> None:
        """Show ``classes`` classes (by rank) around the cell (true, predicted)."""
        half = (classes or self.ZOOM_CLASSES) / 2
        row, column = self._rank[true], self._rank[predicted]
        self.plot.item.setRange(xRange=(column - half, column + half), yRange=(row - half, row + half), padding=0)

    def visible_ranks(self, axis: int = 0) -> tuple[int, int]:
        """The first and last class rank in view on the x (0) or y (1) axis."""
        low, high = self.plot.item.vb.viewRange()[axis]
        return max(0, int(math.ceil(low))), min(len(self.order) - 1, int(math.floor(high)))

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
        row, column = self._rank[true], self._rank[predicted]
        count = int(self.matrix[row, column])
        support = int(self.matrix[row].sum())
        if true == predicted:
            text = (self.tr("{0} recognised as itself once") if count == 1 else
                    self.tr("{0} recognised as itself {2} times")).format(self.names[true], "", count)
        else:
            text = (self.tr("{0} taken for {1} once") if count == 1 else
                    self.tr("{0} taken for {1} {2} times")).format(self.names[true], self.names[predicted], count)
        if support:
            text += self.tr(" ({0:.1f} % of its {1} test images)").format(100 * count / support, support)
        return text

    def select(self, true: int, predicted: int) -> str:
        """Keep the cell (true, predicted) described below the matrix; returns the text."""
        self.selected = (true, predicted)
        if not self.order or true >= len(self.names) or predicted >= len(self.names):
            self.marker.hide()
            return ""
        self.marker.setRect(self._rank[predicted] - 0.5, self._rank[true] - 0.5, 1, 1)
        self.marker.show()
        text = self.describe(true, predicted)
        self.detail.setText(text)
        return text

    def _fill_pairs(self, pairs: list[tuple[int, int, int]], support: list[int] | None) -> None:
        """List the pairs; the share of the true class's test images where the support is known."""
        self.top_pairs = pairs
        self.pairs.setRowCount(len(pairs))
        for row, (true, predicted, count) in enumerate(pairs):
            self.pairs.setItem(row, 0, QTableWidgetItem(f"{self.names[true]} → {self.names[predicted]}"))
            self.pairs.setItem(row, 1, number_item(count))
            share = count / support[true] if support and support[true] else None
            self.pairs.setItem(row, 2, number_item(share, percent=True))
        self.pairs.resizeColumnToContents(1)
        self.pairs.resizeColumnToContents(2)

    def _pair_clicked(self, row: int, _column: int) -> None:
        true, predicted, _count = self.top_pairs[row]
        if self.order:
            self.zoom_to(true, predicted)
            self.select(true, predicted)

    def _name_ticks(self) -> None:
        """Name as many classes in view as their labels have room for: every one once zoomed in
        far enough, else every k-th (a row needs a line of text, a column a short name's width)."""
        if not self.order:
            return
        metrics = self.plot.fontMetrics()
        room = {0: metrics.horizontalAdvance("abcdefghi") + 8, 1: metrics.height() + 2}  # pixels a label needs
        for axis, name in ((0, "bottom"), (1, "left")):
            first, last = self.visible_ranks(axis)
            shown = max(1, last - first + 1)
            pixels = (self.plot.item.vb.width(), self.plot.item.vb.height())[axis]
            step = max(1, math.ceil(shown * room[axis] / max(1.0, pixels)))
            ticks = [(rank, _short(self.names[self.order[rank]])) for rank in range(first, last + 1)
                     if rank % step == 0]
            self.plot.item.getAxis(name).setTicks([ticks, []])

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
