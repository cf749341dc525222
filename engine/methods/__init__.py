"""Losses and methods, one module each, found by name.

Importing this package imports every method module so that each registers itself.
"""
from __future__ import annotations

from collections.abc import Mapping

import torch

from engine.methods import base
from engine.methods.base import (Method, capability_error, method_class, register,  # noqa: F401 (re-exported)
                                 repair_methods)

# One import per method module; each registers its class on import.
from engine.methods import (ce, bsce, focal, logit_adjust, ldam, lade, feabal, gml, mislas, paco, ride,  # noqa: E402,F401
                           decoupling, weight_balancing)


def available_methods() -> dict[str, type[Method]]:
    """Name → class, for every registered method."""
    return base.registered()


def method_titles() -> dict[str, str]:
    """Name → title of every registered method: the choices of ``method.loss``."""
    return {name: cls.title for name, cls in base.registered().items()}


def repair_titles() -> dict[str, str]:
    """Name → title of every method that can re-train a pretrained classifier: the plug-in's
    choices of ``method.loss``."""
    return {name: cls.title for name, cls in repair_methods().items()}


def build_method(name: str, class_counts: torch.Tensor, params: Mapping[str, float] | None = None,
                 total_epochs: int = 200) -> Method:
    return method_class(name)(class_counts, params, total_epochs)
