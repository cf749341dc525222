"""The dry-run's cost estimate: image passes per cell, turned into hours at a throughput.

A cell costs ``epochs × n_train`` training passes (forward + backward, counted as 3 forwards)
plus ``epochs × n_test`` evaluation forwards, and each repair's plug-in run one cached-feature pass
per ``feature_passes`` over the training set plus one over the test set (the head's own epochs on
cached features are negligible). The throughput is, in order: the speed the sweep's own finished
epochs reached (metrics.csv ``seconds``), else ``--rate``, else the default for the device below
(ResNet-32 at 32 px, forward images per second; deeper nets and larger images scale it down).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.sweep.spec import Cell

# forward images / s of a ResNet-32 at 32 × 32: measured (docs/sweeps.md)
DEFAULT_RATES = {"cpu": 800.0, "cuda": 60000.0}
BACKWARD_FACTOR = 3.0  # a training pass ≈ forward + backward ≈ 3 forwards
CIFAR_TEST = 10_000


@dataclass
class CellCost:
    cell: str
    train_images: int | None
    test_images: int | None
    forwards: float | None  # ResNet-32-at-32-px forward equivalents, None when the data size is unknown
    scale: float = 1.0  # this cell's network and image size relative to ResNet-32 at 32 px


def data_counts(data: dict, seed: int) -> tuple[list[int] | None, int | None]:
    """Training images per class and the test size without loading CIFAR's images (the small demo
    is loaded); None for a folder."""
    from data.cifar import long_tail_counts

    if data["dataset"] in ("cifar10", "cifar100"):
        classes, img_max = (10, 5000) if data["dataset"] == "cifar10" else (100, 500)
        return list(long_tail_counts(img_max, classes, data["imbalance_type"], data["imbalance_ratio"])), CIFAR_TEST
    if data["dataset"] == "demo":
        from data import load_dataset
        from engine.config import DataConfig

        dataset = load_dataset(DataConfig(**data), seed=seed)
        return dataset.class_counts.tolist(), len(dataset.test_labels)
    return None, None


def data_sizes(data: dict, seed: int) -> tuple[int | None, int | None]:
    """Training and test image counts (``data_counts``); None for a folder."""
    counts, test = data_counts(data, seed)
    return (sum(counts) if counts is not None else None), test


def cell_cost(cell: Cell) -> CellCost:
    n_train, n_test = data_sizes(cell.run["data"], cell.seed)
    if n_train is None:
        return CellCost(cell.id, None, None, None)
    depth = str(cell.run["model"].get("arch", "resnet32")).removeprefix("resnet")
    scale = (int(depth) / 32 if depth.isdigit() else 1.0) * (cell.run["data"]["image_size"] / 32) ** 2
    forwards = cell.epochs * (BACKWARD_FACTOR * n_train + n_test)
    for plugin in cell.plugins:
        passes = plugin["plugin"]["feature_passes"] if plugin["data"]["augment"] else 1
        forwards += passes * n_train + n_test + plugin["optim"]["epochs"] * n_test * 0.01
    return CellCost(cell.id, n_train, n_test, forwards * scale, scale)


def measured_rate(sweep_dir: str | Path, cells: list[Cell]) -> float | None:
    """Forward images per second that the sweep's finished epochs reached (None before any)."""
    from engine.sweep.cells import train_run

    forwards = seconds = 0.0
    for cell in cells:
        run = train_run(sweep_dir, cell.id) if Path(sweep_dir).exists() else None
        history = run.history() if run else []
        if not history:
            continue
        cost = cell_cost(cell)
        if cost.forwards is None:
            continue
        per_epoch = (BACKWARD_FACTOR * cost.train_images + cost.test_images) * cost.scale
        forwards += per_epoch * len(history)
        seconds += sum(row["seconds"] for row in history)
    return forwards / seconds if seconds > 0 else None


def format_duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
