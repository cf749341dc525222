"""Random rotation of uint8 image batches on their device, one angle per image.

RIDE's CIFAR loaders (github.com/frank-xwang/RIDE-LongTailRecognition,
``data_loader/cifar_data_loaders.py``) add torchvision's ``RandomRotation(15)`` after the random
crop and flip: an angle uniform in [−15°, 15°] about the image centre, nearest-neighbour
sampling, zero fill, same size. Here one ``affine_grid`` + ``grid_sample`` rotates a whole batch
with a separate angle per image; nearest sampling keeps the uint8 values exact.
"""
from __future__ import annotations

import math

import torch
from torch.nn import functional as F


def draw_angles(batch_size: int, generator: torch.Generator, degrees: float = 15.0) -> torch.Tensor:
    """``batch_size`` angles in degrees, uniform in [−degrees, degrees], on the generator's device."""
    return (torch.rand(batch_size, generator=generator, device=generator.device) * 2 - 1) * degrees


def rotate(images: torch.Tensor, angles: torch.Tensor) -> torch.Tensor:
    """Rotate each uint8 image ``(B, C, H, W)`` by its angle (degrees, counter-clockwise)."""
    batch, _, height, width = images.shape
    radians = angles.to(images.device, torch.float32) * (math.pi / 180)
    cos, sin = radians.cos(), radians.sin()
    zero = torch.zeros_like(cos)
    # normalised coordinates: the pixel rotation, corrected for a non-square image
    theta = torch.stack([torch.stack([cos, -sin * height / width, zero], dim=1),
                         torch.stack([sin * width / height, cos, zero], dim=1)], dim=1)
    grid = F.affine_grid(theta, [batch, 1, height, width], align_corners=False)
    out = F.grid_sample(images.float(), grid, mode="nearest", padding_mode="zeros", align_corners=False)
    return out.round_().to(torch.uint8)


def random_rotate(images: torch.Tensor, generator: torch.Generator, degrees: float = 15.0) -> torch.Tensor:
    """``RandomRotation(degrees)`` for a batch: a fresh angle per image."""
    return rotate(images, draw_angles(images.shape[0], generator, degrees))
