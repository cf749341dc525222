"""Worst-class metrics, calibration and per-class precision from a confusion matrix and logits.

Following "No One Left Behind" (Du & Wu, CVPR 2023, arXiv 2303.03630), beside top-1 accuracy
we report over the C per-class recalls r_c: the harmonic mean HM = C / Σ 1/r_c, the geometric
mean GM = (Π r_c)^(1/C) and the lowest recall LR = min r_c.

**The paper's convention (the default).** The NOLB code (``utils.py`` ``GM_HM_LR``, also in the
RIDE / PaCo copies it ships) clamps every per-class recall to at least 1e-3 before HM, GM and
LR. Without the floor HM and GM are exactly 0 as soon as one class has zero recall, which is most
of a CIFAR-100-LT run's early epochs, and they say nothing about how far behind the others are.
``RECALL_FLOOR`` = 1e-3 is therefore the default; ``recall_floor=0`` gives the unfloored values
(HM = GM = LR = 0 with any zero-recall class). ``zero_recall`` counts the classes at exactly 0
either way, and ``per_class_recall`` is never floored. GM is computed through logs in float64
(a product of 100 recalls underflows in float32).

**Calibration.** ECE with 15 equal-width bins on the maximum softmax probability, each bin
right-closed (lo, hi], weighted by its share of samples: Σ_b |B_b|/N · |acc(B_b) − conf(B_b)|,
as MiSLAS computes and reports it (Zhong et al., CVPR 2021, github.com/dvlab-research/MiSLAS,
``utils/metric.py``). NLL is the mean −log softmax probability of the true class.

**Groups.** Many / medium / few are the classes with > 100, 20–100 and < 20 *training* images,
decided per class from the actual counts (the OLTR / LDAM-DRW convention). MiSLAS instead uses
fixed index ranges of the count-sorted classes from its configs: [0, 36), [36, 71), [71, 100) on
CIFAR-100-LT. At ratio 100 the counts give 35 / 35 / 30 classes (class 35 has 98 images, class
70 has 19), so MiSLAS's many group holds one class more and its few group one class less; for
other ratios or datasets only the count thresholds keep their meaning.

**Many classes.** Every value comes from exact per-class counts (``engine.confusion_counts``); the full
C×C matrix is kept only up to ``DENSE_LIMIT`` (512) classes. Above it ``Metrics.confusion`` is
None and ``confused_pairs`` (the most confused pairs, at any class count) is what remains of it.

**Outputs that are not numbers.** Logits holding NaN/inf are never scored: ``not_numbers`` gives
every value as NaN with ``Metrics.non_finite`` counting the samples (``engine.finite``).

All values are fractions in [0, 1].
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch

from engine.config import RECALL_FLOOR
from engine.confusion_counts import ConfusionCounts

MANY_THRESHOLD = 100  # more than this many training images → "many"
FEW_THRESHOLD = 20  # fewer than this → "few"
ECE_BINS = 15  # MiSLAS's calibration bins


@dataclass
class Metrics:
    top1: float
    top5: float
    loss: float
    mean_recall: float
    hm: float
    gm: float
    lowest_recall: float
    zero_recall: int | None  # None when the outputs were not numbers
    many: float | None
    medium: float | None
    few: float | None
    per_class_recall: list[float] = field(default_factory=list)
    nll: float = math.nan  # mean −log p(true class); NaN when no logits were seen
    ece: float = math.nan  # expected calibration error, 15 bins; NaN when no logits were seen
    recall_floor: float = RECALL_FLOOR  # the floor HM / GM / LR were computed with (0 = unfloored)
    per_class_precision: list[float] = field(default_factory=list)  # NaN for a class never predicted
    confusion: list[list[int]] | None = field(default=None, repr=False, compare=False)  # rows = true class; ≤ 512 classes
    experts_per_image: float | None = None  # mean experts a router called per image (RIDE); None: no router
    # (true, predicted, count) off the diagonal, most frequent first (engine.confusion_counts.TOP_PAIRS at most)
    confused_pairs: list[tuple[int, int, int]] = field(default_factory=list, repr=False, compare=False)
    non_finite: int = 0  # samples whose outputs held NaN/inf: then every value above is NaN (not_numbers)

    SUMMARY_KEYS = ("loss", "top1", "top5", "mean_recall", "hm", "gm", "lowest_recall",
                    "zero_recall", "many", "medium", "few", "nll", "ece")

    def summary(self, prefix: str = "") -> dict[str, float | int | None]:
        """The scalar metrics, keys prefixed (``train_``/``test_``), for CSV rows and plots."""
        return {prefix + key: getattr(self, key) for key in self.SUMMARY_KEYS}

    def are_numbers(self) -> bool:
        """False when the outputs held NaN/inf (``non_finite``): then no value may be scored."""
        return not self.non_finite

    def to_dict(self) -> dict:
        """Everything but the confusion statistics (saved on their own by ``RunFolder.write_confusion``)."""
        raw = asdict(self)
        raw.pop("confusion")
        raw.pop("confused_pairs")
        return raw

    @classmethod
    def from_dict(cls, raw: dict) -> Metrics:
        return cls(**raw)


def class_recalls(labels: torch.Tensor, predictions: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Per-class recall straight from labels and predictions (no C×C matrix); NaN for an absent class."""
    labels, predictions = labels.to(torch.int64), predictions.to(labels.device, torch.int64)
    hits = torch.bincount(labels[predictions == labels], minlength=num_classes)
    return _ratio(hits, torch.bincount(labels, minlength=num_classes))


