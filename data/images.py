"""Decoding image files into RGB, shared by dataset loading and inference.

Every source image becomes 8-bit RGB the same way: EXIF rotation applied; grey and palette
images expanded; transparency composited on white; 16-bit images (and 32-bit integer ones, which
is how some Pillow versions open 16-bit PNGs) scaled by ``round(v / 257)`` (65535 → 255);
floating-point images read as 0..1 when their maximum is at most 1, else as 0..255; CMYK and
the other modes converted by Pillow.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from errors import UserError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")

_SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")


class ImageLoadError(UserError):
    """An image file that cannot be decoded; the message names the file and the reason."""


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


def load_rgb(path: str | Path) -> Image.Image:
    """Decode ``path`` fully into an 8-bit RGB image; raise ImageLoadError if it cannot."""
    path = Path(path)
    try:
        with Image.open(path) as img:
            img.load()
            img = ImageOps.exif_transpose(img)
            return _to_rgb(img)
    except (OSError, SyntaxError, ValueError, UnidentifiedImageError, Image.DecompressionBombError) as exc:
        reason = str(exc) or type(exc).__name__
        if isinstance(exc, UnidentifiedImageError):
            reason = "not an image file Pillow can read"
        raise ImageLoadError(f"cannot read image {path.name}: {reason}") from None


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode == "RGB":
        return img
    if img.mode in _SIXTEEN_BIT_MODES:
        return _grey_to_rgb(np.asarray(img, dtype=np.float64) / 257.0)
    if img.mode == "F":
        values = np.nan_to_num(np.asarray(img, dtype=np.float64))
        return _grey_to_rgb(values * 255.0 if values.max(initial=0.0) <= 1.0 else values)
    if img.mode in _ALPHA_MODES or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img.convert("RGB")


def _grey_to_rgb(values: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(np.rint(values), 0, 255).astype(np.uint8)).convert("RGB")


def to_uint8_tensor(img: Image.Image, size: int) -> torch.Tensor:
    """Resize an RGB image to ``size``×``size`` (bilinear, antialiased when shrinking, as
    Pillow always does) and return it as a ``uint8`` tensor of shape ``(3, size, size)``."""
    if img.mode != "RGB":
        img = _to_rgb(img)
    if img.size != (size, size):
        img = img.resize((size, size), Image.Resampling.BILINEAR)
    return torch.from_numpy(np.array(img, dtype=np.uint8)).permute(2, 0, 1).contiguous()
