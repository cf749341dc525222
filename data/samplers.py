"""Per-epoch index orders for the training split, drawn from a ``torch.Generator``.

Each sampler maps ``(labels, generator)`` to an ``int64`` tensor of ``N = len(labels)`` indices
on the labels' device (random draws happen on the generator's device):

- ``instance``: a random permutation; every image once per epoch.
- ``class_balanced``: N draws with replacement; a class uniformly among the classes that have
  images, then one of its images uniformly. Same distribution as LDAM-DRW's Resample rule
  (``ImbalancedDatasetSampler``, per-image weight 1 / n_c).
- ``square_root``: as class_balanced, but class c is drawn with probability ∝ sqrt(n_c)
  (Mahajan et al., 2018; Kang et al., "Decoupling", ICLR 2020).
- ``class_aware``: MiSLAS stage 2's ``ClassAwareSampler`` with ``num_samples_cls=4``
  (github.com/dvlab-research/MiSLAS ``datasets/sampler.py``): classes are visited in random
  order, cycle after cycle, and each visit takes the next 4 images of that class from its own
  shuffled cycle (reshuffled when exhausted). An epoch is N draws, about one pass's worth, as the
  official stage-2 loop stops after ``N / batch`` iterations. The official iterators keep their
  position across epochs; here every epoch starts fresh cycles (so an epoch is a pure function of
  the generator, which exact resume needs).

With several processes every rank draws the same order and takes its slice of each global
batch (:func:`shard_order`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from data.errors import DatasetError

Sampler = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


def instance_order(labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    order = torch.randperm(labels.shape[0], generator=generator, device=generator.device)
    return order.to(labels.device)


def class_balanced_order(labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    return _class_weighted_order(labels, generator, lambda counts: (counts > 0).double())


def square_root_order(labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    return _class_weighted_order(labels, generator, lambda counts: counts.double().sqrt())


def _class_weighted_order(
    labels: torch.Tensor,
    generator: torch.Generator,
    class_weight: Callable[[torch.Tensor], torch.Tensor],
) -> torch.Tensor:
    """Draw N classes with probability ∝ ``class_weight(counts)``, then an image of each uniformly."""
    device = generator.device
    targets = labels.to(device)
    counts = torch.bincount(targets)
    by_class = torch.argsort(targets, stable=True)  # image indices grouped by class
    first = torch.cumsum(counts, 0) - counts  # where each class starts in by_class
    classes = torch.multinomial(class_weight(counts), targets.shape[0], replacement=True, generator=generator)
    sizes = counts[classes]
    uniform = torch.rand(targets.shape[0], generator=generator, device=device, dtype=torch.float64)
    within = torch.minimum((uniform * sizes).long(), sizes - 1)  # guards the rounding of u·n to n
    return by_class[first[classes] + within].to(labels.device)


CLASS_AWARE_RUN = 4  # images taken per class visit (MiSLAS num_samples_cls)


def class_aware_order(labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    total = labels.shape[0]
    targets = labels.cpu()
    members = [torch.nonzero(targets == c).flatten() for c in range(int(targets.max()) + 1)]
    members = [m for m in members if len(m)]
    cycles = [_Cycle(m, generator) for m in members]
    order: list[torch.Tensor] = []
    drawn = 0
    while drawn < total:
        for c in torch.randperm(len(cycles), generator=generator).tolist():
            order.append(cycles[c].take(CLASS_AWARE_RUN))
            drawn += CLASS_AWARE_RUN
            if drawn >= total:
                break
    return torch.cat(order)[:total].to(labels.device)


class _Cycle:
    """An endless reshuffled walk through one class's image indices."""

    def __init__(self, items: torch.Tensor, generator: torch.Generator):
        self.items, self.generator = items, generator
        self.order, self.position = self._shuffled(), 0

    def _shuffled(self) -> torch.Tensor:
        return self.items[torch.randperm(len(self.items), generator=self.generator)]

    def take(self, count: int) -> torch.Tensor:
        taken = []
        for _ in range(count):
            if self.position == len(self.order):
                self.order, self.position = self._shuffled(), 0
            taken.append(self.order[self.position])
            self.position += 1
        return torch.stack(taken)


@dataclass(frozen=True)
class Shard:
    """One rank's part of an epoch's order: its images in step order, its batch size at each step
    and each step's loss weight ``W·b_r / b`` (b_r of the step's global batch b on this rank)."""

    order: torch.Tensor
    sizes: list[int]
    weights: list[float]


def shard_order(order: torch.Tensor, batch_size: int, rank: int = 0, ranks: int = 1) -> Shard:
    """Rank ``rank``'s shard of ``order`` for a global batch of ``batch_size`` over ``ranks`` processes.

    Every rank draws the same global order (same sampler, same generator state), cuts it into
    global batches of ``batch_size`` and takes a contiguous slice of each: slices differ by at most
    one image, the first ``b mod W`` ranks taking the larger. So every index of the order is used
    exactly once per epoch across the ranks, each rank makes the same number of steps (DDP needs
    that), and a step's slices together are the batch one process would have used. A last global
    batch with fewer images than ranks would leave a rank without any: it joins the batch before.
    (``DistributedSampler`` pads with repeated images or drops the tail instead, so it cannot cover
    every index exactly once unless W divides N.)
    """
    total = int(order.shape[0])
    if total < ranks:
        raise DatasetError(f"{total} training images cannot be shared among {ranks} processes; start fewer")
    batches = [batch_size] * (total // batch_size) + ([total % batch_size] if total % batch_size else [])
    if len(batches) > 1 and batches[-1] < ranks:
        batches[-2:] = [batches[-2] + batches[-1]]
    pieces, sizes, weights, start = [], [], [], 0
    for size in batches:
        base, extra = divmod(size, ranks)
        mine = base + (rank < extra)
        first = start + rank * base + min(rank, extra)
        pieces.append(order[first:first + mine])
        sizes.append(mine)
        weights.append(ranks * mine / size)
        start += size
    return Shard(torch.cat(pieces), sizes, weights)


SAMPLERS: dict[str, Sampler] = {
    "instance": instance_order,
    "class_balanced": class_balanced_order,
    "square_root": square_root_order,
    "class_aware": class_aware_order,
}


def get_sampler(name: str) -> Sampler:
    """The sampler registered as ``name``; ValueError lists the known names otherwise."""
    try:
        return SAMPLERS[name]
    except KeyError:
        raise ValueError(f"unknown sampler {name!r}; known: {', '.join(SAMPLERS)}") from None
