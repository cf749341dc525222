"""CIFAR-10 / CIFAR-100 and the long-tailed cut of LDAM-DRW.

Reads the official python-pickle layout (Krizhevsky, cs.toronto.edu/~kriz/cifar.html):
``cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta}`` and
``cifar-100-python/{train, test, meta}``; each data file is a dict with bytes keys,
``b'data'`` an N×3072 uint8 array (1024 red, 1024 green, 1024 blue values, row-major 32×32)
and ``b'labels'`` (CIFAR-10) or ``b'fine_labels'`` (CIFAR-100). The files are pickles, so
they are read with a restricted unpickler that resolves only the few numpy globals an array
needs: a tampered dataset file cannot run code. A missing dataset is fetched through
torchvision's downloader, then read by the same code.

The long-tailed training subset is cut exactly as ``IMBALANCECIFAR10/100`` in
kaidic/LDAM-DRW (``imbalance_cifar.py``), so a seed selects the same images as there:
class i keeps ``int(img_max · f^(i / (C − 1)))`` images ("exp") or the first C/2 classes keep
``img_max`` and the rest ``int(img_max · f)`` ("step"), with f = n_min / n_max; then
``np.random.seed(seed)`` once and, per class in ``np.unique`` order, a shuffle of that class's
indices keeps the first n. The test set stays the full balanced one.
"""
from __future__ import annotations

import _codecs
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from data import IMBALANCE_TYPES
from data.errors import DatasetError
from errors import UserError
from data.tensors import resize_images
from data.types import LTDataset

CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)
CIFAR100_CLASSES = (
    "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle",
    "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle",
    "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile", "cup", "dinosaur",
    "dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster", "house", "kangaroo", "keyboard",
    "lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain",
    "mouse", "mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear", "pickup_truck", "pine_tree",
    "plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon", "ray", "road", "rocket",
    "rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake", "spider",
    "squirrel", "streetcar", "sunflower", "sweet_pepper", "table",
    "tank", "telephone", "television", "tiger", "tractor",
    "train", "trout", "tulip", "turtle", "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm",
)
# The statistics LDAM-DRW's cifar_train.py normalises BOTH CIFAR-10 and CIFAR-100 with (they are
# CIFAR-10's; the std values are the widely copied ones, not the exact pixel std). We keep them
# so pretrained LDAM-protocol checkpoints see the inputs they were trained on.
CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2023, 0.1994, 0.2010)

@dataclass(frozen=True)
class CifarLayout:
    title: str
    folder: str
    archive_url: str
    train_files: tuple[str, ...]
    test_files: tuple[str, ...]
    meta_file: str
    label_key: bytes
    names_key: bytes
    classes: tuple[str, ...]

    @property
    def data_files(self) -> tuple[str, ...]:
        return self.train_files + self.test_files


LAYOUTS = {
    "cifar10": CifarLayout(
        "CIFAR-10", "cifar-10-batches-py", "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        tuple(f"data_batch_{i}" for i in range(1, 6)), ("test_batch",), "batches.meta",
        b"labels", b"label_names", CIFAR10_CLASSES,
    ),
    "cifar100": CifarLayout(
        "CIFAR-100", "cifar-100-python", "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
        ("train",), ("test",), "meta", b"fine_labels", b"fine_label_names", CIFAR100_CLASSES,
    ),
}


# ---------------------------------------------------------------- safe reading


# numpy's array-rebuilding functions, wherever this numpy version keeps them.
_RECONSTRUCT = np.zeros(0).__reduce__()[0]
_FROMBUFFER = np.zeros(0).__reduce_ex__(5)[0]


class _DatasetUnpickler(pickle.Unpickler):
    """Resolves only what a pickled numpy array (protocols 2–5, Python 2 or 3) refers to."""

    _ALLOWED = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,  # the real files (numpy 1 names)
        ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
        ("numpy.core.numeric", "_frombuffer"): _FROMBUFFER,  # protocol 5
        ("numpy._core.numeric", "_frombuffer"): _FROMBUFFER,
        ("_codecs", "encode"): _codecs.encode,  # how Python 3 writes bytes at protocol 2
    }

    def find_class(self, module: str, name: str):
        try:
            return self._ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"it refers to {module}.{name}, which a dataset file never needs") from None