@dataclass(frozen=True)
class ValidationScore:
    """How the plug-in's choices on a validation split (the ensemble's temperatures, τ-norm's τ)
    rank a candidate: HM of the per-class recalls (unfloored, classes without a validation image
    left out), then fewer zero-recall classes (HM is 0 as soon as one class is, which is common
    on a small split), then mean recall."""

    hm: float
    zero_recall: int
    mean_recall: float

    @classmethod
    def of(cls, scores: torch.Tensor, labels: torch.Tensor) -> ValidationScore:
        recalls = class_recalls(labels.cpu(), scores.argmax(dim=1).cpu(), scores.shape[1])
        recalls = recalls[~torch.isnan(recalls)]
        return cls(harmonic_mean(recalls), int((recalls == 0).sum()), float(recalls.mean()))

    def key(self) -> tuple[float, int, float]:
        """Larger is better."""
        return self.hm, -self.zero_recall, self.mean_recall


def floored(recalls: torch.Tensor, floor: float = 0.0) -> torch.Tensor:
    """The recalls in float64, each at least ``floor`` (the paper's code uses 1e-3)."""
    return recalls.to(torch.float64).clamp_min(floor)


def harmonic_mean(recalls: torch.Tensor, floor: float = 0.0) -> float:
    """C / Σ 1/r_c over the recalls floored at ``floor``; 0 when a recall is 0 and there is no floor."""
    recalls = floored(recalls, floor)
    if (recalls <= 0).any():
        return 0.0
    return float(len(recalls) / (1.0 / recalls).sum())


def geometric_mean(recalls: torch.Tensor, floor: float = 0.0) -> float:
    """exp(mean log r_c) in float64 over the recalls floored at ``floor``; 0 when one is 0 unfloored."""
    recalls = floored(recalls, floor)
    if (recalls <= 0).any():
        return 0.0
    return float(torch.exp(torch.log(recalls).mean()))


def group_accuracy(recalls: torch.Tensor, train_counts: torch.Tensor) -> tuple[float | None, float | None, float | None]:
    """Mean recall of the many (> 100), medium (20–100) and few (< 20) shot classes."""
    counts = train_counts.to(recalls.device)
    groups = (counts > MANY_THRESHOLD, (counts >= FEW_THRESHOLD) & (counts <= MANY_THRESHOLD), counts < FEW_THRESHOLD)
    return tuple(float(recalls[mask].mean()) if mask.any() else None for mask in groups)  # type: ignore[return-value]


