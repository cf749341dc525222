"""The bundled offline demo: handwritten digits, cut to a long tail.

Data: ``resources/digits.npz``, the 1797 8×8 scans of the UCI "Optical Recognition of
Handwritten Digits" data set (Alpaydin & Kaynak, 1998; CC BY 4.0) as scikit-learn ships them,
grey values 0..16 (built once by ``tools/build_demo_data.py``; scikit-learn is not needed here).

Split: a balanced test set of ``TEST_PER_CLASS`` images per class, fixed by ``SPLIT_SEED`` so
every run is tested on the same images; the remaining ~135–143 per class form the training
pool, cut to a long tail with CIFAR's rule (``data.cifar.cut_long_tail``) and the cut seed,
with n_max = the largest pool class, as for image folders (a class with fewer images than its
count keeps them all; "none" keeps the whole pool).
Images are scaled to 0..255, resized (bilinear) to ``image_size`` and repeated to RGB.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from data.cifar import cut_long_tail
from data.errors import DatasetError
from data.tensors import channel_mean_std, resize_images
from data.types import LTDataset

DIGITS_FILE = Path(__file__).resolve().parent.parent / "resources" / "digits.npz"
CLASS_NAMES = [str(d) for d in range(10)]
TEST_PER_CLASS = 40
SPLIT_SEED = 0
_MAX_GREY = 16


def load_demo(
    imbalance_type: str = "exp", imbalance_ratio: float = 100.0, image_size: int = 32, seed: int = 0
) -> LTDataset:
    """The digits demo as an LTDataset named "demo" (see the module docstring)."""
    images, labels = _read_digits()
    test_pick, pool = _balanced_test_split(labels)
    pool_labels = labels[pool]
    img_max = int(np.bincount(pool_labels).max())
    keep = pool[cut_long_tail(pool_labels, CLASS_NAMES, img_max, imbalance_type, imbalance_ratio, seed)]

    train = _to_rgb_uint8(images[keep], image_size)
    mean, std = channel_mean_std(train)
    return LTDataset(
        name="demo",
        class_names=list(CLASS_NAMES),
        train_images=train,
        train_labels=torch.from_numpy(labels[keep]),
        test_images=_to_rgb_uint8(images[test_pick], image_size),
        test_labels=torch.from_numpy(labels[test_pick]),
        mean=mean,
        std=std,
    )


def _read_digits() -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(DIGITS_FILE, allow_pickle=False) as archive:
            return archive["images"], archive["labels"].astype(np.int64)
    except (OSError, KeyError, ValueError) as exc:
        raise DatasetError(f"The demo data {DIGITS_FILE} is missing or damaged ({exc}); "
                           "reinstall Long-Tail Studio.") from None


def _balanced_test_split(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(test indices, pool indices): TEST_PER_CLASS random images of each class, the rest."""
    rng = np.random.default_rng(SPLIT_SEED)
    test, pool = [], []
    for cls in range(len(CLASS_NAMES)):
        members = rng.permutation(np.flatnonzero(labels == cls))
        test.append(members[:TEST_PER_CLASS])
        pool.append(members[TEST_PER_CLASS:])
    return np.concatenate(test), np.sort(np.concatenate(pool))


def _to_rgb_uint8(images: np.ndarray, size: int) -> torch.Tensor:
    """``(N, 8, 8)`` grey 0..16 → ``(N, 3, size, size)`` uint8 0..255."""
    grey = np.rint(images.astype(np.float64) * (255.0 / _MAX_GREY)).astype(np.uint8)
    resized = resize_images(torch.from_numpy(grey)[:, None], size)
    return resized.expand(-1, 3, -1, -1).contiguous()
