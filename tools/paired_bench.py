"""The paired bench behind ``main.py bench``: the project's training loop against the conventional
pipeline, paired. Measurement code: it lives in ``tools/`` and is not shipped in the packaged app.

Every **round** does the same work on every side: ``batches`` ResNet training batches of
``batch_size`` CIFAR-sized images, then one evaluation pass over ``test_images`` images.

- **ours:** ``engine.trainer.train`` itself, one epoch per round, in this process: uint8
  tensors on the device, batched crop + flip, channels-last model, metrics accumulated on the
  device, BN-folded evaluation under ``inference_mode``.
- **baselines**, the way the seed and FBL / LDAM-DRW train: a Dataset that turns each uint8
  array into a PIL image and applies RandomCrop(32, 4) + RandomHorizontalFlip + ToTensor +
  Normalize, a fresh DataLoader iterator per epoch, plain SGD, evaluation in batches of the
  training size under ``no_grad``. ``pil-nchw`` is the seed's (NCHW, ``num_workers=0``);
  ``pil-cl`` the same with a channels-last model and inputs; on CUDA also both with 4 loader
  workers and pinned memory (the reference scripts' default).

The sides **alternate batch by batch in one process**: after every training batch of ours (the
trainer's progress event) each baseline trains one batch, and after every epoch (the trainer's
end-of-epoch event) each baseline evaluates, in an order that rotates. Baselines with loader
workers (CUDA) train whole epochs at that point instead, since their workers prefetch in the
background while anything else runs. So a busy neighbour slows the sides of one batch alike.
The first round warms every side up (imports, allocator, kernel choice, the precision probe of
``engine.precision_probe`` on a machine that has not measured yet) and is not counted.

**How certain it is.** The number of timed rounds follows the load at start (``rounds_for_load``:
10 on an idle machine, 15 when busy, 20 when the other programs keep every CPU busy). The
headline is the **median of the per-round ratios** (a round = one epoch: its batches and its
evaluation) against the strongest baseline, printed beside the **ratio of the median round
times** (the two disagree when a few rounds are far off), with a **bootstrap 95 % interval**
(rounds resampled with replacement, 10,000 times, a fixed seed) and "not significant" when that
interval contains 1. The machine's load before and after, the threads, the wait policy and our
side's precision are part of the report. Ours runs at the project's settings (``precision auto``:
bf16 with the slow layers in fp32 where the machine measured it faster); the baselines are the
fp32 pipelines a user would write.
"""
from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.nn import functional as F

from data.cifar import CIFAR_MEAN, CIFAR_STD
from data.types import LTDataset
from engine.devices import pick_device, warm_up

NUM_CLASSES = 100
CPU_TARGET, GPU_TARGET = 1.25, 10.0
OURS = "ours"
RESAMPLES = 10_000


@dataclass
class Rounds:
    """Seconds per round of one side: training and evaluation, one entry per timed round."""

    side: str
    description: str
    train: list[float] = field(default_factory=list)
    eval: list[float] = field(default_factory=list)

    @property
    def total(self) -> list[float]:
        return [t + e for t, e in zip(self.train, self.eval)]


@dataclass
class BenchResult:
    device: str
    threads: int
    cpus: int
    wait_policy: str
    load_before: float
    load_after: float
    train_images: int
    test_images: int
    sides: list[Rounds]
    precision: str = "fp32"  # ours (engine.precision); the baselines are fp32

    def side(self, name: str) -> Rounds:
        return next(s for s in self.sides if s.side == name)

    @property
    def baselines(self) -> list[Rounds]:
        return [s for s in self.sides if s.side != OURS]


