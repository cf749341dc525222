"""The training data path: uint8 tensors that live on the training device, augmented per batch.

The shape follows airbench (Keller Jordan, github.com/KellerJordan/airbench): a split is moved to
the device once as ``uint8`` (CIFAR-100-LT's 10,847 training images are 33 MB); every batch is
gathered by index, augmented and normalised there in a handful of whole-batch tensor ops. There
is no DataLoader, no worker process and no per-sample Python or PIL work while training.

Augmentation is the LDAM-DRW / torchvision recipe ``RandomCrop(32, padding=4)`` +
``RandomHorizontalFlip()``: each image gets its own crop offset in ``0..2·pad`` on both axes of
the zero-padded image and is mirrored with probability ½. ``augment_batch`` draws the offsets
and flips from the given ``torch.Generator`` (three draws per batch: row offsets, column
offsets, flips) and applies them with two ``gather`` calls and no per-sample Python, so a run
is reproducible from its seed.

Measured on this project's shared 2-core CPU box (torch 2.14, one thread), batch 128×3×32×32:
``augment_batch`` ≈ 1.0 ms, ``normalize`` ≈ 0.25 ms, a gather by index (``data.sources.ResidentImages``) ≈ 0.02 ms
(a per-sample Python loop doing the same crop+flip took ≈ 2.3 ms). A sampler's order over
CIFAR-100-LT's 10,847 images takes ≈ 1 ms per epoch. All are small next to one ResNet-32 step.
"""
from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F



@dataclass(frozen=True)
class CropFlip:
    """Per-image augmentation parameters: crop offsets into the padded image, and flips."""

    rows: torch.Tensor  # int64 (B,), 0..2·pad
    cols: torch.Tensor  # int64 (B,), 0..2·pad
    flips: torch.Tensor  # bool (B,)


def draw_crop_flip(batch_size: int, generator: torch.Generator, pad: int = 4) -> CropFlip:
    """Draw crop offsets and flips on the generator's device (rows, then cols, then flips)."""
    device = generator.device
    rows = torch.randint(0, 2 * pad + 1, (batch_size,), generator=generator, device=device)
    cols = torch.randint(0, 2 * pad + 1, (batch_size,), generator=generator, device=device)
    flips = torch.rand(batch_size, generator=generator, device=device) < 0.5
    return CropFlip(rows, cols, flips)


def crop_flip(images: torch.Tensor, params: CropFlip, pad: int = 4) -> torch.Tensor:
    """Crop each image of ``(B, C, H, W)`` from its zero-padded copy at its offsets, then
    mirror the flagged ones. Output has the input's shape, dtype and device.

    Two gathers: rows (offset), then columns (offset, read backwards for flipped images).
    """
    batch, channels, height, width = images.shape
    device = images.device
    padded = F.pad(images, (pad, pad, pad, pad)) if pad else images
    rows = params.rows.to(device)[:, None] + torch.arange(height, device=device)  # (B, H)
    across = torch.arange(width, device=device)
    mirrored = torch.where(params.flips.to(device)[:, None], width - 1 - across, across)  # (B, W)
    cols = params.cols.to(device)[:, None] + mirrored
    cropped_rows = padded.gather(2, rows[:, None, :, None].expand(batch, channels, height, padded.shape[3]))
    return cropped_rows.gather(3, cols[:, None, None, :].expand(batch, channels, height, width))


def augment_batch(images: torch.Tensor, generator: torch.Generator, pad: int = 4) -> torch.Tensor:
    """Random crop with ``pad``-pixel zero padding + random horizontal flip of a uint8 batch."""
    return crop_flip(images, draw_crop_flip(images.shape[0], generator, pad), pad)


def normalize(
    images: torch.Tensor, mean: Sequence[float] | torch.Tensor, std: Sequence[float] | torch.Tensor
) -> torch.Tensor:
    """``(images / 255 - mean) / std`` per channel, as float32; a batch comes out channels-last
    (the models' layout, see ``models.build_model``). Stats are on the 0..1 scale.

    Sequences of floats are turned into device tensors once per (stats, device) and cached, so
    a batch costs no host-to-device copy; tensors are used as they are.
    """
    if isinstance(mean, torch.Tensor) or isinstance(std, torch.Tensor):
        shift = 255.0 * torch.as_tensor(mean, dtype=torch.float32, device=images.device).view(-1, 1, 1)
        scale = 255.0 * torch.as_tensor(std, dtype=torch.float32, device=images.device).view(-1, 1, 1)
    else:
        shift, scale = _stats_on(tuple(map(float, mean)), tuple(map(float, std)), images.device)
    layout = torch.channels_last if images.dim() == 4 else torch.contiguous_format
    floats = images.to(torch.float32, memory_format=layout, copy=True)
    return floats.sub_(shift).div_(scale)


@functools.lru_cache(maxsize=16)
def _stats_on(mean: tuple[float, ...], std: tuple[float, ...], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """``255·mean`` and ``255·std`` as ``(C, 1, 1)`` float32 tensors on ``device`` (made once)."""
    with torch.inference_mode(False):  # plain tensors, usable with and without inference mode
        shift = 255.0 * torch.tensor(mean, dtype=torch.float32, device=device).view(-1, 1, 1)
        scale = 255.0 * torch.tensor(std, dtype=torch.float32, device=device).view(-1, 1, 1)
    return shift, scale


def resize_images(images: torch.Tensor, size: int) -> torch.Tensor:
    """Resize a uint8 ``(N, C, H, W)`` stack to ``size``×``size`` (bilinear, antialiased)."""
    if images.shape[-2:] == (size, size):
        return images
    out = torch.empty((*images.shape[:2], size, size), dtype=torch.uint8, device=images.device)
    for start, chunk in _chunks(images):
        scaled = F.interpolate(chunk.float(), size=(size, size), mode="bilinear",
                               align_corners=False, antialias=True)
        out[start:start + len(chunk)] = scaled.round_().clamp_(0, 255).to(torch.uint8)
    return out


def channel_mean_std(images: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and (population) standard deviation of uint8 images, 0..1 scale."""
    if images.numel() == 0:
        raise ValueError("cannot compute statistics of an empty image set")
    total = torch.zeros(images.shape[1], dtype=torch.float64)
    squares = torch.zeros_like(total)
    for _, chunk in _chunks(images):
        values = chunk.to(torch.float64)
        total += values.sum(dim=(0, 2, 3)).cpu()
        squares += values.square().sum(dim=(0, 2, 3)).cpu()
    count = images.shape[0] * images.shape[2] * images.shape[3]
    mean = total / count
    std = (squares / count - mean.square()).clamp_min(0).sqrt()
    return tuple((mean / 255).tolist()), tuple((std / 255).tolist())


def _chunks(images: torch.Tensor, max_elements: int = 1 << 22) -> Iterator[tuple[int, torch.Tensor]]:
    """Slices of at most ``max_elements`` values (at least one image) to bound float copies."""
    step = max(1, max_elements // max(1, images[0].numel()))
    for start in range(0, images.shape[0], step):
        yield start, images[start:start + step]
