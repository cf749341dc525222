"""Named batch augmentations on uint8 image tensors, and input mixup.

Every augmentation maps ``(uint8 images (B, 3, H, W), torch.Generator) -> uint8 images`` on the
images' device, draws each image's own random parameters from the generator, and does no
per-sample PIL work. A stage names one augmentation per view (``engine.stages.Stage.views``), so a
method with two views (PaCo) gets two differently augmented copies of the same images.

- ``none``: the images as they are;
- ``crop_flip``: ``RandomCrop(32, padding=4)`` + ``RandomHorizontalFlip()``, the LDAM-DRW recipe
  (``data.tensors.augment_batch``);
- ``crop_flip_rotate15``: the same, then ``RandomRotation(15)`` (RIDE's CIFAR loaders;
  ``data.rotation``);
- ``paco_query``: PaCo's query view, crop + flip + AutoAugment (CIFAR-10 policy) + Cutout 16
  (``data.autoaugment``);
- ``paco_key``: PaCo's key view, SimCLR-style (``data.simclr``).

Mixup (Zhang et al., ICLR 2018; as MiSLAS stage 1, github.com/dvlab-research/MiSLAS
``train_stage1.py``): ``x̃ = λx + (1 − λ)x[perm]`` with one λ ~ Beta(α, α) and one random
permutation per batch; the targets become ``λ·onehot(y) + (1 − λ)·onehot(y[perm])``, so cross
entropy on them equals ``λ·CE(y) + (1 − λ)·CE(y[perm])``.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch.nn import functional as F

from data.autoaugment import paco_query
from data.rotation import random_rotate
from data.simclr import simclr_view
from data.tensors import augment_batch

Augmentation = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


def no_augmentation(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    return images


def crop_flip_rotate15(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    return random_rotate(augment_batch(images, generator), generator, degrees=15.0)


AUGMENTATIONS: dict[str, Augmentation] = {
    "none": no_augmentation,
    "crop_flip": augment_batch,
    "crop_flip_rotate15": crop_flip_rotate15,
    "paco_query": paco_query,
    "paco_key": simclr_view,
}



def mixup(images: torch.Tensor, labels: torch.Tensor, num_classes: int, lam: float,
          generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``(mixed float images, soft targets (B, C))`` for one batch with mixing weight ``lam``; the
    partner permutation comes from ``generator`` (on the images' device, so nothing waits)."""
    permutation = torch.randperm(images.shape[0], generator=generator, device=generator.device).to(images.device)
    mixed = lam * images + (1 - lam) * images[permutation]
    one_hot = F.one_hot(labels, num_classes).to(images.dtype)
    return mixed, lam * one_hot + (1 - lam) * one_hot[permutation]


def draw_beta(alpha: float, generator: torch.Generator) -> float:
    """λ ~ Beta(α, α) as a Python float from a CPU ``generator`` (so drawing it never waits on a GPU):
    G1 / (G1 + G2) with two Gamma(α, 1) draws (Marsaglia and Tsang, with the α < 1 boost)."""
    first, second = _gamma(alpha, generator), _gamma(alpha, generator)
    return first / (first + second)


def _gamma(alpha: float, generator: torch.Generator) -> float:
    shape = alpha + 1 if alpha < 1 else alpha
    d = shape - 1 / 3
    c = 1 / (9 * d) ** 0.5
    while True:
        x = float(torch.randn((), generator=generator))
        v = (1 + c * x) ** 3
        u = float(torch.rand((), generator=generator))
        if v > 0 and math.log(max(u, 1e-300)) < 0.5 * x * x + d - d * v + d * math.log(v):
            draw = d * v
            return draw * float(torch.rand((), generator=generator)) ** (1 / alpha) if alpha < 1 else draw
