"""The family registry: build a model from a spec, and tell whose foreign weights a file holds.

After timm's ``_registry.py`` and its per-model ``pretrained_cfg`` / ``checkpoint_filter_fn``: a
family registers itself by name with :func:`register_family`, and owns everything that is known
about its models and their files. A family class (an :class:`~models.base.LTModel` subclass; the
base class gives the defaults) provides

- ``build(spec) -> LTModel``: a freshly initialised model;
- ``architectures``: the trunk names it builds on its own (empty for families that wrap another's
  trunk, such as RIDE's experts or PaCo's encoders);
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
The family modules import this one; ``models/__init__.py`` imports them all, so every family is
registered once the package is imported and no module here imports back.
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
    architectures: tuple[str, ...]

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


def family(name: str) -> type[Family]:
    try:
        return _FAMILIES[name]
    except KeyError:
        raise UserError(f"unknown model family {name!r}; known: {', '.join(sorted(_FAMILIES))}") from None


def families() -> dict[str, type[Family]]:
    return dict(_FAMILIES)


def architectures() -> tuple[str, ...]:
    """Every trunk name some family builds on its own (``resnet20`` …), in registration order."""
    return tuple(arch for cls in _FAMILIES.values() for arch in cls.architectures)


def spec_for(arch: str, num_classes: int, head: str = "linear") -> ModelSpec:
    """The plain model of ``arch``: the spec of the family that builds that trunk (methods then
    turn it into theirs with ``Method.model_spec``)."""
    owner = next((cls for cls in _FAMILIES.values() if arch in cls.architectures), None)
    if owner is None:
        raise UserError(f"unknown architecture {arch!r}; choose one of {', '.join(architectures())}")
    return ModelSpec(owner.name, arch, int(num_classes), head)


def create_model(spec: ModelSpec) -> LTModel:
    """A freshly initialised model of ``spec``, channels-last (the layout ``data.tensors.normalize`` gives)."""
    if spec.num_classes < 1:
        raise UserError(f"a classifier needs at least one class, got {spec.num_classes}")
    model = family(spec.family).build(spec)
    return model.to(memory_format=torch.channels_last)


def join_parts(raw: Mapping) -> tuple[dict[str, torch.Tensor], str] | None:
    """A model some family saves in parts, joined into one state dict with a note; else None."""
    for candidate in _by_priority():
        joined = candidate.from_parts(raw)
        if joined is not None:
            return joined
    return None


def recognise(state_dict: Mapping[str, torch.Tensor],
              notes: list[str] | None = None) -> tuple[ModelSpec, dict[str, torch.Tensor]]:
    """The spec of a foreign state dict and the state dict in that family's key layout (the
    family's ``checkpoint_filter`` applied; its repairs are appended to ``notes``).

    Raises :class:`UnrecognisedWeights` with one line when no family claims the tensors.
    """
    reasons = []
    for candidate in _by_priority():
        repairs: list[str] = []
        filtered = candidate.checkpoint_filter(state_dict, repairs)
        try:
            spec = candidate.recognise(filtered)
        except UnrecognisedWeights as error:
            reasons.append(str(error))
            continue
        if spec is not None:
            if notes is not None:
                notes.extend(repairs)
            return spec, filtered
    first = ", ".join(list(state_dict)[:4])
    raise UnrecognisedWeights(reasons[0] if reasons else f"no model family here recognises its tensors (keys start {first})")


def pretrained_cfg(spec: ModelSpec) -> PretrainedCfg:
    """What a file of ``spec``'s family means beyond its tensors (see :class:`PretrainedCfg`)."""
    return family(spec.family).pretrained_cfg(spec)


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


def _by_priority() -> list[type[Family]]:
    return sorted(_FAMILIES.values(), key=lambda f: -f.priority)
