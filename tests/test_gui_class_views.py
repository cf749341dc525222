"""Per-class views at 100 classes: the class table, the confusion matrix, the zero-recall marks."""
from __future__ import annotations

import numpy as np
import pytest

from data.cifar import CIFAR100_CLASSES
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QHeaderView

from gui.class_views import ZERO_MARK, ClassTable, ConfusionView
from gui.plots import ClassBars

COUNTS = [5 * (100 - i) for i in range(100)]  # 500 → 5 training images, all different


@pytest.fixture
def confusion():
    rng = np.random.default_rng(0)
    matrix = rng.integers(0, 3, (100, 100))
    np.fill_diagonal(matrix, 0)
    matrix[np.arange(60), np.arange(60)] = 10  # the 40 rarest classes are never right
    matrix[99, 0] = 17  # the rarest class is mostly taken for the most frequent one
    return matrix


def test_the_class_table_ranks_by_training_count_and_marks_zero_recall(qtbot, confusion):
    table = ClassTable()
    qtbot.addWidget(table)
    shuffled = np.random.default_rng(1).permutation(100)  # dataset order need not be count order
    names = [CIFAR100_CLASSES[i] for i in shuffled]
    counts = [COUNTS[i] for i in range(100)]
    recall = [float(confusion[i, i] / confusion[i].sum()) for i in range(100)]
    precision = [float(confusion[i, i] / max(1, confusion[:, i].sum())) for i in range(100)]
    table.set_classes(names, counts, recall, precision)
    rows = table.shown_rows()
    assert len(rows) == 100 and table.count_label.text() == "100 classes"
    assert [int(row[2]) for row in rows] == sorted(counts, reverse=True)
    assert rows[0][1] == names[0] and rows[0][3] == "many"
    assert rows[99][3] == "few"
    assert sorted(table.zero_rows()) == sorted(names[60:])
    assert rows[99][4] == ZERO_MARK
    assert rows[0][5] == f"{100 * precision[0]:.2f}"


def test_the_class_table_searches_filters_and_sorts_1000_classes(qtbot):
    table = ClassTable()
    qtbot.addWidget(table)
    table.resize(700, 400)
    table.show()
    counts = [max(1, int(1280 * 0.004 ** (i / 999))) for i in range(1000)]  # ImageNet-LT-like: 1280 → 5
    names = [f"n{i:05d} class {i}" for i in range(1000)]
    recall = [0.0 if i % 7 == 0 else (i % 100) / 100 for i in range(1000)]
    table.set_classes(names, counts, recall)
    assert len(table.shown_rows()) == 1000
    table.search.setText("CLASS 99")  # case-insensitive: 99, 990–999
    assert sorted(row[1] for row in table.shown_rows()) == sorted(names[i] for i in [99, *range(990, 1000)])
    assert table.count_label.text() == "11 of 1000 classes"
    table.zero_only.setChecked(True)  # of those, the ones at zero recall: 994 (= 7 · 142)
    assert [row[1] for row in table.shown_rows()] == [names[994]]
    table.search.clear()
    assert len(table.shown_rows()) == len(table.zero_rows()) == sum(1 for r in recall if r == 0)
    table.zero_only.setChecked(False)
    table.sort_by(4, Qt.SortOrder.DescendingOrder)  # by recall, numbers as numbers
    shown = [row[4] for row in table.shown_rows()]
    assert shown[0] == "99.00" and shown[-1] == ZERO_MARK
    table.set_classes(names, counts, [r / 2 for r in recall])  # a new epoch keeps the user's sort
    assert table.shown_rows()[0][4] == "49.50"
    header = table.view.horizontalHeader()
    assert QHeaderView.ResizeMode.ResizeToContents not in {header.sectionResizeMode(c) for c in range(6)}


