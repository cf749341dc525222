"""Streamed images: files decoded and augmented in DataLoader worker processes, one batch per task.

The large benchmarks (ImageNet-LT, iNaturalist 2018, Places-LT) do not fit in memory as decoded
tensors, so their splits are lists of files (:class:`ImageList`) and every batch is read again
each epoch. The shape follows torchvision's reference classification script
(``references/classification/train.py``: worker processes, pinned memory, ``non_blocking``
copies) with two differences that make a run reproducible whatever the worker count and timing:

- **one task per batch.** A :class:`BatchTask` names the split, the positions of its images, the
  views to make and a seed; a worker decodes every image of it (``torchvision.io.decode_image``,
  libjpeg-turbo; Pillow for the formats it does not read), applies each view's
  ``torchvision.transforms.v2`` pipeline to the uint8 tensor under ``torch.random.fork_rng``
  seeded with the task's seed, and stacks the batch. The same task gives the same pixels in any
  worker, or in the main process when there are no workers.
- **one persistent pool for every split** (:class:`StreamPool`): the workers start once per run
  (``forkserver`` where the platform has it, else ``spawn``: never a fork of a threaded process
  such as the app) and serve training, evaluation and feature extraction in turn.

Memory is bounded by the batches in flight (``prefetch`` per worker), never by the dataset: the
list holds one byte string per file and the labels. A file that exists but cannot be decoded is
dropped from its batch and reported back with the batch (``DecodedBatch.skipped``).

The views at ``size`` (224 for the published recipes; ``--image-size`` scales them for tiny
tests), after the official loaders of decoupling (classifier-balancing ``data/dataloader.py``),
MiSLAS (``datasets/imagenet.py``), RIDE (``data_loader/imagenet_lt_data_loaders.py``) and PaCo
(``PaCo/LT/paco_lt.py``):

- ``none`` (and every evaluation): resize the shorter side to ``size·256/224``, centre crop ``size``;
- ``crop_flip``: ``RandomResizedCrop(size)`` + horizontal flip, + ``ColorJitter(j, j, j, 0)``
  when the run's ``color_jitter`` j is above 0 (0.4 in the recipes that have it);
- ``crop_flip_rotate15``: RIDE's CIFAR view; RIDE's ImageNet-LT and iNaturalist loaders use
  ``crop_flip`` with the colour jitter instead, so it is that view here;
- ``paco_query``: PaCo's ``randcls``: ``RandomResizedCrop(size, scale 0.08–1)`` + flip +
  ``ColorJitter(0.4, 0.4, 0.4, 0)`` + RandAugment (2 operations, magnitude 10). The official
  code uses timm's ``rand-n2-m10-mstd0.5`` (magnitude noise σ 0.5, timm's operation set); here it
  is torchvision's ``v2.RandAugment(2, 10)`` (fixed magnitude, torchvision's operations);
- ``paco_key``: PaCo's ``sim``: ``RandomResizedCrop(size)`` + ``ColorJitter(0.4, 0.4, 0.4, 0)`` +
  grey with p 0.2 + Gaussian blur σ ∈ [0.1, 2] with p 0.5 + flip.
"""
from __future__ import annotations

import multiprocessing
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler
from torchvision.io import ImageReadMode, decode_image, read_file
from torchvision.transforms import v2

from data.images import ImageLoadError, load_rgb

RESIZE_RATIO = 256 / 224  # evaluation: resize to 256, centre crop 224
JITTER = 0.4
SIGMA = (0.1, 2.0)
PREFETCH = 2  # batches in flight per worker


@dataclass(frozen=True)
class ImageList:
    """One split as files: ``root`` and, per image, its path relative to it and its label.

    Paths are one numpy byte-string array (no Python object per file, so forked or spawned
    workers do not copy a list of strings page by page)."""

    root: str
    paths: np.ndarray  # bytes, shape (N,)
    labels: np.ndarray  # int64, shape (N,)

    @classmethod
    def from_pairs(cls, root: str | Path, paths: Sequence[str], labels: Sequence[int]) -> ImageList:
        encoded = np.array([p.encode("utf-8") for p in paths], dtype=np.bytes_) if len(paths) else np.zeros(0, "S1")
        return cls(str(root), encoded, np.asarray(labels, dtype=np.int64))

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def path(self, position: int) -> Path:
        return Path(self.root) / self.paths[position].decode("utf-8")

    def subset(self, positions: np.ndarray) -> ImageList:
        return ImageList(self.root, self.paths[positions], self.labels[positions])


