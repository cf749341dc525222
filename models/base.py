"""The model contract every family implements: a spec to build from, features, heads, parts.

A model is built from a :class:`ModelSpec` (family, depth, classes, head kind and family
options) by ``models.registry.create_model``. Every model is an :class:`LTModel`:

- ``features(x)``: normalised images → pooled features ``(N, D)``, or ``(N, E, D)`` with one row
  per expert;
- ``classify(features, heads=None)``: features → :class:`ModelOutput`; ``heads`` may replace the
  model's own head modules (the plug-in scores the old heads this way);
- ``forward(x)`` = ``classify(features(x))``;
- ``heads()``: the head modules by attribute path: what a head-only stage trains and what the
  plug-in copies and re-trains;
- ``parts()``: named groups of modules a training stage may unfreeze (always ``backbone`` and
  ``heads``; families add their own, such as ``lws`` or ``router``);
- ``predict(x)`` / ``predict_features(features, heads=None)``: the forward passes of prediction.
  They equal ``forward`` / ``classify`` unless the family has a prediction mode: RIDE's router
  (``set_routing``) calls experts per image and reports ``extras["experts_used"]``. Training
  steps never route; every consumer of predictions goes through these two.

The pattern follows timm's model registry (a family registers a builder and its own filter for
foreign checkpoints, ``models.registry``) and Lightning's split of model and training step: the
model knows its pieces, the method knows how to train with them and how to turn an output into
class scores (``engine/methods``).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn


@dataclass(frozen=True)
class ModelSpec:
    """What to build: ``family`` (registry name), ``arch`` (trunk depth), ``num_classes``, the
    ``head`` kind (``linear``, ``cosine`` or ``lws``) and JSON-able family ``options``."""

    family: str = "cifar_resnet"
    arch: str = "resnet32"
    num_classes: int = 100
    head: str = "linear"
    options: Mapping[str, Any] = field(default_factory=dict)

    def replace(self, **changes: Any) -> ModelSpec:
        return dataclasses.replace(self, **changes)

    def with_options(self, **options: Any) -> ModelSpec:
        return self.replace(options={**self.options, **options})

    def to_dict(self) -> dict[str, Any]:
        return {"family": self.family, "arch": self.arch, "num_classes": int(self.num_classes),
                "head": self.head, "options": dict(self.options)}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ModelSpec:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {key: value for key, value in raw.items() if key in known}
        values["options"] = dict(values.get("options") or {})
        return cls(**values)

    def describe(self) -> str:
        """One line, e.g. ``resnet32, 100 classes, linear head`` or ``…, multi_expert (experts 3)``."""
        text = f"{self.arch}, {self.num_classes} classes, {self.head} head"
        if self.family != "cifar_resnet":
            options = ", ".join(f"{k} {v}" for k, v in self.options.items())
            text += f", {self.family}" + (f" ({options})" if options else "")
        return text


@dataclass(frozen=True)
class PretrainedCfg:
    """What a family's foreign files mean beyond their tensors (timm's ``pretrained_cfg``).

    ``method`` names the registered method whose prediction rule the outputs follow (a plain
    string: models import nothing from the engine); ``logit_scale`` multiplies the model's logits
    for probabilities; ``note`` says why, for the load notes.
    """

    method: str = "ce"
    logit_scale: float = 1.0
    note: str = ""


@dataclass
class ModelOutput:
    """A forward pass: ``logits`` (N, C) as the model outputs them (a cosine head's raw cosines; RIDE's
    expert mean), ``features`` (N, D) or (N, E, D), per-expert logits (E, N, C) and family extras
    (per image: ``experts_used`` of a routed prediction, PaCo's ``embedding``). ``features`` is
    None only for a routed prediction, which does not compute every expert."""

    logits: torch.Tensor
    features: torch.Tensor | None
    expert_logits: torch.Tensor | None = None
    extras: dict[str, torch.Tensor] = field(default_factory=dict)


class LTModel(nn.Module):
    """Base class of every family. Subclasses set ``spec`` and implement ``features``, ``classify``,
    ``heads`` and ``parts``; the class methods are the family's defaults (``models.registry``)."""

    spec: ModelSpec
    optional_prefixes: tuple[str, ...] = ()  # tensors that start fresh when a pretrained file lacks them
    trunk_prefixes: tuple[str, ...] = ()  # where a plain trunk file's tensors go ("": the model is one)
    # the methods besides ``forward`` a training step computes gradients through: in a run of several
    # processes they go through DistributedDataParallel (engine.distributed.replicated)
    step_calls: tuple[str, ...] = ("classify",)

    # --- the family: building and foreign files (see models.registry) ----------------------
    @classmethod
    def build(cls, spec: ModelSpec) -> LTModel:
        return cls(spec)

    @classmethod
    def from_parts(cls, raw: Mapping) -> tuple[dict[str, torch.Tensor], str] | None:
        """A model of this family saved as several state dicts in one file, joined; None by default."""
        return None

    @classmethod
    def checkpoint_filter(cls, state_dict: Mapping[str, torch.Tensor], notes: list[str]) -> dict[str, torch.Tensor]:
        """A foreign key layout → this family's; identity by default."""
        return dict(state_dict)

    @classmethod
    def recognise(cls, state_dict: Mapping[str, torch.Tensor]) -> ModelSpec | None:
        raise NotImplementedError

    @classmethod
    def pretrained_cfg(cls, spec: ModelSpec) -> PretrainedCfg:
        """What a foreign file of this family predicts with: plain logits by default."""
        return PretrainedCfg()

    @property
    def num_classes(self) -> int:
        return self.spec.num_classes

    @property
    def arch(self) -> str:
        return self.spec.arch

    def features(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def classify(self, features: torch.Tensor, heads: Mapping[str, nn.Module] | None = None) -> ModelOutput:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> ModelOutput:
        return self.classify(self.features(x))

    # --- prediction ------------------------------------------------------------------------
    def predict(self, x: torch.Tensor) -> ModelOutput:
        """The forward pass of prediction on normalised images (``forward`` unless the family
        has a prediction mode)."""
        return self(x)

    def predict_features(self, features: torch.Tensor, heads: Mapping[str, nn.Module] | None = None) -> ModelOutput:
        """The prediction from features (cached ones, or ``heads`` other than the model's own): the
        same outputs as :meth:`predict` on the images they came from."""
        return self.classify(features, heads)

    def set_routing(self, enabled: bool) -> LTModel:
        """Switch a routing prediction mode on or off (RIDE's router); families without one ignore it."""
        return self

    def heads(self) -> dict[str, nn.Module]:
        raise NotImplementedError

    def parts(self) -> dict[str, list[nn.Module]]:
        """``backbone`` (everything that is not a head) and ``heads``; families may add more."""
        head_modules = list(self.heads().values())
        head_ids = {id(p) for module in head_modules for p in module.parameters()}
        backbone = [module for name, module in self.named_children()
                    if not any(id(p) in head_ids for p in module.parameters())]
        return {"backbone": backbone, "heads": head_modules}

    def head_state(self) -> dict[str, torch.Tensor]:
        """The heads' tensors keyed as in the model's state dict (``linear.weight`` …)."""
        return {f"{name}.{key}": value.detach().clone()
                for name, module in self.heads().items() for key, value in module.state_dict().items()}

    def install_heads(self, heads: Mapping[str, nn.Module]) -> None:
        """Make ``heads`` (keyed as ``heads()``) the model's own head modules."""
        for path, module in heads.items():
            owner_path, _, attribute = path.rpartition(".")
            owner = self.get_submodule(owner_path) if owner_path else self
            setattr(owner, attribute, module)


def head_modules_from_state(model: LTModel, state: Mapping[str, torch.Tensor]) -> dict[str, nn.Module]:
    """Copies of ``model``'s head modules loaded with ``state`` (keys as ``LTModel.head_state``). A
    head with no tensor in ``state`` is left out: the heads saved had none such (a classifier
    repaired by LWS has scales its old heads lacked)."""
    import copy

    heads = {}
    for name, module in model.heads().items():
        prefix = f"{name}."
        if module.state_dict() and not any(key.startswith(prefix) for key in state):
            continue
        copied = copy.deepcopy(module)
        copied.load_state_dict({k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}, strict=True)
        heads[name] = copied.eval().requires_grad_(False)
    return heads
