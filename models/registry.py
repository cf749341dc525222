"""The family registry: build a model from a spec, and tell whose foreign weights a file holds.

After timm's ``_registry.py``: a family registers itself by name with :func:`register_family`.
A family class provides

- ``build(spec) -> LTModel``: a freshly initialised model;
- ``recognise(state_dict) -> ModelSpec | None``: from the tensor shapes and keys of a foreign
  state dict (wrapper prefixes already stripped), the spec that loads it, or None when the file
  is not of this family; it may raise :class:`UnrecognisedWeights` to explain a near miss;
- ``adapt_state_dict(state_dict) -> dict``: foreign key layout → the family's own (identity by default).

Families with a higher ``priority`` are asked first (a multi-expert file also has a ``conv1``).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import torch

from errors import UserError
from models.base import LTModel, ModelSpec


class UnrecognisedWeights(UserError):
    """No family builds a model these tensors fit; the message says what the file looks like."""


class Family(Protocol):
    name: str
    priority: int

    @classmethod
    def build(cls, spec: ModelSpec) -> LTModel: ...

    @classmethod
    def recognise(cls, state_dict: Mapping[str, torch.Tensor]) -> ModelSpec | None: ...

    @classmethod
    def adapt_state_dict(cls, state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]: ...


_FAMILIES: dict[str, type[Family]] = {}


def register_family(name: str, priority: int = 0):
    """Class decorator: register a family under ``name``."""
    def decorate(cls: type) -> type:
        if name in _FAMILIES:
            raise ValueError(f"model family {name!r} registered twice")
        cls.name, cls.priority = name, priority
        _FAMILIES[name] = cls
        return cls
    return decorate


def family(name: str) -> type[Family]:
    _load_families()
    try:
        return _FAMILIES[name]
    except KeyError:
        raise UserError(f"unknown model family {name!r}; known: {', '.join(sorted(_FAMILIES))}") from None


def families() -> dict[str, type[Family]]:
    _load_families()
    return dict(_FAMILIES)


def create_model(spec: ModelSpec) -> LTModel:
    """A freshly initialised model of ``spec``, channels-last (the layout ``data.tensors.normalize`` gives)."""
    if spec.num_classes < 1:
        raise UserError(f"a classifier needs at least one class, got {spec.num_classes}")
    model = family(spec.family).build(spec)
    return model.to(memory_format=torch.channels_last)


def recognise(state_dict: Mapping[str, torch.Tensor]) -> tuple[ModelSpec, dict[str, torch.Tensor]]:
    """The spec of a foreign state dict and the state dict in that family's key layout.

    Raises :class:`UnrecognisedWeights` with one line when no family claims the tensors.
    """
    reasons = []
    for candidate in sorted(families().values(), key=lambda f: -f.priority):
        try:
            spec = candidate.recognise(state_dict)
        except UnrecognisedWeights as error:
            reasons.append(str(error))
            continue
        if spec is not None:
            return spec, candidate.adapt_state_dict(state_dict)
    first = ", ".join(list(state_dict)[:4])
    raise UnrecognisedWeights(reasons[0] if reasons else f"no model family here recognises its tensors (keys start {first})")


def _load_families() -> None:
    """Import the family modules so that each registers itself (once)."""
    import models.paco  # noqa: F401
    import models.resnet_cifar  # noqa: F401
    import models.resnet_imagenet  # noqa: F401
    import models.ride  # noqa: F401