@dataclass(frozen=True)
class BatchTask:
    """What a worker makes: ``views`` of the images at ``positions`` of ``split``, drawn with ``seed``."""

    split: str
    positions: np.ndarray  # int64
    views: tuple[str, ...]
    seed: int


@dataclass
class DecodedBatch:
    """A worker's result: one uint8 ``(B, 3, S, S)`` tensor per view, the labels and positions of
    the images it could read, and the files it could not."""

    views: list[torch.Tensor]
    labels: torch.Tensor
    positions: torch.Tensor
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def pin_memory(self) -> DecodedBatch:  # called by the DataLoader's pinning thread
        return DecodedBatch([v.pin_memory() for v in self.views], self.labels.pin_memory(),
                            self.positions.pin_memory(), self.skipped)


RESIZE_CROP = "resize_crop"  # the evaluation view's name in checkpoints (``meta["eval_view"]``)


def eval_view(image, size: int) -> torch.Tensor:
    """A decoded RGB image (PIL or uint8 ``(3, H, W)``) as the evaluation view: uint8 ``(3, size, size)``."""
    return _pipeline("none", size, 0.0)(image if isinstance(image, torch.Tensor) else _as_tensor(image))


def _as_tensor(image) -> torch.Tensor:
    """An RGB PIL image as uint8 ``(3, H, W)``."""
    return torch.from_numpy(np.array(image, dtype=np.uint8)).permute(2, 0, 1).contiguous()


def eval_size(size: int) -> int:
    """The shorter side an evaluation image is resized to before its centre crop (256 for 224)."""
    return int(round(size * RESIZE_RATIO))


def view_pipeline(view: str, size: int, color_jitter: float = 0.0) -> Callable[[torch.Tensor], torch.Tensor]:
    """The ``transforms.v2`` pipeline of a view name on one uint8 ``(3, H, W)`` image."""
    flip = v2.RandomHorizontalFlip()
    if view == "none":
        return v2.Compose([v2.Resize(eval_size(size), antialias=True), v2.CenterCrop(size)])
    if view in ("crop_flip", "crop_flip_rotate15"):
        steps = [v2.RandomResizedCrop(size, antialias=True), flip]
        if color_jitter > 0:
            steps.append(v2.ColorJitter(color_jitter, color_jitter, color_jitter, 0.0))
        return v2.Compose(steps)
    if view == "paco_query":
        return v2.Compose([v2.RandomResizedCrop(size, scale=(0.08, 1.0), antialias=True), flip,
                           v2.ColorJitter(JITTER, JITTER, JITTER, 0.0), v2.RandAugment(num_ops=2, magnitude=10)])
    if view == "paco_key":
        blur = v2.GaussianBlur(_blur_kernel(size), sigma=SIGMA)
        return v2.Compose([v2.RandomResizedCrop(size, antialias=True), v2.ColorJitter(JITTER, JITTER, JITTER, 0.0),
                           v2.RandomGrayscale(0.2), v2.RandomApply([blur], p=0.5), flip])
    raise ValueError(f"no streamed recipe for the view {view!r}; known: {', '.join(STREAMED_VIEWS)}")


STREAMED_VIEWS = ("none", "crop_flip", "crop_flip_rotate15", "paco_query", "paco_key")


