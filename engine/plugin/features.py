"""The frozen backbone's features: computed once and cached, or per batch.

With the backbone frozen, the classifier's input for an image depends only on the image (and
its augmentation). ``FeatureBank`` runs the backbone over the training split once per cached
pass (one pass without augmentation, ``feature_passes`` augmented passes with it) and serves
epoch e from pass ``e mod passes``. ``LiveFeatures`` runs the backbone on every batch instead:
the full-forward fallback, each epoch with fresh augmentation. Both run the frozen (eval-mode)
model under ``torch.no_grad()``, so nothing in the backbone can change.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from data.tensors import augment_batch, normalize
from engine.evaluation import inference_batch_size

BatchCallback = Callable[[int, int], None]  # (batches done, batches in all); may raise RunStopped


@torch.no_grad()
def extract_features(model: nn.Module, images: torch.Tensor, mean, std, generator: torch.Generator | None = None,
                     on_batch: BatchCallback | None = None, batch_size: int | None = None) -> torch.Tensor:
    """``model.features`` of uint8 images ``(N, 3, H, W)`` as float32 ``(N, D)``; augmented when a
    generator is given (random crop + flip, drawn from it)."""
    batch_size = batch_size or inference_batch_size(images.device)
    batches = (len(images) + batch_size - 1) // batch_size
    outputs = []
    for batch in range(batches):
        chunk = images[batch * batch_size:(batch + 1) * batch_size]
        if generator is not None:
            chunk = augment_batch(chunk, generator)
        outputs.append(model.features(normalize(chunk, mean, std)).float())
        if on_batch is not None:
            on_batch(batch + 1, batches)
    return torch.cat(outputs) if outputs else torch.empty(0, device=images.device)


class FeatureBank:
    """Cached features of the training split: one tensor ``(N, D)`` per pass."""

    def __init__(self, passes: list[torch.Tensor]):
        self.passes = passes

    def batch(self, index: torch.Tensor, epoch: int) -> torch.Tensor:
        return self.passes[epoch % len(self.passes)][index]


class LiveFeatures:
    """Features computed from the images on every batch (the no-cache fallback)."""

    def __init__(self, model: nn.Module, images: torch.Tensor, mean, std, generator: torch.Generator | None):
        self.model, self.images, self.mean, self.std, self.generator = model, images, mean, std, generator

    def batch(self, index: torch.Tensor, epoch: int) -> torch.Tensor:
        return extract_features(self.model, self.images[index], self.mean, self.std, self.generator)
