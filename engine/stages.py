"""A run is a list of stages; one loop (``engine.loop``) runs them all.

A stage is a handful of decisions, as MiSLAS's stage 2 is (github.com/dvlab-research/MiSLAS
``train_stage2.py``): what trains (parts of the model, ``LTModel.parts()``), what BatchNorm does
(``train``; ``frozen``: eval mode, statistics fixed; ``reestimate``: running statistics follow the
stage's batches while every weight is frozen, MiSLAS's "shift BN"), where batches come from
(``images``, or ``features`` cached once from a frozen backbone), the sampler, the augmentation
of each view, input mixup, and the optimiser with its schedule and per-part learning-rate factors.

A stage also carries its behaviour: its training step when it is not the method's own
(``step``: RIDE's router, MiSLAS's label-aware smoothing), its train rule (``train_rule``; None:
the run's) and reusable step hooks (``hooks``: MaxNorm, EMA, ``engine.hooks``). Nothing keys
on a stage's name, so a stage another tool builds (the GML plug-in's) behaves as it declares.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch

from data.augment import AUGMENTATIONS
from data.samplers import SAMPLERS
from engine.config import ConfigError, OptimConfig
from engine.hooks import StepHook, make_hook
from engine.rules import RULES

if TYPE_CHECKING:
    from engine.batch import Batch
    from engine.methods.base import Method
    from models import LTModel

BATCHNORM_MODES = ("train", "frozen", "reestimate")
SOURCES = ("images", "features")
ALL = "all"

# (model, batch, stage) → (loss, logits for the running train metrics)
StepFn = Callable[["LTModel", "Batch", "Stage"], tuple[torch.Tensor, torch.Tensor]]


@dataclass
class Stage:
    name: str
    optim: OptimConfig  # lr, schedule and the stage's epochs (``optim.epochs``)
    trains: tuple[str, ...] = (ALL,)
    batchnorm: str = "train"
    source: str = "images"
    sampler: str = "instance"
    views: tuple[str, ...] = ("crop_flip",)
    mixup_alpha: float = 0.0
    lr_factors: Mapping[str, float] = field(default_factory=dict)
    feature_passes: int = 1  # cached augmented passes when source is "features"
    step: StepFn | None = None  # the stage's own training step; None: the method's ``training_step``
    train_rule: str | None = None  # sampling / class weights in this stage; None: the run's rule
    hooks: tuple[str | StepHook, ...] = ()  # after every optimiser step, e.g. "max_norm:0.1"

    @property
    def epochs(self) -> int:
        return self.optim.epochs

    def trains_backbone(self) -> bool:
        return ALL in self.trains or "backbone" in self.trains

    def describe(self) -> str:
        what = "everything" if ALL in self.trains else ", ".join(self.trains)
        extras = [f"BN {self.batchnorm}", f"{self.sampler} sampling"]
        if self.source == "features":
            extras.append("cached features")
        if self.mixup_alpha:
            extras.append(f"mixup α={self.mixup_alpha:g}")
        if self.train_rule is not None:
            extras.append(f"train rule {self.train_rule}")
        extras += [make_hook(hook).describe() for hook in self.hooks]
        return f"{self.name}: {self.epochs} epochs, trains {what} ({', '.join(extras)})"


def check_stages(stages: list[Stage], model: LTModel, method: Method | type[Method]) -> None:
    """Refuse a stage list that cannot run, before anything starts: one line naming stage and field.
    The method's declared capabilities (model families, batch sources) are checked here too."""
    from engine.methods.base import capability_error

    if not stages:
        raise ConfigError("stages", "the run has no stage to run")
    wrong_family = capability_error(method, family=model.spec.family)
    if wrong_family:
        raise ConfigError("method", wrong_family)
    parts = model.parts()
    has_batchnorm = any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in model.modules())
    for stage in stages:
        where = f"stage {stage.name!r}"

        def fail(field_name: str, message: str) -> None:
            raise ConfigError(f"{where}: {field_name}", message)

        unknown = [p for p in stage.trains if p != ALL and p not in parts]
        if unknown:
            fail("trains", f"the model has no part {unknown[0]!r} (it has: {', '.join(parts)})")
        if not stage.trains or not any(p == ALL or parts[p] for p in stage.trains):
            fail("trains", "the stage trains nothing")
        if stage.batchnorm not in BATCHNORM_MODES:
            fail("batchnorm", f"{stage.batchnorm!r} is not one of {', '.join(BATCHNORM_MODES)}")
        if stage.batchnorm == "reestimate" and not has_batchnorm:
            fail("batchnorm", "re-estimating BatchNorm statistics needs a model with BatchNorm layers")
        if stage.batchnorm == "reestimate" and stage.trains_backbone():
            fail("batchnorm", "re-estimated statistics are for a frozen backbone; this stage trains it")
        if stage.source not in SOURCES:
            fail("source", f"{stage.source!r} is not one of {', '.join(SOURCES)}")
        if stage.source == "features" and (stage.batchnorm != "frozen" or stage.trains_backbone()):
            fail("source", "cached features need a frozen backbone with frozen BatchNorm")
        wrong_source = capability_error(method, source=stage.source)
        if wrong_source:
            fail("source", wrong_source)
        if stage.train_rule is not None and stage.train_rule not in RULES:
            fail("train_rule", f"{stage.train_rule!r} is not one of {', '.join(RULES)}")
        for hook in stage.hooks:
            make_hook(hook)  # an unknown name or bad argument raises here, naming it
        if stage.sampler not in SAMPLERS:
            fail("sampler", f"{stage.sampler!r} is not one of {', '.join(SAMPLERS)}")
        bad_view = [v for v in stage.views if v not in AUGMENTATIONS]
        if bad_view:
            fail("views", f"unknown augmentation {bad_view[0]!r} (known: {', '.join(AUGMENTATIONS)})")
        if stage.mixup_alpha < 0:
            fail("mixup_alpha", f"must be 0 (off) or positive, got {stage.mixup_alpha}")
        stage.optim.validate()