def read_pickle(path: Path) -> dict:
    """Load one CIFAR pickle (bytes keys, as the real files) without letting it run code."""
    try:
        with open(path, "rb") as f:
            content = _DatasetUnpickler(f, encoding="bytes").load()
    except Exception as exc:  # a damaged pickle can fail in almost any way
        raise DatasetError(f"Cannot read {path}: {exc}. Delete its folder and get the dataset again.") from None
    if not isinstance(content, dict):
        raise DatasetError(f"{path} is not a CIFAR file (it holds a {type(content).__name__}, not a dict).")
    return content


def _read_split(folder: Path, layout: CifarLayout, files: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, 3, 32, 32)`` uint8 and labels ``(N,)`` int64 of the named files, in order."""
    images, labels = [], []
    for name in files:
        path = folder / name
        batch = read_pickle(path)
        data, targets = batch.get(b"data"), batch.get(layout.label_key)
        if not isinstance(data, np.ndarray) or data.ndim != 2 or data.shape[1] != 3072 or targets is None:
            raise DatasetError(f"{path} is not a {layout.title} file: it needs b'data' (N×3072) and "
                               f"{layout.label_key!r}. Delete {folder} and get the dataset again.")
        targets = np.asarray(targets, dtype=np.int64)
        if targets.shape != (len(data),) or targets.min(initial=0) < 0 or targets.max(initial=0) >= len(layout.classes):
            raise DatasetError(f"{path} has labels that do not match its {len(data)} images or "
                               f"{len(layout.classes)} classes. Delete {folder} and get the dataset again.")
        images.append(data.astype(np.uint8, copy=False).reshape(-1, 3, 32, 32))
        labels.append(targets)
    return np.concatenate(images), np.concatenate(labels)


def _class_names(folder: Path, layout: CifarLayout) -> list[str]:
    """The meta file's names when present (they must match the count), else the known ones."""
    path = folder / layout.meta_file
    if not path.is_file():
        return list(layout.classes)
    names = read_pickle(path).get(layout.names_key)
    if not isinstance(names, list) or len(names) != len(layout.classes):
        raise DatasetError(f"{path} does not list the {len(layout.classes)} {layout.title} class names.")
    return [n.decode("utf-8") if isinstance(n, bytes) else str(n) for n in names]


# ---------------------------------------------------------------- finding / downloading


def find_cifar_folder(name: str, root: Path) -> Path | None:
    """The folder holding ``name``'s data files: ``root/<sub-folder>`` or ``root`` itself."""
    layout = LAYOUTS[name]
    for candidate in (root / layout.folder, root):
        missing = [f for f in layout.data_files if not (candidate / f).is_file()]
        if not missing:
            return candidate
        if candidate.is_dir() and (candidate.name == layout.folder or len(missing) < len(layout.data_files)):
            raise DatasetError(f"{layout.title} in {candidate} is incomplete: {', '.join(missing)} "
                               f"missing. Delete that folder and get the dataset again.")
    return None


def _download(layout: CifarLayout, name: str, root: Path) -> None:
    """Let torchvision download and extract the archive into ``root``; DatasetError if it fails."""
    try:
        from torchvision import datasets

        root.mkdir(parents=True, exist_ok=True)
        {"cifar10": datasets.CIFAR10, "cifar100": datasets.CIFAR100}[name](str(root), train=True, download=True)
    except Exception as exc:  # network, disk, checksum: torchvision raises many kinds
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise DatasetError(
            f"{layout.title} is not in {root} and could not be downloaded ({reason}). "
            f"Download {layout.archive_url}, extract it, and put its {layout.folder} folder "
            f"in {root} (so that {root / layout.folder / layout.test_files[0]} exists)."
        ) from None


# ---------------------------------------------------------------- the long tail


def imbalance_factor(ratio: float) -> float:
    """LDAM-DRW's ``imb_factor`` f = n_min / n_max from our ratio n_max / n_min (100 → 0.01)."""
    if not ratio >= 1:
        raise UserError(f"imbalance ratio is n_max / n_min and must be at least 1 (e.g. 100), not {ratio}")
    return 1.0 / ratio


