"""MiSLAS: mixup representation learning, then label-aware smoothing with shifted BatchNorm.

Zhong, Cui, Liu and Jia, "Improving Calibration for Long-Tailed Recognition", CVPR 2021
(arXiv 2104.00466); official code github.com/dvlab-research/MiSLAS (``train_stage1.py``,
``train_stage2.py``, ``methods.py``, ``config/cifar*/*_stage{1_mixup,2_mislas}.yaml``). Two stages:

1. ``mixup``: the whole network trains with input mixup (α = 1, one λ ~ Beta(α, α) and one
   partner permutation per batch), loss ``λ·CE(y) + (1 − λ)·CE(y[perm])``; the run's optimiser
   (the presets use MiSLAS's ×0.1 at epoch 160 and ×0.01 at 180 of 200, lr 0.1, wd 2e-4).
2. ``classifier``: 10 epochs with the backbone frozen; its BatchNorm statistics re-estimated on
   the stage's class-balanced batches when ``shift_bn`` is on (MiSLAS's "shift learning on BN":
   train-mode BN, no BN affine update); the classifier and the learnable weight scaling (LWS, one
   scale per class, ones at the start) train with label-aware smoothing on the class-aware
   sampler (4 images per class visit); SGD momentum 0.9, the run's weight decay, cosine lr from
   ``stage2_lr`` (0.1) to 0 stepped per epoch, the classifier at ``lr_factor`` × that lr, LWS at 1×.
   No mixup.

Label-aware smoothing: with n_1 the largest and n_K the smallest class count and x_y =
(n_y − n_K)/(n_1 − n_K), ε_y = ε_K + (ε_1 − ε_K)·f(x_y) where f is sin(πx/2) (concave, the
default), x (linear), 1 + sin(3π/2 + πx/2) (convex) or x^power (exp). The loss is
``(1 − ε_y)·(−log p_y) + ε_y·mean_c(−log p_c)``: as in the official code the smoothing mass is
spread over all C classes, the true one included.

Defaults are the official CIFAR-100-LT, imbalance 100 values (ε_1 0.4, ε_K 0.1, shift_bn on,
lr_factor 0.2); ``OFFICIAL_STAGE2`` holds the other official settings, which the presets use.
The model is a CIFAR ResNet with MiSLAS's head (``head="lws"``); stage 1 leaves the LWS scales at
one (the official stage 1 has none). Predictions are argmax of LWS(classifier(feature)).

Stage 2 carries its own step (label-aware smoothing) and train rule ("none": the class-aware
sampler is the balancing), so nothing depends on the stage's name. MiSLAS trains on images only
(mixup and shifted BatchNorm need them) and cannot re-train a classifier on its own: its
classifier stage needs its stage-1 model (``repairs_classifier`` is False, so the plug-in does
not offer it).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import torch
from torch.nn import functional as F

from errors import UserError
from engine.batch import Batch
from engine.config import OptimConfig
from engine.methods.base import Method, register, soft_cross_entropy
from models import LTModel

if TYPE_CHECKING:
    from engine.config import RunConfig
    from engine.stages import Stage

SHAPES = ("concave", "linear", "convex", "exp")  # the ``shape`` parameter is an index into this

# (dataset, imbalance ratio) → stage-2 values of the official yaml files
OFFICIAL_STAGE2: dict[tuple[str, int], dict[str, float]] = {
    ("cifar100", 100): {"smooth_head": 0.4, "smooth_tail": 0.1, "shift_bn": 1.0, "lr_factor": 0.2},
    ("cifar100", 50): {"smooth_head": 0.3, "smooth_tail": 0.0, "shift_bn": 1.0, "lr_factor": 0.1},
    ("cifar100", 10): {"smooth_head": 0.2, "smooth_tail": 0.0, "shift_bn": 1.0, "lr_factor": 0.1},
    ("cifar10", 100): {"smooth_head": 0.3, "smooth_tail": 0.0, "shift_bn": 0.0, "lr_factor": 0.5},
    ("cifar10", 50): {"smooth_head": 0.2, "smooth_tail": 0.0, "shift_bn": 0.0, "lr_factor": 0.2},
    ("cifar10", 10): {"smooth_head": 0.1, "smooth_tail": 0.0, "shift_bn": 0.0, "lr_factor": 0.2},
}


def smoothing_per_class(class_counts: torch.Tensor, head: float, tail: float, shape: str = "concave",
                        power: float = 2.0) -> torch.Tensor:
    """ε_c for every class from its training count (see the module docstring)."""
    counts = class_counts.to(torch.float64)
    span = counts.max() - counts.min()
    x = (counts - counts.min()) / span if span > 0 else torch.ones_like(counts)
    if shape == "concave":
        curve = torch.sin(x * math.pi / 2)
    elif shape == "linear":
        curve = x
    elif shape == "convex":
        curve = 1 + torch.sin(1.5 * math.pi + x * math.pi / 2)
    elif shape == "exp":
        curve = x ** power
    else:
        raise UserError(f"unknown label-aware smoothing shape {shape!r}; choose one of {', '.join(SHAPES)}")
    return (tail + (head - tail) * curve).to(torch.float32)


def label_aware_smoothing_loss(logits: torch.Tensor, labels: torch.Tensor, smoothing: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of ``(1 − ε_y)·(−log p_y) + ε_y·mean_c(−log p_c)``."""
    log_p = F.log_softmax(logits.float(), dim=1)
    epsilon = smoothing[labels]
    nll = -log_p.gather(1, labels[:, None]).squeeze(1)
    return ((1 - epsilon) * nll + epsilon * -log_p.mean(dim=1)).mean()


