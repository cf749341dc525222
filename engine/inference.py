"""Image files → top-k class predictions from a checkpoint.

Images are decoded with ``data.images`` (the same RGB conversion as the datasets), brought to
the checkpoint's ``image_size`` the way its evaluation saw them (``eval_view``: resized, as the
resident datasets are; or resized to size·256/224 and centre-cropped, as the streamed datasets
and every ImageNet model are evaluated; 32 and 224 by default), normalised with its
``mean``/``std`` (CIFAR's when it has none) and classified in batches under ``torch.inference_mode()``.

Probabilities are the softmax of the checkpoint's prediction rule (``engine.prediction``): the
method's scores (LDAM's ``s·cos``, RIDE's expert mean, …) or, for a plug-in checkpoint, the
ensemble of old and new heads. ``eval``, the app and the plug-in report use the same rule.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from errors import UserError
from PIL import Image

from data.images import is_image_file, load_rgb, to_uint8_tensor
from data.stream import RESIZE_CROP, eval_view
from engine.checkpoints import Checkpoint, load_checkpoint
from engine.devices import pick_device
from engine.evaluation import predict_scores
from engine.finite import non_finite_rows
from engine.precision import autocast
from engine.prediction import load_for_prediction
from models import is_imagenet_arch

DEFAULT_IMAGE_SIZE = 32
IMAGENET_IMAGE_SIZE = 224
DEFAULT_BATCH_SIZE = 256


@dataclass
class Prediction:
    """One file's result: the ``topk`` (label, probability) pairs, best first, or an ``error``."""

    path: Path
    topk: list[tuple[str, float]] = field(default_factory=list)
    error: str | None = None
    experts: int | None = None  # experts the router called for this image (RIDE); None: no router
    finite: bool = True  # False: the model's outputs held NaN/inf (engine.finite.non_finite_rows)


class Predictor:
    """A checkpoint ready to classify images: model, class names, normalisation, device.

    ``arch`` is needed only when the checkpoint's tensors cannot tell it. Class names come from
    ``class_names``, else the checkpoint's meta, else the CIFAR ``dataset`` named here or in the
    meta, else ``class 0``, ``class 1``, …; their number must match the classifier.
    """

    def __init__(self, checkpoint: Checkpoint, arch: str | None = None, dataset: str | None = None,
                 class_names: Sequence[str] | None = None, device: str | torch.device = "auto",
                 batch_size: int = DEFAULT_BATCH_SIZE, use_router: bool = True):
        meta = checkpoint.meta
        self.checkpoint = checkpoint
        self.notes = list(checkpoint.notes)
        names = _class_names(class_names, meta, dataset)
        self.device = pick_device(device) if isinstance(device, str) else device
        self.model, self.rule = load_for_prediction(checkpoint, arch=arch, num_classes=len(names) if names else None,
                                                    device=self.device, use_router=use_router, notes=self.notes)
        self.class_names = list(names) if names else [f"class {i}" for i in range(self.model.num_classes)]
        self.mean = tuple(meta.get("mean") or _cifar("CIFAR_MEAN"))
        self.std = tuple(meta.get("std") or _cifar("CIFAR_STD"))
        imagenet = is_imagenet_arch(self.model.arch)
        self.image_size = int(meta.get("image_size") or (IMAGENET_IMAGE_SIZE if imagenet else DEFAULT_IMAGE_SIZE))
        self.eval_view = meta.get("eval_view") or (RESIZE_CROP if imagenet else "resize")
        self.batch_size = batch_size
        if self.rule.ensemble is not None:
            self.notes.append(self.rule.describe())
        self.last_experts: torch.Tensor | None = None  # per image of the last predict_tensor, with a router

    @classmethod
    def from_checkpoint(cls, path: str | Path, **options) -> Predictor:
        """Load ``path`` safely (see ``engine.checkpoints``) and build a predictor; options as ``__init__``."""
        return cls(load_checkpoint(path), **options)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def predict_tensor(self, images: torch.Tensor) -> torch.Tensor:
        """Class probabilities ``(N, C)`` (float32, on the CPU) for uint8 images ``(N, 3, H, W)``."""
        with autocast(self.model):
            scores = predict_scores(lambda x: self.rule(self.model, x), images.to(self.device), self.mean, self.std,
                                    self.batch_size)
        used = scores.experts_used
        self.last_experts = used.cpu() if used is not None else None
        return torch.softmax(scores.values.float(), dim=1).cpu()

    def _prepare(self, image: Image.Image) -> torch.Tensor:
        if self.eval_view == RESIZE_CROP:
            return eval_view(image, self.image_size)
        return to_uint8_tensor(image, self.image_size)

    def predict_paths(self, paths: Iterable[str | Path], topk: int = 5) -> list[Prediction]:
        """One ``Prediction`` per path, in order. A file that cannot be decoded gets its own
        ``error`` and the others are still predicted; files are decoded one batch at a time."""
        paths = [Path(path) for path in paths]
        k = max(1, min(topk, self.num_classes))
        predictions: list[Prediction] = []
        for start in range(0, len(paths), self.batch_size):
            chunk = [Prediction(path) for path in paths[start:start + self.batch_size]]
            decoded, images = [], []
            for prediction in chunk:
                try:
                    images.append(self._prepare(load_rgb(prediction.path)))
                    decoded.append(prediction)
                except UserError as error:
                    prediction.error = str(error)
            if images:
                probabilities = self.predict_tensor(torch.stack(images))
                top = probabilities.topk(k, dim=1)
                experts = self.last_experts.tolist() if self.last_experts is not None else [None] * len(decoded)
                for prediction, values, indices, used, bad in zip(decoded, top.values.tolist(), top.indices.tolist(),
                                                                  experts, non_finite_rows(probabilities).tolist()):
                    prediction.topk = [(self.class_names[i], p) for i, p in zip(indices, values)]
                    prediction.experts, prediction.finite = used, not bad
            predictions += chunk
        return predictions


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files stay as given; a folder becomes the image files anywhere inside it, sorted.
    Duplicates are dropped, first occurrence kept; an empty folder contributes nothing."""
    expanded: dict[Path, None] = {}
    for path in map(Path, paths):
        if path.is_dir():
            expanded.update(dict.fromkeys(sorted(p for p in path.rglob("*") if p.is_file() and is_image_file(p))))
        else:
            expanded[path] = None
    return list(expanded)


def _class_names(explicit: Sequence[str] | None, meta: dict, dataset: str | None) -> list[str] | None:
    if explicit:
        return list(explicit)
    if meta.get("class_names"):
        return list(meta["class_names"])
    if dataset:
        names = _cifar_class_names(dataset)
        if names is None:
            raise UserError(f"there are no built-in class names for the dataset {dataset!r}; use cifar10 or cifar100")
        return names
    return _cifar_class_names(meta.get("dataset") or "")


def _cifar_class_names(dataset: str) -> list[str] | None:
    attribute = {"cifar10": "CIFAR10_CLASSES", "cifar100": "CIFAR100_CLASSES"}.get(dataset.lower())
    return list(_cifar(attribute)) if attribute else None


def _cifar(attribute: str):
    """A constant of ``data.cifar``, imported on first use."""
    from data import cifar

    return getattr(cifar, attribute)
