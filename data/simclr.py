"""PaCo's key view, batched: the SimCLR / MoCo-v2 augmentation at CIFAR size.

PaCo (github.com/dvlab-research/Parametric-Contrastive-Learning, ``PaCo/LT/paco_cifar.py``
``augmentation_sim_cifar``): ``RandomResizedCrop(32, scale=(0.2, 1)) → RandomHorizontalFlip →
RandomApply(ColorJitter(0.4, 0.4, 0.4, 0.1), p=0.8) → RandomGrayscale(0.2) →
RandomApply(GaussianBlur(σ ∈ [0.1, 2]), p=0.5)``.

Every image draws its own parameters from the caller's generator, vectorised:

- the crop box with torchvision's ``RandomResizedCrop`` rule (ten tries of area fraction and
  log-uniform aspect ratio 3/4..4/3, the whole image as fallback), cut and resized bilinearly in
  one call of ``torchvision.ops.roi_align`` (one sample per output pixel, pixel-centre aligned:
  the same sampling as a bilinear resize of the crop);
- flips, greyscale (torchvision's luma weights) and the choice of each random application as
  masks over the whole batch;
- colour jitter as ``ColorJitter`` does it (brightness, contrast, saturation factors in
  [0.6, 1.4], hue shift in [-0.1, 0.1], the four in a random order per image): torchvision's
  blend formulas and its RGB↔HSV kernels, written with one factor per image, because
  ``transforms.v2`` kernels take one scalar factor per call (a per-image loop of them cost
  ≈ 190 ms per batch of 128 on the 2-core CPU, this ≈ 10 ms);
- Gaussian blur with σ uniform in [0.1, 2] per image, as a separable per-image filter with
  reflect padding (as ``v2.functional.gaussian_blur``) and a 13-pixel kernel (3σ reach for the
  largest σ; the official code calls PIL's ``GaussianBlur(radius=σ)``).

Pixels stay float from the crop to the end and are rounded to uint8 once (torchvision's kernels
truncate to uint8 after each operation).
"""
from __future__ import annotations

import math

import torch
from torchvision.ops import roi_align
from torchvision.transforms.v2.functional._color import _hsv_to_rgb, _rgb_to_hsv

SCALE = (0.2, 1.0)
RATIO = (3 / 4, 4 / 3)
JITTER = (0.4, 0.4, 0.4, 0.1)  # brightness, contrast, saturation, hue
P_JITTER, P_GREY, P_BLUR = 0.8, 0.2, 0.5
SIGMA = (0.1, 2.0)
BLUR_RADIUS = math.ceil(3 * SIGMA[1])  # 6: the kernel reaches 3σ for the largest σ
CROP_TRIES = 10