def test_the_pairs_are_the_engine_s_record_of_the_most_confused_classes(qtbot, confusion):
    """The view ranks nothing itself: without a dense matrix (over 512 classes) it lists the pairs
    the engine recorded; with one, the record made from it (engine.confusion_counts)."""
    view = ConfusionView()
    qtbot.addWidget(view)
    names = [f"c{i}" for i in range(1000)]
    view.set_confusion(names, list(range(1000, 0, -1)), None, pairs=[(999, 0, 17), (5, 6, 3)])
    assert view.order == [] and [view.pairs.item(r, 0).text() for r in range(2)] == ["c999 → c0", "c5 → c6"]
    assert view.pairs.item(0, 2).text() == "—"  # no matrix: the class's test images are not known here
    view.set_confusion(list(CIFAR100_CLASSES), COUNTS, confusion)
    off = confusion.copy()
    np.fill_diagonal(off, 0)
    assert [p[2] for p in view.top_pairs] == sorted(off.flatten(), reverse=True)[:view.PAIRS]
    assert view.top_pairs[0][:2] == (99, 0)


def test_the_confusion_view_orders_by_count_and_names_a_clicked_cell(qtbot, confusion):
    view = ConfusionView()
    qtbot.addWidget(view)
    view.resize(700, 500)
    view.show()
    counts = COUNTS[::-1]  # rarest first in dataset order: the view must turn it round
    names = list(CIFAR100_CLASSES)
    flipped = confusion[::-1, ::-1]
    view.set_confusion(names, counts, flipped)
    assert view.order[0] == 99 and view.order[-1] == 0
    assert np.array_equal(view.matrix, confusion)  # shown most-first, i.e. as built
    text = view.select(0, 99)  # dataset class 0 is the rarest here
    support = int(confusion[99].sum())  # the rarest class's test images
    assert text == f"{names[0]} taken for {names[99]} 17 times ({100 * 17 / support:.1f} % of its {support} test images)"
    assert view.detail.text() == text
    # the scene position of a cell maps back to its classes
    vb = view.plot.item.vb
    qtbot.waitUntil(lambda: vb.width() > 100)
    point = vb.mapViewToScene(QPointF(0, 99))
    assert view.cell_at(point) == (0, 99)  # row 99 (rarest) is dataset class 0, column 0 is class 99
    # the most confused pairs sit beside the matrix; a click zooms to the cell and names the classes
    assert view.pairs.rowCount() == view.PAIRS
    assert view.pairs.item(0, 0).text() == f"{names[0]} → {names[99]}" and view.pairs.item(0, 1).text() == "17"
    view.pairs.cellClicked.emit(0, 0)
    (x0, x1), (y0, y1) = vb.viewRange()
    assert x0 <= 0 <= x1 and y0 <= 99 <= y1  # column: class 99 is ranked first; row: class 0 is ranked last
    assert min(x1 - x0, y1 - y0) <= view.ZOOM_CLASSES + 1 and view.detail.text() == text
    assert view.marker.isVisible() and view.marker.rect().center() == QPointF(0, 99)  # the cell, outlined

    def ticks(axis: str) -> list:
        return view.plot.item.getAxis(axis)._tickLevels[0]

    def apart(axis: str, pixels: float) -> bool:  # neighbouring labels at least ``pixels`` apart on screen
        (a0, a1), (b0, b1) = vb.viewRange()
        per_class = vb.width() / (a1 - a0) if axis == "bottom" else vb.height() / (b1 - b0)
        ranks = [rank for rank, _label in ticks(axis)]
        return all((b - a) * per_class >= pixels for a, b in zip(ranks, ranks[1:]))

    view.zoom_to(0, 99, classes=6)  # zoomed in far enough: every class in view named
    first, last = view.visible_ranks(1)
    assert [label for _r, label in ticks("left")] == [_short_name(names[view.order[r]]) for r in range(first, last + 1)]
    assert _short_name(names[0]) in [label for _r, label in ticks("left")]
    assert _short_name(names[99]) in [label for _r, label in ticks("bottom")]
    view.show_whole()  # 100 classes: some named, never on top of each other
    assert view.visible_ranks() == (0, 99) and 3 <= len(ticks("bottom")) < 100 and 3 <= len(ticks("left")) < 100
    assert apart("bottom", 50) and apart("left", view.fontMetrics().height())
    view.set_confusion(names, counts, None)
    assert view.order == [] and "not saved" in view.plot.title


