"""The one prediction path: a model's output → class scores, for every consumer.

Evaluation during training (images or cached features), ``eval``, ``predict``, the app, the
plug-in's old / new / ensemble report, the ensemble's temperature search and a distillation
teacher all call a :class:`PredictionRule`. It runs the model's prediction pass
(``LTModel.predict`` on images, ``LTModel.predict_features`` on features; RIDE routes there, a
mode of the model) and turns the output into scores with the method's one hook,
``Method.scores`` (LDAM's ``s·cos``, RIDE's expert mean, …). Per-image extras of the output (the
experts a router called) travel beside the scores in :class:`Scores`.

A checkpoint carries its rule: the method is rebuilt from its ``method``, ``method_params`` and
``logit_scale`` (a foreign file: the method its model family names, ``PretrainedCfg``). A
checkpoint written by the GML plug-in with ``meta["ensemble"]`` and an ``"old"`` head predicts
with the ensemble of "No One Left Behind" (Du & Wu, CVPR 2023):
``½·[softmax(z_new/t1) + softmax(z_old/t2)]``, where ``z_old`` is the old heads' output on the
same features scored by the old model's own method. The ensemble's scores are the log of those
probabilities, so ranking and softmax agree with the probabilities themselves.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import torch
from torch import nn

from engine.checkpoints import Checkpoint, build_model_from_checkpoint
from engine.finite import assert_finite
from engine.precision import for_prediction
from engine.methods import Method, available_methods, build_method
from models import LTModel, ModelOutput, ModelSpec, head_modules_from_state, pretrained_cfg

FALLBACK_METHOD = "ce"  # files whose method is unknown here: plain logits (times their logit_scale)
PER_IMAGE = ("experts_used",)  # the output extras that travel beside the scores to their consumers


@dataclass
class Scores:
    """Class scores ``values`` (N, C) and the per-image extras of the outputs they came from
    (``experts_used``: how many experts a router called for each image)."""

    values: torch.Tensor
    extras: dict[str, torch.Tensor] = field(default_factory=dict)

    @property
    def experts_used(self) -> torch.Tensor | None:
        return self.extras.get("experts_used")

    @classmethod
    def cat(cls, parts: list[Scores]) -> Scores:
        """Batches joined in order (an extra only some batches have is dropped)."""
        if not parts:
            return cls(torch.empty(0))
        keys = set.intersection(*(set(part.extras) for part in parts))
        return cls(torch.cat([part.values for part in parts]),
                   {key: torch.cat([part.extras[key] for part in parts]) for key in keys})


def ensemble_probabilities(new_scores: torch.Tensor, old_scores: torch.Tensor, t1: float, t2: float) -> torch.Tensor:
    """``½·[softmax(z_new/t1) + softmax(z_old/t2)]`` row by row."""
    return 0.5 * (torch.softmax(new_scores.float() / t1, dim=1) + torch.softmax(old_scores.float() / t2, dim=1))


@dataclass
class Ensemble:
    """The plug-in's old heads, the old model's prediction rule, and the temperatures."""

    old_heads: dict[str, nn.Module]
    old_rule: PredictionRule
    t1: float
    t2: float

    def old_scores(self, model: LTModel, features: torch.Tensor) -> Scores:
        """The old heads on ``features``, scored as the old model scores its outputs: the plug-in's
        "old" column, which is what the loaded checkpoint predicts."""
        return self.old_rule.from_features(model, features, heads=self.old_heads)

    def to(self, device: torch.device | str) -> Ensemble:
        for head in self.old_heads.values():
            head.to(device)
        return self


class PredictionRule:
    """Images or features → :class:`Scores`, by the method's rule or by the ensemble."""

    def __init__(self, method: Method, ensemble: Ensemble | None = None):
        self.method, self.ensemble = method, ensemble

    def __call__(self, model: LTModel, images: torch.Tensor) -> Scores:
        """Scores of normalised images: the model's prediction pass, then the rule."""
        if self.ensemble is None:
            return self._scored(model.predict(images))
        return self.from_features(model, model.features(images))

    def from_features(self, model: LTModel, features: torch.Tensor,
                      heads: Mapping[str, nn.Module] | None = None) -> Scores:
        """Scores of backbone features (``heads``: others than the model's own, e.g. the old ones)."""
        scores = self._scored(model.predict_features(features, heads))
        if self.ensemble is None:
            return scores
        old = self.ensemble.old_scores(model, features).values
        probabilities = ensemble_probabilities(scores.values, old, self.ensemble.t1, self.ensemble.t2)
        return Scores(probabilities.clamp_min(1e-12).log(), scores.extras)

    def _scored(self, output: ModelOutput) -> Scores:
        return Scores(self.method.scores(output), {key: output.extras[key] for key in PER_IMAGE if key in output.extras})

    def describe(self) -> str:
        if self.ensemble is None:
            return self.method.title
        return (f"ensemble of the new and old classifiers, t1 = {self.ensemble.t1:g}, "
                f"t2 = {self.ensemble.t2:g}")


