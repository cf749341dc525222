"""Evaluation: large batches under ``torch.inference_mode()``, from any image source, by a
``PredictionRule`` (``engine.prediction``, the one prediction path).

A split is scored batch by batch (``engine.epoch_stats.EpochStats`` with calibration): its scores
are never kept together, so a 50,000-image, 1,000-class test split costs the memory of one batch.
In a run of several processes each scores its share of the split and the counts are summed
(exact per-class counts: no image twice, none left out, unlike a padded DistributedSampler).
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch.nn import functional as F

from data.sources import ImageSource
from data.tensors import normalize
from engine.distributed.collectives import sum_over_ranks
from engine.distributed.world import current_world
from engine.epoch_stats import EpochStats
from engine.fold import folded_copy
from engine.precision import autocast
from engine.metrics import RECALL_FLOOR, Metrics
from engine.prediction import PredictionRule, Scores
from models import LTModel

# Images per forward pass without gradients. A GPU wants large batches; on a 2-core CPU a
# ResNet-32 runs about 2x faster per image at 128 than at 1024 (activations stay in cache):
# measured 1,090 vs 560 images/s BN-folded (docs/benchmarks.md).
INFERENCE_BATCH = {"cuda": 1024, "cpu": 128}


def inference_batch_size(device: torch.device) -> int:
    return INFERENCE_BATCH.get(device.type, INFERENCE_BATCH["cuda"])


@torch.inference_mode()
def predict_scores(rule: Callable[[torch.Tensor], Scores], images: torch.Tensor, mean, std,
                   batch_size: int | None = None) -> Scores:
    """Scores for uint8 images ``(N, 3, H, W)`` by ``rule`` (normalised images → :class:`Scores`),
    computed in batches on the images' device."""
    batch_size = batch_size or inference_batch_size(images.device)
    return Scores.cat([rule(normalize(images[i:i + batch_size], mean, std))
                       for i in range(0, len(images), batch_size)])


def metrics_from_logits(logits: torch.Tensor, labels: torch.Tensor, train_counts: torch.Tensor,
                        recall_floor: float = RECALL_FLOOR) -> Metrics:
    """Loss (plain CE), top-1/top-5, NLL and ECE, per-class precision and the worst-class metrics
    (HM / GM / LR with recalls floored at ``recall_floor``; 0 = unfloored) of a set of logits.
    The result carries its confusion statistics (``Metrics.confusion``, ``Metrics.confused_pairs``)."""
    stats = EpochStats(logits.shape[1], logits.device, calibration=True)
    labels = labels.to(logits.device)
    stats.update(F.cross_entropy(logits, labels), logits, labels)
    return stats.read(train_counts, recall_floor)


def metrics_from_scores(scores: Scores, labels: torch.Tensor, train_counts: torch.Tensor,
                        recall_floor: float = RECALL_FLOOR) -> Metrics:
    """:func:`metrics_from_logits` of the scores, and the mean number of experts a router called
    per image when the prediction routed (None otherwise)."""
    metrics = metrics_from_logits(scores.values, labels, train_counts, recall_floor)
    used = scores.experts_used
    if used is not None and used.numel():
        metrics.experts_per_image = float(used.double().mean())
    return metrics


@torch.inference_mode()
def evaluate(model: LTModel, rule: PredictionRule, source: ImageSource, mean, std, train_counts: torch.Tensor,
             recall_floor: float = RECALL_FLOOR, fold: Callable[[LTModel], LTModel] = folded_copy) -> Metrics:
    """Metrics of the prediction ``rule`` on a split's source (its un-augmented images: as stored,
    or resized and centre-cropped when streamed), from a BatchNorm-folded eval copy of ``model``
    (``fold``: a fresh copy, or the loop's compiled one, ``engine.speed.FoldedEvaluation``) in the
    model's precision; with the mean experts a router called per image when it routed."""
    fast = fold(model)
    device = source.labels.device
    world = current_world()
    if world.distributed:
        source = source.subset(world.share(len(source)))
    stats = EpochStats(len(train_counts), device, calibration=True)
    experts_used, routed = torch.zeros((), dtype=torch.float64, device=device), 0
    for images, labels in source.plain_batches(inference_batch_size(device)):
        with autocast(fast):
            scores = rule(fast, normalize(images, mean, std))
        logits = scores.values.float()
        stats.update(F.cross_entropy(logits, labels), logits, labels)
        if scores.experts_used is not None:
            experts_used += scores.experts_used.sum()
            routed += labels.shape[0]
    stats.sum_over_ranks()
    if world.distributed:
        experts_used = sum_over_ranks(experts_used.clone())
        routed = int(sum_over_ranks(torch.tensor([routed])))
    metrics = stats.read(train_counts, recall_floor)
    if routed:
        metrics.experts_per_image = float(experts_used) / routed
    return metrics
