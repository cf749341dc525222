"""Decoupling's classifier repairs: cRT, LWS and τ-norm, as plug-in methods.

Kang et al., "Decoupling Representation and Classifier for Long-Tailed Recognition", ICLR 2020
(arXiv 1910.09217); official code github.com/facebookresearch/classifier-balancing (read at
f162adef; nothing copied). Each repairs the classifier of a jointly trained (instance-sampled)
model whose backbone stays frozen, so each is ``repair_only``: the plug-in runs it
(``main.py tune --loss crt|lws|tau_norm``), with its own defaults in the plug-in presets
(resources/presets/30-plugin.toml, the official ``cls_crt.yaml`` / ``cls_lws.yaml`` values).

- **cRT** (``crt``): a fresh classifier, ``nn.Linear`` with PyTorch's default initialisation and a
  bias, as the official ``load_model`` skips loading a ``DotProductClassifier``; plain
  cross-entropy; the balancing comes from the class-aware sampler alone (4 images of a class per
  draw, ``data.samplers.class_aware_order``). Preset: 10 epochs, SGD 0.2, momentum 0.9, weight
  decay 5e-4, batch 512, cosine to zero, the new classifier initialised fresh.
- **LWS** (``lws``): the old classifier frozen, one learnable scale per class multiplying the
  whole logit, bias included: ``s_c·(w_c·x + b_c)``, scales starting at 1 (the official
  ``TauNormClassifier``, which despite its name is LWS; the paper writes ``f_c·w_c``, the code
  scales the bias too, and this follows the code). The scales are the model's own LWS head
  (``models.heads.LearnableWeightScaling``, MiSLAS's), so the repaired checkpoint is an ordinary
  "lws"-head model. Weight decay applies to the scales, as in the official optimiser. Preset:
  5 epochs, the rest as cRT's, class-aware sampler.
- **τ-norm** (``tau_norm``): no training. ``W̃_c = W_c / ‖W_c‖₂^τ`` row by row, and the logits are
  ``x·W̃ᵀ``: **the bias is dropped**, as in the official ``tau_norm.py`` (it loads the bias but
  never adds it). The official script prints every τ of ``linspace(0, 2, 21)`` on a split of
  one's choice (test by default) and chooses nothing; the paper chooses τ on the validation set.
  Here τ is chosen over that grid on the plug-in's validation split (the dataset's val split
  when it has one, else a held-out share of each training class; never the test split) by the
  plug-in's validation score (``engine.metrics.ValidationScore``: HM, then fewer zero-recall
  classes, then mean recall), ties to the smallest τ. A fixed τ is a one-point grid
  (``--param tau_min=1 --param tau_max=1 --param tau_steps=1``).

Deviations, all from training on cached features: the official loops re-augment images every
epoch and leave the frozen backbone in train mode, so its BatchNorm statistics drift on the
class-aware batches; here the backbone and its statistics stay frozen (the plug-in's feature
passes stand in for re-augmentation). The official cosine schedule steps before each epoch, so
its last epoch runs at lr 0; ``engine.schedule``'s cosine does not. The official ImageNet-LT
recipe's batch and learning rate are kept on CIFAR and the demo data (no linear scaling).
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from engine.methods.base import LossMethod, Method, register
from models import LTModel

DECOUPLING = ("Kang et al., Decoupling Representation and Classifier for Long-Tailed Recognition, ICLR 2020, "
              "arXiv 1910.09217")
SINGLE_HEAD = ("cifar_resnet", "imagenet_resnet")  # the families whose classifier is one linear layer (+ LWS)


@register
class ClassifierRetraining(LossMethod):
    """cRT: a fresh classifier trained with plain CE on class-aware batches (the preset's sampler)."""

    name = "crt"
    title = "cRT: re-train the classifier"
    short_title = "cRT"
    citation = DECOUPLING
    repair_only = True

    def criterion(self, logits: torch.Tensor, labels: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits, labels, weight=self.class_weights)


@register
class WeightScaling(LossMethod):
    """LWS: per-class scales on the frozen classifier's logits, trained with CE on class-aware batches."""

    name = "lws"
    title = "LWS: learnable weight scaling"
    short_title = "LWS"
    citation = DECOUPLING
    families = SINGLE_HEAD
    repair_only = True
    repair_trains = ("lws",)
    repair_heads = ("linear", "lws")

    def prepare_repair(self, model: LTModel) -> None:
        """A linear classifier gets its scales (ones); a MiSLAS model's scales train as they are."""
        model.add_weight_scaling()

    def criterion(self, logits: torch.Tensor, labels: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits, labels, weight=self.class_weights)


@register
class TauNormalisation(Method):
    """τ-norm: the old classifier's rows divided by their norm to the power τ, bias dropped, τ
    chosen on the validation split."""

    name = "tau_norm"
    title = "τ-norm: normalised weights"
    short_title = "τ-norm"
    citation = DECOUPLING
    families = SINGLE_HEAD
    sources = ("images", "features")
    repairs_classifier = True
    repair_only = True
    repair_trains = ()
    repair_heads = ("linear", "lws")
    defaults = {"tau_min": 0.0, "tau_max": 2.0, "tau_steps": 21.0}
    param_help = {"tau_min": "smallest τ of the grid (official: 0, the old classifier without its bias)",
                  "tau_max": "largest τ of the grid (official: 2)",
                  "tau_steps": "grid points from tau_min to tau_max (official: 21, a step of 0.1)"}
    param_labels = {"tau_min": "Smallest τ", "tau_max": "Largest τ", "tau_steps": "τ grid points"}
    param_ranges = {"tau_min": (0.0, 10.0), "tau_max": (0.0, 10.0), "tau_steps": (1, 1001)}
    whole_params = ("tau_steps",)

    def grid(self) -> list[float]:
        """The τ values tried, in increasing order (``linspace(tau_min, tau_max, tau_steps)``)."""
        low, high, steps = self.params["tau_min"], self.params["tau_max"], int(self.params["tau_steps"])
        if steps == 1 or high <= low:
            return [low]
        return [round(value, 10) for value in torch.linspace(low, high, steps, dtype=torch.float64).tolist()]

    def training_step(self, model, batch, stage):
        raise NotImplementedError("τ-norm trains nothing; the plug-in calls fit_repair")

    @torch.no_grad()
    def fit_repair(self, model: LTModel, features: torch.Tensor, labels: torch.Tensor) -> dict[str, Any]:
        """Try every τ of the grid on the validation ``features``; keep the best as the model's classifier
        (weight ``W/‖W‖^τ``, bias 0). Returns τ, the grid and every τ's validation score."""
        from engine.metrics import ValidationScore

        linear = model.heads()["linear"]
        weight = linear.weight.detach().clone()
        tried = []
        for tau in self.grid():
            normalise(linear, weight, tau)
            score = ValidationScore.of(self.scores(model.predict_features(features)), labels)
            tried.append((score.key(), -tau, tau, score))
        _key, _tie, tau, score = max(tried)
        normalise(linear, weight, tau)
        return {"tau": tau, "validation": vars(score),
                "grid": [{"tau": t, **vars(s)} for _k, _n, t, s in sorted(tried, key=lambda item: item[2])]}


def tau_normalised(weight: torch.Tensor, tau: float) -> torch.Tensor:
    """``W_c / ‖W_c‖₂^τ`` for every row c (the official ``pnorm``)."""
    return weight / weight.norm(dim=1, keepdim=True).pow(tau)


def normalise(linear: torch.nn.Linear, weight: torch.Tensor, tau: float) -> None:
    """Make ``linear`` the τ-normalised classifier of ``weight``, without a bias."""
    linear.weight.copy_(tau_normalised(weight, tau))
    if linear.bias is not None:
        linear.bias.zero_()