def method_of(checkpoint: Checkpoint, num_classes: int, notes: list[str] | None = None) -> Method:
    """The checkpoint's method with its hyperparameters, scale and state (for foreign files the
    method their model family names) for a ``num_classes``-class model."""
    meta = checkpoint.meta
    name = meta.get("method") or default_method(checkpoint.spec)
    method = _build(name, meta, meta.get("method_params") if name == meta.get("method") else {}, num_classes, notes)
    method.logit_scale = float(meta.get("logit_scale", method.logit_scale))
    if method.name == meta.get("method") and checkpoint.method_state:
        method.load_state_dict(checkpoint.method_state)
    return method


def _build(name: str, meta: Mapping, params: Mapping | None, num_classes: int, notes: list[str] | None) -> Method:
    if name not in available_methods():
        if notes is not None:
            notes.append(f"method {name!r} is unknown here; predicting with its plain logits")
        name, params = FALLBACK_METHOD, {}
    counts = torch.tensor(meta.get("class_counts") or [1] * num_classes, dtype=torch.float32)
    return build_method(name, counts, params or {})


def default_method(spec: ModelSpec | None) -> str:
    """The method a foreign file of ``spec``'s family predicts with, as its family says
    (``PretrainedCfg.method``: CE's plain logits for a CIFAR ResNet, RIDE's for a multi-expert file)."""
    return pretrained_cfg(spec).method if spec is not None else FALLBACK_METHOD


def ensemble_meta(ensemble: Ensemble, searched: bool) -> dict:
    """What a plug-in checkpoint stores of its ensemble: temperatures and the old model's method."""
    old = ensemble.old_rule.method
    return {"t1": ensemble.t1, "t2": ensemble.t2, "searched": searched, "old_method": old.name,
            "old_method_params": dict(old.params), "old_logit_scale": float(old.logit_scale)}


def rule_for(checkpoint: Checkpoint, model: LTModel, notes: list[str] | None = None) -> PredictionRule:
    """The prediction rule ``checkpoint`` carries, for ``model`` built from it."""
    method = method_of(checkpoint, model.num_classes, notes)
    ensemble = checkpoint.meta.get("ensemble")
    if not ensemble or "old" not in checkpoint.heads:
        return PredictionRule(method)
    old_method = _build(ensemble.get("old_method", FALLBACK_METHOD), checkpoint.meta,
                        ensemble.get("old_method_params"), model.num_classes, notes)
    old_method.logit_scale = float(ensemble.get("old_logit_scale", method.logit_scale))
    device = next(model.parameters()).device
    old_heads = head_modules_from_state(model, checkpoint.heads["old"])
    return PredictionRule(method, Ensemble(old_heads, PredictionRule(old_method), float(ensemble["t1"]),
                                           float(ensemble["t2"])).to(device))


def load_for_prediction(checkpoint: Checkpoint, arch: str | None = None, num_classes: int | None = None,
                        device: torch.device | str = "cpu", use_router: bool = True,
                        notes: list[str] | None = None) -> tuple[LTModel, PredictionRule]:
    """The checkpoint's model (eval mode, on ``device``, in the precision it was evaluated in:
    ``engine.precision.for_prediction``; ``use_router=False``: RIDE calls every expert) and its
    prediction rule. A checkpoint holding NaN or infinite tensors is refused (it would predict
    garbage with confidence)."""
    assert_finite(checkpoint.state_dict, checkpoint.name)
    assert_finite(checkpoint.heads, checkpoint.name)
    model = build_model_from_checkpoint(checkpoint, arch=arch, num_classes=num_classes).to(device)
    model.set_routing(use_router)
    for_prediction(checkpoint.meta, model, torch.device(device))
    return model, rule_for(checkpoint, model, notes)
