"""Step hooks: what several methods do after each optimiser step, attached to a stage.

After Lightning's callbacks (``on_train_batch_end``, ``on_train_epoch_end``): a stage lists its
hooks (``Stage(..., hooks=("max_norm:0.1",))`` or hook objects), the loop calls each after every
optimiser step of that stage and after each epoch's last step, and a hook's state travels in the
resume state, so a run resumed inside the stage continues with it. A hook is named by a string
``"name:arg:arg"`` (numbers are read as numbers) or given as an object; :func:`make_hook` turns
one into the other.

- ``max_norm``: MaxNorm by projected gradient descent (Alshammari et al., "Long-Tailed
  Recognition via Weight Balancing", CVPR 2022, arXiv 2203.14197; github.com/ShadeAlsha/
  LTR-weight-balancing, ``utils/regularizers.py`` ``MaxNorm_via_PGD``, stage 2 with ``thresh=0.1``).
  Every linear classifier's per-class weight row (its L2 norm over the feature dimension) is
  capped at the radius ``δ = min + threshold·(max − min)`` of the row norms the stage starts
  from, as the official ``setPerLayerThresh`` computes it once on the stage-1 weights before
  fine-tuning: the threshold 0.1 is relative, not an absolute norm. Rows above δ are scaled to
  it, rows inside are untouched (a projection onto the ball); biases are not constrained (the
  official threshold of a 1-d tensor is infinite). ``every`` says when: ``step`` after every
  optimiser step (the paper's projected gradient descent, and what the first author confirmed
  was intended, LTR-weight-balancing issue #5) or ``epoch`` after each epoch's last step (what
  the official ``trainval.py`` does). Written without boolean indexing, so it never waits on
  the device.
- ``ema``: ``θ_target ← m·θ_target + (1 − m)·θ_source`` over the parameters of two sub-modules
  (buffers such as BatchNorm statistics stay the target's own): MoCo's and PaCo's momentum key
  encoder, or a model EMA.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import torch
from torch import nn

from engine.config import ConfigError

if TYPE_CHECKING:
    from engine.stages import Stage
    from models import LTModel

_HOOKS: dict[str, type[StepHook]] = {}


class StepHook:
    """A reusable action after each optimiser step of a stage, with its own resumable state."""

    name: ClassVar[str]

    def on_stage_start(self, model: LTModel, stage: Stage) -> None:
        """Called before the stage's first step (and again when a run resumes inside it)."""

    def after_step(self, model: LTModel) -> None:
        """Called after every optimiser step of the stage."""

    def after_epoch(self, model: LTModel) -> None:
        """Called after the last optimiser step of each epoch of the stage."""

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` gave (a run resumed inside the stage)."""

    def describe(self) -> str:
        return self.name


def register_hook(cls: type[StepHook]) -> type[StepHook]:
    """Class decorator: make ``cls`` available under ``cls.name`` in stage hook strings."""
    if cls.name in _HOOKS:
        raise ValueError(f"step hook {cls.name!r} registered twice")
    _HOOKS[cls.name] = cls
    return cls


def hook_names() -> tuple[str, ...]:
    return tuple(_HOOKS)


def make_hook(spec: str | StepHook) -> StepHook:
    """A hook object from ``"name:arg:…"`` (e.g. ``"max_norm:0.1"``), or ``spec`` itself.
    Raises ConfigError naming the hook when the string is not a known hook with valid arguments."""
    if isinstance(spec, StepHook):
        return spec
    name, *args = str(spec).split(":")
    if name not in _HOOKS:
        raise ConfigError("hooks", f"unknown step hook {name!r} (known: {', '.join(_HOOKS)})")
    try:
        return _HOOKS[name](*(_argument(arg) for arg in args))
    except (TypeError, ValueError) as error:
        raise ConfigError("hooks", f"{spec!r}: {error}") from None


def _argument(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


@register_hook
class MaxNorm(StepHook):
    """Caps every linear classifier's per-class weight norm (see the module docstring)."""

    name = "max_norm"
    WHEN = ("step", "epoch")

    def __init__(self, threshold: float = 0.1, every: str = "step"):
        threshold = float(threshold)
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"the MaxNorm threshold is a fraction from 0 to 1 of the norms' range, got {threshold:g}")
        if every not in self.WHEN:
            raise ValueError(f"MaxNorm projects after every step or every epoch, not {every!r}")
        self.threshold, self.every = threshold, every
        self.weights: list[torch.Tensor] = []
        self.caps: list[torch.Tensor] = []

    @staticmethod
    def linear_weights(model: LTModel) -> list[torch.Tensor]:
        """The weight of every ``nn.Linear`` among the model's heads; refuses a model with none."""
        weights = [module.weight for head in model.heads().values() for module in head.modules()
                   if isinstance(module, nn.Linear)]
        if not weights:
            raise ConfigError("hooks", "MaxNorm caps linear classifiers' weights; this model's heads have none "
                                       "(cosine classifiers are normalised already)")
        return weights

    @torch.no_grad()
    def on_stage_start(self, model: LTModel, stage: Stage) -> None:
        """The radius of each classifier, from the weights the stage starts from (a resumed run then
        restores the radius it started with, ``load_state_dict``)."""
        self.weights = self.linear_weights(model)
        norms = [weight.norm(dim=1) for weight in self.weights]
        self.caps = [n.min() + self.threshold * (n.max() - n.min()) for n in norms]

    @torch.no_grad()
    def project(self) -> None:
        """Scale every row whose norm exceeds its classifier's radius back onto it."""
        for weight, cap in zip(self.weights, self.caps):
            norm = weight.norm(dim=1)
            weight.mul_(torch.where(norm > cap, cap / norm, torch.ones_like(norm))[:, None])

    def after_step(self, model: LTModel) -> None:
        if self.every == "step":
            self.project()

    def after_epoch(self, model: LTModel) -> None:
        if self.every == "epoch":
            self.project()

    def state_dict(self) -> dict[str, Any]:
        return {"caps": self.caps}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.caps = [cap.to(w.device) for cap, w in zip(state["caps"], self.weights)]

    def describe(self) -> str:
        return f"MaxNorm {self.threshold:g} per {self.every}"


@register_hook
class EMA(StepHook):
    """Moves ``target``'s parameters towards ``source``'s by ``1 − momentum`` after every step."""

    name = "ema"

    def __init__(self, momentum: float, target: str, source: str):
        momentum = float(momentum)
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"the EMA momentum is from 0 to 1, got {momentum:g}")
        self.momentum, self.target, self.source = momentum, str(target), str(source)
        self.pairs: tuple[list[torch.Tensor], list[torch.Tensor]] = ([], [])

    def on_stage_start(self, model: LTModel, stage: Stage) -> None:
        try:
            target, source = model.get_submodule(self.target), model.get_submodule(self.source)
        except AttributeError:
            raise ConfigError("hooks", f"the EMA hook needs the modules {self.target!r} and {self.source!r}; "
                                       f"this {model.spec.family} model lacks one") from None
        self.pairs = (list(target.parameters()), [p.detach() for p in source.parameters()])

    @torch.no_grad()
    def after_step(self, model: LTModel) -> None:
        torch._foreach_lerp_(self.pairs[0], self.pairs[1], 1.0 - self.momentum)

    def describe(self) -> str:
        return f"EMA of {self.source} into {self.target}, m = {self.momentum:g}"
