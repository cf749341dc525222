"""Mixed precision: the dtype a model computes in and the modules it keeps in fp32 (issue 23).

A :class:`Precision` is fp32, or bf16 autocast with some modules kept in fp32:

- the classifier heads, so every loss reads fp32 logits (the CPU's autocast leaves softmax and
  log-softmax in bf16, and the long-tail losses live on small logit differences);
- on the CPU, each convolution whose bf16 training kernels this machine measured slower than
  fp32 (``engine.precision_probe``). On the development machine (AVX-512 BF16, no AMX) that is
  oneDNN's bf16 backward-weights kernel of the stride-2 convolutions: fine alone, several times
  slower than fp32 as soon as a neighbour takes a core (326 ms of a 436 ms step at load 14).

A module kept in fp32 becomes an instance of a subclass of its own class (:class:`KeepFp32` +
e.g. ``nn.Conv2d``) that computes on fp32 inputs outside autocast. Unlike a patched ``forward``,
a deep copy keeps it, so the BN-folded evaluation copy (``engine.fold``) folds and runs it like
any ``nn.Conv2d``; the state dict does not change. The model carries its compute dtype
(``compute_dtype``), and :func:`autocast` reads it, so training, evaluation, feature extraction
and prediction all run in the run's precision; checkpoints carry the policy in their meta
(``precision``) and prediction applies it where the device computes bf16 natively.

:func:`resolve` turns the run's setting into a policy: ``fp32`` → fp32; ``bf16`` → bf16 with the
given ``fp32_layers``, else the heads and the measured slow convolutions; ``auto`` → bf16 on a
CUDA device that supports it, bf16 on a CPU with bf16 instructions when the measured convolution
time of the policy is at most ``AUTO_GAIN`` of fp32's, else fp32. The CPU measurement is made
once per machine and cached, so the choice does not depend on the load at a run's start, and
the run's ``config.json`` and run card record the policy it used.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import torch
from torch import nn

from engine.config import ConfigError

FP32, BF16, AUTO = "fp32", "bf16", "auto"
AUTO_GAIN = 0.9  # auto picks bf16 on a CPU when its measured convolution time is at most 90 % of fp32's
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16", "bf16")  # x86 (AVX-512 BF16, AMX) and Arm (FEAT_BF16)


class KeepFp32:
    """Mixin before a module class: the module computes in fp32, outside any autocast region."""

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        args = tuple(a.float() if isinstance(a, torch.Tensor) and a.is_floating_point() else a for a in args)
        device = next((a.device.type for a in args if isinstance(a, torch.Tensor)), "cpu")
        with torch.autocast(device, enabled=False):
            return super().forward(*args, **kwargs)


@lru_cache(maxsize=None)
def _fp32_class(cls: type) -> type:
    return type(f"Fp32{cls.__name__}", (KeepFp32, cls), {"__module__": __name__, "plain_class": cls})


def _set_fp32(module: nn.Module, keep: bool) -> None:
    plain = getattr(type(module), "plain_class", type(module))
    wanted = _fp32_class(plain) if keep else plain
    if type(module) is not wanted:
        module.__class__ = wanted


@dataclass(frozen=True)
class Precision:
    """``name`` fp32 or bf16; under bf16, ``fp32_layers`` (module names) compute in fp32."""

    name: str = FP32
    fp32_layers: tuple[str, ...] = ()

    @property
    def dtype(self) -> torch.dtype | None:
        """The autocast dtype, None for fp32."""
        return torch.bfloat16 if self.name == BF16 else None

    def apply(self, model: nn.Module) -> nn.Module:
        """Make ``model`` compute in this precision (in place; returns it)."""
        modules = dict(model.named_modules())
        unknown = [name for name in self.fp32_layers if name not in modules]
        if unknown:
            raise ConfigError("fp32_layers", f"the model has no module {unknown[0]!r}")
        keep = set(self.fp32_layers) if self.dtype is not None else set()
        for name, module in modules.items():
            _set_fp32(module, name in keep)
        model.compute_dtype = self.dtype
        return model

    def describe(self) -> str:
        if self.dtype is None:
            return FP32
        kept = ", ".join(self.fp32_layers) or "none"
        return f"bf16 mixed precision (kept in fp32: {kept})"

    def to_meta(self) -> dict[str, Any]:
        return {"name": self.name, "fp32_layers": list(self.fp32_layers)}

    @classmethod
    def of(cls, model: nn.Module) -> Precision:
        """The policy ``model`` computes in now."""
        if getattr(model, "compute_dtype", None) is None:
            return cls()
        return cls(BF16, tuple(name for name, module in model.named_modules() if isinstance(module, KeepFp32)))

    @classmethod
    def from_meta(cls, raw: Any) -> Precision:
        """The policy a checkpoint's meta names; fp32 for files without one."""
        if not isinstance(raw, dict) or raw.get("name") != BF16:
            return cls()
        return cls(BF16, tuple(str(name) for name in raw.get("fp32_layers") or ()))