@register
class MiSLAS(Method):
    name = "mislas"
    title = "MiSLAS (mixup, then label-aware smoothing)"
    citation = "Zhong et al., Improving Calibration for Long-Tailed Recognition, CVPR 2021, arXiv 2104.00466"
    head = "lws"
    families = ("cifar_resnet", "imagenet_resnet")  # the single-head families, which build MiSLAS's LWS head
    defaults = {"mixup_alpha": 1.0, "smooth_head": 0.4, "smooth_tail": 0.1, "shape": 0.0, "power": 2.0,
                "shift_bn": 1.0, "lr_factor": 0.2, "stage2_epochs": 10.0, "stage2_lr": 0.1}
    param_labels = {"mixup_alpha": "Mixup α", "smooth_head": "Smoothing, largest class ε₁",
                    "smooth_tail": "Smoothing, smallest class ε_K", "shape": "Smoothing shape (0–3)",
                    "power": "Exp shape power", "shift_bn": "Re-estimate BatchNorm (1 = on)",
                    "lr_factor": "Classifier lr factor", "stage2_epochs": "Epochs", "stage2_lr": "Learning rate"}
    param_sections = {"Stage 1: mixup": ("mixup_alpha",),
                      "Stage 2: classifier": ("stage2_epochs", "stage2_lr", "lr_factor", "shift_bn", "smooth_head",
                                              "smooth_tail", "shape", "power")}
    param_help = {
        "mixup_alpha": "α of the stage-1 mixup, λ ~ Beta(α, α) (official: 1)",
        "smooth_head": "ε_1, the label smoothing of the largest class (official CIFAR-100-LT, 100: 0.4)",
        "smooth_tail": "ε_K, the label smoothing of the smallest class (official CIFAR-100-LT, 100: 0.1)",
        "shape": "how ε falls from head to tail: 0 concave (official), 1 linear, 2 convex, 3 exp",
        "power": "the exponent of the exp shape",
        "shift_bn": "1: re-estimate the frozen backbone's BatchNorm statistics in stage 2 (official CIFAR-100: 1, "
                    "CIFAR-10: 0)",
        "lr_factor": "stage-2 classifier learning rate as a factor of the LWS one (official CIFAR-100-LT, 100: 0.2)",
        "stage2_epochs": "epochs of stage 2 (official: 10)",
        "stage2_lr": "stage-2 learning rate, cosine to 0 (official: 0.1)",
    }
    param_ranges = {"mixup_alpha": (0.0, 10.0), "smooth_head": (0.0, 1.0), "smooth_tail": (0.0, 1.0),
                    "shape": (0, len(SHAPES) - 1), "power": (0.01, 100.0), "shift_bn": (0, 1), "lr_factor": (0.0, 10.0),
                    "stage2_epochs": (1, 1000), "stage2_lr": (1e-6, 10.0)}

    def __init__(self, class_counts: torch.Tensor, params: Mapping[str, float] | None = None,
                 total_epochs: int = 200):
        super().__init__(class_counts, params, total_epochs)
        shape = SHAPES[int(self.params["shape"])]
        self.smoothing = smoothing_per_class(self.class_counts, self.params["smooth_head"],
                                             self.params["smooth_tail"], shape, self.params["power"])

    def stages(self, run: RunConfig) -> list[Stage]:
        from engine.stages import Stage

        views = ("crop_flip",) if run.data.augment else ("none",)
        second = OptimConfig(epochs=int(self.params["stage2_epochs"]), batch_size=run.optim.batch_size,
                             lr=self.params["stage2_lr"], momentum=0.9, weight_decay=run.optim.weight_decay,
                             schedule="cosine", warmup_epochs=0, decay_at=(), decay_factors=())
        return [
            Stage("mixup", run.optim, trains=("backbone", "classifier"), views=views,
                  mixup_alpha=self.params["mixup_alpha"]),
            Stage("classifier", second, trains=("classifier", "lws"),
                  batchnorm="reestimate" if self.params["shift_bn"] else "frozen", sampler="class_aware",
                  views=views, lr_factors={"classifier": self.params["lr_factor"]},
                  step=self.smoothing_step, train_rule="none"),
        ]

    def training_step(self, model: LTModel, batch: Batch, stage: Stage) -> tuple[torch.Tensor, torch.Tensor]:
        """Stage 1: cross-entropy on the mixed images (soft targets), plain CE without mixup."""
        logits = model(batch.views[0]).logits
        if batch.targets is not None:
            return soft_cross_entropy(logits, batch.targets), logits
        return F.cross_entropy(logits.float(), batch.labels), logits

    def smoothing_step(self, model: LTModel, batch: Batch, stage: Stage) -> tuple[torch.Tensor, torch.Tensor]:
        """Stage 2: label-aware smoothing on the classifier (and LWS) outputs."""
        logits = model(batch.views[0]).logits
        return label_aware_smoothing_loss(logits, batch.labels, self.smoothing), logits
