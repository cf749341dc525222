"""Evaluation: large batches under ``torch.inference_mode()``, straight from uint8 tensors, by a
``PredictionRule`` (``engine.prediction``, the one prediction path)."""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch.nn import functional as F

from data.tensors import normalize
from engine.fold import folded_copy
from engine.metrics import RECALL_FLOOR, Metrics, calibration, compute_metrics, confusion_matrix, topk_correct
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
    The result carries its confusion matrix (``Metrics.confusion``)."""
    logits = logits.float()
    num_classes = logits.shape[1]
    labels = labels.to(logits.device)
    confusion = confusion_matrix(labels.cpu(), logits.argmax(dim=1).cpu(), num_classes)
    loss = float(F.cross_entropy(logits, labels))
    nll, ece = calibration(logits, labels)
    return compute_metrics(confusion, train_counts, loss=loss, top5_correct=topk_correct(logits, labels),
                           recall_floor=recall_floor, nll=nll, ece=ece)


def metrics_from_scores(scores: Scores, labels: torch.Tensor, train_counts: torch.Tensor,
                        recall_floor: float = RECALL_FLOOR) -> Metrics:
    """:func:`metrics_from_logits` of the scores, and the mean number of experts a router called
    per image when the prediction routed (None otherwise)."""
    metrics = metrics_from_logits(scores.values, labels, train_counts, recall_floor)
    used = scores.experts_used
    if used is not None and used.numel():
        metrics.experts_per_image = float(used.double().mean())
    return metrics


def evaluate(model: LTModel, rule: PredictionRule, images: torch.Tensor, labels: torch.Tensor, mean, std,
             train_counts: torch.Tensor, recall_floor: float = RECALL_FLOOR) -> Metrics:
    """Metrics of the prediction ``rule`` on a split of uint8 images, from a BatchNorm-folded eval
    copy of ``model``."""
    fast = folded_copy(model)
    scores = predict_scores(lambda x: rule(fast, x), images, mean, std)
    return metrics_from_scores(scores, labels, train_counts, recall_floor)
