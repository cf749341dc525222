"""The one prediction rule of a checkpoint, used by ``eval``, ``predict``, the app and the plug-in.

A model predicts by its method's rule (``Method.predict`` / ``Method.scores``: LDAM's ``s·cos``,
RIDE's expert mean, …), rebuilt from the checkpoint's ``method``, ``method_params`` and
``logit_scale``. A checkpoint written by the GML plug-in with ``meta["ensemble"]`` and an
``"old"`` head predicts with the ensemble of "No One Left Behind" (Du & Wu, CVPR 2023):
``½·[softmax(z_new/t1) + softmax(z_old/t2)]``, where ``z_old`` is the old head on the same
features times the old model's own scale. The ensemble's scores are the log of those
probabilities, so ranking and softmax agree with the probabilities themselves.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from engine.checkpoints import Checkpoint, build_model_from_checkpoint
from engine.finite import assert_finite
from engine.precision import for_prediction
from engine.methods import Method, available_methods, build_method
from models import LTModel, ModelOutput, ModelSpec, head_modules_from_state

FALLBACK_METHOD = "ce"  # foreign files: plain logits (times their logit_scale)


def ensemble_probabilities(new_scores: torch.Tensor, old_scores: torch.Tensor, t1: float, t2: float) -> torch.Tensor:
    """``½·[softmax(z_new/t1) + softmax(z_old/t2)]`` row by row."""
    return 0.5 * (torch.softmax(new_scores.float() / t1, dim=1) + torch.softmax(old_scores.float() / t2, dim=1))


@dataclass
class Ensemble:
    """The plug-in's old heads and temperatures."""

    old_heads: dict[str, nn.Module]
    t1: float
    t2: float
    old_scale: float

    def old_scores(self, model: LTModel, features: torch.Tensor) -> torch.Tensor:
        return self.old_scale * model.classify(features, heads=self.old_heads).logits

    def to(self, device: torch.device | str) -> Ensemble:
        for head in self.old_heads.values():
            head.to(device)
        return self


class PredictionRule:
    """Images (or features, or a forward pass) → class scores, by the method or the ensemble."""

    def __init__(self, method: Method, ensemble: Ensemble | None = None):
        self.method, self.ensemble = method, ensemble

    def __call__(self, model: LTModel, images: torch.Tensor) -> torch.Tensor:
        if self.ensemble is None:
            return self.method.predict(model, images)
        return self.from_output(model, model(images))

    def from_output(self, model: LTModel, output: ModelOutput) -> torch.Tensor:
        scores = self.method.scores(output)
        if self.ensemble is None:
            return scores
        old = self.ensemble.old_scores(model, output.features)
        return ensemble_probabilities(scores, old, self.ensemble.t1, self.ensemble.t2).clamp_min(1e-12).log()

    def from_features(self, model: LTModel, features: torch.Tensor) -> torch.Tensor:
        return self.from_output(model, model.classify(features))

    def describe(self) -> str:
        if self.ensemble is None:
            return self.method.title
        return (f"ensemble of the new and old classifiers, t1 = {self.ensemble.t1:g}, "
                f"t2 = {self.ensemble.t2:g}")


def method_of(checkpoint: Checkpoint, notes: list[str] | None = None) -> Method:
    """The checkpoint's method with its hyperparameters, scale and state (for foreign files CE, or
    the first method of the file's model family)."""
    meta = checkpoint.meta
    name = meta.get("method") or default_method(checkpoint.spec)
    if name not in available_methods():
        if notes is not None:
            notes.append(f"method {name!r} is unknown here; predicting with its plain logits")
        name = FALLBACK_METHOD
    num_classes = int(meta.get("num_classes") or checkpoint.spec.num_classes)
    counts = torch.tensor(meta.get("class_counts") or [1] * num_classes, dtype=torch.float32)
    params = meta.get("method_params") or {}
    method = build_method(name, counts, params if name == meta.get("method") else {})
    method.logit_scale = float(meta.get("logit_scale", method.logit_scale))
    if name == meta.get("method") and checkpoint.method_state:
        method.load_state_dict(checkpoint.method_state)  # e.g. whether RIDE's router has trained yet
    return method


def default_method(spec: ModelSpec | None) -> str:
    """The method a foreign file of ``spec``'s family predicts with: CE's plain logits for a CIFAR
    ResNet, else the first method that trains the family (RIDE for a multi-expert file)."""
    if spec is None or spec.family == "cifar_resnet":
        return FALLBACK_METHOD
    return next((name for name, cls in available_methods().items() if spec.family in cls.families), FALLBACK_METHOD)


def rule_for(checkpoint: Checkpoint, model: LTModel, notes: list[str] | None = None) -> PredictionRule:
    """The prediction rule ``checkpoint`` carries, for ``model`` built from it."""
    method = method_of(checkpoint, notes)
    ensemble = checkpoint.meta.get("ensemble")
    if not ensemble or "old" not in checkpoint.heads:
        return PredictionRule(method)
    device = next(model.parameters()).device
    old_heads = head_modules_from_state(model, checkpoint.heads["old"])
    old_scale = float(ensemble.get("old_logit_scale", method.logit_scale))
    return PredictionRule(method, Ensemble(old_heads, float(ensemble["t1"]), float(ensemble["t2"]),
                                           old_scale).to(device))


def disable_router(rule: PredictionRule) -> None:
    """Predict with every expert (RIDE's ``use_router = 0``); a model without a router is unaffected."""
    if "use_router" in rule.method.params:
        rule.method.params["use_router"] = 0.0


def load_for_prediction(checkpoint: Checkpoint, arch: str | None = None, num_classes: int | None = None,
                        device: torch.device | str = "cpu",
                        notes: list[str] | None = None) -> tuple[LTModel, PredictionRule]:
    """The checkpoint's model (eval mode, on ``device``, in the precision it was evaluated in:
    ``engine.precision.for_prediction``) and its prediction rule. A checkpoint holding NaN or
    infinite tensors is refused (it would predict garbage with confidence)."""
    assert_finite(checkpoint.state_dict, checkpoint.name)
    assert_finite(checkpoint.heads, checkpoint.name)
    model = build_model_from_checkpoint(checkpoint, arch=arch, num_classes=num_classes).to(device)
    for_prediction(checkpoint.meta, model, torch.device(device))
    return model, rule_for(checkpoint, model, notes)