def autocast(model: nn.Module) -> AbstractContextManager:
    """The autocast region ``model``'s precision asks for (nothing for fp32)."""
    dtype = getattr(model, "compute_dtype", None)
    if dtype is None:
        return contextlib.nullcontext()
    device = next(model.parameters()).device.type
    return torch.autocast(device, dtype=dtype)


def has_bf16(device: torch.device) -> bool:
    """Whether ``device`` computes bf16 natively (emulated bf16 on a CPU is slower than fp32)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type != "cpu":
        return False
    flags = _cpu_flags()
    if flags is not None:
        return any(flag in flags for flag in BF16_CPU_FLAGS)
    return torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()


@lru_cache(maxsize=1)
def _cpu_flags() -> frozenset[str] | None:
    """The CPU's feature flags from /proc/cpuinfo (None elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            for line in info:
                key, _, value = line.partition(":")
                if key.strip() in ("flags", "Features"):
                    return frozenset(value.split())
    except OSError:
        return None
    return None


def for_prediction(meta: dict[str, Any], model: nn.Module, device: torch.device) -> Precision:
    """Apply the precision a checkpoint was evaluated in to ``model`` built from it and return it:
    fp32 where ``device`` has no native bf16; fp32 layers the model does not have are ignored."""
    precision = Precision.from_meta(meta.get("precision"))
    if precision.dtype is not None and not has_bf16(device):
        precision = Precision()
    modules = dict(model.named_modules())
    precision = Precision(precision.name, tuple(name for name in precision.fp32_layers if name in modules))
    precision.apply(model)
    return precision


def head_layers(model: nn.Module) -> tuple[str, ...]:
    """The modules with parameters inside the model's heads (``LTModel.heads``)."""
    names = []
    for head, module in model.heads().items():
        for sub, child in module.named_modules():
            if next(child.parameters(recurse=False), None) is not None:
                names.append(f"{head}.{sub}" if sub else head)
    return tuple(names)


def resolve(requested: str, fp32_layers: list[str] | None, model: nn.Module, device: torch.device,
            batch_size: int, image_size: int, report: Callable[[str], None] = lambda text: None) -> Precision:
    """The policy a run uses for the setting ``requested`` (auto, fp32, bf16) on ``device``."""
    if requested == FP32 or (requested == AUTO and not has_bf16(device)):
        return Precision()
    if fp32_layers is not None and requested == BF16:
        return Precision(BF16, tuple(fp32_layers))
    heads = head_layers(model)
    if device.type != "cpu":  # CUDA: cuDNN's bf16 kernels are not probed; only the heads stay fp32
        return Precision(BF16, tuple(fp32_layers) if fp32_layers is not None else heads)
    from engine.precision_probe import conv_shapes, kernel_times, probe_batch

    shapes = conv_shapes(model, image_size, probe_batch(batch_size, image_size), device)
    times = kernel_times(set(shapes.values()), torch.get_num_threads(), report)
    slow = tuple(name for name, shape in shapes.items() if times[shape].bf16 >= times[shape].fp32)
    if requested == AUTO:
        fp32_total = sum(times[shape].fp32 for shape in shapes.values())
        mixed_total = sum(min(times[shape].fp32, times[shape].bf16) for shape in shapes.values())
        if mixed_total > AUTO_GAIN * fp32_total:
            report(f"precision auto: fp32 (bf16 convolutions measured {fp32_total / mixed_total:.2f}x as fast "
                   f"on this machine, below the {1 / AUTO_GAIN:.2f}x that pays)")
            return Precision()
    return Precision(BF16, tuple(fp32_layers) if fp32_layers is not None else heads + slow)
