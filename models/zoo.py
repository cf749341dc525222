"""The catalogue of model families: build a model from a spec, and tell whose weights a file holds.

Importing this module imports every family module, so each has registered itself
(``models.registry``); the family modules never import it, so ``models/`` has no import cycle.
``models/__init__.py`` serves these names lazily: listing architectures needs no torch.
"""
from __future__ import annotations

from collections.abc import Mapping

import torch

from errors import UserError
from models import architectures, base_family
from models import paco, resnet_cifar, resnet_imagenet, ride  # noqa: F401 (each registers its family)
from models.base import LTModel, ModelSpec, PretrainedCfg
from models.registry import Family, UnrecognisedWeights, by_priority, registered
from models.resnet_cifar import CifarResNet


def family(name: str) -> type[Family]:
    known = registered()
    if name not in known:
        raise UserError(f"unknown model family {name!r}; known: {', '.join(sorted(known))}")
    return known[name]


def families() -> dict[str, type[Family]]:
    """Name → class of every model family."""
    return registered()


def spec_for(arch: str, num_classes: int, head: str = "linear") -> ModelSpec:
    """The plain model of ``arch`` (its ``base_family``); methods turn it into theirs with
    ``Method.model_spec``."""
    if arch not in architectures():
        raise UserError(f"unknown architecture {arch!r}; choose one of {', '.join(architectures())}")
    return ModelSpec(base_family(arch), arch, int(num_classes), head)


def create_model(spec: ModelSpec) -> LTModel:
    """A freshly initialised model of ``spec``, channels-last (the layout ``data.tensors.normalize`` gives)."""
    if spec.num_classes < 1:
        raise UserError(f"a classifier needs at least one class, got {spec.num_classes}")
    model = family(spec.family).build(spec)
    return model.to(memory_format=torch.channels_last)


def build_model(arch: str, num_classes: int, head: str = "linear") -> CifarResNet:
    """A freshly initialised plain model, e.g. ``build_model("resnet32", 100)``: shorthand for
    ``create_model(spec_for(arch, num_classes, head))``.

    Its convolution weights are channels-last (NHWC), the layout the inputs from
    ``data.tensors.normalize`` have: measured 1.15x faster training and 1.2x faster inference
    than NCHW on a 2-core CPU (docs/benchmarks.md), and the layout GPUs' tensor cores prefer.
    State dicts are unaffected: loading copies values into whatever layout the model has.
    """
    return create_model(spec_for(arch, num_classes, head))


def join_parts(raw: Mapping) -> tuple[dict[str, torch.Tensor], str] | None:
    """A model some family saves in parts, joined into one state dict with a note; else None."""
    for candidate in by_priority():
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
    for candidate in by_priority():
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
