"""Evaluate any checkpoint (ours or foreign) on a dataset's balanced test split, by its own
prediction rule (``engine.prediction``: the same one ``predict``, the app and the plug-in use)."""
from __future__ import annotations

from pathlib import Path

from data import load_dataset
from data.types import LTDataset
from engine.checkpoints import load_checkpoint
from engine.config import DataConfig
from engine.devices import pick_device
from engine.evaluation import evaluate
from engine.metrics import Metrics
from engine.prediction import load_for_prediction


def evaluate_checkpoint(path: str | Path, data: DataConfig, arch: str | None = None, seed: int = 0,
                        device: str = "auto") -> tuple[Metrics, LTDataset]:
    checkpoint = load_checkpoint(path)
    dataset = load_dataset(data, seed=seed)
    target = pick_device(device)
    model, rule = load_for_prediction(checkpoint, arch=arch, num_classes=dataset.num_classes, device=target)
    mean = tuple(checkpoint.meta.get("mean") or dataset.mean)
    std = tuple(checkpoint.meta.get("std") or dataset.std)
    metrics = evaluate(model, rule, dataset.test_images.to(target), dataset.test_labels.to(target), mean, std,
                       dataset.class_counts)
    return metrics, dataset
