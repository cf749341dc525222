"""Classifier heads and the single-head model every plain family builds on.

- ``linear``: ``nn.Linear(D, C)``;
- ``cosine``: LDAM's ``NormedLinear`` (cosine similarity between normalised features and class
  weights; github.com/kaidic/LDAM-DRW ``models/resnet_cifar.py``);
- ``lws``: ``nn.Linear`` followed by MiSLAS's learnable weight scaling (github.com/dvlab-research/
  MiSLAS ``methods.py``), decoupling's LWS classifier with its scales as one tensor.

:class:`SingleHeadModel` holds the head as the attribute ``linear`` (and ``lws``), the key names
of LDAM's, MiSLAS's and our checkpoints; a family adds the trunk and ``features``. It also knows
the single-head families' foreign files (``models.registry``): models saved in parts (MiSLAS's
backbone / classifier / LWS, decoupling's ``feat_model`` / ``classifier``), wrapper prefixes,
the classifier's other names (``fc``, ``classifier``), and LDAM's s = 30 for a foreign cosine head.
"""
from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn
from torch.nn import functional as F

from errors import UserError
from models.base import LTModel, ModelOutput, ModelSpec, PretrainedCfg
from models.registry import UnrecognisedWeights, strip_wrapper_prefixes

HEADS = ("linear", "cosine", "lws")
LDAM_LOGIT_SCALE = 30.0  # LDAM-DRW's s: what a foreign cosine head's outputs are multiplied by
WRAPPER_PREFIXES = ("backbone.", "encoder.", "model.", "net.", "network.")
HEAD_ALIASES = ("fc", "classifier")
# MiSLAS's train_stage{1,2}.py: entry → key prefix in the joined state dict
SPLIT_PARTS = {"state_dict_model": "", "state_dict_classifier": "", "state_dict_lws_model": "lws."}
# decoupling (classifier-balancing run_networks.py): {"state_dict_best" or "state_dict": {"feat_model", "classifier"}}
NETWORK_PARTS = ("feat_model", "classifier")
NETWORK_ENTRIES = ("state_dict_best", "state_dict", "model")


