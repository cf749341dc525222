"""The two dataset shapes: resident tensors (CIFAR, the demo, image folders) and streamed file
lists (ImageNet-LT, iNaturalist 2018, Places-LT, any list or tree).

Both answer the same questions (name, classes, training counts, statistics, splits, skipped files)
and hand the engine a source per split (``images(split)``, ``data.sources``): the engine never
asks which shape it has.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import torch

from data.sources import ResidentImages, StreamedImages
from data.stream import RESIZE_CROP, ImageList, SplitReader, StreamPool


@dataclass
class LTDataset:
    """A long-tailed train split and a balanced test split, held as uint8 tensors.

    Images are ``uint8`` tensors of shape ``(N, C, H, W)`` (C is 3 for every source; grey
    sources are repeated to RGB). Labels are ``int64`` tensors of shape ``(N,)``.
    ``mean`` and ``std`` are per-channel statistics on the 0..1 scale used to normalise.
    """

    name: str
    class_names: list[str]
    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    skipped_files: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def class_counts(self) -> torch.Tensor:
        """Training images per class, ``int64`` of shape ``(C,)``."""
        return torch.bincount(self.train_labels.cpu(), minlength=self.num_classes)

    @property
    def image_size(self) -> int:
        return int(self.train_images.shape[-1])

    eval_view = "resize"  # how evaluation and inference bring an image to ``image_size``

    def split_names(self) -> tuple[str, ...]:
        return ("train", "test")

    def images(self, split: str) -> ResidentImages:
        """The split as a resident source (CPU tensors; the loop moves it to its device once)."""
        if split == "train":
            return ResidentImages(self.train_images, self.train_labels)
        if split == "test":
            return ResidentImages(self.test_images, self.test_labels)
        raise KeyError(f"{self.name} has no {split} split")

    def describe(self) -> str:
        return describe(self.name, self.class_counts, {"test": len(self.test_labels)})

    def close(self) -> None:
        """Nothing to release: the tensors go with the object."""


def describe(name: str, counts: torch.Tensor, others: dict[str, int]) -> str:
    """``name: C classes, N train images (largest …, smallest …, ratio …), M val images, …``."""
    held = ", ".join(f"{n} {split} images" for split, n in others.items())
    return (f"{name}: {len(counts)} classes, {int(counts.sum())} train images (largest class {int(counts.max())}, "
            f"smallest {int(counts.min())}, imbalance ratio {float(counts.max()) / max(1, int(counts.min())):.1f}), "
            + held)


@dataclass
class StreamedDataset:
    """Splits as file lists (``data.lists``), read by one pool of worker processes per dataset.

    ``image_size`` is the side of the crops the views make (224 for the published recipes);
    ``color_jitter`` the strength of the ``crop_flip`` view's colour jitter (0: none);
    ``workers`` the decoding processes (0: in the main process). The pool starts on the first
    batch and ends with :meth:`close`.
    """

    name: str
    class_names: list[str]
    splits: dict[str, ImageList]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    image_size: int = 224
    color_jitter: float = 0.0
    workers: int = 4
    skipped_files: list[tuple[str, str]] = field(default_factory=list)
    _pool: StreamPool | None = field(default=None, repr=False)

    eval_view = RESIZE_CROP  # resize to image_size·256/224, centre crop

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def train_labels(self) -> torch.Tensor:
        return torch.from_numpy(self.splits["train"].labels)

    @property
    def test_labels(self) -> torch.Tensor:
        return torch.from_numpy(self.splits["test"].labels)

    @property
    def class_counts(self) -> torch.Tensor:
        return torch.from_numpy(np.bincount(self.splits["train"].labels, minlength=self.num_classes))

    def split_names(self) -> tuple[str, ...]:
        return tuple(split for split in ("train", "val", "test") if split in self.splits)

    def images(self, split: str) -> StreamedImages:
        if split not in self.splits:
            raise KeyError(f"{self.name} has no {split} split")
        if self._pool is None:
            reader = SplitReader(self.splits, self.image_size, self.color_jitter)
            self._pool = StreamPool(reader, self.workers, pin_memory=torch.cuda.is_available())
        return StreamedImages(self._pool, split, self.splits[split].labels)

    def describe(self) -> str:
        return describe(self.name, self.class_counts,
                        {split: len(self.splits[split]) for split in self.split_names() if split != "train"})

    def close(self) -> None:
        """End the decoding processes (the next batch starts them again)."""
        if self._pool is not None:
            self._pool.close()


Dataset = LTDataset | StreamedDataset


@contextlib.contextmanager
def dataset_closed(dataset: Dataset) -> Iterator[Dataset]:
    """Use ``dataset`` and end its worker processes afterwards, whatever happens."""
    try:
        yield dataset
    finally:
        dataset.close()
