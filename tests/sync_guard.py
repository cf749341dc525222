"""A CPU stand-in for CUDA's sync-debug mode: inside ``forbid_host_sync()`` every Python-level call
that makes the host wait for the device raises ``HostSync``.

Guarded: reading a value (``item``, ``tolist``, ``numpy``, ``bool``/``int``/``float`` of a tensor,
so also ``if tensor:``), copies to the CPU (``cpu()``; ``to("cpu")`` from another device), and the ops whose output
shape depends on the data (``bincount``, ``nonzero``, ``unique``, ``masked_select``, indexing or
assigning with a boolean mask). On a GPU each of these stalls the launch queue; on the CPU they
cost nothing, which is why a test has to look for them. Calls from C++ inside torch are not
seen; where a GPU is lent, ``torch.cuda.set_sync_debug_mode("error")`` sees those too.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


class HostSync(AssertionError):
    """A call that waits for the device happened where none may."""


_suspended = [0]  # > 0 inside allow_host_sync()


def _refuse(name: str, original):
    def refuse(*args, **kwargs):
        if _suspended[0]:
            return original(*args, **kwargs)
        raise HostSync(f"{name} makes the host wait for the device")
    return refuse


@contextmanager
def allow_host_sync() -> Iterator[None]:
    """Lift the guard for work that is host-side by design (e.g. a draw from a CPU generator)."""
    _suspended[0] += 1
    try:
        yield
    finally:
        _suspended[0] -= 1


def _is_mask(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(item, torch.Tensor) and item.dtype == torch.bool for item in items)


def _to_cpu(args, kwargs) -> bool:
    targets = list(args[:1]) + [kwargs.get("device")]
    return any((isinstance(t, str) and t.startswith("cpu")) or (isinstance(t, torch.device) and t.type == "cpu")
               for t in targets)


@contextmanager
def forbid_host_sync() -> Iterator[None]:
    tensor_methods = ["item", "tolist", "numpy", "cpu", "__bool__", "__int__", "__float__", "nonzero", "unique",
                      "masked_select", "bincount"]
    functions = ["bincount", "nonzero", "unique", "masked_select", "argwhere"]
    saved_methods = {name: getattr(torch.Tensor, name) for name in tensor_methods}
    saved_functions = {name: getattr(torch, name) for name in functions}
    getitem, setitem, to = torch.Tensor.__getitem__, torch.Tensor.__setitem__, torch.Tensor.to

    def guarded_getitem(self, index):
        if _is_mask(index) and not _suspended[0]:
            raise HostSync("indexing with a boolean mask makes the host wait for the device")
        return getitem(self, index)

    def guarded_setitem(self, index, value):
        if _is_mask(index) and not _suspended[0]:
            raise HostSync("assigning through a boolean mask makes the host wait for the device")
        return setitem(self, index, value)

    def guarded_to(self, *args, **kwargs):
        if self.device.type != "cpu" and _to_cpu(args, kwargs) and not _suspended[0]:
            raise HostSync("to('cpu') makes the host wait for the device")
        return to(self, *args, **kwargs)

    try:
        for name in tensor_methods:
            setattr(torch.Tensor, name, _refuse(f"Tensor.{name}", saved_methods[name]))
        for name in functions:
            setattr(torch, name, _refuse(f"torch.{name}", saved_functions[name]))
        torch.Tensor.__getitem__, torch.Tensor.__setitem__, torch.Tensor.to = guarded_getitem, guarded_setitem, guarded_to
        yield
    finally:
        for name, method in saved_methods.items():
            setattr(torch.Tensor, name, method)
        for name, function in saved_functions.items():
            setattr(torch, name, function)
        torch.Tensor.__getitem__, torch.Tensor.__setitem__, torch.Tensor.to = getitem, setitem, to
