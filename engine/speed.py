"""The loop's speed settings, each chosen from a measurement (docs/benchmarks.md, issues 14 and 23).

- ``use_threads``: the run's fixed CPU thread count (``engine.cpu_policy``), never read from the load.

- ``sgd_options``: fused SGD (one kernel for all parameters) where PyTorch has it (CUDA, CPU),
  else the multi-tensor ``foreach`` path. On the 2-core CPU the optimiser step alone is 1.6×
  faster fused (0.9 vs 1.5 ms) and the result is bit-identical to the default for-loop SGD;
  a ResNet-32 step is ~400 ms there, so the gain matters on a GPU, where the step is launch-bound.
- ``configure_backends``: ``cudnn.benchmark`` on CUDA (the batch shape is fixed within a stage,
  so the autotuned convolution algorithms are reused every step).
- ``training_model``: ``torch.compile`` of the model for the training step, off by default
  (``RunConfig.compile``): on the CPU it took 109 s to compile for a steady state no faster than
  eager (1.04×, median of interleaved blocks). On CUDA it compiles with ``mode="reduce-overhead"``:
  forward and backward captured in CUDA graphs (a ResNet-32 step at batch 128 is launch-bound
  there), for the batch shape of the first call; the last short batch of an epoch runs eagerly.
  ``FoldedEvaluation`` does the same for the BN-folded evaluation copy on CUDA. If compiling
  fails, the first call falls back to the eager model and says so. Not yet measured on a GPU
  (``tools/gpu_check.py`` is the prepared measurement).
"""
from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

FUSED_DEVICES = ("cuda", "cpu")


def use_threads(requested: int) -> int:
    """Set torch's CPU threads to ``requested`` (0: the machine's fixed default) and return the count."""
    from engine.cpu_policy import default_threads

    threads = requested or default_threads()
    torch.set_num_threads(threads)
    return threads


def sgd_options(device: torch.device) -> dict[str, bool]:
    """Keyword arguments for ``torch.optim.SGD`` on ``device``."""
    return {"fused": True} if device.type in FUSED_DEVICES else {"foreach": True}


def configure_backends(device: torch.device) -> None:
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True


class EagerFallback:
    """Calls the compiled model; if its first call fails (a backend that cannot compile here),
    reports once and uses the eager model from then on. Attributes come from the eager model.

    With ``fixed_shape`` (CUDA graphs replay one recorded shape) only inputs of the shape of the
    first call go to the compiled model, any other (the last short batch) to the eager one; with
    ``clone_outputs`` the tensors it returns are copies (a graph's outputs live in buffers that the
    next replay overwrites, so results kept across calls, such as evaluation logits, are copied)."""

    def __init__(self, model: nn.Module, compiled: Callable[..., Any], report: Callable[[str], None],
                 fixed_shape: bool = False, clone_outputs: bool = False):
        self._model, self._compiled, self._report = model, compiled, report
        self._fixed_shape, self._clone_outputs = fixed_shape, clone_outputs
        self._shape: torch.Size | None = None
        self._state = "untried"  # untried | compiled | eager

    def __call__(self, *args, **kwargs):
        if self._state == "eager" or (self._shape is not None and _shape_of(args) != self._shape):
            return self._model(*args, **kwargs)
        if self._state == "compiled":
            return self._output(self._compiled(*args, **kwargs))
        try:
            output = self._compiled(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 (any compiler failure: fall back, never lose the run)
            self._state = "eager"
            self._report(f"torch.compile failed ({type(error).__name__}: {str(error).splitlines()[0][:200]}); "
                         "training continues without compiling")
            return self._model(*args, **kwargs)
        self._state = "compiled"
        if self._fixed_shape:
            self._shape = _shape_of(args)
        return self._output(output)

    def _output(self, output: Any) -> Any:
        return _cloned(output) if self._clone_outputs else output

    def __getattr__(self, name: str):
        return getattr(self._model, name)


def _shape_of(args: tuple) -> torch.Size | None:
    return args[0].shape if args and isinstance(args[0], torch.Tensor) else None


def _cloned(value: Any) -> Any:
    """``value`` with every tensor in it (dataclass fields, dicts, lists, tuples) copied."""
    if isinstance(value, torch.Tensor):
        return value.clone()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{f.name: _cloned(getattr(value, f.name)) for f in dataclasses.fields(value)
                                             if f.init})
    if isinstance(value, dict):
        return {key: _cloned(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cloned(item) for item in value)
    return value


def compile_mode(device: torch.device) -> str | None:
    """``reduce-overhead`` (the step captured in CUDA graphs) on CUDA; the default mode elsewhere."""
    return "reduce-overhead" if device.type == "cuda" else None


def training_model(model: nn.Module, compile_step: bool,
                   report: Callable[[str], None] = lambda text: warnings.warn(text, stacklevel=2),
                   device: torch.device = torch.device("cpu"), clone_outputs: bool = False):
    """What the training step calls: ``model`` itself, or its compiled forward with an eager fallback
    (on CUDA in CUDA graphs, for the batch shape of the first call; other shapes run eagerly)."""
    if not compile_step:
        return model
    mode = compile_mode(device)
    try:
        compiled = torch.compile(model, mode=mode) if mode else torch.compile(model)
    except Exception as error:  # noqa: BLE001 (no compiler on this platform)
        report(f"torch.compile is not available here ({type(error).__name__}); training without compiling")
        return model
    return EagerFallback(model, compiled, report, fixed_shape=mode is not None, clone_outputs=clone_outputs)


class FoldedEvaluation:
    """The BN-folded evaluation copy (``engine.fold``), kept across evaluations and compiled once
    (CUDA graphs replay fixed tensor addresses): each call folds the model's current weights into
    the same tensors and returns the compiled copy (last short batch eager, outputs copied)."""

    def __init__(self, device: torch.device, report: Callable[[str], None]):
        self.device, self.report = device, report
        self._folded: nn.Module | None = None
        self._call: Any = None

    def __call__(self, model: nn.Module):
        from engine.fold import folded_copy

        fresh = folded_copy(model)
        if self._folded is None:
            self._folded = fresh
            self._call = training_model(fresh, True, self.report, self.device, clone_outputs=True)
        else:
            with torch.no_grad():
                for kept, new in zip(self._folded.state_dict().values(), fresh.state_dict().values()):
                    kept.copy_(new)
        return self._call
