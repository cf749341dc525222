"""Which convolutions train faster in bf16 than in fp32 on this CPU: measured once, then cached.

For each distinct convolution of a model (channels, kernel, stride, padding, groups, input size,
batch, whether its input needs a gradient) one forward + backward step in fp32 and one under bf16
autocast, interleaved in short blocks after a warm-up; the mean time per step of each (a kernel
that stalls now and then counts), over 2 rounds when one side is twice as fast, else 5. With more than one thread the measurement runs **beside busy
neighbours** (spinning processes, one more than the CPUs the run leaves free), so a kernel that
collapses when another program takes a core is found on a quiet machine too: on the development
machine oneDNN's bf16 backward-weights kernel of the stride-2 convolutions takes 100–130 ms
beside one busy process against 15–25 ms in fp32, while alone it is faster than fp32.

Results are cached in ``<workspace>/cache/conv-kernels.json`` under a key naming the machine (CPU
model, PyTorch's CPU capability, the PyTorch version and the thread count), so the policy a run
chooses is the same at every start whatever the load then; delete the file to measure again.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import platform
import queue
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import astuple, dataclass
from datetime import datetime, timezone
from pathlib import Path

import torch
from torch import nn

from engine.cpu_policy import busy_neighbour, usable_cpus

CACHE_FILE = "conv-kernels.json"
WARM_UP_STEPS = 1
MIN_ROUNDS, MAX_ROUNDS = 2, 5
STEPS_PER_BLOCK = 2
CLEAR_RATIO = 2.0  # after MIN_ROUNDS, one side this much faster ends the measurement of a shape
PROBE_PIXELS = 128 * 32 * 32  # a CIFAR batch: larger images are measured on fewer of them


@dataclass(frozen=True)
class ConvShape:
    """A convolution as its kernels see it during a training step."""

    in_channels: int
    out_channels: int
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: str
    dilation: tuple[int, int]
    groups: int
    bias: bool
    height: int
    width: int
    batch: int
    input_grad: bool  # False for the first layer: its input (the images) needs no gradient

    def key(self) -> str:
        return " ".join(str(value) for value in astuple(self))

    def layer(self) -> nn.Conv2d:
        return nn.Conv2d(self.in_channels, self.out_channels, self.kernel, self.stride,
                         _padding(self.padding), self.dilation, self.groups, self.bias)


@dataclass(frozen=True)
class KernelTimes:
    """Seconds per training step of one convolution in fp32 and under bf16 autocast."""

    fp32: float
    bf16: float


def _padding(text: str) -> str | tuple[int, ...]:
    return text if text in ("same", "valid") else tuple(int(v) for v in text.strip("()").split(",") if v.strip())


def probe_batch(batch_size: int, image_size: int) -> int:
    """The batch the probe measures at: the run's, at most a CIFAR batch's pixels (at least 2 images),
    so a 224-pixel model is measured in seconds, not minutes."""
    return max(2, min(batch_size, PROBE_PIXELS // (image_size * image_size)))


def conv_shapes(model: nn.Module, image_size: int, batch_size: int, device: torch.device) -> dict[str, ConvShape]:
    """Every ``nn.Conv2d`` the model's forward pass runs, by module name, at ``batch_size``."""
    shapes: dict[str, ConvShape] = {}

    def recorder(name: str):
        def hook(conv: nn.Conv2d, inputs: tuple[torch.Tensor, ...], _output) -> None:
            x = inputs[0]
            shapes[name] = ConvShape(conv.in_channels, conv.out_channels, tuple(conv.kernel_size), tuple(conv.stride),
                                     str(conv.padding), tuple(conv.dilation), conv.groups, conv.bias is not None,
                                     int(x.shape[-2]), int(x.shape[-1]), batch_size, bool(x.requires_grad))
        return hook

    handles = [module.register_forward_hook(recorder(name)) for name, module in model.named_modules()
               if isinstance(module, nn.Conv2d)]
    was_training = model.training
    try:
        model.eval()
        with torch.enable_grad():
            model(torch.zeros(2, 3, image_size, image_size, device=device).contiguous(memory_format=torch.channels_last))
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    return shapes


