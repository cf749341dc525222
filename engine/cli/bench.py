"""``main.py bench``: the project's trainer vs the conventional PIL + DataLoader pipeline."""
from __future__ import annotations

import argparse


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("bench", help="measure the trainer against the conventional pipeline")
    parser.add_argument("--batches", type=int, default=20, help="ResNet-32 training batches (default 20)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--test-images", type=int, default=10000, help="images in the evaluation pass")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeats", type=int, default=1, help="alternate the sides this many times; best of each")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from data.errors import UserError
    from engine.bench import format_report, run_side_in_subprocess

    if getattr(sys, "frozen", False):
        raise UserError("bench runs each side in a fresh Python process; run it from a source checkout")

    results: dict[str, list] = {"ours": [], "baseline": []}
    for _ in range(max(1, args.repeats)):
        for side in ("baseline", "ours"):
            results[side].append(run_side_in_subprocess(side, args.batches, args.batch_size, args.test_images,
                                                        args.device))
    ours = min(results["ours"], key=lambda r: r.total_seconds)
    baseline = min(results["baseline"], key=lambda r: r.total_seconds)
    print(format_report(ours, baseline))
    return 0
