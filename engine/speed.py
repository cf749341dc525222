"""The loop's speed settings, each chosen from a measurement (docs/benchmarks.md, issue 14).

- ``sgd_options``: fused SGD (one kernel for all parameters) where PyTorch has it (CUDA, CPU),
  else the multi-tensor ``foreach`` path. On the 2-core CPU the optimiser step alone is 1.6×
  faster fused (0.9 vs 1.5 ms) and the result is bit-identical to the default for-loop SGD;
  a ResNet-32 step is ~400 ms there, so the gain matters on a GPU, where the step is launch-bound.
- ``configure_backends``: ``cudnn.benchmark`` on CUDA (the batch shape is fixed within a stage,
  so the autotuned convolution algorithms are reused every step).
- ``training_model``: ``torch.compile`` of the model for the training step, off by default
  (``RunConfig.compile``): on the CPU it took 109 s to compile for a steady state no faster than
  eager (1.04×, median of interleaved blocks). If compiling fails, the first call falls back to
  the eager model and says so.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

FUSED_DEVICES = ("cuda", "cpu")


def sgd_options(device: torch.device) -> dict[str, bool]:
    """Keyword arguments for ``torch.optim.SGD`` on ``device``."""
    return {"fused": True} if device.type in FUSED_DEVICES else {"foreach": True}


def configure_backends(device: torch.device) -> None:
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True


class EagerFallback:
    """Calls the compiled model; if its first call fails (a backend that cannot compile here),
    reports once and uses the eager model from then on. Attributes come from the eager model."""

    def __init__(self, model: nn.Module, compiled: Callable[..., Any], report: Callable[[str], None]):
        self._model, self._compiled, self._report = model, compiled, report
        self._state = "untried"  # untried | compiled | eager

    def __call__(self, *args, **kwargs):
        if self._state == "eager":
            return self._model(*args, **kwargs)
        if self._state == "compiled":
            return self._compiled(*args, **kwargs)
        try:
            output = self._compiled(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 (any compiler failure: fall back, never lose the run)
            self._state = "eager"
            self._report(f"torch.compile failed ({type(error).__name__}: {str(error).splitlines()[0][:200]}); "
                         "training continues without compiling")
            return self._model(*args, **kwargs)
        self._state = "compiled"
        return output

    def __getattr__(self, name: str):
        return getattr(self._model, name)


def training_model(model: nn.Module, compile_step: bool,
                   report: Callable[[str], None] = lambda text: warnings.warn(text, stacklevel=2)):
    """What the training step calls: ``model`` itself, or its compiled forward with an eager fallback."""
    if not compile_step:
        return model
    try:
        compiled = torch.compile(model)
    except Exception as error:  # noqa: BLE001 (no compiler on this platform)
        report(f"torch.compile is not available here ({type(error).__name__}); training without compiling")
        return model
    return EagerFallback(model, compiled, report)