def synthetic_arrays(batches: int, batch_size: int, test_images: int, seed: int = 0):
    """CIFAR-shaped uint8 HWC arrays and labels (content does not change the speed)."""
    rng = np.random.default_rng(seed)
    train_x = rng.integers(0, 256, size=(batches * batch_size, 32, 32, 3), dtype=np.uint8)
    test_x = rng.integers(0, 256, size=(test_images, 32, 32, 3), dtype=np.uint8)
    return (train_x, np.arange(len(train_x)) % NUM_CLASSES, test_x, np.arange(len(test_x)) % NUM_CLASSES)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Baseline:
    """The conventional pipeline: per-sample PIL transforms, a DataLoader, an eager model."""

    def __init__(self, arrays, batch_size: int, device: torch.device, arch: str,
                 channels_last: bool, workers: int):
        from PIL import Image
        from torch.utils.data import DataLoader, Dataset
        from torchvision import transforms

        from models import build_model

        class ArrayDataset(Dataset):
            def __init__(self, images, labels, transform):
                self.images, self.labels, self.transform = images, labels, transform

            def __len__(self) -> int:
                return len(self.images)

            def __getitem__(self, index):
                return self.transform(Image.fromarray(self.images[index])), int(self.labels[index])

        train_x, train_y, test_x, test_y = arrays
        normalise = transforms.Normalize(CIFAR_MEAN, CIFAR_STD)
        train_tf = transforms.Compose([transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip(),
                                       transforms.ToTensor(), normalise])
        test_tf = transforms.Compose([transforms.ToTensor(), normalise])
        self.device = device
        self.layout = torch.channels_last if channels_last else torch.contiguous_format
        torch.manual_seed(0)
        self.model = build_model(arch, NUM_CLASSES).to(device, memory_format=self.layout)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.1, momentum=0.9, weight_decay=2e-4)
        loader = {"batch_size": batch_size, "num_workers": workers, "pin_memory": workers > 0 and device.type == "cuda"}
        self.train_loader = DataLoader(ArrayDataset(train_x, train_y, train_tf), shuffle=True, **loader)
        self.test_loader = DataLoader(ArrayDataset(test_x, test_y, test_tf), **loader)
        self.workers, self._epoch = workers, None
        self.name = f"pil-{'cl' if channels_last else 'nchw'}" + (f"-w{workers}" if workers else "")
        self.description = (f"PIL crop+flip per sample, DataLoader num_workers={workers}"
                            + (" + pinned memory" if loader["pin_memory"] else "")
                            + f", {'channels-last' if channels_last else 'NCHW'} {arch}, SGD, "
                            f"eval batches of {batch_size} under no_grad")

    def _input(self, images: torch.Tensor) -> torch.Tensor:
        return images.to(self.device, non_blocking=True, memory_format=self.layout)

    def _train_on(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        self.model.train()
        loss = F.cross_entropy(self.model(self._input(images)).logits, labels.to(self.device, non_blocking=True))
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()

    def train_batch(self) -> None:
        """One batch from the running epoch (a fresh DataLoader iterator when it ends, as per epoch)."""
        batch = next(self._epoch, None) if self._epoch is not None else None
        if batch is None:
            self._epoch = iter(self.train_loader)
            batch = next(self._epoch)
        self._train_on(*batch)
        _sync(self.device)

    def train_epoch(self) -> None:
        for images, labels in self.train_loader:
            self._train_on(images, labels)
        _sync(self.device)

    def evaluate(self) -> int:
        self.model.eval()
        correct = 0
        with torch.no_grad():
            for images, labels in self.test_loader:
                correct += int((self.model(self._input(images)).logits.argmax(1).cpu() == labels).sum())
        return correct


def baseline_variants(device: torch.device) -> list[tuple[bool, int]]:
    """(channels_last, workers) of every baseline: NCHW and channels-last; on CUDA also 4 workers."""
    workers = (0, 4) if device.type == "cuda" else (0,)
    return [(layout, w) for w in workers for layout in (False, True)]


def rounds_for_load(cpus: int, busy: float) -> int:
    """Timed rounds for a machine whose other programs keep ``busy`` of its ``cpus`` CPUs busy."""
    from engine.cpu_policy import IDLE_BELOW

    return 10 if busy < IDLE_BELOW else 15 if busy < cpus else 20


def run_paired(batches: int = 4, batch_size: int = 128, test_images: int = 512, rounds: int | None = None,
               device: str = "auto", arch: str = "resnet32",
               on_round: Callable[[int, int], None] | None = None, compile: bool = False) -> BenchResult:
    """Alternate ours and every baseline for ``rounds`` timed rounds (None: ``rounds_for_load``)
    after one warm-up round; ``compile``: ours with ``RunConfig.compile`` (CUDA graphs on CUDA)."""
    from engine.cpu_policy import busy_cpus, usable_cpus
    from engine.config import DataConfig, ModelConfig, OptimConfig, RunConfig
    from engine.events import EpochEnd, Message, Progress
    from engine.trainer import train

    if rounds is None:
        rounds = rounds_for_load(usable_cpus(), busy_cpus(usable_cpus()))
    target = pick_device(device)
    warm_up(target)
    arrays = synthetic_arrays(batches, batch_size, test_images)
    train_x, train_y, test_x, test_y = arrays
    to_tensor = lambda a: torch.from_numpy(a).permute(0, 3, 1, 2).contiguous()  # noqa: E731
    dataset = LTDataset("bench", [str(i) for i in range(NUM_CLASSES)], to_tensor(train_x), torch.from_numpy(train_y),
                        to_tensor(test_x), torch.from_numpy(test_y), CIFAR_MEAN, CIFAR_STD)
    config = RunConfig(data=DataConfig(dataset="cifar100"), model=ModelConfig(arch=arch),
                       optim=OptimConfig(epochs=rounds + 1, batch_size=batch_size, warmup_epochs=0),
                       device=str(target), save_model=False, compile=compile)
    baselines = [Baseline(arrays, batch_size, target, arch, cl, w) for cl, w in baseline_variants(target)]
    ours = Rounds(OURS, f"engine.trainer.train, one epoch per round: uint8 tensors on the device, batched "
                        f"crop+flip, channels-last {arch}, fused SGD, on-device metrics, BN-folded eval under inference_mode"
                        + (", compiled (CUDA graphs on CUDA)" if compile else ""))
    pairs = [(b, Rounds(b.name, b.description)) for b in baselines]
    sides = [ours] + [record for _, record in pairs]
    clock = {"mark": 0.0, "train_end": 0.0}
    precision = ["fp32"]
    load_before = os.getloadavg()[0]

    def rotated(items: list, shift: int) -> list:
        shift %= max(len(items), 1)
        return items[shift:] + items[:shift]

    def on_event(event) -> None:
        if isinstance(event, Message) and event.text.startswith("precision: "):
            precision[0] = event.text.removeprefix("precision: ")
        if isinstance(event, Progress):  # ours did one batch: now one batch of each loader-less baseline
            _sync(target)
            now = time.perf_counter()
            timed = event.epoch > 1  # epoch 1 is the warm-up round
            if event.batch == 1 and timed:
                for record in sides:
                    record.train.append(0.0)
            if timed:
                ours.train[-1] += now - clock["mark"]
            for baseline, record in rotated([p for p in pairs if not p[0].workers], event.batch):
                started = time.perf_counter()
                baseline.train_batch()
                if timed:
                    record.train[-1] += time.perf_counter() - started
            clock["mark"] = clock["train_end"] = time.perf_counter()
        elif isinstance(event, EpochEnd):
            now = time.perf_counter()
            timed = event.epoch > 1
            if timed:
                ours.eval.append(now - clock["train_end"])
            for baseline, record in rotated(pairs, event.epoch):
                started = time.perf_counter()
                if baseline.workers:  # its workers prefetch in the background: whole epochs, not batches
                    baseline.train_epoch()
                    if timed:
                        record.train[-1] += time.perf_counter() - started
                    started = time.perf_counter()
                baseline.evaluate()
                if timed:
                    record.eval.append(time.perf_counter() - started)
            if on_round is not None:
                on_round(event.epoch, event.epochs)
            clock["mark"] = time.perf_counter()

    with tempfile.TemporaryDirectory() as runs:
        config.runs_dir = runs
        clock["mark"] = time.perf_counter()
        train(config, on_event=on_event, dataset=dataset)
    name = torch.cuda.get_device_name(target) if target.type == "cuda" else "cpu"
    return BenchResult(name, torch.get_num_threads(), os.cpu_count() or 1, os.environ.get("OMP_WAIT_POLICY", "unset"),
                       load_before, os.getloadavg()[0], batches * batch_size, test_images, sides, precision[0])


def ratio_summary(baseline: list[float], ours: list[float]) -> tuple[float, float, float, float, float]:
    """Per-round speed-ups baseline/ours: (median, lower quartile, upper quartile, min, max)."""
    ratios = sorted(b / o for b, o in zip(baseline, ours))
    if len(ratios) > 1:
        q1, _, q3 = statistics.quantiles(ratios, n=4, method="inclusive")
    else:
        q1 = q3 = ratios[0]
    return statistics.median(ratios), q1, q3, ratios[0], ratios[-1]


@dataclass(frozen=True)
class Speedup:
    """Ours against one baseline over the timed rounds: the median of the per-round ratios with its
    bootstrap 95 % interval, and the ratio of the two sides' median round times."""

    median_of_ratios: float
    low: float
    high: float
    ratio_of_medians: float
    rounds: int

    @property
    def significant(self) -> bool:
        return not self.low <= 1.0 <= self.high

    def describe(self) -> str:
        verdict = "" if self.significant else ", not significant"
        return (f"{self.median_of_ratios:.2f}x (95% CI {self.low:.2f}-{self.high:.2f}{verdict}; "
                f"ratio of medians {self.ratio_of_medians:.2f}x)")


def speedup(baseline: list[float], ours: list[float], resamples: int = RESAMPLES, seed: int = 0) -> Speedup:
    """Median of the per-round ratios baseline/ours, its percentile bootstrap 95 % interval (rounds
    resampled with replacement), and the ratio of the median round times."""
    ratios = np.asarray(baseline, dtype=float) / np.asarray(ours, dtype=float)
    picks = np.random.default_rng(seed).integers(0, len(ratios), size=(resamples, len(ratios)))
    low, high = np.percentile(np.median(ratios[picks], axis=1), [2.5, 97.5])
    return Speedup(float(np.median(ratios)), float(low), float(high),
                   statistics.median(baseline) / statistics.median(ours), len(ratios))


def strongest_baseline(result: BenchResult) -> Rounds:
    return min(result.baselines, key=lambda s: statistics.median(s.total))


def headline(result: BenchResult) -> tuple[Rounds, Speedup]:
    """The strongest baseline and ours' total speed-up against it."""
    strongest = strongest_baseline(result)
    return strongest, speedup(strongest.total, result.side(OURS).total)


def format_report(result: BenchResult) -> str:
    ours = result.side(OURS)
    target = CPU_TARGET if result.device == "cpu" else GPU_TARGET
    lines = [f"device: {result.device}; {result.cpus} CPUs, torch threads {result.threads}, "
             f"OMP_WAIT_POLICY={result.wait_policy}; ours in {result.precision}, the baselines in fp32",
             f"load average (1 min): {result.load_before:.2f} before, {result.load_after:.2f} after",
             f"each round: {result.train_images} training images, then {result.test_images} evaluated; "
             f"{len(ours.total)} timed rounds after 1 warm-up, the sides alternating batch by batch"]
    lines += [f"  {side.side:13} {side.description}" for side in result.sides]
    lines.append(f"{'medians':15}{'train img/s':>13}{'eval img/s':>13}{'round s':>10}")
    for side in result.sides:
        lines.append(f"  {side.side:13}{result.train_images / statistics.median(side.train):13.1f}"
                     f"{result.test_images / statistics.median(side.eval):13.1f}{statistics.median(side.total):10.2f}")
    lines.append("speed-up of ours, median of the per-round ratios [quartiles] (min-max):")
    for base in result.baselines:
        parts = []
        for label, mine, theirs in (("train", ours.train, base.train), ("eval", ours.eval, base.eval),
                                    ("total", ours.total, base.total)):
            median, q1, q3, low, high = ratio_summary(theirs, mine)
            parts.append(f"{label} {median:.2f}x [{q1:.2f}-{q3:.2f}] ({low:.2f}-{high:.2f})")
        lines.append(f"  vs {base.side:11} " + ", ".join(parts))
        lines.append(f"  {'':14} total {speedup(base.total, ours.total).describe()}")
    strongest, best = headline(result)
    verdict = "met" if best.median_of_ratios >= target else "NOT met"
    if best.median_of_ratios >= target > best.low:
        verdict += f", though the interval reaches down to {best.low:.2f}x"
    lines.append(f"headline: total {best.describe()} vs the strongest baseline ({strongest.side}), "
                 f"{best.rounds} rounds (target >= {target:g}x: {verdict})")
    return "\n".join(lines)
