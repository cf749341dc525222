"""``main.py bench``: the project's trainer against the conventional pipeline, on the same work.

The work: ``batches`` ResNet-32 training batches of ``batch_size`` CIFAR-sized images, then one
evaluation pass over ``test_images`` images.

- **ours:** ``engine.trainer.train`` for one epoch on a dataset of exactly that many images:
  uint8 tensors on the device, batched augmentation, BN-folded evaluation in large batches under
  ``inference_mode``.
- **baseline:** as the seed and FBL do it: a torchvision-style Dataset that turns each uint8
  array into a PIL image and applies RandomCrop(32, 4) + RandomHorizontalFlip + ToTensor +
  Normalize, a DataLoader with ``num_workers=0`` (the seed's default), evaluation in batches of
  the training size under ``no_grad``.

Each side runs in its own fresh process, in the same environment, after the same warm-up, so
neither warms caches or pays one-off imports for the other. Targets: ≥ 1.25× on a 2-core CPU,
≥ 10× on a GPU (where the per-sample PIL pipeline becomes the bottleneck).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch.nn import functional as F

from data.cifar import CIFAR_MEAN, CIFAR_STD
from data.types import LTDataset
from engine.devices import pick_device, warm_up

NUM_CLASSES = 100
CPU_TARGET, GPU_TARGET = 1.25, 10.0


@dataclass
class SideResult:
    side: str
    train_seconds: float
    eval_seconds: float
    train_images_per_s: float
    eval_images_per_s: float
    threads: int
    device: str

    @property
    def total_seconds(self) -> float:
        return self.train_seconds + self.eval_seconds


def synthetic_arrays(batches: int, batch_size: int, test_images: int, seed: int = 0):
    """CIFAR-shaped uint8 HWC arrays and labels (content does not change the speed)."""
    rng = np.random.default_rng(seed)
    train_x = rng.integers(0, 256, size=(batches * batch_size, 32, 32, 3), dtype=np.uint8)
    test_x = rng.integers(0, 256, size=(test_images, 32, 32, 3), dtype=np.uint8)
    return (train_x, np.arange(len(train_x)) % NUM_CLASSES, test_x, np.arange(len(test_x)) % NUM_CLASSES)


def run_ours(batches: int, batch_size: int, test_images: int, device: str) -> SideResult:
    from engine.config import DataConfig, ModelConfig, OptimConfig, RunConfig
    from engine.events import DatasetReady, EpochEnd, Progress
    from engine.trainer import train

    train_x, train_y, test_x, test_y = synthetic_arrays(batches, batch_size, test_images)
    to_tensor = lambda a: torch.from_numpy(a).permute(0, 3, 1, 2).contiguous()  # noqa: E731
    dataset = LTDataset("bench", [str(i) for i in range(NUM_CLASSES)], to_tensor(train_x), torch.from_numpy(train_y),
                        to_tensor(test_x), torch.from_numpy(test_y), CIFAR_MEAN, CIFAR_STD)
    config = RunConfig(data=DataConfig(dataset="cifar100"), model=ModelConfig(arch="resnet32"),
                       optim=OptimConfig(epochs=1, batch_size=batch_size, warmup_epochs=0), device=device,
                       save_model=False)
    marks: dict[str, float] = {}

    def on_event(event) -> None:
        if isinstance(event, DatasetReady):
            marks["start"] = time.perf_counter()  # the model, optimiser and device copies come after this
        elif isinstance(event, Progress) and event.batch == event.batches:
            _sync(device)
            marks["train_end"] = time.perf_counter()
        elif isinstance(event, EpochEnd):
            marks["eval_end"] = time.perf_counter()

    with tempfile.TemporaryDirectory() as runs:
        config.runs_dir = runs
        train(config, on_event=on_event, dataset=dataset)
    train_seconds = marks["train_end"] - marks["start"]
    eval_seconds = marks["eval_end"] - marks["train_end"]
    return _result("ours", batches * batch_size, test_images, train_seconds, eval_seconds, device)


def run_baseline(batches: int, batch_size: int, test_images: int, device: str) -> SideResult:
    from PIL import Image
    from torch.utils.data import DataLoader, Dataset
    from torchvision import transforms

    from models import build_model

    train_x, train_y, test_x, test_y = synthetic_arrays(batches, batch_size, test_images)

    class ArrayDataset(Dataset):
        def __init__(self, images, labels, transform):
            self.images, self.labels, self.transform = images, labels, transform

        def __len__(self) -> int:
            return len(self.images)

        def __getitem__(self, index):
            return self.transform(Image.fromarray(self.images[index])), int(self.labels[index])

    normalise = transforms.Normalize(CIFAR_MEAN, CIFAR_STD)
    train_tf = transforms.Compose([transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip(),
                                   transforms.ToTensor(), normalise])
    test_tf = transforms.Compose([transforms.ToTensor(), normalise])
    target = pick_device(device)
    torch.manual_seed(0)
    # the seed's network: the same ResNet-32, in PyTorch's default NCHW layout
    model = build_model("resnet32", NUM_CLASSES).to(target, memory_format=torch.contiguous_format)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=2e-4)
    train_loader = DataLoader(ArrayDataset(train_x, train_y, train_tf), batch_size=batch_size, shuffle=True, num_workers=0)
    test_loader = DataLoader(ArrayDataset(test_x, test_y, test_tf), batch_size=batch_size, num_workers=0)

    started = time.perf_counter()
    model.train()
    for images, labels in train_loader:
        images, labels = images.to(target), labels.to(target)
        loss = F.cross_entropy(model(images).logits, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    _sync(device)
    train_end = time.perf_counter()
    model.eval()
    correct = 0
    with torch.no_grad():
        for images, labels in test_loader:
            correct += int((model(images.to(target)).logits.argmax(1).cpu() == labels).sum())
    eval_end = time.perf_counter()
    return _result("baseline", batches * batch_size, test_images, train_end - started, eval_end - train_end, device)


def _result(side: str, train_count: int, test_count: int, train_s: float, eval_s: float, device: str) -> SideResult:
    target = pick_device(device)
    name = torch.cuda.get_device_name(target) if target.type == "cuda" else "cpu"
    return SideResult(side, train_s, eval_s, train_count / train_s, test_count / eval_s, torch.get_num_threads(), name)


def _sync(device: str) -> None:
    if pick_device(device).type == "cuda":
        torch.cuda.synchronize()


def run_side_in_subprocess(side: str, batches: int, batch_size: int, test_images: int, device: str) -> SideResult:
    """Run one side in a fresh interpreter and read its JSON result."""
    code = ("import json,sys; from engine.bench import measure_side; "
            f"print(json.dumps(measure_side({side!r}, {batches}, {batch_size}, {test_images}, {device!r})))")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    output = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    return SideResult(**json.loads(output.stdout.strip().splitlines()[-1]))


def measure_side(side: str, batches: int, batch_size: int, test_images: int, device: str) -> dict:
    warm_up(pick_device(device))  # the same one-off costs paid before either clock starts
    runner = run_ours if side == "ours" else run_baseline
    return asdict(runner(batches, batch_size, test_images, device))



def format_report(ours: SideResult, baseline: SideResult) -> str:
    target = GPU_TARGET if ours.device != "cpu" else CPU_TARGET
    ratio = baseline.total_seconds / ours.total_seconds
    lines = [f"device: {ours.device}, torch threads: {ours.threads}, "
             f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}",
             f"{'':10}{'train img/s':>14}{'eval img/s':>14}{'total s':>10}"]
    for side in (ours, baseline):
        lines.append(f"{side.side:10}{side.train_images_per_s:14.1f}{side.eval_images_per_s:14.1f}{side.total_seconds:10.2f}")
    lines.append(f"speed-up: train {ours.train_images_per_s / baseline.train_images_per_s:.2f}x, "
                 f"eval {ours.eval_images_per_s / baseline.eval_images_per_s:.2f}x, "
                 f"total {ratio:.2f}x (target >= {target:g}x: {'met' if ratio >= target else 'NOT met'})")
    return "\n".join(lines)
