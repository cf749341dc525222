"""Which process of a run this is, and joining the run's process group.

``torchrun`` (also under ``main.py train --nproc N`` and in a sweep cell that asks for N GPUs)
starts one process per device and tells each, in its environment, ``RANK`` (its place among all
processes), ``LOCAL_RANK`` (its place on this machine, which picks its GPU) and ``WORLD_SIZE``.
A process that finds ``WORLD_SIZE`` above 1 joins the default process group with
``init_process_group`` (``env://``: ``MASTER_ADDR`` / ``MASTER_PORT`` come from torchrun), unless
something else (Ray) already did:

- backend **NCCL** when the process trains on a CUDA GPU and PyTorch has NCCL (Linux), else
  **gloo** (the CPU, and Windows, which has no NCCL);
- an explicit **timeout** on every collective (``RunConfig.collective_timeout``): a rank that
  hangs (a stuck file system, a deadlocked loader) ends the run after it instead of after
  PyTorch's 10 (NCCL) or 30 (gloo) minutes. A rank that *dies* is noticed sooner: torchrun
  sends SIGTERM to the others within a tenth of a second, and gloo reports a closed peer at the
  next collective;
- a **SIGTERM handler** that raises :class:`Terminated`, so the ``finally`` blocks of a rank
  that torchrun ends (the writer's run-folder lock above all) run: a worker gets Python's
  default action otherwise, which ends it without them (PyTorch's elastic agent installs its
  handler in the agent, not in the workers).

With one process nothing is joined and :data:`SOLO` describes it.
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

from data.sources import mix_seed
from engine.devices import pick_device
from errors import UserError


@dataclass(frozen=True)
class World:
    """This process's place in its run: ``rank`` of ``size`` processes, ``local_rank`` on its machine."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    backend: str = ""

    @property
    def distributed(self) -> bool:
        return self.size > 1

    @property
    def writer(self) -> bool:
        """Rank 0 owns the run folder, its lock, the checkpoints, the CSVs and the events."""
        return self.rank == 0

    def share(self, total: int) -> torch.Tensor:
        """This rank's contiguous share of positions ``0 … total − 1`` (shares differ by at most one,
        rank order; all of them with one process): what it evaluates or extracts features of."""
        base, extra = divmod(total, self.size)
        start = self.rank * base + min(self.rank, extra)
        return torch.arange(start, start + base + (self.rank < extra))

    def describe(self) -> str:
        return f"{self.size} processes ({self.backend})" if self.distributed else "1 process"

    def record(self) -> dict[str, object]:
        """What a run folder keeps of it (config.json's "processes")."""
        return {"world_size": self.size, "backend": self.backend or "none"}


SOLO = World()


class Terminated(SystemExit):
    """torchrun (or a user) sent SIGTERM: another rank failed, or the run was ended."""

    def __init__(self) -> None:
        super().__init__(128 + signal.SIGTERM)


def rank_seed(seed: int, rank: int) -> int:
    """The seed of rank ``rank``'s own random stream (augmentation): ``seed`` itself on rank 0, so
    one process draws what it always drew; a well-spread other seed on each other rank."""
    return seed if rank == 0 else mix_seed(seed, rank)


def launched_size() -> int:
    """``WORLD_SIZE`` as the launcher set it (1 when no launcher did)."""
    try:
        return max(1, int(os.environ.get("WORLD_SIZE", "1")))
    except ValueError:
        raise UserError(f"WORLD_SIZE={os.environ['WORLD_SIZE']!r} is not a number of processes") from None


def current_world() -> World:
    """The world of the default process group, or :data:`SOLO` outside one."""
    if not (dist.is_available() and dist.is_initialized()):
        return SOLO
    return World(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")), dist.get_backend())


def rank_device(setting: str, local_rank: int) -> torch.device:
    """The device of the process ``local_rank`` of a run of several: its own GPU, or the CPU."""
    if setting == "cpu" or (setting == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise UserError(f"device {setting!r} was asked for, but this machine has no usable CUDA GPU; use auto or cpu")
    if local_rank >= torch.cuda.device_count():
        raise UserError(f"process {local_rank} on this machine has no GPU of its own ({torch.cuda.device_count()} "
                        "visible); start at most one process per GPU")
    return torch.device("cuda", local_rank)


@contextlib.contextmanager
def joined(device_setting: str, timeout_s: float) -> Iterator[tuple[World, torch.device]]:
    """``(world, device)`` of this process for the block: with ``WORLD_SIZE`` above 1 it joins the
    process group (and leaves it afterwards, when it was the one that joined) and ends on SIGTERM
    by raising :class:`Terminated`; else :data:`SOLO` and ``pick_device(device_setting)``."""
    if launched_size() <= 1 and not dist.is_initialized():
        yield SOLO, pick_device(device_setting)
        return
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = rank_device(device_setting, local_rank)
    joined_here = not dist.is_initialized()
    if joined_here:
        if device.type == "cuda":
            torch.cuda.set_device(device)
        backend = "nccl" if device.type == "cuda" and dist.is_nccl_available() else "gloo"
        dist.init_process_group(backend, timeout=timedelta(seconds=timeout_s),
                                device_id=device if backend == "nccl" else None)
    with _ending_on_sigterm():
        try:
            yield current_world(), device
        finally:
            if joined_here:
                dist.destroy_process_group()


@contextlib.contextmanager
def _ending_on_sigterm() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return

    def terminate(_signum, _frame) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
