"""The training step never makes the host wait for the device (tests/sync_guard.py)."""
from __future__ import annotations

import pytest
import torch

from data.tensors import augment_batch, normalize
from engine.batch import Batch
from engine.epoch_stats import EpochStats
from engine.methods import available_methods, build_method
from models import build_model
from tests.sync_guard import HostSync, forbid_host_sync

COUNTS = torch.tensor([40, 20, 10, 5, 3, 2])


def test_the_guard_catches_each_kind_of_sync_and_lets_device_work_through():
    x = torch.arange(6.0)
    for sync in (lambda: x.sum().item(), lambda: float(x.sum()), lambda: bool(x.sum() > 0), lambda: x.tolist(),
                 lambda: x.cpu(), lambda: torch.bincount(x.long()), lambda: x[x > 2],
                 lambda: x.nonzero(), lambda: torch.unique(x)):
        with forbid_host_sync(), pytest.raises(HostSync):
            sync()
    with forbid_host_sync():
        y = torch.where(x > 2, x, 0.0)[torch.tensor([0, 3, 4])]
        y.index_add_(0, torch.tensor([0, 0]), torch.ones(2))
    assert y.tolist() == [2.0, 3.0, 4.0]  # and the guard is gone afterwards


def _step(method_name: str) -> None:
    torch.manual_seed(0)
    method = build_method(method_name, COUNTS, None, 10)
    method.on_epoch_start(6)  # past any warm-up or curriculum start
    model = build_model("resnet20", len(COUNTS), head=method.head)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=2e-4, foreach=True)
    images = torch.randint(0, 256, (8, 3, 16, 16), dtype=torch.uint8)
    labels = torch.tensor([0, 0, 1, 2, 2, 3, 4, 1])  # class 5 absent, as in most batches
    generator = torch.Generator().manual_seed(1)
    stats = EpochStats(len(COUNTS), "cpu")
    mean, std = (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)
    normalize(images, mean, std)  # the cached constants are made once, before the first step
    with forbid_host_sync():
        for _ in range(2):
            batch = normalize(augment_batch(images, generator), mean, std)
            loss, logits = method.training_step(model, Batch([batch], labels))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            stats.update(loss, logits, labels)
    assert stats.samples == 16 and stats.finite()


@pytest.mark.parametrize("name", sorted(available_methods()))
def test_a_training_step_of_every_method_does_not_sync(name):
    _step(name)
