"""Worst-class metrics against hand arithmetic on small confusion matrices."""
from __future__ import annotations

import math

import pytest
import torch

from engine.evaluation import metrics_from_logits
from engine.confusion_counts import ConfusionCounter
from engine.metrics import (Metrics, compute_metrics, geometric_mean, group_accuracy,
                            harmonic_mean, topk_correct, topk_hits)

# Rows = true class. Recalls 3/4, 1/2, 5/5, 1/4; 10 of 15 correct.
CONFUSION = torch.tensor([
    [3, 1, 0, 0],
    [1, 1, 0, 0],
    [0, 0, 5, 0],
    [2, 0, 1, 1],
])
# > 100 → many (class 0); 20..100 → medium (classes 1 and 2, at both edges); < 20 → few (class 3).
TRAIN_COUNTS = torch.tensor([500, 100, 20, 5])


def test_confusion_counts_true_rows_and_predicted_columns():
    labels = torch.tensor([0, 0, 0, 0, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3])
    predictions = torch.tensor([0, 0, 0, 1, 0, 1, 2, 2, 2, 2, 2, 0, 0, 2, 3])
    counter = ConfusionCounter(4, "cpu")
    counter.add(labels, predictions)
    assert torch.equal(counter.record().matrix, CONFUSION)


def test_metrics_match_hand_arithmetic():
    metrics = compute_metrics(CONFUSION, TRAIN_COUNTS, loss=1.25, top5_correct=14)
    assert metrics.per_class_recall == pytest.approx([0.75, 0.5, 1.0, 0.25])
    assert metrics.top1 == pytest.approx(10 / 15)
    assert metrics.top5 == pytest.approx(14 / 15)
    assert metrics.loss == 1.25
    assert metrics.mean_recall == pytest.approx((0.75 + 0.5 + 1.0 + 0.25) / 4)
    assert metrics.hm == pytest.approx(4 / (1 / 0.75 + 1 / 0.5 + 1 / 1.0 + 1 / 0.25))  # = 0.48
    assert metrics.hm == pytest.approx(0.48)
    assert metrics.gm == pytest.approx((0.75 * 0.5 * 1.0 * 0.25) ** 0.25)
    assert metrics.lowest_recall == 0.25
    assert metrics.zero_recall == 0
    assert metrics.many == pytest.approx(0.75)
    assert metrics.medium == pytest.approx((0.5 + 1.0) / 2)
    assert metrics.few == pytest.approx(0.25)


def gm_hm_lr_by_hand(correct: list[int], total: list[int], floor: float = 1e-3) -> tuple[float, float, float]:
    """The NOLB seed's ``GM_HM_LR`` convention, written out: recall = correct / total per class,
    each clamped to at least 1e-3, then GM = (Π r)^(1/C), HM = C / Σ 1/r, LR = min r."""
    recalls = [max(c / t, floor) for c, t in zip(correct, total)]
    product = 1.0
    for r in recalls:
        product *= r
    return product ** (1 / len(recalls)), len(recalls) / sum(1 / r for r in recalls), min(recalls)


def test_hm_gm_lr_follow_the_papers_floor_on_zero_recall_classes():
    # six classes, two never right: rows = true class
    confusion = torch.tensor([
        [8, 1, 1, 0, 0, 0],
        [2, 6, 0, 0, 0, 0],
        [0, 0, 4, 0, 0, 0],
        [1, 1, 1, 0, 0, 0],
        [0, 0, 2, 0, 2, 1],
        [3, 0, 0, 0, 0, 0],
    ])
    correct, total = [8, 6, 4, 0, 2, 0], [10, 8, 4, 3, 5, 3]
    gm, hm, lr = gm_hm_lr_by_hand(correct, total)
    metrics = compute_metrics(confusion, torch.tensor([500, 300, 100, 50, 10, 5]))
    assert metrics.gm == pytest.approx(gm, rel=1e-12)
    assert metrics.hm == pytest.approx(hm, rel=1e-12)
    assert metrics.lowest_recall == pytest.approx(lr) == 1e-3
    assert metrics.zero_recall == 2  # counted beside the floored means
    assert metrics.per_class_recall[3] == 0.0  # the per-class recalls themselves are never floored
    assert metrics.recall_floor == 1e-3
    # hand values: HM = 6 / (1/0.8 + 1/0.75 + 1 + 1000 + 1/0.4 + 1000)
    assert metrics.hm == pytest.approx(6 / (1.25 + 4 / 3 + 1 + 1000 + 2.5 + 1000))
    # unfloored gives the old values: 0 for HM, GM and LR
    plain = compute_metrics(confusion, torch.tensor([500, 300, 100, 50, 10, 5]), recall_floor=0.0)
    assert (plain.hm, plain.gm, plain.lowest_recall, plain.zero_recall) == (0.0, 0.0, 0.0, 2)


