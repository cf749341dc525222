"""``main.py bench``: the project's training loop vs the conventional PIL + DataLoader pipeline, paired."""
from __future__ import annotations

import argparse


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("bench", help="measure the training loop against the conventional pipeline",
                                   description="Alternates the sides batch by batch in one process and reports "
                                               "the median and spread of the per-round speed-ups, the ratio of the "
                                               "median round times, a bootstrap 95%% interval and the load.")
    parser.add_argument("--batches", type=int, default=4, help="training batches per round (default 4)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--test-images", type=int, default=512, help="images evaluated per round (default 512)")
    parser.add_argument("--rounds", type=int, help="timed rounds after one warm-up round (default: from the load "
                        "at start, 10 idle, 15 busy, 20 with every CPU busy)")
    parser.add_argument("--device", default="auto")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from errors import UserError

    try:  # measurement code is not part of the packaged app
        from tools.paired_bench import format_report, run_paired
    except ImportError:
        raise UserError("bench measures a source checkout: run it as `python main.py bench` there") from None

    if min(args.batches, args.batch_size, args.test_images, args.rounds or 1) < 1:
        raise UserError("--batches, --batch-size, --test-images and --rounds must be at least 1")

    def progress(epoch: int, epochs: int) -> None:
        print(f"round {epoch}/{epochs}" + (" (warm-up)" if epoch == 1 else ""), file=sys.stderr, flush=True)

    result = run_paired(args.batches, args.batch_size, args.test_images, args.rounds, args.device, on_round=progress)
    print(format_report(result))
    return 0
