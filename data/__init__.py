"""Datasets for Long-Tail Studio: images, labels and class counts. No Qt, no training logic.

``load_dataset(cfg)`` is the one entry point. ``cfg`` is duck-typed on the engine's
``DataConfig`` (``dataset``, ``root``, ``imbalance_type``, ``imbalance_ratio`` = n_max / n_min,
``image_size``, ``holdout_fraction``, ``cut_seed``, ``color_jitter``, ``loader_workers``); this
layer never imports the engine.

The kinds are a registry (``DATASET_KINDS``, ``dataset_names()``): the front ends list them from
here. Resident kinds (CIFAR, the demo, small image folders) become an ``LTDataset`` of uint8
tensors; streamed kinds (the large benchmarks in their official layouts, any list or tree) a
``StreamedDataset`` of file lists read by worker processes (``data.lists``, ``data.stream``).
Importing this package stays light (no torch) until a dataset is loaded.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from data.errors import DatasetError

if TYPE_CHECKING:
    from data.types import Dataset, StreamedDataset


@dataclass(frozen=True)
class DatasetKind:
    """A registered dataset: its ``--dataset`` name, title, how it is held, its default image side."""

    name: str
    title: str
    streamed: bool
    image_size: int  # the side the models see when the run leaves ``image_size`` at 0
    needs_root: bool = False
    layout: str = ""  # what the data root holds, for help texts
    # the cut a run starts with: CIFAR and the demo are cut to the usual exponential tail; every other
    # dataset (a user's folder, lists or tree, the benchmarks' own long-tailed lists) is taken as it is
    imbalance_type: str = "none"


DATASET_KINDS: dict[str, DatasetKind] = {kind.name: kind for kind in (
    DatasetKind("demo", "Demo digits (bundled, offline)", False, 32, imbalance_type="exp"),
    DatasetKind("cifar10", "CIFAR-10", False, 32, layout="cifar-10-batches-py/ (downloaded when missing)",
                imbalance_type="exp"),
    DatasetKind("cifar100", "CIFAR-100", False, 32, layout="cifar-100-python/ (downloaded when missing)",
                imbalance_type="exp"),
    DatasetKind("folder", "Image folder (class sub-folders, held in memory)", False, 32, True,
                "<class>/<image>, or train/<class>/… and test/<class>/…"),
    DatasetKind("imagenet_lt", "ImageNet-LT (1,000 classes, streamed)", True, 224, True,
                "ImageNet_LT_{train,val,test}.txt; paths relative to the root"),
    DatasetKind("places_lt", "Places-LT (365 classes, streamed)", True, 224, True,
                "Places_LT_{train,val,test}.txt; paths relative to the root"),
    DatasetKind("inat2018", "iNaturalist 2018 (8,142 classes, streamed)", True, 224, True,
                "iNaturalist18_{train,val}.txt or train2018.json / val2018.json"),
    DatasetKind("image_list", "Image lists (path label, streamed)", True, 224, True,
                "train.txt, test.txt and optionally val.txt, one '<path> <label>' per line"),
    DatasetKind("image_tree", "Image tree (train/ test/ class folders, streamed)", True, 224, True,
                "train/<class>/…, test/<class>/… (or val/), optionally val/<class>/…"),
)}


def dataset_names() -> tuple[str, ...]:
    """Every registered ``--dataset`` kind, in display order."""
    return tuple(DATASET_KINDS)


def dataset_titles() -> dict[str, str]:
    """Name → title of every registered kind: the choices of ``data.dataset``."""
    return {name: kind.title for name, kind in DATASET_KINDS.items()}


# how a balanced training split is cut into a long tail (data.cifar.long_tail_counts)
IMBALANCE_TYPES = {"exp": "exp: counts fall exponentially", "step": "step: half the classes are few-shot",
                   "none": "none: keep the balanced set"}


def dataset_kind(name: str) -> DatasetKind:
    try:
        return DATASET_KINDS[name]
    except KeyError:
        raise DatasetError(f"Unknown dataset {name!r}; use one of {', '.join(DATASET_KINDS)}.") from None


def default_imbalance_type(dataset: str) -> str:
    """The imbalance type a run on ``dataset`` starts with when none is chosen (``DatasetKind.imbalance_type``)."""
    return dataset_kind(dataset).imbalance_type


def resolved_image_size(dataset: str, image_size: int) -> int:
    """``image_size``, or the dataset kind's own side when it is 0."""
    return int(image_size) or dataset_kind(dataset).image_size


