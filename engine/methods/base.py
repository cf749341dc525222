"""The contract every method implements, and the registry that finds it by name.

A method is a whole method, after Lightning's hook names: the model it needs
(``model_spec``), the stages of a run (``stages``: each may carry its own step, train rule and
step hooks), its parameter groups, the training step ``training_step(model, batch, stage)``, its
own state (saved in every checkpoint, restored on resume) and **the** prediction rule:
``scores(output)``, from a model's output to class scores. Evaluation, ``eval``, ``predict``, the
feature-stage evaluation, the plug-in report, the ensemble's old side, a distillation teacher and
the app all reach it through ``engine.prediction.PredictionRule``, the one prediction path.

A method also declares what it can do, as class attributes read before any data is loaded
(``capability_error``): the model families it trains (``families``), the batch sources its steps
take (``sources``: images, cached features), whether it can re-train a pretrained model's
classifier on its own (``repairs_classifier``: the plug-in's losses), whether that is all it does
(``repair_only``: decoupling's cRT, LWS and τ-norm, weight balancing's stage 2), what a plug-in run
trains with it (``repair_trains``: the heads, LWS's scales, or nothing for τ-norm) and on which
classifier kinds (``repair_heads``), whether its step may run twice on a batch as SAM needs
(``repeatable_step``) and whether it needs a teacher (``needs_teacher``; the run plan loads it and
hands it over with ``use_teacher``). A repair shapes the heads it starts from
(``prepare_repair``: LWS adds its scales) and a repair that trains nothing sets the new classifier
from the validation split (``fit_repair``: τ-norm's τ).

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
from engine.knobs import ConfigError
from models import LTModel, ModelOutput, ModelSpec

if TYPE_CHECKING:
    from engine.config import RunConfig
    from engine.prediction import PredictionRule
    from engine.stages import Stage

_REGISTRY: dict[str, type[Method]] = {}
ANY_FAMILY = "*"  # in ``Method.families``: trains a model of any family


class Method:
    """A training objective with its model, stages, state and prediction rule.

    Subclasses set ``name``, ``title``, ``citation``, ``defaults`` (hyperparameters with the
    paper's values), ``param_help`` (one line each), ``param_labels`` (their names in words),
    ``param_sections`` (a multi-stage method groups them under the stage they act in; the rest
    come first) and ``param_ranges`` (sane bounds, checked when the method is built), and their
    capabilities. ``class_weights`` is set by the train rule (Reweight, DRW) and is ``None`` when
    the rule applies no weights.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    citation: ClassVar[str] = ""
    head: ClassVar[str] = "linear"  # the head kind the method trains: linear, cosine or lws
    # --- capabilities (read before any data loads) ---
    families: ClassVar[tuple[str, ...]] = (ANY_FAMILY,)  # model families it trains
    sources: ClassVar[tuple[str, ...]] = ("images",)  # batch sources its steps take: images, features
    repairs_classifier: ClassVar[bool] = False  # can re-train a pretrained model's classifier alone (plug-in)
    needs_teacher: ClassVar[bool] = False  # distils from a teacher the run plan loads (``use_teacher``)
    repair_only: ClassVar[bool] = False  # re-trains a pretrained classifier and nothing else (never trains alone)
    repair_trains: ClassVar[tuple[str, ...]] = ("heads",)  # model parts a plug-in run trains; (): none (τ-norm)
    repair_heads: ClassVar[tuple[str, ...] | None] = None  # classifier kinds it can repair; None: any
    repeatable_step: ClassVar[bool] = True  # its step can run twice on one batch (SAM) without side effects
    short_title: ClassVar[str] = ""  # in table columns and overlays ("cRT"); empty: the name
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
        for name, message in self.param_problems(params):
            raise ConfigError(name, message)
        if (class_counts < 1).any():
            empty = int(torch.nonzero(class_counts < 1)[0])
            raise UserError(f"class {empty} has no training image; {self.title} needs at least one per class "
                            "(lower the imbalance or remove the empty class)")
        self.params: dict[str, float] = {**self.defaults, **{k: float(v) for k, v in params.items()}}
        self.class_counts = class_counts.to(torch.float32)
        self.total_epochs = total_epochs
        self.epoch = 0
        self.class_weights: torch.Tensor | None = None

    @classmethod
    def param_problems(cls, params: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(name, message) for each hyperparameter in ``params`` the method does not have, or whose
        value is not a finite number, not whole where it must be, or outside its range."""
        found = []
        for key, value in params.items():
            if key not in cls.defaults:
                found.append((key, f"{cls.title} has no hyperparameter {key!r} (it has: "
                                   f"{', '.join(cls.defaults) or 'none'})"))
                continue
            try:
                number = float(value)
            except (TypeError, ValueError):
                found.append((key, f"must be a number, got {value!r}"))
                continue
            low, high = cls.param_ranges.get(key, (-math.inf, math.inf))
            if not math.isfinite(number):
                found.append((key, f"must be a finite number, got {value!r}"))
            elif key in cls.whole_params and not number.is_integer():
                found.append((key, f"must be a whole number, got {number:g}"))
            elif not low <= number <= high:
                found.append((key, f"{number:g} is outside {cls.title}'s sensible range {low:g} to {high:g}"))
        return found

    def check_fit(self, train_images: int) -> None:
        """Refuse hyperparameters that cannot work on a training split of ``train_images`` images
        (called with the real split before a run starts, and by a sweep before any cell does)."""

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

    @classmethod
    def abbreviation(cls) -> str:
        """What a table column or an overlay calls the method (``+cRT``)."""
        return cls.short_title or cls.name

    # --- a classifier repair (the plug-in) -----------------------------------------------------
    def prepare_repair(self, model: LTModel) -> None:
        """Before a plug-in run trains, new or resumed: give the model the heads the repair trains
        (LWS adds its per-class scales). Nothing by default: the heads are trained as they are."""

    def fit_repair(self, model: LTModel, features: torch.Tensor, labels: torch.Tensor) -> dict[str, Any]:
        """After a plug-in run's stages: a repair that trains nothing (``repair_trains == ()``) sets
        the new classifier from the validation split's ``features`` and ``labels`` and returns what
        it chose, for the report (τ-norm's τ). Nothing by default."""
        return {}

    # --- hooks -----------------------------------------------------------------------------
    def on_stage_start(self, stage: Stage, model: LTModel) -> None:
        """Called before a stage's first epoch (and again when a run resumes inside it)."""

    def on_epoch_start(self, epoch: int) -> None:
        """Called with the 0-based epoch before it trains (curricula hook here)."""
        self.epoch = epoch

    def training_step(self, model: LTModel, batch: Batch, stage: Stage) -> tuple[torch.Tensor, torch.Tensor]:
        """``(loss, logits)`` for one batch of ``stage`` (a stage with its own ``step`` runs that
        instead); the logits feed the running train metrics."""
        raise NotImplementedError

    def use_teacher(self, teacher: LTModel, rule: PredictionRule) -> None:
        """Distil from ``teacher``, scored by its own prediction ``rule`` (methods that ``needs_teacher``)."""
        raise NotImplementedError(f"{self.title} does not distil from a teacher")

    # --- prediction: the one rule ------------------------------------------------------------
    def scores(self, output: ModelOutput) -> torch.Tensor:
        """What classes are ranked by (and the softmax is taken of), from a model's output. Every
        consumer of predictions calls it through ``engine.prediction.PredictionRule``."""
        return self.logit_scale * output.logits

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
    sources: ClassVar[tuple[str, ...]] = ("images", "features")  # a loss on logits trains a head on either
    repairs_classifier: ClassVar[bool] = True

    def criterion(self, logits: torch.Tensor, labels: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        """The scalar training loss from the head's outputs and the backbone's features."""
        raise NotImplementedError

    def training_step(self, model: LTModel, batch: Batch, stage: Stage) -> tuple[torch.Tensor, torch.Tensor]:
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


def capability_error(method: Method | type[Method], *, family: str | None = None, source: str | None = None,
                     repair: bool = False, head: str | None = None, alone: bool = False,
                     twice: bool = False) -> str | None:
    """Why ``method`` cannot train a ``family`` model, take ``source`` batches, (``repair``)
    re-train the classifier of a pretrained model whose head is ``head``, (``alone``) train a
    model outside the plug-in, or (``twice``) run its step twice per batch as SAM does; None when
    it can. One line, for a ConfigError raised before any data is read."""
    title = method.title
    if repair and not method.repairs_classifier:
        able = ", ".join(repair_methods())
        return f"{title} cannot re-train a classifier on its own; choose one of {able}"
    if alone and method.repair_only:
        return (f"{title} re-trains the classifier of a trained model: choose freeze features with a pretrained "
                f"checkpoint (main.py tune --loss {method.name})")
    if twice and not method.repeatable_step:
        return (f"{title}'s training step changes its state on every batch, so it cannot run twice per batch as SAM "
                "does; choose SGD or Adam")
    if family is not None and ANY_FAMILY not in method.families and family not in method.families:
        return f"{title} does not train a {family} model (it needs: {', '.join(method.families)})"
    if source is not None and source not in method.sources:
        return f"{title} does not train on {_SOURCE_WORDS.get(source, source)} (it trains on: " \
               f"{', '.join(_SOURCE_WORDS.get(s, s) for s in method.sources)})"
    if repair and head is not None and method.head == "cosine" and head != "cosine":
        return (f"{title} trains a cosine classifier, but this model's classifier is a plain {head} one; "
                "choose a loss for plain classifiers, such as gml")
    if repair and head is not None and method.repair_heads is not None and head not in method.repair_heads:
        return (f"{title} repairs {' or '.join(method.repair_heads)} classifiers, but this model's classifier is a "
                f"{head} one; choose another loss, such as gml or crt")
    return None


_SOURCE_WORDS = {"images": "images", "features": "cached features"}


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


def repair_methods() -> dict[str, type[Method]]:
    """Name → class of every method that can re-train a pretrained classifier (the plug-in's losses)."""
    return {name: cls for name, cls in _REGISTRY.items() if cls.repairs_classifier}
