"""PaCo's query view, batched: AutoAugment (CIFAR-10 policy) with a draw per image, and Cutout.

PaCo (Cui et al., ICCV 2021; github.com/dvlab-research/Parametric-Contrastive-Learning,
``PaCo/LT/paco_cifar.py`` ``augmentation_regular`` and ``autoaug.py``) trains its query view on
``RandomCrop(32, 4) → RandomHorizontalFlip → CIFAR10Policy(fill 128) → ToTensor → Cutout(1, 16)``.

The operations are torchvision's own AutoAugment (``transforms.v2.AutoAugment`` with
``AutoAugmentPolicy.CIFAR10``): its 25 sub-policies, its magnitude bins and its kernels for each
operation. ``transforms.v2`` applied to a batch gives every image the same draw, so here every
image draws its own sub-policy, its own "apply?" coins and signs from the caller's generator;
images that drew the same operation with the same signed magnitude are then transformed together
in one call. A batch of 128 takes a few dozen grouped calls instead of 128 per-image pipelines.

Where this follows torchvision rather than the official PIL code: all geometric operations use
nearest interpolation (the official shear is bicubic), translations are whole pixels, and the
magnitudes are torchvision's bins (the same ten-step ranges as the official ``SubPolicy``).

Cutout follows the official ``Cutout``: the hole's centre is uniform over the image and the
16×16 square is clipped at the borders; its pixels become 0 before normalisation.
"""
from __future__ import annotations

from collections import defaultdict
from functools import lru_cache

import torch
from torchvision.transforms import v2
from torchvision.transforms.v2 import AutoAugmentPolicy

from data.tensors import augment_batch

FILL = 128  # the official policy's fill colour for rotations, shears and translations
MAGNITUDE_BINS = 10

_TORCHVISION_AUTOAUGMENT = v2.AutoAugment(AutoAugmentPolicy.CIFAR10, fill=FILL)
# torchvision's tables (private attributes, pinned by requirements.txt; tests/test_paco.py checks them)
CIFAR10_POLICY: list = list(_TORCHVISION_AUTOAUGMENT._policies)
_SPACE: dict = _TORCHVISION_AUTOAUGMENT._AUGMENTATION_SPACE


@lru_cache(maxsize=8)
def _policy_table(height: int, width: int) -> tuple[tuple[tuple[str, float, float, bool], ...], ...]:
    """Per sub-policy and slot: (operation, probability, torchvision's magnitude, takes a sign?)."""
    table = []
    for sub_policy in CIFAR10_POLICY:
        row = []
        for name, probability, bin_index in sub_policy:
            magnitudes_fn, signed = _SPACE[name]
            magnitudes = magnitudes_fn(MAGNITUDE_BINS, height, width)
            magnitude = 0.0 if magnitudes is None or bin_index is None else float(magnitudes[bin_index])
            row.append((name, float(probability), magnitude, bool(signed and magnitudes is not None)))
        table.append(tuple(row))
    return tuple(table)


def _apply_operation(images: torch.Tensor, name: str, magnitude: float) -> torch.Tensor:
    """One AutoAugment operation on a uint8 batch, through torchvision's kernel for it."""
    return _TORCHVISION_AUTOAUGMENT._apply_image_or_video_transform(
        images, name, magnitude, interpolation=_TORCHVISION_AUTOAUGMENT.interpolation,
        fill=_TORCHVISION_AUTOAUGMENT._fill)


def autoaugment_cifar10(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """AutoAugment's CIFAR-10 policy on a uint8 ``(B, 3, H, W)`` batch, each image its own draw.

    Per image: a sub-policy uniform over the 25; for each of its two operations an "apply" coin
    with the operation's probability and, for signed operations, a fair sign. Draws come from
    ``generator`` (three tensors per batch), so a run is reproducible from its seed.
    """
    batch, _, height, width = images.shape
    device = generator.device
    choice = torch.randint(len(CIFAR10_POLICY), (batch,), generator=generator, device=device).tolist()
    coins = torch.rand((batch, 2), generator=generator, device=device).tolist()
    signs = (torch.rand((batch, 2), generator=generator, device=device) < 0.5).tolist()
    table = _policy_table(height, width)
    out = images.clone()
    for slot in range(2):
        groups: dict[tuple[str, float], list[int]] = defaultdict(list)
        for i in range(batch):
            name, probability, magnitude, signed = table[choice[i]][slot]
            if coins[i][slot] < probability:
                groups[(name, -magnitude if signed and signs[i][slot] else magnitude)].append(i)
        for (name, magnitude), members in groups.items():
            index = torch.tensor(members, device=images.device)
            out[index] = _apply_operation(out[index], name, magnitude)
    return out


def cutout(images: torch.Tensor, generator: torch.Generator, length: int = 16) -> torch.Tensor:
    """Zero one ``length``×``length`` square per image, centred uniformly, clipped at the borders."""
    batch, _, height, width = images.shape
    device = generator.device
    cy = torch.randint(height, (batch,), generator=generator, device=device).to(images.device)
    cx = torch.randint(width, (batch,), generator=generator, device=device).to(images.device)
    rows = torch.arange(height, device=images.device)
    cols = torch.arange(width, device=images.device)
    half = length // 2
    in_rows = (rows[None] >= cy[:, None] - half) & (rows[None] < cy[:, None] + half)  # (B, H)
    in_cols = (cols[None] >= cx[:, None] - half) & (cols[None] < cx[:, None] + half)  # (B, W)
    hole = in_rows[:, None, :, None] & in_cols[:, None, None, :]
    return images.masked_fill(hole, 0)


def paco_query(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """The whole query view: RandomCrop(32, 4) → flip → AutoAugment CIFAR10Policy → Cutout(1, 16)."""
    return cutout(autoaugment_cifar10(augment_batch(images, generator), generator), generator)