def machine_key(threads: int) -> str:
    return (f"{_cpu_model()} | {torch.backends.cpu.get_cpu_capability()} | torch {torch.__version__} | "
            f"{threads} threads")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            for line in info:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def kernel_times(shapes: Iterable[ConvShape], threads: int, report: Callable[[str], None] = lambda text: None,
                 cache: Path | None = None) -> dict[ConvShape, KernelTimes]:
    """fp32 and bf16 step times of every shape on the CPU: from the cache, measuring what it lacks
    (a workspace that cannot hold the cache: measured, said, and measured again next time)."""
    cache = cache or _workspace_cache()
    stored = _read(cache) if cache else {}
    machine = machine_key(threads)
    known = stored.setdefault(machine, {})
    missing = sorted({shape for shape in shapes if not _valid(known.get(shape.key()))}, key=ConvShape.key)
    if missing:
        report(f"measuring {len(missing)} convolution shape(s) in fp32 and bf16 on this machine, once "
               f"(cached in {cache or 'nowhere: the workspace cannot hold it'})")
        started = time.perf_counter()
        measured = measure(missing, threads)
        stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
        for shape, times in measured.items():
            known[shape.key()] = {"fp32_ms": 1000 * times.fp32, "bf16_ms": 1000 * times.bf16,
                                  "measured": stamp, "load": load}
        if cache is not None:
            try:
                _write(cache, stored)
            except OSError as error:
                report(f"the measurement could not be cached in {cache} ({error.strerror or error})")
        report(f"measured in {time.perf_counter() - started:.1f}s")
    return {shape: KernelTimes(known[shape.key()]["fp32_ms"] / 1000, known[shape.key()]["bf16_ms"] / 1000)
            for shape in shapes}


def _workspace_cache() -> Path | None:
    from engine.workspace import WorkspaceError, cache_dir

    try:
        return cache_dir() / CACHE_FILE
    except WorkspaceError:
        return None


def measure(shapes: Iterable[ConvShape], threads: int) -> dict[ConvShape, KernelTimes]:
    """Time every shape's training step in fp32 and bf16, beside busy neighbours when threaded."""
    neighbours = usable_cpus() - threads + 1 if threads > 1 else 0
    with busy_neighbours(neighbours):
        return {shape: _time_shape(shape) for shape in shapes}


def _time_shape(shape: ConvShape) -> KernelTimes:
    generator = torch.Generator().manual_seed(0)
    conv = shape.layer().to(memory_format=torch.channels_last)
    x = torch.randn(shape.batch, shape.in_channels, shape.height, shape.width, generator=generator)
    x = x.contiguous(memory_format=torch.channels_last).requires_grad_(shape.input_grad)

    def step(dtype: torch.dtype | None) -> None:
        conv.weight.grad = None
        x.grad = None
        with torch.autocast("cpu", dtype=dtype or torch.float32, enabled=dtype is not None):
            y = conv(x)
        y.backward(torch.ones_like(y))

    dtypes = {"fp32": None, "bf16": torch.bfloat16}
    for dtype in dtypes.values():
        for _ in range(WARM_UP_STEPS):
            step(dtype)
    seconds: dict[str, list[float]] = {name: [] for name in dtypes}
    for round_ in range(MAX_ROUNDS):
        for name in (list(dtypes) if round_ % 2 == 0 else list(reversed(dtypes))):
            started = time.perf_counter()
            for _ in range(STEPS_PER_BLOCK):
                step(dtypes[name])
            seconds[name].append((time.perf_counter() - started) / STEPS_PER_BLOCK)
        times = KernelTimes(*(sum(values) / len(values) for values in seconds.values()))
        if round_ + 1 >= MIN_ROUNDS and max(times.fp32 / times.bf16, times.bf16 / times.fp32) >= CLEAR_RATIO:
            break
    return times


@contextmanager
def busy_neighbours(count: int) -> Iterator[list[int]]:
    """``count`` processes keeping a CPU busy each, spinning before the block starts (yields their pids)."""
    processes: list = []
    try:
        for _ in range(max(0, count)):
            processes.append(_start_neighbour())
        for process in processes:
            _wait_spinning(process)
    except (OSError, RuntimeError, queue.Empty):
        pass  # no neighbours here (a sandbox): measured as the machine is
    try:
        yield [process.pid for process in processes]
    finally:
        for process in processes:
            _stop(process)


def _start_neighbour():
    """A spinning Python: a plain interpreter from source; the bundle's own (spawned) when frozen."""
    if not getattr(sys, "frozen", False):
        return subprocess.Popen([sys.executable, "-c", "print(flush=True)\nwhile True: pass"],
                                stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    context = multiprocessing.get_context("spawn")
    started = context.Queue()
    process = context.Process(target=busy_neighbour, args=(started,), daemon=True)
    process.start()
    process.started = started
    return process


def _wait_spinning(process) -> None:
    if isinstance(process, subprocess.Popen):
        process.stdout.readline()
    else:
        process.started.get(timeout=60)


def _stop(process) -> None:
    process.kill()
    if isinstance(process, subprocess.Popen):
        process.wait()
        process.stdout.close()
    else:
        process.join(timeout=5)


def _valid(entry: object) -> bool:
    return isinstance(entry, dict) and all(isinstance(entry.get(key), (int, float)) and entry[key] > 0
                                           for key in ("fp32_ms", "bf16_ms"))


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # missing or damaged: measured again
    return data if isinstance(data, dict) and all(isinstance(v, dict) for v in data.values()) else {}


def _write(path: Path, data: dict) -> None:
    part = path.with_name(path.name + ".part")
    part.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(part, path)
