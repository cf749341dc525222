"""A frozen backbone's features, computed once and cached for a head-only stage.

With the backbone frozen (weights and BatchNorm statistics), a head's input for an image depends
only on the image and its augmentation. ``extract_features`` runs ``model.features`` over a
split's source in inference batches (streamed splits are read batch by batch, never held as
images) and keeps the features in **float16**: the GML plug-in's cache of ImageNet-LT's 115,846
ResNeXt-50 features is 475 MB instead of 950 MB (iNaturalist's 437,513: 1.8 GB instead of 3.6).
Heads train on them in float32 (:meth:`FeatureBank.batch`). A :class:`FeatureBank` holds one
cache per pass (one without augmentation, ``passes`` augmented ones with it) and serves epoch e
from pass ``e mod passes``. Features keep the model's shape: ``(N, D)``, or ``(N, E, D)`` per expert.
A streamed image that could not be decoded has no feature (``present`` is False there).
In a run of several processes each extracts its share of the split and every rank gathers all
of them (each trains on a share of batches drawn from the whole split).

Features that predictions are scored from (the held-out split a head stage evaluates on, the
plug-in's report) are kept in float32 (``EVAL_DTYPE``): scored from them, a checkpoint's
predictions are exactly those of ``eval`` on the images (the one prediction path,
``engine.prediction``), which half precision would move by about 1e-3.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from data.sources import ImageSource
from data.tensors import normalize
from engine.distributed.collectives import gather_rows
from engine.distributed.world import current_world
from engine.evaluation import inference_batch_size
from engine.precision import autocast

BatchCallback = Callable[[int, int], None]  # (batches done, batches in all); may raise RunStopped
CACHE_DTYPE = torch.float16  # training passes
EVAL_DTYPE = torch.float32  # features predictions are scored from


@dataclass
class CachedFeatures:
    """One pass over a split: ``features`` (N, …), the ``labels`` and which rows are ``present``."""

    features: torch.Tensor
    labels: torch.Tensor
    present: torch.Tensor  # bool (N,)


@torch.no_grad()
def extract_features(model: nn.Module, source: ImageSource, mean: Sequence[float], std: Sequence[float],
                     view: str = "none", generator: torch.Generator | None = None,
                     on_batch: BatchCallback | None = None, batch_size: int | None = None,
                     dtype: torch.dtype = CACHE_DTYPE) -> CachedFeatures:
    """``model.features`` of every image of ``source`` through ``view`` (``"none"``: un-augmented),
    drawn from ``generator``, computed in the model's precision (``engine.precision``); cached as
    ``dtype`` (float16 unless asked) on the source's device."""
    device = source.labels.device
    batch_size = batch_size or inference_batch_size(device)
    generator = generator if generator is not None else torch.Generator(device=device).manual_seed(0)
    world = current_world()
    labels, source = source.labels, source.subset(world.share(len(source))) if world.distributed else source
    total = len(source)
    batches = (total + batch_size - 1) // batch_size
    features: torch.Tensor | None = None
    present = torch.zeros(total, dtype=torch.bool, device=device)
    order = torch.arange(total, device=device)
    for number, (views, _, index) in enumerate(source.batches(order, batch_size, (view,), generator), start=1):
        with autocast(model):
            out = model.features(normalize(views[0], mean, std)).to(dtype)
        if features is None:
            features = torch.zeros((total, *out.shape[1:]), dtype=dtype, device=device)
        features[index] = out
        present[index] = True
        if on_batch is not None:
            on_batch(number, batches)
    if features is None:
        features = torch.zeros(0, dtype=dtype, device=device)
    if world.distributed:
        features, present = gather_rows(features), gather_rows(present.to(torch.uint8)).bool()
    return CachedFeatures(features, labels, present)


class FeatureBank:
    """Cached features of the training split: one :class:`CachedFeatures` per pass."""

    def __init__(self, passes: list[CachedFeatures]):
        self.passes = passes
        present = torch.stack([p.present for p in passes]).all(0) if passes else None
        self._present = None if present is None or bool(present.all()) else present  # one check, at caching

    def present(self, index: torch.Tensor) -> torch.Tensor:
        """``index`` without the images some pass could not read."""
        return index if self._present is None else index[self._present[index]]

    def batch(self, index: torch.Tensor, epoch: int) -> torch.Tensor:
        return self.passes[epoch % len(self.passes)].features[index].float()