def test_gm_of_100_small_recalls_does_not_underflow():
    recalls = torch.full((100,), 1e-3, dtype=torch.float32)
    assert float(torch.prod(recalls)) == 0.0  # the naive product underflows in float32
    assert geometric_mean(recalls) == pytest.approx(1e-3, rel=1e-6)  # float32 1e-3 is 1e-3 to 5e-8
    assert harmonic_mean(recalls) == pytest.approx(1e-3, rel=1e-6)


def test_precision_per_class_is_column_wise_and_nan_when_never_predicted():
    metrics = compute_metrics(CONFUSION, TRAIN_COUNTS)
    # columns of CONFUSION: predicted 0 six times (3 right), 1 twice (1), 2 six times (5), 3 once (1)
    assert metrics.per_class_precision == pytest.approx([3 / 6, 1 / 2, 5 / 6, 1 / 1])
    confusion = CONFUSION.clone()
    confusion[3] = torch.tensor([2, 0, 2, 0])
    assert math.isnan(compute_metrics(confusion, TRAIN_COUNTS).per_class_precision[3])


def test_nll_and_ece_match_hand_arithmetic():
    # three classes; softmax of these logits is easy to write: log-probabilities are the logits
    # minus log Σ exp, so use logits = log(p) directly
    probabilities = torch.tensor([
        [0.90, 0.05, 0.05],  # conf 0.90 → bin (0.8667, 0.9333], correct
        [0.50, 0.30, 0.20],  # conf 0.50 → bin (0.4667, 0.5333], wrong (label 1)
        [0.20, 0.70, 0.10],  # conf 0.70 → bin (0.6667, 0.7333], correct
        [0.10, 0.20, 0.70],  # conf 0.70 → same bin, wrong (label 0)
    ], dtype=torch.float64)
    labels = torch.tensor([0, 1, 1, 0])
    logits = probabilities.log()
    nll = -(math.log(0.9) + math.log(0.3) + math.log(0.7) + math.log(0.1)) / 4
    # bins: {0.9: acc 1} gap 0.1 (1 sample); {0.5: acc 0} gap 0.5 (1); {0.7, 0.7: acc 0.5} gap 0.2 (2)
    ece = 1 / 4 * 0.1 + 1 / 4 * 0.5 + 2 / 4 * 0.2
    exact = metrics_from_logits(logits, labels, torch.tensor([100, 50, 10]))
    assert exact.nll == pytest.approx(nll, rel=1e-12) and exact.ece == pytest.approx(ece, rel=1e-12)
    metrics = metrics_from_logits(logits.float(), labels, torch.tensor([100, 50, 10]))
    assert metrics.nll == pytest.approx(nll, rel=1e-5) and metrics.ece == pytest.approx(ece, rel=1e-5)
    assert metrics.loss == pytest.approx(nll, rel=1e-5)  # the test loss is plain CE, the same number
    assert metrics.confusion == [[1, 0, 1], [1, 1, 0], [0, 0, 0]]


def test_ece_bins_are_right_closed():
    # confidence exactly 2/3 belongs to the bin (0.6, 0.6667], not (0.6667, 0.7333]: with 15 bins
    # a lone correct sample at 2/3 has gap 1/3 either way, so put a wrong one at 0.7 beside it
    logits = torch.tensor([[2 / 3, 1 / 3], [0.7, 0.3]], dtype=torch.float64).log()
    labels = torch.tensor([0, 1])
    separate = 0.5 * (1 - 2 / 3) + 0.5 * 0.7  # different bins
    assert metrics_from_logits(logits, labels, torch.tensor([10, 10])).ece == pytest.approx(separate)


