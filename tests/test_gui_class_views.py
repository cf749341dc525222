"""Per-class views at 100 classes: the class table, the confusion matrix, the zero-recall marks."""
from __future__ import annotations

import numpy as np
import pytest

from data.cifar import CIFAR100_CLASSES
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
    assert table.rowCount() == 100
    assert [int(table.item(r, 2).text()) for r in range(100)] == sorted(counts, reverse=True)
    assert table.item(0, 1).text() == names[0] and table.item(0, 3).text() == "many"
    assert table.item(99, 3).text() == "few"
    assert sorted(table.zero_rows()) == sorted(names[60:])
    assert table.item(99, 4).text() == ZERO_MARK
    assert table.item(0, 5).text() == f"{100 * precision[0]:.2f}"


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
    point = vb.mapViewToScene(__import__("PySide6.QtCore", fromlist=["QPointF"]).QPointF(0, 99))
    assert view.cell_at(point) == (0, 99)  # row 99 (rarest) is dataset class 0, column 0 is class 99
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
