"""Time the named training augmentations on batches of 128 CIFAR-sized uint8 images.

    python tools/bench_views.py [--device cpu|cuda] [--repeats 20] [--threads 1]

Prints milliseconds per batch (median of the repeats, after one warm-up) for each pipeline:
the one-view ``crop_flip`` of every other method and PaCo's two views ``paco_query`` +
``paco_key`` (docs/benchmarks.md records the numbers).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from data.augment import AUGMENTATIONS  # noqa: E402

PIPELINES = {"one view (crop_flip)": ("crop_flip",), "paco_query": ("paco_query",), "paco_key": ("paco_key",),
             "two views (paco_query + paco_key)": ("paco_query", "paco_key")}


def time_pipeline(views: tuple[str, ...], images: torch.Tensor, generator: torch.Generator, repeats: int) -> float:
    def run() -> None:
        for name in views:
            AUGMENTATIONS[name](images, generator)
        if images.is_cuda:
            torch.cuda.synchronize()

    run()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    images = torch.randint(0, 256, (128, 3, 32, 32), dtype=torch.uint8, device=device)
    generator = torch.Generator(device=device).manual_seed(0)
    print(f"device {device}, torch threads {torch.get_num_threads()}, batch 128x3x32x32 uint8")
    for label, views in PIPELINES.items():
        print(f"{label:36s} {time_pipeline(views, images, generator, args.repeats):8.2f} ms/batch")


if __name__ == "__main__":
    main()
