"""The one in-memory shape every dataset source produces."""
from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class LTDataset:
    """A long-tailed train split and a balanced test split, held as uint8 tensors.

    Images are ``uint8`` tensors of shape ``(N, C, H, W)`` (C is 3 for every source; grey
    sources are repeated to RGB). Labels are ``int64`` tensors of shape ``(N,)``.
    ``mean`` and ``std`` are per-channel statistics on the 0..1 scale used to normalise.
    """

    name: str
    class_names: list[str]
    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    skipped_files: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def class_counts(self) -> torch.Tensor:
        """Training images per class, ``int64`` of shape ``(C,)``."""
        return torch.bincount(self.train_labels.cpu(), minlength=self.num_classes)

    @property
    def image_size(self) -> int:
        return int(self.train_images.shape[-1])

    def describe(self) -> str:
        counts = self.class_counts
        return (
            f"{self.name}: {self.num_classes} classes, {len(self.train_labels)} train images "
            f"(largest class {int(counts.max())}, smallest {int(counts.min())}, "
            f"imbalance ratio {float(counts.max()) / max(1, int(counts.min())):.1f}), "
            f"{len(self.test_labels)} test images"
        )