class NormedLinear(nn.Module):
    """Cosine classifier of LDAM: ``normalize(x, dim=1) @ normalize(W, dim=0)``, no bias.

    ``weight`` has shape ``(in_features, out_features)`` (transposed with respect to
    ``nn.Linear``, as in LDAM's checkpoints). Outputs lie in [-1, 1]; the loss scales them.
    """

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = nn.Parameter(torch.empty(in_features, out_features))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # LDAM's init: uniform in [-1, 1], then every class column rescaled to unit length.
        with torch.no_grad():
            self.weight.uniform_(-1, 1).renorm_(2, 1, 1e-5).mul_(1e5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(x, dim=1) @ F.normalize(self.weight, dim=0)


def make_head(head: str, in_features: int, num_classes: int) -> nn.Module:
    """A classifier layer of kind ``"linear"`` or ``"cosine"``."""
    if head == "linear":
        return nn.Linear(in_features, num_classes)
    if head == "cosine":
        return NormedLinear(in_features, num_classes)
    raise UserError(f"unknown classifier head {head!r}; choose linear or cosine")


class LearnableWeightScaling(nn.Module):
    """MiSLAS's LWS: one learnable scale per class multiplied onto the classifier's logits, ones at
    the start (github.com/dvlab-research/MiSLAS ``methods.py``; the tensor keeps its name there)."""

    def __init__(self, num_classes: int):
        super().__init__()
        self.learned_norm = nn.Parameter(torch.ones(1, num_classes))

    def reset_parameters(self) -> None:
        with torch.no_grad():
            self.learned_norm.fill_(1.0)

    def forward(self, logits: torch.Tensor) -> torch.Tensor:
        return self.learned_norm * logits


class SingleHeadModel(LTModel):
    """A trunk with one classifier ``linear`` (``head="lws"``: and ``lws`` after it). Subclasses
    build the trunk, set ``spec``, ``feature_dim`` and ``trunk_modules`` (its top-level module
    names), call :meth:`add_heads` and implement ``features``."""

    feature_dim: int
    trunk_modules: tuple[str, ...] = ()

    # --- foreign files ----------------------------------------------------------------------
    @classmethod
    def from_parts(cls, raw: Mapping) -> tuple[dict[str, torch.Tensor], str] | None:
        """MiSLAS's files (backbone, classifier and LWS as separate state dicts) and decoupling's
        (``feat_model`` and ``classifier`` nested under one entry), joined."""
        if all(_is_state_dict(raw.get(entry)) for entry, prefix in SPLIT_PARTS.items() if prefix != "lws."):
            joined = {prefix + key.removeprefix("module."): tensor
                      for entry, prefix in SPLIT_PARTS.items() for key, tensor in (raw.get(entry) or {}).items()}
            parts = ", ".join(entry for entry in SPLIT_PARTS if entry in raw)
            return joined, f"joined the model saved in parts ({parts}, as MiSLAS saves it)"
        for entry in NETWORK_ENTRIES:
            networks = raw.get(entry)
            if isinstance(networks, Mapping) and all(_is_state_dict(networks.get(part)) for part in NETWORK_PARTS):
                joined = {key: tensor for part in NETWORK_PARTS for key, tensor in networks[part].items()}
                return joined, f"joined {' and '.join(NETWORK_PARTS)} of {entry!r} (decoupling's layout)"
        return None

    @classmethod
    def checkpoint_filter(cls, state_dict: Mapping[str, torch.Tensor], notes: list[str]) -> dict[str, torch.Tensor]:
        """Other code bases' wrappers (``backbone.``, ``model.`` …) and classifier names (``fc``,
        ``classifier``) → ours (``linear``)."""
        modules = {*cls.trunk_modules, "linear", "lws", *HEAD_ALIASES}
        state = strip_wrapper_prefixes(state_dict, WRAPPER_PREFIXES, modules, notes)
        if any(key.startswith("linear.") for key in state):
            return state
        for alias in HEAD_ALIASES:
            head_keys = {key for key in state if key.startswith(alias + ".")}
            if f"{alias}.weight" in state and head_keys <= {f"{alias}.weight", f"{alias}.bias"}:
                notes.append(f"renamed the classifier {alias}.* to linear.*")
                return {("linear." + key[len(alias) + 1:] if key in head_keys else key): value
                        for key, value in state.items()}
        return state

    @classmethod
    def pretrained_cfg(cls, spec: ModelSpec) -> PretrainedCfg:
        """A foreign cosine head (LDAM-DRW's ``NormedLinear``) outputs raw cosines: probabilities take
        LDAM's s = 30, the scale it was trained at; other heads predict with their plain logits."""
        if spec.head == "cosine":
            return PretrainedCfg(logit_scale=LDAM_LOGIT_SCALE,
                                 note=f"cosine outputs scaled by LDAM's s = {LDAM_LOGIT_SCALE:g} for probabilities")
        return PretrainedCfg()

    # --- the heads ------------------------------------------------------------------------------

    def add_heads(self, spec: ModelSpec) -> None:
        if spec.head not in HEADS:
            raise UserError(f"unknown classifier head {spec.head!r}; choose one of {', '.join(HEADS)}")
        self.linear = make_head("cosine" if spec.head == "cosine" else "linear", self.feature_dim, spec.num_classes)

    def add_scaling(self) -> None:
        """LWS after the classifier (added after the family's weight initialisation: ones)."""
        if self.spec.head == "lws":
            self.lws = LearnableWeightScaling(self.spec.num_classes)

    def add_weight_scaling(self) -> None:
        """Make this an "lws"-head model: per-class scales of 1 after the linear classifier
        (decoupling's LWS repair); a model that has them keeps its own."""
        if self.spec.head == "lws":
            return
        if self.spec.head != "linear":
            raise UserError(f"learnable weight scaling needs a linear classifier, not a {self.spec.head} one")
        self.spec = self.spec.replace(head="lws")
        self.lws = LearnableWeightScaling(self.spec.num_classes).to(self.linear.weight.device)

    @property
    def head_kind(self) -> str:
        return self.spec.head

    def classify(self, features: torch.Tensor, heads: Mapping[str, nn.Module] | None = None) -> ModelOutput:
        heads = heads or self.heads()
        logits = heads["linear"](features)
        if "lws" in heads:
            logits = heads["lws"](logits)
        return ModelOutput(logits=logits, features=features)

    def heads(self) -> dict[str, nn.Module]:
        return {"linear": self.linear, **({"lws": self.lws} if self.spec.head == "lws" else {})}

    def parts(self) -> dict[str, list[nn.Module]]:
        parts = super().parts()
        parts["classifier"] = [self.linear]
        if self.spec.head == "lws":
            parts["lws"] = [self.lws]
        return parts


def infer_head(state_dict: Mapping[str, torch.Tensor], feature_dim: int) -> tuple[int, str]:
    """``(num_classes, head)`` of a single-head state dict: ``"lws"`` when MiSLAS's ``lws.learned_norm``
    is there, ``"linear"`` with a bias, ``"cosine"`` for a (D, C) weight without one."""
    weight = state_dict.get("linear.weight")
    if weight is None or weight.ndim != 2:
        raise UnrecognisedWeights("it has no classifier weights (linear.weight or fc.weight)")
    if "lws.learned_norm" in state_dict:
        return int(weight.shape[0]), "lws"
    if "linear.bias" in state_dict:
        return int(weight.shape[0]), "linear"
    if weight.shape[0] == feature_dim:
        return int(weight.shape[1]), "cosine"
    raise UnrecognisedWeights(f"its classifier weight has shape {tuple(weight.shape)} and no bias: "
                              "neither a linear nor a cosine head")


def _is_state_dict(value: object) -> bool:
    return isinstance(value, Mapping) and len(value) > 0 and all(isinstance(v, torch.Tensor) for v in value.values())
