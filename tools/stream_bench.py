"""Paired benchmark: the streamed pipeline against torchvision ImageFolder + PIL + DataLoader.

Measurement code (``tools/``, not shipped). Both sides read the same class-folder tree of JPEGs,
with the same worker count, and deliver normalised float batches of ``size``×``size`` crops to
the training process; nothing trains, so the number is what the input pipeline can feed a model:

- **streamed** (``data.stream`` through ``data.sources.StreamedImages``): one task per batch,
  ``torchvision.io`` decoding and ``transforms.v2`` on uint8 tensors in persistent worker
  processes, uint8 batches back, normalised in the training process (``data.tensors.normalize``);
- **imagefolder**: ``torchvision.datasets.ImageFolder`` (PIL decoding) with the reference
  recipe ``RandomResizedCrop → RandomHorizontalFlip → ColorJitter → ToTensor → Normalize`` per
  image, ``DataLoader(shuffle=True, persistent_workers=True)``, float batches back.

Both use ``ColorJitter(0.4, 0.4, 0.4, 0)`` (the recipes' training view) or neither (``--jitter 0``).
Rounds alternate sides (one pass over the tree each, the first round of each side a warm-up);
the report gives each side's median images/s and the median, quartiles and range of the
per-round ratio. Run: ``python tools/stream_bench.py --workers 2`` (``--root`` to use your own
``train/<class>/*.jpg`` tree; otherwise a synthetic one of ``--images`` JPEGs of ``--photo``
pixels is written to a temporary folder).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def write_tree(root: Path, images: int, classes: int, photo: tuple[int, int]) -> None:
    """``root/train/<class>/<n>.jpg`` (and a one-image ``test/``): smooth colour fields with noise,
    JPEG quality 90, about the size of an ImageNet photo."""
    rng = np.random.default_rng(0)
    width, height = photo
    ys, xs = np.mgrid[0:height, 0:width] / max(width, height)
    for n in range(images):
        label = n % classes
        colour = rng.uniform(40, 215, size=3)
        field = colour[:, None, None] + 60 * np.sin(2 * np.pi * (xs * (1 + label % 3) + ys * rng.uniform()))[None]
        picture = np.clip(field + rng.normal(0, 10, size=(3, height, width)), 0, 255).astype(np.uint8)
        for split in ("train", "test") if n < classes else ("train",):
            folder = root / split / f"class_{label:02d}"
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(picture.transpose(1, 2, 0)).save(folder / f"{n:05d}.jpg", quality=90)


class Streamed:
    name = "streamed (torchvision.io + v2 on uint8, one task per batch)"

    def __init__(self, root: Path, workers: int, batch: int, size: int, jitter: float):
        from types import SimpleNamespace

        from data import load_dataset

        config = SimpleNamespace(dataset="image_tree", root=str(root), imbalance_type="none", imbalance_ratio=1.0,
                                 image_size=size, holdout_fraction=0.2, cut_seed=0, color_jitter=jitter,
                                 loader_workers=workers)
        self.dataset = load_dataset(config)
        self.source = self.dataset.images("train")
        self.batch = batch
        self.generator = torch.Generator().manual_seed(0)

    def epoch(self) -> int:
        from data.tensors import normalize

        order = torch.randperm(len(self.source), generator=self.generator)
        seen = 0
        for views, labels, _ in self.source.batches(order, self.batch, ("crop_flip",), self.generator):
            normalize(views[0], MEAN, STD)
            seen += len(labels)
        return seen

    def close(self) -> None:
        self.dataset.close()


class ImageFolderBaseline:
    name = "ImageFolder + PIL + DataLoader (per-image transforms)"

    def __init__(self, root: Path, workers: int, batch: int, size: int, jitter: float):
        from torch.utils.data import DataLoader
        from torchvision import datasets, transforms

        steps = [transforms.RandomResizedCrop(size), transforms.RandomHorizontalFlip()]
        if jitter:
            steps.append(transforms.ColorJitter(jitter, jitter, jitter, 0))
        steps += [transforms.ToTensor(), transforms.Normalize(MEAN, STD)]
        folder = datasets.ImageFolder(str(root / "train"), transform=transforms.Compose(steps))
        extra = dict(persistent_workers=True, prefetch_factor=2) if workers else {}
        self.loader = DataLoader(folder, batch_size=batch, shuffle=True, num_workers=workers, **extra)

    def epoch(self) -> int:
        return sum(len(labels) for _, labels in self.loader)

    def close(self) -> None:
        self.loader = None


def run(root: Path, workers: int, batch: int, size: int, jitter: float, rounds: int) -> dict[str, list[float]]:
    sides = [Streamed(root, workers, batch, size, jitter), ImageFolderBaseline(root, workers, batch, size, jitter)]
    rates: dict[str, list[float]] = {side.name: [] for side in sides}
    try:
        for number in range(rounds + 1):
            for side in sides if number % 2 == 0 else sides[::-1]:
                started = time.perf_counter()
                images = side.epoch()
                if number:  # round 0 warms both sides up (worker start, imports, page cache)
                    rates[side.name].append(images / (time.perf_counter() - started))
            if number:
                print(f"round {number}: " + ", ".join(f"{r[-1]:.0f}" for r in rates.values()) + " images/s",
                      flush=True)
    finally:
        for side in sides:
            side.close()
    return rates


def components(photo: tuple[int, int], size: int, jitter: float, repeats: int = 100) -> str:
    """Milliseconds per image of each step of both pipelines, one thread, on one synthetic photo
    (the median of ``repeats`` timings): where a worker's time goes."""
    import warnings

    from torchvision import transforms
    from torchvision.transforms import v2

    from data.stream import decode, view_pipeline

    with tempfile.TemporaryDirectory() as scratch:
        write_tree(Path(scratch), 1, 1, photo)
        path = next(Path(scratch, "train").rglob("*.jpg"))
        tensor, picture = decode(path), Image.open(path).convert("RGB")
        crop, crop_tensor = transforms.RandomResizedCrop(size)(picture), view_pipeline("none", size)(tensor)
        steps = {
            "decode: torchvision.io | PIL": (lambda: decode(path), lambda: Image.open(path).convert("RGB")),
            f"RandomResizedCrop({size}): v2 on uint8 | PIL":
                (lambda: v2.RandomResizedCrop(size, antialias=True)(tensor), lambda: transforms.RandomResizedCrop(size)(picture)),
            f"ColorJitter({jitter}): v2 on uint8 | PIL":
                (lambda: v2.ColorJitter(jitter, jitter, jitter, 0)(crop_tensor),
                 lambda: transforms.ColorJitter(jitter, jitter, jitter, 0)(crop)),
            "to float + normalise: (per batch in the training process) | ToTensor + Normalize":
                (lambda: None, lambda: transforms.Normalize(MEAN, STD)(transforms.ToTensor()(crop))),
        }
        lines = [f"milliseconds per image, one thread, a {photo[0]}×{photo[1]} JPEG:"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name, pair in steps.items():
                timed = []
                for step in pair:
                    step()
                    samples = []
                    for _ in range(repeats):
                        started = time.perf_counter()
                        step()
                        samples.append(1000 * (time.perf_counter() - started))
                    timed.append(statistics.median(samples))
                lines.append(f"  {name}: {timed[0]:.2f} | {timed[1]:.2f}")
    return "\n".join(lines)


def report(rates: dict[str, list[float]]) -> str:
    (ours_name, ours), (base_name, base) = rates.items()
    ratios = sorted(o / b for o, b in zip(ours, base))
    quartiles = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
    return "\n".join([
        f"{ours_name}: median {statistics.median(ours):.0f} images/s",
        f"{base_name}: median {statistics.median(base):.0f} images/s",
        f"per-round ratio: median {statistics.median(ratios):.2f}x (quartiles {quartiles[0]:.2f}-{quartiles[2]:.2f}, "
        f"range {ratios[0]:.2f}-{ratios[-1]:.2f}, {len(ratios)} rounds)",
        f"load average before/after: {os.getloadavg()[0]:.1f}",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, help="a tree with train/<class>/*.jpg (default: a synthetic one)")
    parser.add_argument("--images", type=int, default=384)
    parser.add_argument("--photo", type=int, nargs=2, default=(500, 375), metavar=("W", "H"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--jitter", type=float, default=0.4)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--components", action="store_true", help="time each step of both pipelines and stop")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.components:
        print(components(tuple(args.photo), args.size, args.jitter))
        return
    with tempfile.TemporaryDirectory() as scratch:
        root = args.root
        if root is None:
            root = Path(scratch)
            write_tree(root, args.images, 16, tuple(args.photo))
        print(f"{args.images if args.root is None else 'your'} JPEGs, {args.workers} workers, batch {args.batch}, "
              f"{args.size} px crops, jitter {args.jitter}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
        print(report(run(root, args.workers, args.batch, args.size, args.jitter, args.rounds)))


if __name__ == "__main__":
    main()
