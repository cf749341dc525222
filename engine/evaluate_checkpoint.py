"""Evaluate any checkpoint (ours or foreign) on a dataset's balanced test split, by its own
prediction rule (``engine.prediction``: the same one ``predict``, the app and the plug-in use)."""
from __future__ import annotations

from pathlib import Path

from data import load_dataset
from data.types import Dataset, dataset_closed
from engine.checkpoints import load_checkpoint
from engine.config import DataConfig
from engine.devices import pick_device
from engine.evaluation import evaluate
from engine.metrics import RECALL_FLOOR, Metrics
from engine.prediction import load_for_prediction


def evaluate_checkpoint(path: str | Path, data: DataConfig, arch: str | None = None, device: str = "auto",
                        recall_floor: float = RECALL_FLOOR, use_router: bool = True,
                        dataset: Dataset | None = None) -> tuple[Metrics, Dataset]:
    """Metrics of the checkpoint on ``data``'s test split (or ``dataset``'s, already loaded), by the
    checkpoint's own prediction rule (``use_router=False``: RIDE calls every expert); the long tail
    (for the many / medium / few split) is cut with ``data.cut_seed``."""
    checkpoint = load_checkpoint(path)
    dataset = dataset or load_dataset(data)
    target = pick_device(device)
    model, rule = load_for_prediction(checkpoint, arch=arch, num_classes=dataset.num_classes, device=target,
                                      use_router=use_router)
    mean = tuple(checkpoint.meta.get("mean") or dataset.mean)
    std = tuple(checkpoint.meta.get("std") or dataset.std)
    with dataset_closed(dataset):
        metrics = evaluate(model, rule, dataset.images("test").to(target), mean, std, dataset.class_counts,
                           recall_floor)
    return metrics, dataset
