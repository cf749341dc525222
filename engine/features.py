"""A frozen backbone's features, computed once and cached for a head-only stage.

With the backbone frozen (weights and BatchNorm statistics), a head's input for an image depends
only on the image and its augmentation. ``extract_features`` runs ``model.features`` over a
split in inference batches; a :class:`FeatureBank` holds one tensor per cached pass (one pass
without augmentation, ``passes`` augmented ones with it) and serves epoch e from pass
``e mod passes``. Features keep the model's shape: ``(N, D)``, or ``(N, E, D)`` per expert.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from data.tensors import normalize
from engine.evaluation import inference_batch_size
from engine.precision import autocast

BatchCallback = Callable[[int, int], None]  # (batches done, batches in all); may raise RunStopped
Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


@torch.no_grad()
def extract_features(model: nn.Module, images: torch.Tensor, mean: Sequence[float], std: Sequence[float],
                     augment: Augment | None = None, generator: torch.Generator | None = None,
                     on_batch: BatchCallback | None = None, batch_size: int | None = None) -> torch.Tensor:
    """``model.features`` of uint8 images ``(N, 3, H, W)`` as float32, computed in the model's
    precision (``engine.precision``); each batch goes through ``augment(batch, generator)`` first when given."""
    batch_size = batch_size or inference_batch_size(images.device)
    batches = (len(images) + batch_size - 1) // batch_size
    outputs = []
    for batch in range(batches):
        chunk = images[batch * batch_size:(batch + 1) * batch_size]
        if augment is not None:
            chunk = augment(chunk, generator)
        with autocast(model):
            outputs.append(model.features(normalize(chunk, mean, std)).float())
        if on_batch is not None:
            on_batch(batch + 1, batches)
    return torch.cat(outputs) if outputs else torch.empty(0, device=images.device)


class FeatureBank:
    """Cached features of the training split: one tensor per pass."""

    def __init__(self, passes: list[torch.Tensor]):
        self.passes = passes

    def batch(self, index: torch.Tensor, epoch: int) -> torch.Tensor:
        return self.passes[epoch % len(self.passes)][index]
