"""Datasets for Long-Tail Studio: images, labels and class counts. No Qt, no training logic.

``load_dataset(cfg)`` is the one entry point. ``cfg`` is duck-typed on the engine's
``DataConfig`` (``dataset``, ``root``, ``imbalance_type``, ``imbalance_ratio`` = n_max / n_min,
``image_size``, ``holdout_fraction``, ``cut_seed``); this layer never imports the engine.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from data.errors import DatasetError

if TYPE_CHECKING:  # importing data.errors must stay light: no torch until a dataset is loaded
    from data.types import LTDataset

# the registered dataset kinds (name → title), the choices of ``data.dataset``
DATASETS = {"demo": "Demo digits (bundled, offline)", "cifar10": "CIFAR-10", "cifar100": "CIFAR-100",
            "folder": "Image folder (class sub-folders)"}
# how a balanced training split is cut into a long tail (data.cifar.long_tail_counts)
IMBALANCE_TYPES = {"exp": "exp: counts fall exponentially", "step": "step: half the classes are few-shot",
                   "none": "none: keep the balanced set"}


def dataset_names() -> tuple[str, ...]:
    """The registered dataset kinds."""
    return tuple(DATASETS)


def workspace_root() -> Path:
    """Where user data lives: ``$LTS_WORKSPACE`` or ``~/LongTailStudio`` (``engine.workspace`` builds on it)."""
    return Path(os.environ.get("LTS_WORKSPACE") or Path.home() / "LongTailStudio").expanduser()


def default_datasets_dir() -> Path:
    """``<workspace>/datasets`` (not created here)."""
    return workspace_root() / "datasets"


def load_dataset(cfg, seed: int | None = None) -> LTDataset:
    """Build the dataset ``cfg`` describes. The long-tailed cut follows ``cfg.cut_seed`` (default
    0, the published repos' cut), never the run's training seed; ``seed`` is only the fallback
    for a config without ``cut_seed`` (it is accepted so older callers keep working)."""
    seed = cut_seed(cfg, seed)
    if cfg.dataset == "demo":
        from data.demo import load_demo

        return load_demo(cfg.imbalance_type, cfg.imbalance_ratio, cfg.image_size, seed)
    if cfg.dataset in ("cifar10", "cifar100"):
        from data.cifar import load_cifar

        root = Path(cfg.root) if cfg.root else default_datasets_dir()
        return load_cifar(cfg.dataset, root, cfg.imbalance_type, cfg.imbalance_ratio, seed, cfg.image_size)
    if cfg.dataset == "folder":
        from data.folder import load_image_folder

        if not cfg.root:
            raise DatasetError("Choose the image folder to train on (one sub-folder per class).")
        return load_image_folder(Path(cfg.root), cfg.image_size, cfg.holdout_fraction,
                                 cfg.imbalance_type, cfg.imbalance_ratio, seed)
    *others, last = dataset_names()
    raise DatasetError(f"Unknown dataset {cfg.dataset!r}; use {', '.join(others)} or {last}.")


def cut_seed(cfg, fallback: int | None = None) -> int:
    """The seed of the long-tailed cut: ``cfg.cut_seed``, else ``fallback``, else 0."""
    value = getattr(cfg, "cut_seed", None)
    if value is None:
        value = fallback if fallback is not None else 0
    return int(value)
