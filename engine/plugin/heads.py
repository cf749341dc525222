"""Which part of a model is "the classifier": freeze the rest, copy it, replace it.

The plug-in needs, from any model: its features, its classifier, an exact copy of that
classifier (the "old" one, kept for the ensemble and the report) and a freshly initialised one of
the same kind. ``LinearHead`` serves every model whose classifier is its ``linear`` attribute on
top of ``features(x)``: a plain ``nn.Linear`` or LDAM's cosine ``NormedLinear``. A model with
another head (MiSLAS's learnable weight scaling, RIDE's experts, PaCo's) gets its own adapter
class with the same four methods; ``head_adapter`` is where it would be chosen.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from data.errors import UserError
from models import make_head


class LinearHead:
    """The ``linear`` classifier of a model with ``features(x)``; ``kind`` is "linear" or "cosine"."""

    def __init__(self, model: nn.Module, kind: str):
        self.model = model
        self.kind = kind

    def copy(self) -> nn.Module:
        """An independent copy of the current classifier (its tensors share no storage)."""
        head = copy.deepcopy(self.model.linear)
        head.requires_grad_(True)
        return head

    def fresh(self, seed: int) -> nn.Module:
        """A newly initialised classifier of the same kind and shape, reproducible from ``seed``."""
        linear = self.model.linear
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            head = make_head(self.kind, linear.in_features, linear.out_features)
        return head.to(next(linear.parameters()).device)

    def install(self, head: nn.Module) -> None:
        """Make ``head`` the model's classifier (for saving the tuned model)."""
        self.model.linear = head


def head_adapter(model: nn.Module, kind: str) -> LinearHead:
    """The adapter for ``model``'s classifier; a UserError names what the plug-in cannot handle."""
    if not (hasattr(model, "features") and isinstance(getattr(model, "linear", None), nn.Module)):
        raise UserError(f"{type(model).__name__} has no `linear` classifier over `features(x)`; "
                        "the plug-in re-trains that classifier only")
    return LinearHead(model, kind)


def freeze_backbone(model: nn.Module) -> None:
    """No parameter trains and BatchNorm keeps its running statistics (eval mode)."""
    model.eval()
    model.requires_grad_(False)
