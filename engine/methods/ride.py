"""RIDE: routing diverse distribution-aware experts — the loss, the 6-expert teacher, distillation
and the expert-assignment router stage.

Wang et al., "Long-tailed Recognition by Routing Diverse Distribution-Aware Experts", ICLR 2021
(arXiv 2010.01809); official code github.com/frank-xwang/RIDE-LongTailRecognition:
``model/loss.py`` (``RIDELoss``, ``RIDELossWithDistill``), ``ea_resnet_cifar.py`` (the router),
``trainer/trainer.py`` and the CIFAR-100 configs (``config_imbalance_cifar100_ride*.json``,
``..._distill_ride.json``, ``..._ride_ea.json``). The arithmetic is in ``ride_losses.py``; the
model is the ``multi_expert`` family (``models/ride.py``, logits × s = 30 in the model).

Where this follows the code rather than the paper:

- **Loss** (``RIDELoss``): per expert, LDAM cross-entropy (margin ``s·m_y``, ``m ∝ n^(−1/4)``, max
  0.5) with the DRW class weights, plus ``−0.45 · T̄² · KL(softmax(z̄/T) ‖ softmax(z^e/T))`` with the
  ensemble ``z̄`` detached; summed over experts. The temperature is 1 before the reweight epoch and
  per class (``T_c ∝ C·π_c·0.05 + 0.95``, max 1) from it on.
- **Epoch convention**: the official trainer counts epochs from 1 and reweights when
  ``epoch > 160``, i.e. the 161st epoch on. Here the class weights come from the run's train rule
  (the RIDE presets use DRW, β = 0.9999, at the first lr decay: 0-based epoch 160 of 200 — the same
  epoch), and the per-class temperature switches on exactly when the rule gives class weights, so
  both change together as in the official code. With train rule "none" this is the official
  ``reweight=False``.
- **Recipe**: Nesterov SGD, lr 0.1, weight decay 5e-4, batch 128, warm-up 5 epochs (20 with
  distillation), ×0.01 at 160 and ×1e-4 at 180 of 200, crop + flip + ``RandomRotation(15)``.
- **Distillation** (``RIDELossWithDistill``): RIDE loss + ``T_d² · KL(softmax(teacher/T_d) ‖
  softmax(student/T_d))`` on the ensemble means, T_d = 1.5. The official loss adds the whole RIDE
  loss and the distillation term once *per expert*, multiplying the objective by E = 3, and never
  puts the teacher in eval mode (its BatchNorm uses batch statistics). Both are reproduced by
  default, because the published 49.0 was trained that way; ``official_scaling = 0`` and
  ``teacher_batch_stats = 0`` give the fixed variants (plain sum, teacher BN in eval mode).
- **Router** (``ea_resnet_cifar.py``, ``..._ride_ea.json``): a second stage in which only the
  routers train (everything else frozen, BN in eval mode), class-balanced sampling, batch 512,
  Nesterov SGD lr 0.01 with cosine decay over 5 epochs, wd 5e-4; BCE-with-logits, pos_weight 100,
  router i's label "ensemble 0..i wrong and some ensemble 0..j, j > i, right". At inference
  expert i runs only where router i − 1 says sigmoid > 0.5. The official EA run is a separate
  run started from the stage-1 checkpoint; here it is the method's second stage, which carries
  its own step (and the preset "RIDE router on a checkpoint" runs it alone on a checkpoint).
  Routing is the model's prediction mode (``models/ride.py``): once the router stage has
  started, the model routes every prediction, and the experts each image used travel in the
  model's output; the method keeps no state for it.
- **Plug-in**: RIDE can re-train every expert's classifier with its own loss on cached features.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import torch

from engine.batch import Batch
from engine.config import ConfigError, OptimConfig
from engine.methods.base import Method, register
from engine.methods.ride_losses import (diversity_temperatures, distillation_term, ldam_margins, ride_loss,
                                        router_loss, router_targets)
from models import LTModel, ModelSpec

if TYPE_CHECKING:
    from engine.config import RunConfig
    from engine.prediction import PredictionRule
    from engine.stages import Stage

ROTATION_VIEW = "crop_flip_rotate15"
CITATION = ("Wang et al., Long-tailed Recognition by Routing Diverse Distribution-Aware Experts, ICLR 2021, "
            "arXiv 2010.01809")


@register
class RIDE(Method):
    name = "ride"
    title = "RIDE (3 experts)"
    short_title = "RIDE"
    citation = CITATION
    head = "cosine"
    families = ("multi_expert",)
    sources = ("images", "features")
    repairs_classifier = True  # every expert's classifier, with the RIDE loss
    defaults = {"experts": 3.0, "max_margin": 0.5, "scale": 30.0, "diversity_factor": -0.45,
                "diversity_temperature": 1.0, "reweight_factor": 0.05, "router_epochs": 5.0,
                "router_lr": 0.01, "router_batch_size": 512.0, "pos_weight": 100.0, "top_choices": 30.0}
    param_ranges = {"experts": (1, 16), "max_margin": (0.0, 2.0), "scale": (1.0, 100.0),
                    "diversity_factor": (-5.0, 5.0), "diversity_temperature": (0.05, 20.0),
                    "reweight_factor": (0.0, 0.99), "router_epochs": (0, 1000), "router_lr": (1e-6, 10.0),
                    "router_batch_size": (1, 65536), "pos_weight": (0.01, 10_000.0), "top_choices": (1, 100_000)}
    param_labels = {"experts": "Experts", "max_margin": "Largest margin (LDAM)", "scale": "Cosine scale s",
                    "diversity_factor": "Diversity weight", "diversity_temperature": "Diversity temperature",
                    "reweight_factor": "Reweight factor", "router_epochs": "Epochs (0 = no router)",
                    "router_lr": "Learning rate", "router_batch_size": "Batch size",
                    "pos_weight": "Weight of “call the next expert”", "top_choices": "Largest logits read (k)"}
    param_sections = {"Stage 1: experts": ("experts", "max_margin", "scale", "diversity_factor",
                                           "diversity_temperature", "reweight_factor"),
                      "Stage 2: router": ("router_epochs", "router_lr", "router_batch_size", "pos_weight",
                                          "top_choices")}
    param_help = {
        "experts": "number of experts (paper code: 3; the distillation teacher has 6)",
        "max_margin": "LDAM margin of the rarest class (paper code: 0.5)",
        "scale": "s, the cosine classifiers' scale, applied in the model (paper code: 30)",
        "diversity_factor": "weight of the diversity KL; negative pushes experts apart (paper code: −0.45)",
        "diversity_temperature": "base temperature of the diversity KL (paper code: 1)",
        "reweight_factor": "per-class temperature after the reweight epoch: ∝ C·π_c·f + 1 − f (paper code: 0.05)",
        "router_epochs": "epochs of the router stage; 0 = no router (paper code: 5)",
        "router_lr": "router stage learning rate, cosine to 0 (paper code: 0.01)",
        "router_batch_size": "router stage batch size (paper code: 512)",
        "pos_weight": "BCE weight of 'call the next expert' labels: more compute, more accuracy (paper code: 100)",
        "top_choices": "the router reads the k largest running-mean logits (paper code: 30 CIFAR, 50 ImageNet-LT "
                       "and iNaturalist)",
    }
    whole_params = ("experts", "top_choices")

    def __init__(self, class_counts: torch.Tensor, params: Mapping[str, float] | None = None,
                 total_epochs: int = 200):
        super().__init__(class_counts, params, total_epochs)
        p = self.params
        self.experts = int(p["experts"])
        self.margins = ldam_margins(self.class_counts, p["max_margin"])
        self.temperatures = p["diversity_temperature"] * diversity_temperatures(self.class_counts,
                                                                                p["reweight_factor"])
        self.mean_temperature = float(self.temperatures.mean())  # T̄, read once (no host sync per step)

    # --- the run ---------------------------------------------------------------------------
    def wants_router(self) -> bool:
        return self.experts > 1 and self.params["router_epochs"] > 0

    def model_spec(self, base: ModelSpec) -> ModelSpec:
        return base.replace(family="multi_expert", head=self.head,
                            options={"experts": self.experts, "reduce_dimension": True,
                                     "scale": self.params["scale"], "router": self.wants_router(),
                                     "top_choices": int(self.params["top_choices"])})

    def stages(self, run: RunConfig) -> list[Stage]:
        from engine.stages import Stage

        views = (ROTATION_VIEW,) if run.data.augment else ("none",)
        stages = [Stage("train", run.optim, views=views)]
        if self.wants_router():
            p = self.params
            optim = OptimConfig(epochs=int(p["router_epochs"]), batch_size=int(p["router_batch_size"]),
                                lr=p["router_lr"], momentum=0.9, weight_decay=5e-4, nesterov=True,
                                schedule="cosine", warmup_epochs=0)
            stages.append(Stage("router", optim, trains=("router",), batchnorm="frozen",
                                sampler="class_balanced", views=views, step=self.router_step, train_rule="none"))
        return stages

    def on_stage_start(self, stage: Stage, model: LTModel) -> None:
        """A stage that trains the router makes the model route its predictions from now on."""
        if "router" in stage.trains:
            model.mark_router_trained()

    # --- training --------------------------------------------------------------------------
    def temperature(self) -> tuple[torch.Tensor | float, float]:
        """``(T, T̄)``: per-class temperatures while the loss is reweighted (DRW), the base one before."""
        if self.class_weights is not None:
            return self.temperatures, self.mean_temperature
        return self.params["diversity_temperature"], self.params["diversity_temperature"]

    def ride_objective(self, expert_logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        temperature, mean_temperature = self.temperature()
        return ride_loss(expert_logits.float(), labels, self.margins, self.params["scale"], self.class_weights,
                         temperature, self.params["diversity_factor"], mean_temperature)

    def training_step(self, model: LTModel, batch: Batch, stage: Stage) -> tuple[torch.Tensor, torch.Tensor]:
        output = model.classify(batch.features) if batch.features is not None else model(batch.views[0])
        return self.ride_objective(output.expert_logits, batch.labels), output.logits

    def router_step(self, model: LTModel, batch: Batch, stage: Stage) -> tuple[torch.Tensor, torch.Tensor]:
        """The router stage's step: the routers' BCE on a frozen model, experts computed without gradient."""
        with torch.no_grad():
            output = model.classify(batch.features) if batch.features is not None else model(batch.views[0])
        logits = model.router_logits(output.features, output.expert_logits)
        targets = router_targets(output.expert_logits, batch.labels)
        return router_loss(logits.float(), targets, self.params["pos_weight"]), output.logits


@register
class RIDETeacher(RIDE):
    """The distillation teacher: the same loss with six experts and no router."""

    name = "ride_teacher"
    title = "RIDE teacher (6 experts)"
    defaults = {**RIDE.defaults, "experts": 6.0, "router_epochs": 0.0}


@register
class RIDEDistill(RIDE):
    """RIDE + knowledge distillation from a trained teacher, which the run plan loads (``use_teacher``)."""

    name = "ride_distill"
    title = "RIDE + distillation"
    needs_teacher = True
    sources = ("images",)  # the teacher sees the same images
    repairs_classifier = False  # the plug-in has no teacher to distil from
    defaults = {**RIDE.defaults, "distill_temperature": 1.5, "distill_factor": 1.0, "official_scaling": 1.0,
                "teacher_batch_stats": 1.0}
    param_ranges = {**RIDE.param_ranges, "distill_temperature": (0.05, 20.0), "distill_factor": (0.0, 100.0),
                    "official_scaling": (0, 1), "teacher_batch_stats": (0, 1)}
    param_labels = {**RIDE.param_labels, "distill_temperature": "Distillation temperature",
                    "distill_factor": "Distillation weight", "official_scaling": "Scale by experts (1 = official)",
                    "teacher_batch_stats": "Teacher BatchNorm in train mode (1 = official)"}
    param_sections = {**RIDE.param_sections,
                      "Stage 1: experts": (*RIDE.param_sections["Stage 1: experts"], "distill_temperature",
                                           "distill_factor", "official_scaling", "teacher_batch_stats")}
    param_help = {
        **RIDE.param_help,
        "distill_temperature": "T_d of the distillation KL to the teacher's expert mean (paper code: 1.5)",
        "distill_factor": "weight of the distillation term (paper code: 1)",
        "official_scaling": "1: the whole objective × number of experts, as the official loop does; 0: plain sum",
        "teacher_batch_stats": "1: teacher BatchNorm in train mode, as the official code leaves it; 0: eval mode",
    }

    def __init__(self, class_counts: torch.Tensor, params: Mapping[str, float] | None = None,
                 total_epochs: int = 200):
        super().__init__(class_counts, params, total_epochs)
        self.teacher: LTModel | None = None
        self.teacher_rule: PredictionRule | None = None  # the teacher's own prediction rule scores it

    def stages(self, run: RunConfig) -> list[Stage]:
        stages = super().stages(run)
        if not run.method.teacher and any(stage.step is None for stage in stages):
            raise ConfigError("teacher", "RIDE + distillation needs a trained teacher checkpoint "
                                         "(a 'RIDE teacher (6 experts)' run's best.pt)")
        return stages

    def use_teacher(self, teacher: LTModel, rule: PredictionRule) -> None:
        """Distil from ``teacher``, whose outputs its own ``rule`` turns into scores."""
        self.teacher, self.teacher_rule = teacher.requires_grad_(False), rule

    def training_step(self, model: LTModel, batch: Batch, stage: Stage) -> tuple[torch.Tensor, torch.Tensor]:
        output = model(batch.views[0])
        with torch.no_grad():
            self.teacher.train(self.params["teacher_batch_stats"] > 0)
            teacher_logits = self.teacher_rule(self.teacher, batch.views[0]).values
        p = self.params
        loss = self.ride_objective(output.expert_logits, batch.labels) + \
            p["distill_factor"] * distillation_term(output.logits.float(), teacher_logits.float(),
                                                    p["distill_temperature"])
        if p["official_scaling"] > 0:
            loss = loss * self.experts
        return loss, output.logits

    def to(self, device: torch.device | str) -> RIDEDistill:
        super().to(device)
        if self.teacher is not None:
            self.teacher.to(device)
        return self