def test_a_zero_recall_class_makes_unfloored_hm_and_gm_zero_and_is_counted():
    confusion = CONFUSION.clone()
    confusion[3] = torch.tensor([3, 0, 1, 0])  # class 3 never right
    metrics = compute_metrics(confusion, TRAIN_COUNTS, recall_floor=0)
    assert metrics.hm == 0.0 and metrics.gm == 0.0
    assert metrics.lowest_recall == 0.0
    assert metrics.zero_recall == 1
    assert metrics.mean_recall == pytest.approx((0.75 + 0.5 + 1.0 + 0.0) / 4)
    assert metrics.few == 0.0


def test_a_class_absent_from_the_test_labels_is_skipped():
    confusion = CONFUSION.clone()
    confusion[1] = 0  # no test sample of class 1
    metrics = compute_metrics(confusion, TRAIN_COUNTS)
    assert math.isnan(metrics.per_class_recall[1])
    assert metrics.mean_recall == pytest.approx((0.75 + 1.0 + 0.25) / 3)
    assert metrics.hm == pytest.approx(3 / (1 / 0.75 + 1 / 1.0 + 1 / 0.25))
    assert metrics.gm == pytest.approx((0.75 * 1.0 * 0.25) ** (1 / 3))
    assert metrics.lowest_recall == 0.25
    assert metrics.zero_recall == 0  # absent is not zero recall
    assert metrics.medium == pytest.approx(1.0)  # only class 2 left in the medium group
    assert metrics.top1 == pytest.approx(9 / 13)


def test_an_empty_group_is_none():
    metrics = compute_metrics(CONFUSION, torch.tensor([500, 300, 200, 150]))
    assert metrics.many == pytest.approx(metrics.mean_recall)
    assert metrics.medium is None and metrics.few is None


def test_top5_without_counts_is_nan():
    assert math.isnan(compute_metrics(CONFUSION, TRAIN_COUNTS).top5)


def test_topk_counts_labels_among_the_k_highest_logits():
    logits = torch.tensor([
        [0.9, 0.1, 0.5, 0.3, 0.2, 0.0],  # label 5 is last: outside the top 5
        [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],  # label 1 is 5th
        [1.0, 0.0, 0.0, 0.0, 0.0, 0.0],  # label 0 is 1st
    ])
    labels = torch.tensor([5, 1, 0])
    assert topk_correct(logits, labels, k=5) == 2
    assert topk_correct(logits, labels, k=1) == 1
    assert int(topk_hits(logits, labels, k=5)) == 2
    assert topk_correct(logits[:, :3], torch.tensor([2, 1, 0]), k=5) == 3  # k capped at 3 classes


def test_summary_and_round_trip():
    metrics = compute_metrics(CONFUSION, TRAIN_COUNTS, loss=0.5, top5_correct=15)
    summary = metrics.summary("test_")
    assert set(summary) == {"test_" + key for key in Metrics.SUMMARY_KEYS}
    assert summary["test_hm"] == metrics.hm
    assert Metrics.from_dict(metrics.to_dict()) == metrics


def test_the_count_thresholds_split_cifar100_lt_into_35_35_30_classes():
    from data.cifar import long_tail_counts

    counts = torch.tensor(long_tail_counts(500, 100, "exp", 100))
    recalls = torch.arange(100, dtype=torch.float64) / 100  # recall = index / 100: group means show membership
    many, medium, few = group_accuracy(recalls, counts)
    assert many == pytest.approx(sum(range(35)) / 35 / 100)  # classes 0..34 (> 100 images; class 35 has 98)
    assert medium == pytest.approx(sum(range(35, 70)) / 35 / 100)
    assert few == pytest.approx(sum(range(70, 100)) / 30 / 100)  # class 70 has 19 images