def workspace_root() -> Path:
    """Where user data lives: ``$LTS_WORKSPACE`` or ``~/LongTailStudio`` (``engine.workspace`` builds on it)."""
    return Path(os.environ.get("LTS_WORKSPACE") or Path.home() / "LongTailStudio").expanduser()


def default_datasets_dir() -> Path:
    """``<workspace>/datasets`` (not created here)."""
    return workspace_root() / "datasets"


def load_dataset(cfg, seed: int | None = None) -> Dataset:
    """Build the dataset ``cfg`` describes. The long-tailed cut follows ``cfg.cut_seed`` (default
    0, the published repos' cut), never the run's training seed; ``seed`` is only the fallback
    for a config without ``cut_seed`` (it is accepted so older callers keep working)."""
    seed = cut_seed(cfg, seed)
    kind = dataset_kind(cfg.dataset)
    size = resolved_image_size(kind.name, cfg.image_size)
    if kind.streamed:
        return _load_streamed(kind, cfg, size, seed)
    if kind.name == "demo":
        from data.demo import load_demo

        return load_demo(cfg.imbalance_type, cfg.imbalance_ratio, size, seed)
    if kind.name in ("cifar10", "cifar100"):
        from data.cifar import load_cifar

        root = Path(cfg.root) if cfg.root else default_datasets_dir()
        return load_cifar(cfg.dataset, root, cfg.imbalance_type, cfg.imbalance_ratio, seed, size)
    from data.folder import load_image_folder

    if not cfg.root:
        raise DatasetError("Choose the image folder to train on (one sub-folder per class).")
    return load_image_folder(Path(cfg.root), size, cfg.holdout_fraction, cfg.imbalance_type, cfg.imbalance_ratio, seed)


DEFAULT_LOADER_WORKERS = 4


def _load_streamed(kind: DatasetKind, cfg, size: int, seed: int) -> StreamedDataset:
    """A list or tree layout as file lists; the official long-tailed lists are taken as they are,
    a user's lists or tree can be cut to a long tail as image folders are (``cut_long_tail``)."""
    import numpy as np

    from data.cifar import cut_long_tail
    from data.lists import read_layout
    from data.types import StreamedDataset

    root = Path(cfg.root).expanduser() if cfg.root else default_datasets_dir() / kind.name
    files = read_layout(kind.name, root)
    splits = dict(files.splits)
    if kind.name in ("image_list", "image_tree") and cfg.imbalance_type != "none":
        train = splits["train"]
        keep = cut_long_tail(train.labels, files.class_names, int(np.bincount(train.labels).max()),
                             cfg.imbalance_type, cfg.imbalance_ratio, seed)
        splits["train"] = train.subset(np.sort(keep))
    workers = min(int(getattr(cfg, "loader_workers", DEFAULT_LOADER_WORKERS)), usable_cpus())
    return StreamedDataset(files.title, files.class_names, splits, files.mean, files.std, size,
                           float(getattr(cfg, "color_jitter", 0.0)), workers, files.skipped)


def usable_cpus() -> int:
    """The CPUs this process may run on: more decoding workers than that only queue up."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else (os.cpu_count() or 1)


def cut_seed(cfg, fallback: int | None = None) -> int:
    """The seed of the long-tailed cut: ``cfg.cut_seed``, else ``fallback``, else 0."""
    value = getattr(cfg, "cut_seed", None)
    if value is None:
        value = fallback if fallback is not None else 0
    return int(value)
