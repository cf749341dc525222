"""Named training augmentations: uint8 ``(B, 3, H, W)`` batch + generator → uint8 batch.

Every image gets its own random draw, all of it from the given ``torch.Generator`` (so a run is
reproducible from its seed), batched on the images' device; nothing goes through PIL.

- ``none``: the images as they are;
- ``crop_flip``: random crop with 4-pixel zero padding + horizontal flip (``data.tensors``);
- ``paco_query``: PaCo's query view, crop + flip + AutoAugment (CIFAR-10 policy) + Cutout 16
  (``data.autoaugment``);
- ``paco_key``: PaCo's key view, SimCLR-style (``data.simclr``).
"""
from __future__ import annotations

from collections.abc import Callable

import torch

from data.autoaugment import autoaugment_cifar10, cutout
from data.simclr import simclr_view
from data.tensors import augment_batch

Augmentation = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


def _none(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    return images


def paco_query(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """RandomCrop(32, 4) → flip → AutoAugment CIFAR10Policy → Cutout(1 hole, 16 px)."""
    return cutout(autoaugment_cifar10(augment_batch(images, generator), generator), generator)


AUGMENTATIONS: dict[str, Augmentation] = {
    "none": _none,
    "crop_flip": augment_batch,
    "paco_query": paco_query,
    "paco_key": simclr_view,
}
