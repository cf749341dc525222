"""The model a training step calls in a run of several processes: DistributedDataParallel.

``DistributedDataParallel`` (DDP) all-reduces the gradients during the backward pass (bucketed,
overlapped with it) and, before each forward, broadcasts rank 0's buffers (BatchNorm statistics,
PaCo's queue) to the other ranks. It only sees what goes through its ``forward``, but a method's
step also calls the model's other computing methods (``classify`` on cached features, RIDE's
``router_logits``): those a family lists in ``LTModel.step_calls``. So DDP wraps a small module
whose forward is "call this method of the model", and :class:`ReplicatedModel` sends ``model(x)``
and every step call through it; anything else (PaCo's ``keys`` and ``enqueue``, attributes) is
the model's own. The wrapped module is the model itself: its state dict, checkpoints and hooks
are unchanged.

``find_unused_parameters`` is on, as in PaCo's official ``paco_lt.py``: a step may leave
trainable parameters without a gradient (RIDE's routers while the experts train), which DDP
must be told about or it waits for them. A step therefore makes at most one call with
gradient through DDP (every method's step does).

The trainable parameters change between stages, so the loop wraps the model again at each
stage start (DDP broadcasts rank 0's parameters and buffers then, so every rank starts the stage
equal). SyncBatchNorm (``RunConfig.sync_batchnorm``) converts the model's BatchNorm layers once;
it runs on GPUs only (PyTorch refuses it on the CPU).
"""
from __future__ import annotations

import functools
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from engine.config import ConfigError
from models import LTModel


class _Calls(nn.Module):
    """What DDP wraps: ``forward(call, *args)`` is ``model.<call>(*args)``."""

    def __init__(self, model: LTModel):
        super().__init__()
        self.model = model

    def forward(self, call: str, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.model, call)(*args, **kwargs)


class ReplicatedModel:
    """``model`` under DDP for a training step (see the module docstring)."""

    def __init__(self, model: LTModel, device: torch.device):
        self._model = model
        self._ddp = DistributedDataParallel(_Calls(model), device_ids=[device] if device.type == "cuda" else None,
                                            find_unused_parameters=True)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._ddp("forward", *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name in self._model.step_calls:
            return functools.partial(self._ddp, name)
        return getattr(self._model, name)


def sync_batchnorm(model: LTModel, device: torch.device) -> str:
    """Turn the model's BatchNorm layers into SyncBatchNorm (statistics over the global batch);
    the note to log. GPUs only."""
    if device.type != "cuda":
        raise ConfigError("sync_batchnorm", "SyncBatchNorm runs on GPUs only (PyTorch refuses it on the CPU); "
                                            "turn it off, and every process normalises its own share of the batch")
    count = sum(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())
    for name, child in list(model.named_children()):
        setattr(model, name, nn.SyncBatchNorm.convert_sync_batchnorm(child))
    return f"SyncBatchNorm: {count} BatchNorm layers normalise over the global batch"