def _blur_kernel(size: int) -> int:
    """An odd kernel about a tenth of the image (SimCLR's rule; 23 at 224), at least 3."""
    return max(3, int(size * 0.1) // 2 * 2 + 1)


def decode(path: Path) -> torch.Tensor:
    """An image file as uint8 RGB ``(3, H, W)``: torchvision's decoders (EXIF orientation applied),
    Pillow for the formats they do not read. ImageLoadError when neither can."""
    try:
        with warnings.catch_warnings():  # torchvision 0.29 points to TorchCodec, which requirements.txt does not pin
            warnings.filterwarnings("ignore", category=DeprecationWarning, module="torchvision.io")
            return decode_image(read_file(str(path)), mode=ImageReadMode.RGB, apply_exif_orientation=True)
    except (RuntimeError, ValueError, OSError):
        return _as_tensor(load_rgb(path))  # ImageLoadError names the file and the reason


class SplitReader(Dataset):
    """The worker side: a :class:`BatchTask` → a :class:`DecodedBatch` (see the module docstring)."""

    def __init__(self, splits: dict[str, ImageList], size: int, color_jitter: float = 0.0):
        self.splits, self.size, self.color_jitter = splits, size, color_jitter

    def __len__(self) -> int:  # tasks come from the feed, not from indices
        return 0

    def __getitem__(self, task: BatchTask) -> DecodedBatch:
        images = self.splits[task.split]
        pipelines = [_pipeline(view, self.size, self.color_jitter) for view in task.views]
        outputs: list[list[torch.Tensor]] = [[] for _ in task.views]
        kept, skipped = [], []
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(task.seed)
            for position in task.positions.tolist():
                path = images.path(position)
                try:
                    picture = decode(path)
                except (ImageLoadError, OSError) as error:
                    skipped.append((str(path), str(error)))
                    continue
                for pipeline, out in zip(pipelines, outputs):
                    out.append(pipeline(picture))
                kept.append(position)
        positions = torch.tensor(kept, dtype=torch.int64)
        views = [torch.stack(out) if out else torch.zeros(0, 3, self.size, self.size, dtype=torch.uint8)
                 for out in outputs]
        return DecodedBatch(views, torch.from_numpy(images.labels[kept]), positions, skipped)


@lru_cache(maxsize=32)
def _pipeline(view: str, size: int, color_jitter: float) -> Callable[[torch.Tensor], torch.Tensor]:
    return view_pipeline(view, size, color_jitter)


class _TaskFeed(Sampler):
    """The tasks of the current pass; the pool sets them before each iteration."""

    def __init__(self) -> None:
        self.tasks: list[BatchTask] = []

    def __iter__(self) -> Iterator[BatchTask]:
        return iter(self.tasks)

    def __len__(self) -> int:
        return len(self.tasks)


def _as_is(batch: DecodedBatch) -> DecodedBatch:
    return batch


def worker_context() -> multiprocessing.context.BaseContext:
    """``forkserver`` where available (a clean server process, with torch and this module imported
    once, forks the workers), else ``spawn``."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["torch", "torchvision", __name__])
        return context
    return multiprocessing.get_context("spawn")


class StreamPool:
    """One DataLoader over every split of a dataset, with persistent workers; ``run(tasks)``
    yields the decoded batches in task order. ``close()`` ends the workers."""

    def __init__(self, reader: SplitReader, workers: int, pin_memory: bool):
        self.reader, self.workers, self.pin_memory = reader, workers, pin_memory
        self.feed = _TaskFeed()
        self._loader: DataLoader | None = None

    def _make_loader(self) -> DataLoader:
        extra = dict(persistent_workers=True, prefetch_factor=PREFETCH,
                     multiprocessing_context=worker_context()) if self.workers else {}
        return DataLoader(self.reader, batch_size=None, sampler=self.feed, num_workers=self.workers,
                          collate_fn=_as_is, pin_memory=self.pin_memory, **extra)

    def run(self, tasks: list[BatchTask]) -> Iterator[DecodedBatch]:
        if self._loader is None:
            self._loader = self._make_loader()
        self.feed.tasks = list(tasks)
        return iter(self._loader)

    def close(self) -> None:
        """End the worker processes (a later ``run`` starts new ones)."""
        loader, self._loader = self._loader, None
        iterator = getattr(loader, "_iterator", None) if loader is not None else None
        if iterator is not None and hasattr(iterator, "_shutdown_workers"):
            iterator._shutdown_workers()
