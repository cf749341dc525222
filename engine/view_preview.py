"""What a model trains on: a few training images beside the augmented views their method's first
stage draws (PaCo: the AutoAugment + Cutout query and the SimCLR key), for the app's preview.

Qt-free; the app shows the result (``gui/view_preview.py``). The images are taken one per class
from the largest classes down, so the preview shows different classes; the views are drawn with
the same augmentation functions, on the same uint8 tensors, as training does.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from data import load_dataset
from data.types import Dataset, dataset_closed
from engine.config import RunConfig
from engine.methods import build_method


@dataclass
class ViewPreview:
    view_names: list[str]  # augmentation names, one per view
    class_names: list[str]  # of each shown image
    originals: torch.Tensor  # uint8 (N, 3, H, W)
    views: list[torch.Tensor]  # one uint8 (N, 3, H, W) per view


def preview_views(config: RunConfig, count: int = 6, seed: int = 0, dataset: Dataset | None = None) -> ViewPreview:
    """``count`` training images of ``config``'s dataset and the views its method trains on."""
    dataset = dataset or load_dataset(config.data, seed=config.seed)
    method = build_method(config.method.loss, dataset.class_counts, config.method.params, config.optim.epochs)
    stage = method.stages(config)[0]
    view_names = list(stage.views) or ["none"]
    labels = dataset.train_labels
    picks = []
    for label in torch.argsort(dataset.class_counts, descending=True, stable=True).tolist()[:count]:
        picks.append(int(torch.nonzero(labels == label)[0]))
    with dataset_closed(dataset):
        source = dataset.images("train").subset(torch.tensor(picks, dtype=torch.long))
        [(originals, _)] = source.plain_batches(len(picks))
        generator = torch.Generator().manual_seed(seed)
        [(views, _, _)] = source.batches(torch.arange(len(picks)), len(picks), view_names, generator)
    return ViewPreview(view_names, [dataset.class_names[int(labels[i])] for i in picks], originals, views)
