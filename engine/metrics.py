"""Worst-class metrics from a confusion matrix.

Following "No One Left Behind" (Du & Wu, CVPR 2023, arXiv 2303.03630), beside top-1 accuracy
we report over the C per-class recalls r_c: the harmonic mean HM = C / Σ 1/r_c, the geometric
mean GM = (Π r_c)^(1/C) and the lowest recall LR = min r_c. HM and GM are 0 as soon as one
class has zero recall; ``zero_recall`` counts those classes so the cause is visible.
The many / medium / few split is the usual one: > 100, 20–100 and < 20 training images.
All values are fractions in [0, 1].
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch

MANY_THRESHOLD = 100  # more than this many training images → "many"
FEW_THRESHOLD = 20  # fewer than this → "few"


@dataclass
class Metrics:
    top1: float
    top5: float
    loss: float
    mean_recall: float
    hm: float
    gm: float
    lowest_recall: float
    zero_recall: int
    many: float | None
    medium: float | None
    few: float | None
    per_class_recall: list[float] = field(default_factory=list)
    experts_per_image: float | None = None  # mean experts a router called per image (RIDE); None: no router

    SUMMARY_KEYS = ("loss", "top1", "top5", "mean_recall", "hm", "gm", "lowest_recall",
                    "zero_recall", "many", "medium", "few")

    def summary(self, prefix: str = "") -> dict[str, float | int | None]:
        """The scalar metrics, keys prefixed (``train_``/``test_``), for CSV rows and plots."""
        return {prefix + key: getattr(self, key) for key in self.SUMMARY_KEYS}

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict) -> Metrics:
        return cls(**raw)


def confusion_matrix(labels: torch.Tensor, predictions: torch.Tensor, num_classes: int) -> torch.Tensor:
    """``(C, C)`` int64 matrix; row = true class, column = predicted class."""
    flat = labels.to(torch.int64) * num_classes + predictions.to(torch.int64)
    return torch.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def per_class_recall(confusion: torch.Tensor) -> torch.Tensor:
    """Recall of every class; a class with no test sample gets NaN."""
    confusion = confusion.to(torch.float64)
    support = confusion.sum(dim=1)
    return confusion.diagonal() / support.where(support > 0, torch.tensor(float("nan"), dtype=torch.float64))


def harmonic_mean(recalls: torch.Tensor) -> float:
    if (recalls <= 0).any():
        return 0.0
    return float(len(recalls) / (1.0 / recalls).sum())


def geometric_mean(recalls: torch.Tensor) -> float:
    if (recalls <= 0).any():
        return 0.0
    return float(torch.exp(torch.log(recalls).mean()))


def group_accuracy(recalls: torch.Tensor, train_counts: torch.Tensor) -> tuple[float | None, float | None, float | None]:
    """Mean recall of the many (> 100), medium (20–100) and few (< 20) shot classes."""
    counts = train_counts.to(recalls.device)
    groups = (counts > MANY_THRESHOLD, (counts >= FEW_THRESHOLD) & (counts <= MANY_THRESHOLD), counts < FEW_THRESHOLD)
    return tuple(float(recalls[mask].mean()) if mask.any() else None for mask in groups)  # type: ignore[return-value]


def compute_metrics(confusion: torch.Tensor, train_counts: torch.Tensor, loss: float = math.nan,
                    top5_correct: int | None = None) -> Metrics:
    """All metrics from a confusion matrix; classes absent from the evaluated set are skipped."""
    confusion = confusion.cpu()
    total = int(confusion.sum())
    recalls_all = per_class_recall(confusion)
    present = ~torch.isnan(recalls_all)
    recalls = recalls_all[present]
    many, medium, few = group_accuracy(recalls, train_counts.cpu()[present])
    top1 = float(confusion.diagonal().sum()) / max(total, 1)
    return Metrics(
        top1=top1,
        top5=top5_correct / max(total, 1) if top5_correct is not None else math.nan,
        loss=float(loss),
        mean_recall=float(recalls.mean()) if len(recalls) else 0.0,
        hm=harmonic_mean(recalls) if len(recalls) else 0.0,
        gm=geometric_mean(recalls) if len(recalls) else 0.0,
        lowest_recall=float(recalls.min()) if len(recalls) else 0.0,
        zero_recall=int((recalls == 0).sum()),
        many=many,
        medium=medium,
        few=few,
        per_class_recall=[float(r) for r in recalls_all],
    )


def topk_hits(logits: torch.Tensor, labels: torch.Tensor, k: int = 5) -> torch.Tensor:
    """How many labels are among the ``k`` highest logits, as a tensor (no device sync)."""
    k = min(k, logits.shape[1])
    return (logits.topk(k, dim=1).indices == labels[:, None]).any(dim=1).sum()


def topk_correct(logits: torch.Tensor, labels: torch.Tensor, k: int = 5) -> int:
    """How many labels are among the ``k`` highest logits (k is capped at the class count)."""
    return int(topk_hits(logits, labels, k))
