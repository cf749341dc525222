"""Finite numbers only: a checkpoint (or a model about to be saved) with NaN or infinite tensors
is refused in one line instead of predicting garbage "normally".

``non_finite_keys`` is the check (floating and complex tensors; integer ones are always finite);
``assert_finite`` is the refusal used at load time, ``NonFiniteError`` its error.

Finite weights can still give non-finite outputs (weights × 1e38 overflow in the first layer):
``non_finite_rows`` is the one check of outputs that every consumer shares (evaluation, the
training statistics, ``predict``), and ``OUTPUTS_NOT_FINITE`` the one warning. Metrics of such
outputs are never computed: they are all NaN (``engine.metrics.not_numbers``), shown as n/a.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from errors import UserError

LISTED = 3  # tensor names quoted in the message


class NonFiniteError(UserError):
    """Tensors hold NaN or infinite values (a diverged run, a damaged file)."""

    def __init__(self, message: str, keys: list[str]):
        super().__init__(message)
        self.keys = keys


def non_finite_keys(tensors: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Names of the tensors holding a NaN or an infinity; nested mappings (heads, buffers) are walked."""
    found: list[str] = []
    for key, value in tensors.items():
        name = f"{prefix}{key}"
        if isinstance(value, torch.Tensor):
            if (value.is_floating_point() or value.is_complex()) and not bool(torch.isfinite(value).all()):
                found.append(name)
        elif isinstance(value, Mapping):
            found += non_finite_keys(value, prefix=f"{name}.")
    return found


OUTPUTS_NOT_FINITE = ("the model's outputs are not finite numbers (NaN/inf) for {bad} of {total} images: its "
                      "weights are damaged or diverged, so {what} mean nothing")


def non_finite_rows(outputs: torch.Tensor) -> torch.Tensor:
    """``(N,)`` bool: which rows of ``outputs`` (N, C) hold a NaN or an infinity (on their device,
    without waiting for it). One reduction, no N × C mask: a row's sum is NaN or infinite exactly
    when the row holds one, or when its values are so large that they overflow (beyond ~1e36 each
    at 100 classes), which only a diverged model outputs. Half-precision rows are summed in float32."""
    wide = torch.float32 if outputs.dtype in (torch.float16, torch.bfloat16) else outputs.dtype
    return ~torch.isfinite(outputs.sum(dim=1, dtype=wide))


def assert_finite(tensors: Mapping[str, Any], name: str) -> None:
    """Raise ``NonFiniteError`` (one line naming ``name`` and the first bad tensors) unless every
    floating-point tensor in ``tensors`` is finite."""
    bad = non_finite_keys(tensors)
    if not bad:
        return
    total = sum(1 for _ in _leaves(tensors))
    listed = ", ".join(bad[:LISTED]) + (f" and {len(bad) - LISTED} more" if len(bad) > LISTED else "")
    raise NonFiniteError(f"{name} holds NaN or infinite values in {len(bad)} of {total} tensors ({listed}): "
                         "the model diverged or the file is damaged; use an earlier checkpoint or retrain "
                         "with a lower learning rate", bad)


def _leaves(tensors: Mapping[str, Any]):
    for value in tensors.values():
        if isinstance(value, Mapping):
            yield from _leaves(value)
        elif isinstance(value, torch.Tensor):
            yield value