def test_zero_recall_marks_stay_apart_at_100_classes(qtbot):
    bars = ClassBars("recall")
    qtbot.addWidget(bars)
    recall = [0.5] * 60 + [0.0] * 40
    bars.set_bars(list(CIFAR100_CLASSES), COUNTS, [("test", recall)])
    assert bars.zero_count() == 40
    xs = sorted(bars.zero_marks.opts["x"])
    width = bars.zero_marks.opts["width"]
    assert min(b - a for a, b in zip(xs, xs[1:])) - width >= 0.4  # a visible gap between neighbours


def test_several_series_over_100_classes_are_step_lines_not_a_wall_of_bars(qtbot):
    bars = ClassBars("compare")
    qtbot.addWidget(bars)
    series = [(name, [0.5] * 90 + [0.0] * 10) for name in ("old", "new", "ensemble")]
    bars.set_bars(list(CIFAR100_CLASSES), COUNTS, series)
    assert bars.line_mode and all(bar.isVisible() is False for bar in bars.bars)
    assert [bars.bar_count(k) for k in range(3)] == [100, 100, 100]
    assert [label.text for _sample, label in bars.legend.items] == ["old", "new", "ensemble", "zero recall"]
    bars.set_bars(list(CIFAR100_CLASSES)[:10], COUNTS[:10], series[:2])  # 10 classes: grouped bars again
    assert not bars.line_mode and bars.bar_count(1) == 10


def test_one_series_over_1000_classes_is_a_recall_curve_by_training_count(qtbot):
    bars = ClassBars("recall")
    qtbot.addWidget(bars)
    counts = [max(1, int(1280 * 0.004 ** (i / 999))) for i in range(1000)][::-1]  # dataset order: rarest first
    recall = [i / 999 for i in range(1000)]  # the most frequent class is best, the rarest at zero
    bars.set_bars([f"c{i}" for i in range(1000)], counts, [("test recall", recall)])
    assert bars.line_mode and not bars.bars[0].isVisible()
    assert [counts[i] for i in bars.order] == sorted(counts, reverse=True)  # most training images first
    assert bars.heights() == pytest.approx([100 * recall[i] for i in bars.order])
    mean = bars.mean_line.yData
    assert len(mean) == 1000 and bars.running_mean_width() == 21
    assert mean[500] == pytest.approx(sum(bars.heights()[490:511]) / 21)
    labels = [label.text for _sample, label in bars.legend.items]
    assert labels == ["test recall", "running mean (21 classes)", "zero recall"]
    assert [edge.label.format for edge in bars.group_edges] == ["medium-shot →", "few-shot →"]
    assert bars.zero_count() == 1
    bars.set_bars([f"c{i}" for i in range(10)], counts[-10:], [("test recall", recall[-10:])])  # few classes: bars
    assert not bars.line_mode and bars.bar_count() == 10 and not bars.mean_line.isVisible() and not bars.group_edges


def _short_name(name: str) -> str:
    from gui.class_views import _short

    return _short(name)


def test_no_ui_hint_sits_in_a_figure_s_title_or_axes(qtbot, confusion):
    """Issue 21.4: "hover a bar for its class" and "click a cell" were baked into the axes and
    titles, so every exported figure carried them; the hints now live beside the plots."""
    bars, view = ClassBars("Left behind"), ConfusionView()
    qtbot.addWidget(bars)
    qtbot.addWidget(view)
    for n in (10, 100):
        bars.set_bars(list(CIFAR100_CLASSES)[:n], COUNTS[:n], [("test", [0.5] * n)])
        view.set_confusion(list(CIFAR100_CLASSES)[:n], COUNTS[:n], confusion[:n, :n])
        for plot in (bars, view.plot):
            texts = [plot.item.titleLabel.text] + [plot.item.getAxis(side).labelText for side in ("bottom", "left")]
            assert not any(word in text.lower() for text in texts for word in ("hover", "click", "wheel", "drag"))
    assert "click a cell" in view.detail.text().lower()  # the hint, beside the matrix
