"""The family registry: build a model from a spec, and tell whose foreign weights a file holds.

After timm's ``_registry.py`` and its per-model ``pretrained_cfg`` / ``checkpoint_filter_fn``: a
family registers itself by name with :func:`register_family`, and owns everything that is known
about its models and their files. A family class (an :class:`~models.base.LTModel` subclass; the
base class gives the defaults) provides

- ``build(spec) -> LTModel``: a freshly initialised model;
- ``from_parts(raw) -> (state_dict, note) | None``: a model saved as several state dicts in one
  file (MiSLAS's backbone / classifier / LWS), joined, or None when ``raw`` is not such a file;
- ``checkpoint_filter(state_dict, notes) -> dict``: a foreign key layout → the family's own (wrapper
  prefixes, renamed classifiers, tensors the file lacks); each repair is described in ``notes``;
- ``recognise(state_dict) -> ModelSpec | None``: from the filtered tensors' shapes and keys, the
  spec that loads them, or None when the file is not of this family; it may raise
  :class:`UnrecognisedWeights` to explain a near miss;
- ``pretrained_cfg(spec) -> PretrainedCfg``: what a foreign file of the family means beyond its
  tensors (the method whose prediction rule its outputs follow, the scale of its logits).

Families with a higher ``priority`` are asked first (a multi-expert file also has a ``conv1``).
This module knows no family: the family modules import it to register, and ``models.zoo`` (the
catalogue: ``create_model``, ``recognise`` …) imports them all, so no module in ``models/``
imports back.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import torch

from errors import UserError
from models.base import LTModel, ModelSpec, PretrainedCfg


class UnrecognisedWeights(UserError):
    """No family builds a model these tensors fit; the message says what the file looks like."""


class Family(Protocol):
    name: str
    priority: int

    @classmethod
    def build(cls, spec: ModelSpec) -> LTModel: ...

    @classmethod
    def from_parts(cls, raw: Mapping) -> tuple[dict[str, torch.Tensor], str] | None: ...

    @classmethod
    def checkpoint_filter(cls, state_dict: Mapping[str, torch.Tensor], notes: list[str]) -> dict[str, torch.Tensor]: ...

    @classmethod
    def recognise(cls, state_dict: Mapping[str, torch.Tensor]) -> ModelSpec | None: ...

    @classmethod
    def pretrained_cfg(cls, spec: ModelSpec) -> PretrainedCfg: ...


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


def strip_wrapper_prefixes(state_dict: Mapping[str, torch.Tensor], prefixes: tuple[str, ...],
                           modules: set[str], notes: list[str]) -> dict[str, torch.Tensor]:
    """Remove each of ``prefixes`` (``backbone.``, ``model.`` …) where that makes more keys start
    with one of the family's top-level ``modules``; a repair is described in ``notes``."""
    def ours(state: Mapping[str, torch.Tensor]) -> int:
        return sum(key.split(".", 1)[0] in modules for key in state)

    state = dict(state_dict)
    changed = True
    while changed:
        changed = False
        for prefix in prefixes:
            hits = sum(key.startswith(prefix) for key in state)
            if not hits:
                continue
            stripped = {key.removeprefix(prefix): value for key, value in state.items()}
            if len(stripped) == len(state) and ours(stripped) > ours(state):
                notes.append(f"removed the prefix {prefix!r} from {hits} keys")
                state, changed = stripped, True
    return state


def registered() -> dict[str, type[Family]]:
    """Name → class of the families registered so far (``models.zoo.families`` imports them all first)."""
    return dict(_FAMILIES)


def by_priority() -> list[type[Family]]:
    return sorted(_FAMILIES.values(), key=lambda f: -f.priority)
