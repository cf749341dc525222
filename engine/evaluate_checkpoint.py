"""Evaluate any checkpoint (ours or foreign) on a dataset's balanced test split."""
from __future__ import annotations

from pathlib import Path

from data import load_dataset
from data.types import LTDataset
from engine.checkpoints import build_model_from_checkpoint, load_checkpoint
from engine.config import DataConfig
from engine.devices import pick_device
from engine.evaluation import evaluate
from engine.metrics import RECALL_FLOOR, Metrics


def evaluate_checkpoint(path: str | Path, data: DataConfig, arch: str | None = None, device: str = "auto",
                        recall_floor: float = RECALL_FLOOR) -> tuple[Metrics, LTDataset]:
    """Metrics of the checkpoint on ``data``'s test split; the long tail (for the many / medium /
    few split) is cut with ``data.cut_seed``."""
    checkpoint = load_checkpoint(path)
    dataset = load_dataset(data)
    model = build_model_from_checkpoint(checkpoint, arch=arch, num_classes=dataset.num_classes)
    target = pick_device(device)
    model.to(target)
    mean = tuple(checkpoint.meta.get("mean") or dataset.mean)
    std = tuple(checkpoint.meta.get("std") or dataset.std)
    scale = float(checkpoint.meta.get("logit_scale", 1.0))  # LDAM's cosine head is evaluated as s·cos
    metrics = evaluate(model, lambda m, x: scale * m(x), dataset.test_images.to(target), dataset.test_labels.to(target), mean, std,
                       dataset.class_counts, recall_floor)
    return metrics, dataset
