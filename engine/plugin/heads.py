"""The plug-in's view of a model's heads: an exact frozen copy (the "old" heads) and fresh ones.

Any model family works: its heads are whatever ``LTModel.heads()`` names (a CIFAR ResNet's
``linear``, MiSLAS's ``linear`` + ``lws``, every RIDE expert's classifier, PaCo's class centres).
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from models import LTModel


def copy_heads(model: LTModel) -> dict[str, nn.Module]:
    """Independent frozen copies of the model's heads (their tensors share no storage)."""
    return {name: copy.deepcopy(module).eval().requires_grad_(False) for name, module in model.heads().items()}


def fresh_heads(model: LTModel, seed: int) -> dict[str, nn.Module]:
    """Newly initialised heads of the same kinds and shapes, reproducible from ``seed``."""
    heads = {}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for name, module in model.heads().items():
            fresh = copy.deepcopy(module).requires_grad_(True)
            for child in fresh.modules():
                if hasattr(child, "reset_parameters"):
                    child.reset_parameters()
            heads[name] = fresh
    return heads
