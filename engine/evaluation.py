"""Evaluation: large batches under ``torch.inference_mode()``, from any image source.

A split is scored batch by batch (``engine.epoch_stats.EpochStats`` with calibration): its logits
are never kept together, so a 50,000-image, 1,000-class test split costs the memory of one batch.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F

from data.sources import ImageSource
from data.tensors import normalize
from engine.epoch_stats import EpochStats
from engine.fold import folded_copy
from engine.metrics import RECALL_FLOOR, Metrics
from engine.precision import autocast

# Images per forward pass without gradients. A GPU wants large batches; on a 2-core CPU a
# ResNet-32 runs about 2x faster per image at 128 than at 1024 (activations stay in cache):
# measured 1,090 vs 560 images/s BN-folded (docs/benchmarks.md).
INFERENCE_BATCH = {"cuda": 1024, "cpu": 128}


def inference_batch_size(device: torch.device) -> int:
    return INFERENCE_BATCH.get(device.type, INFERENCE_BATCH["cuda"])


@torch.inference_mode()
def predict_logits(logits_fn: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor,
                   mean, std, batch_size: int | None = None) -> torch.Tensor:
    """Logits for uint8 images ``(N, 3, H, W)``, computed in batches on the images' device."""
    batch_size = batch_size or inference_batch_size(images.device)
    outputs = [logits_fn(normalize(images[i:i + batch_size], mean, std)).float()
               for i in range(0, len(images), batch_size)]
    return torch.cat(outputs) if outputs else torch.empty(0)


def metrics_from_logits(logits: torch.Tensor, labels: torch.Tensor, train_counts: torch.Tensor,
                        recall_floor: float = RECALL_FLOOR) -> Metrics:
    """Loss (plain CE), top-1/top-5, NLL and ECE, per-class precision and the worst-class metrics
    (HM / GM / LR with recalls floored at ``recall_floor``; 0 = unfloored) of a set of logits.
    The result carries its confusion statistics (``Metrics.confusion``, ``Metrics.confused_pairs``)."""
    stats = EpochStats(logits.shape[1], logits.device, calibration=True)
    labels = labels.to(logits.device)
    stats.update(F.cross_entropy(logits, labels), logits, labels)
    return stats.read(train_counts, recall_floor)


def add_routing(metrics: Metrics, method: object) -> Metrics:
    """Put the mean number of experts a router called per image (RIDE's routed predictions since the
    method's last report) into ``metrics``; methods without a router leave it None."""
    take = getattr(method, "take_experts_used", None)
    used = take() if take is not None else None
    if used is not None and used.numel():
        metrics.experts_per_image = float(used.double().mean())
    return metrics


@torch.inference_mode()
def evaluate(model: nn.Module, logits_fn: Callable[[nn.Module, torch.Tensor], torch.Tensor], source: ImageSource,
             mean, std, train_counts: torch.Tensor, recall_floor: float = RECALL_FLOOR,
             fold: Callable[[nn.Module], nn.Module] = folded_copy) -> Metrics:
    """Metrics of ``logits_fn(model, x)`` (e.g. a method's prediction rule) on a split's source
    (its un-augmented images: as stored, or resized and centre-cropped when streamed).

    The logits come from a BatchNorm-folded eval copy of ``model`` (``fold``: a fresh copy, or the
    loop's compiled one, ``engine.speed.FoldedEvaluation``), in the model's precision.
    """
    fast = fold(model)
    device = source.labels.device
    stats = EpochStats(len(train_counts), device, calibration=True)
    with autocast(fast):
        for images, labels in source.plain_batches(inference_batch_size(device)):
            logits = logits_fn(fast, normalize(images, mean, std)).float()
            stats.update(F.cross_entropy(logits, labels), logits, labels)
    return stats.read(train_counts, recall_floor)
