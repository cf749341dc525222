"""Sampler orders: lengths, reproducibility and class frequencies against their formulas.

Frequencies are checked with fixed seeds and a 5σ binomial band, so they cannot flake and
still catch a wrong formula (a wrong probability moves far more than 5σ at these sizes).
"""
from __future__ import annotations

import math

import pytest
import torch

from data.samplers import (
    SAMPLERS, class_balanced_order, get_sampler, instance_order, square_root_order,
)

COUNTS = [500, 120, 30, 6, 1]
EPOCHS = 60


def long_tail_labels() -> torch.Tensor:
    labels = torch.cat([torch.full((n,), c) for c, n in enumerate(COUNTS)])
    return labels[torch.randperm(len(labels), generator=torch.Generator().manual_seed(3))]


def draws(sampler, labels: torch.Tensor, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.cat([sampler(labels, generator) for _ in range(EPOCHS)])


def assert_frequencies(observed_counts: torch.Tensor, probabilities: list[float], total: int) -> None:
    for observed, p in zip(observed_counts.tolist(), probabilities):
        sigma = math.sqrt(total * p * (1 - p))
        assert abs(observed - total * p) <= 5 * sigma + 1e-9, (observed, total * p, sigma)


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_orders_have_length_n_dtype_device_and_are_reproducible(name):
    labels = long_tail_labels()
    sampler = get_sampler(name)
    order = sampler(labels, torch.Generator().manual_seed(1))
    assert order.shape == labels.shape and order.dtype == torch.int64 and order.device == labels.device
    assert int(order.min()) >= 0 and int(order.max()) < len(labels)
    assert torch.equal(order, sampler(labels, torch.Generator().manual_seed(1)))
    assert not torch.equal(order, sampler(labels, torch.Generator().manual_seed(2)))


def test_instance_order_is_a_permutation():
    labels = long_tail_labels()
    order = instance_order(labels, torch.Generator().manual_seed(0))
    assert torch.equal(order.sort().values, torch.arange(len(labels)))


def test_class_balanced_draws_classes_uniformly_then_images_uniformly():
    labels = long_tail_labels()
    picked = draws(class_balanced_order, labels)
    total = len(picked)
    classes = labels[picked]
    assert_frequencies(torch.bincount(classes, minlength=5), [1 / 5] * 5, total)
    # within class 3 (6 images) each image has probability 1/5 · 1/6
    members = torch.nonzero(labels == 3).flatten()
    per_image = torch.stack([(picked == i).sum() for i in members])
    assert_frequencies(per_image, [1 / 5 / 6] * 6, total)


def test_square_root_draws_classes_in_proportion_to_sqrt_count():
    labels = long_tail_labels()
    picked = draws(square_root_order, labels, seed=5)
    roots = [math.sqrt(n) for n in COUNTS]
    assert_frequencies(torch.bincount(labels[picked], minlength=5), [r / sum(roots) for r in roots], len(picked))
    members = torch.nonzero(labels == 2).flatten()
    per_image = torch.stack([(picked == i).sum() for i in members])
    assert_frequencies(per_image, [roots[2] / sum(roots) / COUNTS[2]] * COUNTS[2], len(picked))


def test_classes_without_images_are_never_drawn():
    labels = torch.tensor([0] * 30 + [2] * 3)
    picked = draws(class_balanced_order, labels)
    counts = torch.bincount(labels[picked], minlength=3)
    assert counts[1] == 0
    assert_frequencies(counts[[0, 2]], [0.5, 0.5], len(picked))


def test_registry_names():
    assert set(SAMPLERS) == {"instance", "class_balanced", "square_root", "class_aware"}
    assert get_sampler("square_root") is square_root_order
    with pytest.raises(ValueError, match="instance, class_balanced, square_root"):
        get_sampler("progressive")
