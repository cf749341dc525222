"""The collectives a run of several processes needs, each the identity with one process.

They act on the default process group (``engine.distributed.world``), as the official code's
``concat_all_gather`` does (PaCo, ``moco/builder.py``), so a method calls them without knowing
how many processes there are. Every rank must call each of them, in the same order.

- :func:`sum_over_ranks`: an in-place SUM of a tensor (exact counts: confusion cells, losses).
- :func:`gather_rows`: every rank's rows, in rank order, without gradient (PaCo's keys for its
  queue, the plug-in's cached features). gloo refuses an ``all_gather`` of tensors of different
  lengths, so each rank pads its rows to the longest and the padding is cut off again.
- :func:`gather_rows_with_grad`: the same with a gradient (the batch statistics of GML and LADE
  over the global batch). Its backward sums the gathered gradient over the ranks and keeps this
  rank's rows (a reduce-scatter): when every rank computes the same global loss L, a rank's
  rows get W·∂L/∂x, and DDP's average over W ranks gives exactly ∂L/∂θ of one process on the
  global batch. Loss weights that sum to W over the ranks keep that true (``engine.loop``).
- :func:`broadcast_object`: rank 0's object on every rank (:func:`from_rank_zero`: what rank 0 alone can make, such as the checkpoint it recovered
  from its run folder), :func:`broadcast_state`: rank 0's tensors of a module on every rank.

NCCL moves only GPU tensors: values are sent from the collective's device and come back on the
caller's.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import torch
import torch.distributed as dist
from torch import nn

T = TypeVar("T")


def active() -> bool:
    """Whether this process is one of several in a process group."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def _wire() -> torch.device:
    """Where the backend's tensors must be: the current GPU for NCCL, the CPU for gloo."""
    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")


def sum_over_ranks(tensor: torch.Tensor) -> torch.Tensor:
    """``tensor`` summed over every rank, in place; returned for chaining."""
    if not active():
        return tensor
    wire = _wire()
    if tensor.device == wire:
        dist.all_reduce(tensor)
        return tensor
    moved = tensor.to(wire)
    dist.all_reduce(moved)
    return tensor.copy_(moved)


def row_counts(rows: int) -> list[int]:
    """Every rank's number of rows, in rank order."""
    if not active():
        return [rows]
    counts = [torch.zeros(1, dtype=torch.int64, device=_wire()) for _ in range(dist.get_world_size())]
    dist.all_gather(counts, torch.tensor([rows], dtype=torch.int64, device=_wire()))
    return [int(count) for count in counts]


def _gather_padded(tensor: torch.Tensor, counts: list[int]) -> torch.Tensor:
    """Every rank's ``tensor`` (rows ``counts[r]``) concatenated in rank order, through the wire."""
    longest = max(counts)
    wire = _wire()
    padded = torch.zeros((longest, *tensor.shape[1:]), dtype=tensor.dtype, device=wire)
    padded[:tensor.shape[0]] = tensor.detach().to(wire)
    pieces = [torch.empty_like(padded) for _ in counts]
    dist.all_gather(pieces, padded)
    return torch.cat([piece[:count] for piece, count in zip(pieces, counts)]).to(tensor.device)


@torch.no_grad()
def gather_rows(tensor: torch.Tensor) -> torch.Tensor:
    """Every rank's rows of ``tensor`` (any lengths), in rank order, without gradient."""
    if not active():
        return tensor
    return _gather_padded(tensor, row_counts(tensor.shape[0]))


class _GatherRows(torch.autograd.Function):
    @staticmethod
    def forward(ctx, tensor: torch.Tensor) -> torch.Tensor:
        counts = row_counts(tensor.shape[0])
        rank = dist.get_rank()
        ctx.rows = (sum(counts[:rank]), counts[rank])
        return _gather_padded(tensor, counts)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        grad = sum_over_ranks(grad.contiguous().clone())
        start, rows = ctx.rows
        return grad[start:start + rows]


def gather_rows_with_grad(tensor: torch.Tensor) -> torch.Tensor:
    """Every rank's rows of ``tensor``, in rank order, with a gradient back to this rank's rows."""
    if not active():
        return tensor
    return _GatherRows.apply(tensor)


def from_rank_zero(make: Callable[[], T]) -> T:
    """``make()`` run on rank 0 alone (it reads the run folder), its value on every rank."""
    if not active():
        return make()
    return broadcast_object(make() if dist.get_rank() == 0 else None)


def broadcast_object(value: Any) -> Any:
    """Rank 0's ``value`` on every rank (pickled; for small state such as a resume state)."""
    if not active():
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0, device=_wire())
    return box[0]


@torch.no_grad()
def broadcast_state(module: nn.Module) -> None:
    """Rank 0's parameters and buffers in ``module`` on every rank."""
    if not active():
        return
    wire = _wire()
    for tensor in module.state_dict(keep_vars=True).values():
        if tensor.device == wire:
            dist.broadcast(tensor.data, src=0)
        else:
            moved = tensor.data.to(wire)
            dist.broadcast(moved, src=0)
            tensor.data.copy_(moved)
