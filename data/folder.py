"""A user's folder of images, one sub-folder per class, as a long-tailed dataset.

Layouts (class names are the sub-folder names, sorted; images are found recursively):

- ``<root>/<class>/<image>``: the test split is a seeded hold-out of each class
  (``holdout_fraction``, rounded, at least one image for a class of two or more, and always
  leaving one to train on). The hold-out uses ``split_seed``, not the run seed, so every run on
  a folder is tested on the same images, as every CIFAR run is tested on the same test set.
- ``<root>/train/<class>/<image>`` and ``<root>/test/<class>/<image>``: used as they are.

Each image is decoded once (threads: Pillow releases the GIL) and resized to ``image_size``.
Files that cannot be decoded are skipped and listed in ``LTDataset.skipped_files``. The train
split can be cut to a long tail with CIFAR's rule (``data.cifar.cut_long_tail``), class i
getting the i-th count with n_max = the largest class's train count; a class that has fewer
images than its count keeps them all.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from data.cifar import cut_long_tail
from data.errors import DatasetError
from data.images import IMAGE_SUFFIXES, ImageLoadError, is_image_file, load_rgb, to_uint8_tensor
from data.tensors import channel_mean_std
from data.types import LTDataset


def load_image_folder(
    root: Path,
    image_size: int = 32,
    holdout_fraction: float = 0.2,
    imbalance_type: str = "none",
    imbalance_ratio: float = 1.0,
    seed: int = 0,
    split_seed: int = 0,
) -> LTDataset:
    """Load ``root`` (see the module docstring); DatasetError says what is wrong with it."""
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DatasetError(f"The image folder {root} does not exist. {_layout_help(root)}")
    train_dir = root / "train" if (root / "train").is_dir() else root
    test_dir = root / "test" if train_dir != root and (root / "test").is_dir() else None

    class_names = _class_folders(train_dir)
    if len(class_names) < 2:
        found = f"only '{class_names[0]}'" if class_names else "none"
        raise DatasetError(f"{train_dir} needs at least two class sub-folders ({found} found). {_layout_help(root)}")
    if test_dir is not None:
        unknown = sorted(set(_class_folders(test_dir)) - set(class_names))
        if unknown:
            raise DatasetError(f"{test_dir} has class folders that {train_dir} lacks: {', '.join(unknown)}. "
                               "Use the same class folder names in train/ and test/.")

    skipped: list[tuple[str, str]] = []
    train_images, train_labels = _decode_split(train_dir, class_names, image_size, skipped)
    empty = [name for c, name in enumerate(class_names) if not (train_labels == c).any()]
    if empty:
        raise DatasetError(f"No readable training images for class {', '.join(empty)} in {train_dir}. "
                           f"Add images ({', '.join(IMAGE_SUFFIXES)}) or remove the folder.")
    if test_dir is not None:
        test_images, test_labels = _decode_split(test_dir, class_names, image_size, skipped)
    else:
        test_pick = _holdout(train_labels, holdout_fraction, split_seed)
        test_images, test_labels = train_images[test_pick], train_labels[test_pick]
        train_pick = np.setdiff1d(np.arange(len(train_labels)), test_pick)
        train_images, train_labels = train_images[train_pick], train_labels[train_pick]
    if len(test_labels) == 0:
        raise DatasetError(f"No test images in {root}: give some class at least two images, "
                           "or add a test/ folder beside train/.")

    img_max = int(np.bincount(train_labels).max())
    keep = cut_long_tail(train_labels, class_names, img_max, imbalance_type, imbalance_ratio, seed)
    train = torch.from_numpy(train_images[keep])
    mean, std = channel_mean_std(train)
    return LTDataset(
        name=root.name,
        class_names=class_names,
        train_images=train,
        train_labels=torch.from_numpy(train_labels[keep]),
        test_images=torch.from_numpy(test_images),
        test_labels=torch.from_numpy(test_labels),
        mean=mean,
        std=std,
        skipped_files=skipped,
    )


def _layout_help(root: Path) -> str:
    return (f"Put one sub-folder per class holding its images, e.g. {root / 'cat' / '001.jpg'} and "
            f"{root / 'dog' / '002.png'}; optionally split as {root / 'train' / 'cat'} and {root / 'test' / 'cat'}.")


def _class_folders(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _decode_split(
    folder: Path, class_names: list[str], size: int, skipped: list[tuple[str, str]]
) -> tuple[np.ndarray, np.ndarray]:
    """Decode every image under ``folder/<class>``; unreadable files go to ``skipped``."""
    files = [
        (path, label)
        for label, name in enumerate(class_names)
        if (folder / name).is_dir()
        for path in sorted((folder / name).rglob("*"))
        if path.is_file() and is_image_file(path)
    ]
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        decoded = list(pool.map(lambda item: _decode(item[0], size), files))
    images, labels = [], []
    for (path, label), result in zip(files, decoded):
        if isinstance(result, ImageLoadError):
            skipped.append((str(path), str(result)))
        else:
            images.append(result)
            labels.append(label)
    stacked = np.stack(images) if images else np.zeros((0, 3, size, size), np.uint8)
    return stacked, np.asarray(labels, dtype=np.int64)


def _decode(path: Path, size: int) -> np.ndarray | ImageLoadError:
    try:
        return to_uint8_tensor(load_rgb(path), size).numpy()
    except ImageLoadError as exc:
        return exc


def _holdout(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Sorted indices of a per-class hold-out: round(n·fraction) images, at least 1 and at
    most n − 1 for a class of n ≥ 2 images, none for a class of one."""
    rng = np.random.default_rng(seed)
    picked = []
    for cls in np.unique(labels):
        members = np.flatnonzero(labels == cls)
        n = len(members)
        n_test = min(n - 1, max(1, int(n * fraction + 0.5))) if n >= 2 else 0
        picked.append(rng.permutation(members)[:n_test])
    return np.sort(np.concatenate(picked))