def long_tail_counts(img_max: int, num_classes: int, imbalance_type: str, ratio: float) -> list[int]:
    """Images kept per class, as LDAM-DRW's ``get_img_num_per_cls``.

    For an odd class count "step" gives the larger second half the small count (LDAM-DRW
    only handles even counts, where both agree).
    """
    factor = imbalance_factor(ratio)
    if imbalance_type == "exp":
        return [int(img_max * factor ** (i / (num_classes - 1.0))) for i in range(num_classes)]
    if imbalance_type == "step":
        head = num_classes // 2
        return [int(img_max)] * head + [int(img_max * factor)] * (num_classes - head)
    if imbalance_type == "none":
        return [int(img_max)] * num_classes
    raise UserError(f"imbalance type {imbalance_type!r} is not one of {', '.join(IMBALANCE_TYPES)}")


def long_tail_indices(targets: np.ndarray, counts: list[int], seed: int) -> np.ndarray:
    """Indices LDAM-DRW's ``gen_imbalanced_data`` keeps, grouped by class in class order.

    Uses numpy's global RNG exactly as LDAM-DRW does, and restores its state afterwards.
    """
    state = np.random.get_state()
    try:
        np.random.seed(seed)
        kept = []
        for cls, count in zip(np.unique(targets), counts, strict=True):
            idx = np.where(targets == cls)[0]
            np.random.shuffle(idx)
            kept.append(idx[:count])
    finally:
        np.random.set_state(state)
    return np.concatenate(kept)


def cut_long_tail(
    targets: np.ndarray, class_names: list[str], img_max: int, imbalance_type: str, ratio: float, seed: int
) -> np.ndarray:
    """``long_tail_indices`` for the counts of ``long_tail_counts``; every class must keep an image."""
    counts = long_tail_counts(img_max, len(class_names), imbalance_type, ratio)
    for name, count in zip(class_names, counts):
        if count < 1:
            raise UserError(f"An imbalance ratio of {ratio:g} leaves class '{name}' with no training image "
                            f"(the largest class has {img_max}); use a ratio of at most {img_max}.")
    return long_tail_indices(targets, counts, seed)


# ---------------------------------------------------------------- the dataset


def load_cifar(
    name: str,
    root: Path,
    imbalance_type: str = "exp",
    imbalance_ratio: float = 100.0,
    seed: int = 0,
    image_size: int = 32,
) -> LTDataset:
    """CIFAR-10/100-LT: LDAM-DRW's long-tailed train cut and the full balanced test set.

    ``root`` holds ``cifar-10-batches-py/`` or ``cifar-100-python/`` (or is that folder); a
    missing dataset is downloaded into it. ``image_size`` other than 32 resizes (bilinear).
    """
    if name not in LAYOUTS:
        raise DatasetError(f"unknown CIFAR dataset {name!r}; use cifar10 or cifar100")
    layout = LAYOUTS[name]
    root = Path(root).expanduser()
    folder = find_cifar_folder(name, root)
    if folder is None:
        _download(layout, name, root)
        folder = find_cifar_folder(name, root)
        if folder is None:
            raise DatasetError(f"{layout.title} was downloaded but {root / layout.folder} is missing.")
    class_names = _class_names(folder, layout)
    train_images, train_labels = _read_split(folder, layout, layout.train_files)
    test_images, test_labels = _read_split(folder, layout, layout.test_files)

    img_max = int(len(train_images) / len(class_names))  # 5000 / 500, as LDAM-DRW computes it
    keep = cut_long_tail(train_labels, class_names, img_max, imbalance_type, imbalance_ratio, seed)
    return LTDataset(
        name=name,
        class_names=class_names,
        train_images=resize_images(torch.from_numpy(train_images[keep]), image_size),
        train_labels=torch.from_numpy(train_labels[keep]),
        test_images=resize_images(torch.from_numpy(test_images), image_size),
        test_labels=torch.from_numpy(test_labels),
        mean=CIFAR_MEAN,
        std=CIFAR_STD,
    )
