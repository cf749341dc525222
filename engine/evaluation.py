"""Evaluation: large batches under ``torch.inference_mode()``, straight from uint8 tensors."""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F

from data.tensors import normalize
from engine.fold import folded_copy
from engine.precision import autocast
from engine.metrics import RECALL_FLOOR, Metrics, calibration, compute_metrics, confusion_matrix, topk_correct

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
    The result carries its confusion matrix (``Metrics.confusion``)."""
    num_classes = logits.shape[1]
    labels = labels.to(logits.device)
    confusion = confusion_matrix(labels.cpu(), logits.argmax(dim=1).cpu(), num_classes)
    loss = float(F.cross_entropy(logits, labels))
    nll, ece = calibration(logits, labels)
    return compute_metrics(confusion, train_counts, loss=loss, top5_correct=topk_correct(logits, labels),
                           recall_floor=recall_floor, nll=nll, ece=ece)


def add_routing(metrics: Metrics, method: object) -> Metrics:
    """Put the mean number of experts a router called per image (RIDE's routed predictions since the
    method's last report) into ``metrics``; methods without a router leave it None."""
    take = getattr(method, "take_experts_used", None)
    used = take() if take is not None else None
    if used is not None and used.numel():
        metrics.experts_per_image = float(used.double().mean())
    return metrics


def evaluate(model: nn.Module, logits_fn: Callable[[nn.Module, torch.Tensor], torch.Tensor], images: torch.Tensor,
             labels: torch.Tensor, mean, std, train_counts: torch.Tensor,
             recall_floor: float = RECALL_FLOOR, fold: Callable[[nn.Module], nn.Module] = folded_copy) -> Metrics:
    """Metrics of ``logits_fn(model, x)`` (e.g. ``method.logits``) on a split.

    The logits come from a BatchNorm-folded eval copy of ``model`` (``fold``: a fresh copy, or the
    loop's compiled one, ``engine.speed.FoldedEvaluation``), in the model's precision.
    """
    fast = fold(model)
    with autocast(fast):
        logits = predict_logits(lambda x: logits_fn(fast, x), images, mean, std)
    return metrics_from_logits(logits, labels, train_counts, recall_floor)