def _uniform(low: float, high: float, shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    return low + (high - low) * torch.rand(shape, generator=generator, device=generator.device)


def random_resized_boxes(batch: int, height: int, width: int, generator: torch.Generator) -> torch.Tensor:
    """``(B, 4)`` float boxes ``x0, y0, x1, y1`` drawn by ``RandomResizedCrop``'s rule."""
    area = height * width
    target = area * _uniform(*SCALE, (batch, CROP_TRIES), generator)
    ratio = torch.exp(_uniform(math.log(RATIO[0]), math.log(RATIO[1]), (batch, CROP_TRIES), generator))
    w = torch.sqrt(target * ratio).round()
    h = torch.sqrt(target / ratio).round()
    fits = (w > 0) & (w <= width) & (h > 0) & (h <= height)
    top_u = torch.rand((batch, CROP_TRIES), generator=generator, device=generator.device)
    left_u = torch.rand((batch, CROP_TRIES), generator=generator, device=generator.device)
    first = torch.where(fits.any(1), fits.float().argmax(1), -1)
    pick = first.clamp_min(0)[:, None]
    w = torch.where(first >= 0, w.gather(1, pick).squeeze(1), float(width))  # fallback: the whole
    h = torch.where(first >= 0, h.gather(1, pick).squeeze(1), float(height))  # (square) image
    top = (top_u.gather(1, pick).squeeze(1) * (height - h + 1)).floor()
    left = (left_u.gather(1, pick).squeeze(1) * (width - w + 1)).floor()
    return torch.stack([left, top, left + w, top + h], dim=1)


def resized_crops(images: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """Each image's box resized bilinearly to the image's own size (uint8 in, rounded float out)."""
    batch, _, height, width = images.shape
    rois = torch.cat([torch.arange(batch, device=images.device, dtype=torch.float32)[:, None],
                      boxes.to(images.device, torch.float32)], dim=1)
    crops = roi_align(images.float(), rois, output_size=(height, width), spatial_scale=1.0,
                      sampling_ratio=1, aligned=True)
    return crops.round_().clamp_(0, 255)


def _blend(images: torch.Tensor, other: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """torchvision's ``_blend`` with one factor per image: ``clamp(f·x + (1 − f)·other, 0, 255)``."""
    f = factor[:, None, None, None]
    return (f * images + (1 - f) * other).clamp_(0, 255)


def _grey(images: torch.Tensor) -> torch.Tensor:
    """ITU-R 601 luma (torchvision's ``rgb_to_grayscale`` weights), floored as for uint8 input."""
    r, g, b = images.unbind(1)
    return (0.2989 * r + 0.587 * g + 0.114 * b).floor_()[:, None]


def _shift_hue(images: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """torchvision's ``adjust_hue`` (through its own RGB↔HSV kernels) with one shift per image."""
    hsv = _rgb_to_hsv(images / 255.0)
    h, s, v = hsv.unbind(1)
    h = (h + shift[:, None, None]).remainder_(1.0)
    return _hsv_to_rgb(torch.stack((h, s, v), dim=1)).mul_(255.0)


def colour_jitter(images: torch.Tensor, factors: torch.Tensor, orders: torch.Tensor) -> torch.Tensor:
    """``ColorJitter`` on float ``(B, 3, H, W)`` images in 0..255, one draw per image: ``factors``
    ``(B, 4)`` = brightness, contrast, saturation factors and the hue shift; ``orders`` ``(B, 4)`` a
    permutation of 0..3 per image. Values stay float between the four operations; each operation
    runs once per position on the images that have it there."""
    operations = (
        lambda x, f: _blend(x, torch.zeros_like(x), f),
        lambda x, f: _blend(x, _grey(x).mean(dim=(1, 2, 3), keepdim=True), f),
        lambda x, f: _blend(x, _grey(x), f),
        _shift_hue,
    )
    images = images.clone()
    for position in range(4):
        for op, operation in enumerate(operations):
            index = torch.nonzero(orders[:, position] == op).squeeze(1)
            if len(index):
                images[index] = operation(images[index], factors[index, op])
    return images


def _blur_matrices(kernel: torch.Tensor, size: int) -> torch.Tensor:
    """``(B, size, size)`` matrices applying each row of ``kernel`` ``(B, 2r + 1)`` along one axis
    with reflect padding: ``M[b, i, reflect(i + d)] += kernel[b, d + r]``."""
    batch, taps = kernel.shape
    radius = taps // 2
    source = torch.arange(size, device=kernel.device)[:, None] + torch.arange(-radius, radius + 1, device=kernel.device)
    source = source.abs()
    source = torch.where(source >= size, 2 * size - 2 - source, source)  # (size, taps)
    matrices = kernel.new_zeros(batch, size, size)
    matrices.scatter_add_(2, source.expand(batch, size, taps), kernel[:, None, :].expand(batch, size, taps))
    return matrices


def gaussian_blur(images: torch.Tensor, sigmas: torch.Tensor, radius: int) -> torch.Tensor:
    """Separable Gaussian blur of float ``(B, C, H, W)`` images, one σ per image, reflect padding
    (as ``transforms.v2.functional.gaussian_blur``) and a ``2·radius + 1`` kernel, as two batched
    matrix products (a grouped convolution was 4× slower on the CPU)."""
    _, _, height, width = images.shape
    offsets = torch.arange(-radius, radius + 1, device=images.device, dtype=images.dtype)
    kernel = torch.exp(-0.5 * (offsets[None] / sigmas[:, None]) ** 2)
    kernel = kernel / kernel.sum(1, keepdim=True)
    rows = _blur_matrices(kernel, height)[:, None]  # (B, 1, H, H)
    cols = _blur_matrices(kernel, width)[:, None]  # (B, 1, W, W)
    return rows @ images @ cols.transpose(-1, -2)


def simclr_view(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """The SimCLR-style key view of a uint8 ``(B, 3, H, W)`` batch; shape and dtype kept."""
    batch, _, height, width = images.shape
    device = generator.device
    boxes = random_resized_boxes(batch, height, width, generator)
    flips = torch.rand(batch, generator=generator, device=device) < 0.5
    coins = torch.rand((batch, 3), generator=generator, device=device)
    strengths = torch.tensor(JITTER[:3], device=device)
    factors = torch.cat([_uniform(-1, 1, (batch, 3), generator) * strengths + 1,
                         _uniform(-JITTER[3], JITTER[3], (batch, 1), generator)], dim=1)
    orders = torch.rand((batch, 4), generator=generator, device=device).argsort(1)
    sigmas = _uniform(*SIGMA, (batch,), generator)
    flips, coins, factors, orders, sigmas = (t.to(images.device) for t in (flips, coins, factors, orders, sigmas))

    def chosen(mask: torch.Tensor) -> torch.Tensor:
        return mask[:, None, None, None]

    out = resized_crops(images, boxes).float()
    out = torch.where(chosen(flips), out.flip(-1), out)
    jittered = torch.nonzero(coins[:, 0] < P_JITTER).squeeze(1)
    out[jittered] = colour_jitter(out[jittered], factors[jittered], orders[jittered])
    out = torch.where(chosen(coins[:, 1] < P_GREY), _grey(out.round()).expand_as(out), out)
    blurred = torch.nonzero(coins[:, 2] < P_BLUR).squeeze(1)
    out[blurred] = gaussian_blur(out[blurred], sigmas[blurred], BLUR_RADIUS)
    return out.round_().clamp_(0, 255).to(torch.uint8)
