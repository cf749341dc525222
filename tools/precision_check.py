"""Does bf16 (with the precision policy) learn as well as fp32? Issue 23's accuracy check.

Trains each problem with several seeds in fp32 and in bf16 (``--precision bf16``: the heads and
the convolutions this machine measured slow in bf16 kept in fp32, ``engine.precision``), in this
process (so the thread count is the same for all), and prints per seed the last epoch's test
Acc / HM / GM / LR, the fp32 seeds' range, the bf16 mean and whether that mean lies inside the
fp32 seed-to-seed range; and, for each fp32 model, how many test images bf16 *inference* (BN-folded,
the same policy) gives the same top-1 class as fp32 inference. The problems:

- ``demo``: ``python main.py train --preset demo`` (the bundled digits, ResNet-20, 12 epochs);
- ``generated-100``: a generated CIFAR-100 in the real on-disk layout (``tests/datagen.py``: class
  colours and stripes plus noise), 30 training images per class cut to a long tail of ratio 10,
  10 test images per class; ResNet-20, batch 128, ``--epochs`` (24) at ``--image-size`` (16).

Usage: ``python tools/precision_check.py [--seeds 0 1 2] [--only demo,generated-100] [--epochs 24]
[--image-size 16]``
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.config import DataConfig, RunConfig  # noqa: E402
from engine.presets import preset  # noqa: E402
from engine.trainer import train  # noqa: E402

METRICS = (("Acc", "top1"), ("HM", "hm"), ("GM", "gm"), ("LR", "lowest_recall"))


def demo(_: Path, epochs: int, image_size: int) -> RunConfig:
    return preset("demo")  # as the README runs it: its own epochs and image size


def generated_100(data: Path, epochs: int, image_size: int) -> RunConfig:
    from tests.datagen import write_cifar

    if not (data / "cifar-100-python").exists():
        write_cifar(data, "cifar100", train_per_class=30, test_per_class=10)
    config = preset("demo")
    config.data = DataConfig(dataset="cifar100", root=str(data), imbalance_ratio=10.0, image_size=image_size)
    config.optim.epochs, config.optim.batch_size, config.optim.lr = epochs, 128, 0.1
    return config


PROBLEMS: dict[str, Callable[[Path, int, int], RunConfig]] = {"demo": demo, "generated-100": generated_100}


def run(problem: str, precision: str, seed: int, folder: Path, epochs: int, image_size: int) -> dict[str, float]:
    config = PROBLEMS[problem](folder / "data", epochs, image_size)
    config.precision, config.seed, config.runs_dir = precision, seed, str(folder / "runs")
    config.experiment = f"{problem}-{precision}-s{seed}"
    result = train(config)
    values = {title: 100 * getattr(result.final, key) for title, key in METRICS}
    if precision == "fp32":
        values["agree"] = 100 * bf16_inference_agreement(result.run_dir / "checkpoints" / "last.pt", config.data)
    return values


def bf16_inference_agreement(checkpoint_path: Path, data: DataConfig) -> float:
    """The share of test images whose top-1 class is the same in bf16 inference as in fp32."""
    import torch

    from data import load_dataset
    from engine.checkpoints import load_checkpoint
    from engine.evaluation import predict_scores
    from engine.fold import folded_copy
    from engine.precision import BF16, autocast, resolve
    from engine.prediction import load_for_prediction

    checkpoint, dataset = load_checkpoint(checkpoint_path), load_dataset(data)
    model, rule = load_for_prediction(checkpoint, num_classes=dataset.num_classes)
    classes = []
    for bf16 in (False, True):
        if bf16:
            resolve(BF16, None, model, torch.device("cpu"), 128, dataset.image_size).apply(model)
        fast = folded_copy(model)
        with autocast(fast):
            scores = predict_scores(lambda x: rule(fast, x), dataset.test_images, dataset.mean, dataset.std)
        classes.append(scores.values.argmax(1))
    return float((classes[0] == classes[1]).float().mean())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--only", default=",".join(PROBLEMS))
    parser.add_argument("--epochs", type=int, default=24, help="epochs of the generated problem")
    parser.add_argument("--image-size", type=int, default=16, help="image side of the generated problem")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        for problem in args.only.split(","):
            results: dict[str, list[dict[str, float]]] = {"fp32": [], "bf16": []}
            started = time.perf_counter()
            for seed in args.seeds:
                for precision in results:
                    results[precision].append(run(problem, precision, seed, Path(folder), args.epochs,
                                                  args.image_size))
            print(f"\n{problem}: last-epoch test metrics (%), seeds {args.seeds}, load {os.getloadavg()[0]:.1f}, "
                  f"{time.perf_counter() - started:.0f} s")
            print(f"{'':7}" + "".join(f"{f'seed {s}':>9}" for s in args.seeds)
                  + f"{'mean':>8}   fp32 range      bf16 mean inside?")
            for title, _ in METRICS:
                fp32 = [r[title] for r in results["fp32"]]
                for precision, rows in results.items():
                    values = [r[title] for r in rows]
                    mean = statistics.mean(values)
                    line = f"{title:4}{precision:>5}" + "".join(f"{v:9.2f}" for v in values) + f"{mean:8.2f}"
                    if precision == "bf16":
                        inside = min(fp32) <= mean <= max(fp32)
                        line += f"   {min(fp32):6.2f}-{max(fp32):6.2f}   {'yes' if inside else 'NO'}"
                    print(line)
            agree = [r["agree"] for r in results["fp32"]]
            print("top-1 agreement of bf16 and fp32 inference on the fp32 models: "
                  + ", ".join(f"{a:.2f} %" for a in agree))
    return 0


if __name__ == "__main__":
    sys.exit(main())
