"""The GPU check of issue 23, prepared for a lent device: one command, one table.

1. **The protocol**: the 200-epoch CIFAR-100-LT LDAM-DRW run (ResNet-32, batch 128, SGD, DRW at
   epoch 160; the ``cifar100-ldam-drw`` preset) through ``engine.trainer.train`` with every
   per-epoch cost (evaluation, history, checkpoints), on generated CIFAR-size data: random uint8
   32×32 images with the CIFAR-100-LT class counts (10,847 training images, ratio 100) and a
   balanced 10,000-image test split (image content does not change the speed). Eager for
   ``--eager-epochs`` epochs (extrapolated to the protocol), then compiled (``RunConfig.compile``:
   forward and backward in CUDA graphs, ``engine.speed``) for all ``--epochs``.
   Target: the compiled protocol in ≤ 30 s wall.
2. **The paired bench** (``tools/paired_bench.py``) on the device, ours compiled, against the
   conventional PIL + DataLoader pipelines, with and without 4 loader workers.
   Target: ≥ 10× the 4-worker pipeline.

Usage::

    python tools/gpu_check.py                  # on a CUDA machine: ~5 minutes
    python tools/gpu_check.py --smoke          # anywhere, seconds: the harness itself (tests/test_gpu_check.py)

On a CPU (``--smoke``) the compiled rows are skipped (no CUDA graphs there; compiling on the CPU
takes minutes for no gain, docs/benchmarks.md) and the data and the runs are tiny.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402

from data.cifar import CIFAR_MEAN, CIFAR_STD, long_tail_counts  # noqa: E402
from data.types import LTDataset  # noqa: E402
from engine.devices import describe_device, pick_device  # noqa: E402
from engine.events import EpochEnd, Message  # noqa: E402
from engine.presets import preset  # noqa: E402
from engine.trainer import train  # noqa: E402
from tools.paired_bench import GPU_TARGET, run_paired, speedup  # noqa: E402

PROTOCOL_EPOCHS = 200
PROTOCOL_TARGET_S = 30.0


@dataclass(frozen=True)
class Scale:
    """The size of the check: the real protocol, or the smoke test's."""

    classes: int
    img_max: int
    ratio: float
    test_per_class: int
    arch: str
    bench: dict


FULL = Scale(100, 500, 100.0, 100, "resnet32", {"batches": 4, "batch_size": 128, "test_images": 2048})
SMOKE = Scale(10, 20, 10.0, 2, "resnet20", {"batches": 1, "batch_size": 100, "test_images": 24, "rounds": 2})


def generated_cifar_lt(scale: Scale, seed: int = 0) -> LTDataset:
    """Random CIFAR-size uint8 images with the CIFAR-100-LT (ratio 100, exp) class counts."""
    counts = long_tail_counts(scale.img_max, scale.classes, "exp", scale.ratio)
    generator = torch.Generator().manual_seed(seed)
    train_labels = torch.cat([torch.full((n,), c) for c, n in enumerate(counts)])
    test_labels = torch.arange(scale.classes).repeat_interleave(scale.test_per_class)
    images = lambda n: torch.randint(0, 256, (n, 3, 32, 32), generator=generator, dtype=torch.uint8)  # noqa: E731
    return LTDataset("generated-cifar100-lt", [f"class {c}" for c in range(scale.classes)],
                     images(len(train_labels)), train_labels, images(len(test_labels)), test_labels,
                     CIFAR_MEAN, CIFAR_STD)


@dataclass
class ProtocolTime:
    epochs: int
    wall: float
    first_epoch: float
    per_epoch: float  # median of the epochs after the first
    precision: str

    def extrapolated(self, epochs: int = PROTOCOL_EPOCHS) -> float:
        return self.first_epoch + self.per_epoch * (epochs - 1)


