"""What one training step receives: one or more augmented views, labels, optional soft targets.

Built by the loop (``engine.loop``) from the uint8 images of the device-resident split: one
view per augmentation the stage names, each normalised; with input mixup the first view is
mixed and ``targets`` holds the soft labels. When a stage trains on cached backbone features
(a frozen backbone), ``features`` holds them and ``views`` is empty.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class Batch:
    views: list[torch.Tensor]
    labels: torch.Tensor  # int64 (B,)
    targets: torch.Tensor | None = None  # (B, C) soft targets (mixup)
    features: torch.Tensor | None = None  # cached frozen-backbone features
    index: torch.Tensor | None = None  # positions in the training split
    extras: dict[str, torch.Tensor] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.labels.shape[0])