def compute_metrics(confusion: torch.Tensor | ConfusionCounts, train_counts: torch.Tensor, loss: float = math.nan,
                    top5_correct: int | None = None, recall_floor: float = RECALL_FLOOR,
                    nll: float = math.nan, ece: float = math.nan) -> Metrics:
    """All metrics from a confusion matrix or record; classes absent from the evaluated set are skipped.

    HM, GM and LR use the recalls floored at ``recall_floor`` (the paper's 1e-3; 0 = unfloored).
    """
    record = confusion if isinstance(confusion, ConfusionCounts) else ConfusionCounts.from_matrix(confusion)
    total = record.total
    recalls_all = _ratio(record.correct, record.support)
    present = ~torch.isnan(recalls_all)
    recalls = recalls_all[present]
    many, medium, few = group_accuracy(recalls, train_counts.cpu()[present])
    top1 = float(record.correct.sum()) / max(total, 1)
    return Metrics(
        top1=top1,
        top5=top5_correct / max(total, 1) if top5_correct is not None else math.nan,
        loss=float(loss),
        mean_recall=float(recalls.mean()) if len(recalls) else 0.0,
        hm=harmonic_mean(recalls, recall_floor) if len(recalls) else 0.0,
        gm=geometric_mean(recalls, recall_floor) if len(recalls) else 0.0,
        lowest_recall=float(floored(recalls, recall_floor).min()) if len(recalls) else 0.0,
        zero_recall=int((recalls == 0).sum()),
        many=many,
        medium=medium,
        few=few,
        per_class_recall=recalls_all.tolist(),
        nll=float(nll),
        ece=float(ece),
        recall_floor=float(recall_floor),
        per_class_precision=_ratio(record.correct, record.predicted).tolist(),
        confusion=record.matrix.tolist() if record.matrix is not None else None,
        confused_pairs=[tuple(row) for row in record.pairs.tolist()],
    )


def not_numbers(num_classes: int, non_finite: int, recall_floor: float = RECALL_FLOOR) -> Metrics:
    """The metrics of outputs that held NaN/inf: every value NaN (shown as n/a, JSON null), with
    ``non_finite`` saying for how many samples; never a score computed from such outputs."""
    nan = math.nan
    return Metrics(top1=nan, top5=nan, loss=nan, mean_recall=nan, hm=nan, gm=nan, lowest_recall=nan,
                   zero_recall=None, many=nan, medium=nan, few=nan, per_class_recall=[nan] * num_classes,
                   recall_floor=float(recall_floor), per_class_precision=[nan] * num_classes, non_finite=non_finite)


def _ratio(part: torch.Tensor, whole: torch.Tensor) -> torch.Tensor:
    """``part / whole`` per class in float64, NaN where ``whole`` is 0."""
    whole = whole.to(torch.float64)
    return part.to(torch.float64) / whole.where(whole > 0, torch.tensor(float("nan"), dtype=torch.float64))


def floor_note(floors: set[float]) -> str:
    """How HM / GM / LR treat zero recall, for a table's foot."""
    if floors == {0.0}:
        return "HM / GM / LR unfloored: 0 when any class has zero recall."
    if len(floors) == 1:
        return f"HM / GM / LR with each class's recall floored at {100 * min(floors):g} % (the paper's convention)."
    shown = ", ".join(f"{100 * f:g} %" for f in sorted(floors))
    return f"HM / GM / LR floors differ between the columns ({shown}); compare them with care."


def topk_hits(logits: torch.Tensor, labels: torch.Tensor, k: int = 5) -> torch.Tensor:
    """How many labels are among the ``k`` highest logits, as a tensor (no device sync)."""
    k = min(k, logits.shape[1])
    return (logits.topk(k, dim=1).indices == labels[:, None]).any(dim=1).sum()


def topk_correct(logits: torch.Tensor, labels: torch.Tensor, k: int = 5) -> int:
    """How many labels are among the ``k`` highest logits (k is capped at the class count)."""
    return int(topk_hits(logits, labels, k))
