"""Worst-class metrics against hand arithmetic on small confusion matrices."""
from __future__ import annotations

import math

import pytest
import torch

from engine.metrics import Metrics, compute_metrics, confusion_matrix, per_class_recall, topk_correct, topk_hits

# Rows = true class. Recalls 3/4, 1/2, 5/5, 1/4; 10 of 15 correct.
CONFUSION = torch.tensor([
    [3, 1, 0, 0],
    [1, 1, 0, 0],
    [0, 0, 5, 0],
    [2, 0, 1, 1],
])
# > 100 → many (class 0); 20..100 → medium (classes 1 and 2, at both edges); < 20 → few (class 3).
TRAIN_COUNTS = torch.tensor([500, 100, 20, 5])


def test_confusion_matrix_counts_true_rows_and_predicted_columns():
    labels = torch.tensor([0, 0, 0, 0, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3])
    predictions = torch.tensor([0, 0, 0, 1, 0, 1, 2, 2, 2, 2, 2, 0, 0, 2, 3])
    assert torch.equal(confusion_matrix(labels, predictions, 4), CONFUSION)


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


def test_a_zero_recall_class_makes_hm_and_gm_zero_and_is_counted():
    confusion = CONFUSION.clone()
    confusion[3] = torch.tensor([3, 0, 1, 0])  # class 3 never right
    metrics = compute_metrics(confusion, TRAIN_COUNTS)
    assert metrics.hm == 0.0 and metrics.gm == 0.0
    assert metrics.lowest_recall == 0.0
    assert metrics.zero_recall == 1
    assert metrics.mean_recall == pytest.approx((0.75 + 0.5 + 1.0 + 0.0) / 4)
    assert metrics.few == 0.0


def test_a_class_absent_from_the_test_labels_is_skipped():
    confusion = CONFUSION.clone()
    confusion[1] = 0  # no test sample of class 1
    assert math.isnan(float(per_class_recall(confusion)[1]))
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
