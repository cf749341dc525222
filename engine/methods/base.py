"""The contract every loss or method implements, and the registry that finds it by name.

The trainer knows no method by name: it builds a method from the registry and calls
``build_model``, ``on_epoch_start``, ``loss`` and ``logits``. A method module registers its
class with ``@register``. ``criterion`` works on logits and features alone, so the GML
plug-in can train a head on cached features with any registered loss.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import torch
from torch import nn

from data.errors import UserError
from models import build_model

_REGISTRY: dict[str, type[Method]] = {}


class Method:
    """A training objective plus the model head it needs.

    Subclasses set ``name``, ``title``, ``citation``, ``defaults`` (hyperparameters with the
    paper's values) and ``param_help`` (one line per hyperparameter), and implement
    ``criterion``. ``class_weights`` is set by the train rule (Reweight, DRW) and is ``None``
    when the rule applies no weights.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    citation: ClassVar[str] = ""
    head: ClassVar[str] = "linear"  # "linear" or "cosine"
    logit_scale: float = 1.0  # multiplies the head's output at evaluation (LDAM's s on cosines)
    defaults: ClassVar[dict[str, float]] = {}
    param_help: ClassVar[dict[str, str]] = {}

    def __init__(self, class_counts: torch.Tensor, params: Mapping[str, float] | None = None,
                 total_epochs: int = 200):
        params = dict(params or {})
        unknown = set(params) - set(self.defaults)
        if unknown:
            known = ", ".join(self.defaults) or "none"
            raise UserError(f"{self.title} has no hyperparameter {sorted(unknown)[0]!r} (it has: {known})")
        if (class_counts < 1).any():
            empty = int(torch.nonzero(class_counts < 1)[0])
            raise UserError(f"class {empty} has no training image; {self.title} needs at least one per class "
                            "(lower the imbalance or remove the empty class)")
        self.params: dict[str, float] = {**self.defaults, **{k: float(v) for k, v in params.items()}}
        self.class_counts = class_counts.to(torch.float32)
        self.total_epochs = total_epochs
        self.epoch = 0
        self.class_weights: torch.Tensor | None = None

    def to(self, device: torch.device | str) -> Method:
        """Move the method's tensors (counts, weights and any buffers) to ``device``."""
        for key, value in vars(self).items():
            if isinstance(value, torch.Tensor):
                setattr(self, key, value.to(device))
        return self

    def build_model(self, arch: str, num_classes: int) -> nn.Module:
        return build_model(arch, num_classes, head=self.head)

    def on_epoch_start(self, epoch: int) -> None:
        """Called with the 0-based epoch before it trains (curricula hook here)."""
        self.epoch = epoch

    def criterion(self, logits: torch.Tensor, labels: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        """The scalar training loss from the head's outputs and the backbone's features."""
        raise NotImplementedError

    def loss(self, model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Forward a normalised batch; return ``(loss, logits)``."""
        features = model.features(images)
        logits = model.linear(features)
        return self.criterion(logits, labels, features), logits

    def logits(self, model: nn.Module, images: torch.Tensor) -> torch.Tensor:
        """What evaluation and inference rank classes by (and take the softmax of)."""
        return self.logit_scale * model(images)


def register(cls: type[Method]) -> type[Method]:
    """Class decorator: make ``cls`` available under ``cls.name``."""
    if cls.name in _REGISTRY:
        raise ValueError(f"method {cls.name!r} registered twice")
    _REGISTRY[cls.name] = cls
    return cls


def method_class(name: str) -> type[Method]:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UserError(f"unknown loss {name!r}; choose one of {', '.join(sorted(_REGISTRY))}") from None


def registered() -> dict[str, type[Method]]:
    return dict(_REGISTRY)