def time_protocol(dataset: LTDataset, device: str, epochs: int, compile: bool, arch: str) -> ProtocolTime:
    """Wall time of the LDAM-DRW preset for ``epochs`` epochs (its schedule scaled to them)."""
    config = preset("cifar100-ldam-drw")
    config.model.arch, config.optim.epochs, config.device, config.compile = arch, epochs, device, compile
    config.optim.warmup_epochs = min(config.optim.warmup_epochs, epochs - 1)  # a shortened run keeps what fits
    seconds, precision = [], ["fp32"]

    def on_event(event) -> None:
        if isinstance(event, EpochEnd):
            seconds.append(event.seconds)
        elif isinstance(event, Message) and event.text.startswith("precision: "):
            precision[0] = event.text.removeprefix("precision: ")

    with tempfile.TemporaryDirectory() as runs:
        config.runs_dir = runs
        started = time.perf_counter()
        train(config, on_event=on_event, dataset=dataset)
        wall = time.perf_counter() - started
    rest = seconds[1:] or seconds
    return ProtocolTime(epochs, wall, seconds[0], statistics.median(rest), precision[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny data and runs, any device (the harness only)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--epochs", type=int, default=PROTOCOL_EPOCHS, help="compiled protocol epochs (default 200)")
    parser.add_argument("--eager-epochs", type=int, default=10, help="eager epochs, extrapolated to 200 (default 10)")
    parser.add_argument("--bench-rounds", type=int, default=15)
    args = parser.parse_args(argv)
    scale = SMOKE if args.smoke else FULL
    device = pick_device(args.device)
    graphs = device.type == "cuda"
    epochs, eager_epochs = (1, 2) if args.smoke else (args.epochs, args.eager_epochs)
    dataset = generated_cifar_lt(scale)
    print(f"gpu check on {describe_device(device)}, torch {torch.__version__}; {dataset.describe()}", flush=True)

    eager = time_protocol(dataset, str(device), eager_epochs, False, scale.arch)
    compiled = time_protocol(dataset, str(device), epochs, True, scale.arch) if graphs else None
    bench = run_paired(device=str(device), arch=scale.arch, compile=graphs,
                       **{"rounds": args.bench_rounds, **scale.bench})

    rows = [("precision (ours)", eager.precision, ""),
            (f"protocol eager: s/epoch (median of {eager.epochs})", f"{eager.per_epoch:.3f}", ""),
            (f"protocol eager: {PROTOCOL_EPOCHS} epochs, extrapolated", f"{eager.extrapolated():.1f} s", "")]
    if compiled is None:
        rows.append(("protocol compiled (CUDA graphs)", "skipped: not a CUDA device", ""))
    else:
        verdict = "met" if compiled.wall <= PROTOCOL_TARGET_S else "NOT met"
        rows += [("protocol compiled: first epoch (compiling)", f"{compiled.first_epoch:.1f} s", ""),
                 (f"protocol compiled: s/epoch (median of {compiled.epochs - 1})", f"{compiled.per_epoch:.3f}", ""),
                 (f"protocol compiled: {compiled.epochs} epochs, wall", f"{compiled.wall:.1f} s",
                  f"<= {PROTOCOL_TARGET_S:g} s: {verdict}" if compiled.epochs == PROTOCOL_EPOCHS else "")]
    ours = bench.side("ours")
    for base in bench.baselines:
        result = speedup(base.total, ours.total)
        target = f">= {GPU_TARGET:g}x: {'met' if result.median_of_ratios >= GPU_TARGET else 'NOT met'}" \
            if base.side.endswith("-w4") else ""
        rows.append((f"bench vs {base.side} (total, {result.rounds} rounds)", result.describe(), target))
    width = max(len(row[0]) for row in rows)
    value_width = max(len(row[1]) for row in rows)
    print(f"{'measurement'.ljust(width)} | {'value'.ljust(value_width)} | target")
    print(f"{'-' * width}-|-{'-' * value_width}-|-------")
    for name, value, target in rows:
        print(f"{name.ljust(width)} | {value.ljust(value_width)} | {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
