"""Where a split's images come from during a run: two sources, one interface, one ``Batch``.

- :class:`ResidentImages`: the split as uint8 tensors on the training device (CIFAR, the demo,
  small image folders): a batch is a gather by index, augmented there in whole-batch tensor ops
  (``data.augment``). No loader process, no copy per batch: the fast path of ``data.tensors``.
- :class:`StreamedImages`: the split as a file list (ImageNet-LT, iNaturalist, Places-LT, any
  list or tree): every batch is decoded and augmented by the dataset's worker pool
  (``data.stream``), comes back pinned and is copied to the device with ``non_blocking``.

Both give the loop, for an index order, batches of ``(views, labels, positions)``: one uint8
``(B, 3, S, S)`` tensor per view name on the device, the labels and the split positions of the
images in the batch (a streamed batch drops a file it could not decode; ``skipped`` lists them).
The batches are of one size, or of the sizes given (a rank's share of each global batch in a run
of several processes, ``data.samplers.shard_order``). ``plain_batches`` gives the un-augmented
images for evaluation and feature extraction. The loop
normalises, mixes and steps the same way whichever source fed it.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch

from data.augment import AUGMENTATIONS
from data.stream import BatchTask, StreamPool

ViewBatch = tuple[list[torch.Tensor], torch.Tensor, torch.Tensor]  # (uint8 views, labels, positions)


class ResidentImages:
    """uint8 images ``(N, 3, H, W)`` and int64 labels on one device."""

    streamed = False

    def __init__(self, images: torch.Tensor, labels: torch.Tensor):
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def to(self, device: torch.device | str) -> ResidentImages:
        return ResidentImages(self.images.to(device, torch.uint8), self.labels.to(device, torch.int64))

    def subset(self, positions: torch.Tensor) -> ResidentImages:
        positions = positions.to(self.images.device)
        return ResidentImages(self.images[positions], self.labels[positions])

    def batches(self, order: torch.Tensor, batch_size: int | Sequence[int], views: Sequence[str],
                generator: torch.Generator) -> Iterator[ViewBatch]:
        """The images at ``order`` in batches (of ``batch_size``, or of each of the sizes given),
        each view augmented on the device from ``generator`` (one view after the other, batch
        after batch: the draws of the tensor pipeline)."""
        for index in _split(order.to(self.images.device), batch_size):
            images = self.images.index_select(0, index)
            yield [AUGMENTATIONS[view](images, generator) for view in views], self.labels[index], index

    def plain_batches(self, batch_size: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for start in range(0, len(self), batch_size):
            yield self.images[start:start + batch_size], self.labels[start:start + batch_size]

    @property
    def skipped(self) -> list[tuple[str, str]]:
        return []


class StreamedImages:
    """A split of a streamed dataset: its name in the pool, the positions it covers, the device."""

    streamed = True

    def __init__(self, pool: StreamPool, split: str, labels: np.ndarray, positions: np.ndarray | None = None,
                 device: torch.device | str = "cpu"):
        self.pool, self.split = pool, split
        self.positions = np.arange(len(labels)) if positions is None else positions
        self.device = torch.device(device)
        self.labels = torch.from_numpy(labels[self.positions]).to(self.device)
        self.skipped: list[tuple[str, str]] = []  # files that could not be decoded, as met

    def __len__(self) -> int:
        return int(self.positions.shape[0])

    def to(self, device: torch.device | str) -> StreamedImages:
        return StreamedImages(self.pool, self.split, self._all_labels(), self.positions, device)

    def subset(self, positions: torch.Tensor) -> StreamedImages:
        return StreamedImages(self.pool, self.split, self._all_labels(), self.positions[positions.cpu().numpy()],
                              self.device)

    def _all_labels(self) -> np.ndarray:
        return self.pool.reader.splits[self.split].labels

    def batches(self, order: torch.Tensor, batch_size: int | Sequence[int], views: Sequence[str],
                generator: torch.Generator) -> Iterator[ViewBatch]:
        """Decoded and augmented by the workers; one seed per epoch from ``generator`` (one draw,
        so a resumed run continues with the same images), one per batch derived from it."""
        base = int(torch.randint(0, 2**62, (1,), generator=generator, device=generator.device))
        chunks = _split(order.cpu(), batch_size)
        tasks = [BatchTask(self.split, self.positions[chunk.numpy()], tuple(views), mix_seed(base, number))
                 for number, chunk in enumerate(chunks)]
        for chunk, decoded in zip(chunks, self.pool.run(tasks)):
            self.skipped.extend(decoded.skipped)
            if decoded.skipped:  # keep only the order entries whose files were read
                chunk = chunk[torch.from_numpy(np.isin(self.positions[chunk.numpy()], decoded.positions.numpy()))]
            views_on_device = [view.to(self.device, non_blocking=True) for view in decoded.views]
            yield views_on_device, decoded.labels.to(self.device, non_blocking=True), chunk.to(self.device)

    def plain_batches(self, batch_size: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        order = torch.arange(len(self))
        for views, labels, _ in self.batches(order, batch_size, ("none",), torch.Generator().manual_seed(0)):
            yield views[0], labels


def _split(order: torch.Tensor, batch_size: int | Sequence[int]) -> list[torch.Tensor]:
    """``order`` in batches of ``batch_size`` or of the sizes given; none for an empty order."""
    return list(order.split(batch_size)) if order.numel() else []


def mix_seed(base: int, number: int) -> int:
    """A well-spread 63-bit seed for batch ``number`` of the pass seeded ``base`` (splitmix64)."""
    z = (base + 0x9E3779B97F4A7C15 * (number + 1)) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return (z ^ (z >> 31)) & 0x7FFFFFFFFFFFFFFF


ImageSource = ResidentImages | StreamedImages
