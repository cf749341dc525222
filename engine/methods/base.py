"""The contract every method implements, and the registry that finds it by name.

A method is a whole method, after Lightning's hook names: the model it needs
(``model_spec``), the stages of a run (``stages``), its parameter groups, the training step,
a hook after every optimiser step (momentum encoders, queues), its own state (saved in every
checkpoint, restored on resume) and **the** prediction rule (``predict`` / ``scores``) that
evaluation, ``eval``, ``predict``, the plug-in report and the app all use.

Most losses need none of that: a :class:`LossMethod` only writes ``criterion(logits, labels,
features)``, so the GML plug-in can train a head on cached features with any registered loss.
The trainer knows no method by name; a method module registers its class with ``@register``.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import torch
from torch.nn import functional as F

from errors import UserError
from engine.batch import Batch
from models import LTModel, ModelOutput, ModelSpec

if TYPE_CHECKING:
    from engine.config import RunConfig
    from engine.stages import Stage

_REGISTRY: dict[str, type[Method]] = {}
ANY_FAMILY = "*"  # in ``Method.families``: trains a model of any family


class Method:
    """A training objective with its model, stages, state and prediction rule.

    Subclasses set ``name``, ``title``, ``citation``, ``defaults`` (hyperparameters with the
    paper's values), ``param_help`` (one line each), ``param_labels`` (their names in words),
    ``param_sections`` (a multi-stage method groups them under the stage they act in; the rest
    come first) and ``param_ranges`` (sane bounds, checked when the method is built).
    ``class_weights`` is set by the train rule (Reweight, DRW) and is
    ``None`` when the rule applies no weights.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    citation: ClassVar[str] = ""
    head: ClassVar[str] = "linear"  # the head kind the method trains: linear, cosine or lws
    families: ClassVar[tuple[str, ...]] = ("cifar_resnet",)
    defaults: ClassVar[dict[str, float]] = {}
    param_help: ClassVar[dict[str, str]] = {}
    param_labels: ClassVar[dict[str, str]] = {}  # a hyperparameter's name for people ("Mixup α", not "mixup_alpha")
    param_sections: ClassVar[dict[str, tuple[str, ...]]] = {}  # "Stage 2: classifier" → its hyperparameters
    param_ranges: ClassVar[dict[str, tuple[float, float]]] = {}
    whole_params: ClassVar[tuple[str, ...]] = ()  # hyperparameters that must be whole numbers (sizes, counts)
    logit_scale: float = 1.0  # multiplies the model's logits in ``scores`` (LDAM's s on cosines)

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
        self.params: dict[str, float] = {**self.defaults, **{k: _number(self, k, v) for k, v in params.items()}}
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

    # --- what the run looks like -----------------------------------------------------------
    def model_spec(self, base: ModelSpec) -> ModelSpec:
        """The model this method trains, from the run's base spec (arch, classes)."""
        return base.replace(head=self.head)

    def stages(self, run: RunConfig) -> list[Stage]:
        """The run's stages; one stage over the run's optimiser settings by default."""
        from engine.stages import Stage

        return [Stage("train", run.optim, views=("crop_flip",) if run.data.augment else ("none",))]

    def param_groups(self, model: LTModel, stage: Stage) -> list[dict[str, Any]]:
        """Optimiser groups: one per trained part, each with its ``lr_factor`` (1 by default)."""
        trainable = [p for p in model.parameters() if p.requires_grad]
        if not stage.lr_factors:
            return [{"params": trainable, "lr_factor": 1.0}]
        parts, groups, grouped = model.parts(), [], set()
        for part, factor in stage.lr_factors.items():
            params = [p for m in parts[part] for p in m.parameters() if p.requires_grad and id(p) not in grouped]
            grouped.update(id(p) for p in params)
            groups.append({"params": params, "lr_factor": float(factor)})
        rest = [p for p in trainable if id(p) not in grouped]
        return [g for g in groups + [{"params": rest, "lr_factor": 1.0}] if g["params"]]

    # --- hooks -----------------------------------------------------------------------------
    def on_stage_start(self, stage: Stage, model: LTModel) -> None:
        """Called before a stage's first epoch (and again when a run resumes inside it)."""

    def on_epoch_start(self, epoch: int) -> None:
        """Called with the 0-based epoch before it trains (curricula hook here)."""
        self.epoch = epoch

    def training_step(self, model: LTModel, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """``(loss, logits)`` for one batch; the logits feed the running train metrics."""
        raise NotImplementedError

    def after_optimizer_step(self, model: LTModel) -> None:
        """Called after every optimiser step (momentum encoders and queues update here)."""

    # --- prediction: the one rule ------------------------------------------------------------
    def scores(self, output: ModelOutput) -> torch.Tensor:
        """What classes are ranked by (and the softmax is taken of), from a forward pass."""
        return self.logit_scale * output.logits

    def predict(self, model: LTModel, images: torch.Tensor) -> torch.Tensor:
        """The prediction rule on normalised images; evaluation, eval, predict and the app use it."""
        return self.scores(model(images))

    # --- state -------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """What a resumed run needs beyond the model and optimiser (nothing for plain losses)."""
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if state:
            raise ValueError(f"{self.title} keeps no state, but the checkpoint has {', '.join(state)}")


class LossMethod(Method):
    """A method that is one loss on the model's logits: today's CE, BSCE, Focal, LDAM, LADE, FeaBal, GML.

    ``train_scale`` multiplies the logits before the criterion: 1, except when the plug-in trains a
    plain-logit loss on a cosine head, where the model's own scale (LDAM's s) applies.
    """

    train_scale: float = 1.0
    families: ClassVar[tuple[str, ...]] = (ANY_FAMILY,)  # a loss on logits fits every family

    def criterion(self, logits: torch.Tensor, labels: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        """The scalar training loss from the head's outputs and the backbone's features."""
        raise NotImplementedError

    def training_step(self, model: LTModel, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        output = model.classify(batch.features) if batch.features is not None else model(batch.views[0])
        logits = self.train_scale * output.logits
        if batch.targets is not None:
            return soft_cross_entropy(logits, batch.targets), logits
        if output.expert_logits is not None:  # a multi-expert model: every expert's head trains with the loss
            loss = sum(self.criterion(self.train_scale * expert, batch.labels, output.features[:, e])
                       for e, expert in enumerate(output.expert_logits))
            return loss, logits
        return self.criterion(logits, batch.labels, output.features), logits


def soft_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of ``−Σ_c t_c log softmax(z)_c`` (mixup's targets)."""
    return -(targets * F.log_softmax(logits.float(), dim=1)).sum(dim=1).mean()


def _number(method: Method, key: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UserError(f"{method.title}: {key} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise UserError(f"{method.title}: {key} must be a finite number, got {value!r}")
    if key in method.whole_params and not number.is_integer():
        raise UserError(f"{method.title}: {key} must be a whole number, got {number:g}")
    low, high = method.param_ranges.get(key, (-math.inf, math.inf))
    if not low <= number <= high:
        raise UserError(f"{method.title}: {key} = {number:g} is outside the sensible range {low:g} to {high:g}")
    return number


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
        raise UserError(f"unknown method {name!r}; choose one of {', '.join(sorted(_REGISTRY))}") from None


def registered() -> dict[str, type[Method]]:
    return dict(_REGISTRY)
