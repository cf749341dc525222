"""The device-side epoch accumulator gives exactly the numbers of the per-batch bincount loop."""
from __future__ import annotations

import math

import torch

from engine.epoch_stats import EpochStats
from engine.metrics import compute_metrics, topk_hits


def _batches(num_classes: int, sizes: tuple[int, ...], seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    for size in sizes:
        logits = torch.randn(size, num_classes, generator=generator, requires_grad=True)
        labels = torch.randint(0, num_classes, (size,), generator=generator)
        loss = torch.nn.functional.cross_entropy(logits, labels)
        yield loss, logits, labels


def _old_loop(num_classes: int, batches, counts: torch.Tensor):
    """The trainer's accumulation before issue 14, written out."""
    confusion = torch.zeros(num_classes * num_classes, dtype=torch.int64)
    loss_sum = torch.zeros(())
    top5 = torch.zeros((), dtype=torch.int64)
    samples = 0
    for loss, logits, labels in batches:
        loss_sum += loss.detach() * len(labels)
        confusion += torch.bincount(labels * num_classes + logits.detach().argmax(1), minlength=num_classes ** 2)
        top5 += topk_hits(logits.detach(), labels)
        samples += len(labels)
    return compute_metrics(confusion.reshape(num_classes, num_classes), counts,
                           loss=float(loss_sum) / samples, top5_correct=int(top5))


def _same(a: dict, b: dict) -> bool:
    def equal(x, y):
        if isinstance(x, list):
            return len(x) == len(y) and all(equal(p, q) for p, q in zip(x, y))
        if isinstance(x, float) and math.isnan(x):
            return isinstance(y, float) and math.isnan(y)
        return x == y
    return all(equal(a[key], b[key]) for key in a) and a.keys() == b.keys()


def test_epoch_metrics_equal_the_old_bincount_loop():
    num_classes, sizes = 7, (16, 16, 16, 5)  # a short last batch, as an epoch has
    counts = torch.tensor([300, 150, 80, 40, 20, 10, 3])
    stats = EpochStats(num_classes, "cpu")
    for loss, logits, labels in _batches(num_classes, sizes):
        stats.update(loss, logits, labels)
    assert stats.samples == sum(sizes)
    assert _same(stats.read(counts).to_dict(), _old_loop(num_classes, _batches(num_classes, sizes), counts).to_dict())


def test_counts_cells_row_true_column_predicted_and_tolerates_absent_classes():
    stats = EpochStats(4, "cpu", top_k=2)
    logits = torch.tensor([[5.0, 1, 0, 0], [0, 5, 1, 0], [5, 1, 0.5, 0]])  # predicts 0, 1, 0
    labels = torch.tensor([0, 2, 2])
    stats.update(torch.tensor(2.0), logits, labels)
    expected = torch.zeros(4, 4, dtype=torch.int64)
    expected[0, 0] = expected[2, 1] = expected[2, 0] = 1
    assert torch.equal(stats.confusion.record().matrix, expected)
    assert int(stats.topk) == 2  # label 2 is second for row 1, third for row 2
    metrics = stats.read(torch.tensor([50, 40, 30, 20]))
    assert metrics.loss == 2.0 and metrics.top1 == 1 / 3 and metrics.top5 == 2 / 3
    assert math.isnan(metrics.per_class_recall[1]) and metrics.per_class_recall[2] == 0.0


def test_update_does_no_class_squared_work(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("bincount over C*C cells in the per-batch update")
    monkeypatch.setattr(torch, "bincount", refuse)
    for classes in (500, 1000):  # a dense record and a sparse one
        stats = EpochStats(classes, "cpu")
        loss, logits, labels = next(_batches(classes, (8,)))
        stats.update(loss, logits, labels)
        assert stats.finite()
    monkeypatch.undo()
    assert stats.confusion.record().total == 8


def test_outputs_that_are_not_numbers_are_never_scored():
    stats = EpochStats(3, "cpu", calibration=True)
    logits = torch.tensor([[1.0, 0, 0], [float("inf"), 0, 0]])
    stats.update(torch.tensor(1.0), logits, torch.tensor([0, 1]))
    metrics = stats.read(torch.tensor([10, 5, 1]))
    assert metrics.non_finite == 1 and not metrics.are_numbers() and metrics.zero_recall is None
    assert all(math.isnan(getattr(metrics, key)) for key in ("top1", "hm", "gm", "lowest_recall", "loss", "nll"))
