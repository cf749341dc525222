"""``main.py predict IMAGE…``: top-k labels with probabilities for image files or folders.

A bar on stderr shows the progress through many files (stdout keeps only the results, so
``--json`` output stays parseable); probabilities that are not finite numbers (a damaged or
diverged model) print as ``n/a`` / JSON ``null`` with one warning instead of ``nan%`` / ``NaN``.
"""
from __future__ import annotations

import argparse
import math
import sys

from cli.common import json_text

PROGRESS_FROM = 2  # batches: a bar appears when the files fill at least this many


def add_parser(subparsers) -> None:
    from models import architectures

    parser = subparsers.add_parser("predict", help="predict image files (or folders of images)")
    parser.add_argument("images", nargs="+", help="image files or folders")
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--arch", choices=architectures(), help="when the checkpoint has no metadata")
    parser.add_argument("--dataset", choices=("cifar10", "cifar100"),
                        help="whose class names apply, when the checkpoint has none")
    parser.add_argument("--topk", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--no-router", action="store_true", help="RIDE: call every expert, ignoring the router")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine.finite import OUTPUTS_NOT_FINITE
    from engine.inference import Predictor, expand_paths

    predictor = Predictor.from_checkpoint(args.checkpoint, arch=args.arch, dataset=args.dataset, device=args.device,
                                          use_router=not args.no_router)
    predictions = predict_with_progress(predictor, expand_paths(args.images), args.topk, quiet=args.quiet)
    bad = sum(not p.finite for p in predictions if not p.error)
    if bad:
        print("warning: " + OUTPUTS_NOT_FINITE.format(bad=bad, total=sum(not p.error for p in predictions),
                                                      what="these predictions"), file=sys.stderr)
    if args.json:
        print(json_text([{"path": str(p.path), "error": p.error,
                          "topk": [{"label": label, "probability": prob} for label, prob in p.topk],
                          **({"experts": p.experts} if p.experts is not None else {})}
                         for p in predictions]))
    else:
        for p in predictions:
            if p.error:
                print(f"{p.path}: error: {p.error}")
            else:
                experts = f"  [{p.experts} expert{'s' if p.experts > 1 else ''}]" if p.experts is not None else ""
                print(f"{p.path}: " + ", ".join(f"{label} {_percent(prob)}" for label, prob in p.topk) + experts)
    return 1 if predictions and all(p.error for p in predictions) else 0


def predict_with_progress(predictor, paths: list, topk: int, quiet: bool = False) -> list:
    """``predictor.predict_paths`` one batch of files at a time, with a tqdm bar on stderr when
    the files fill ``PROGRESS_FROM`` batches or more."""
    step = max(1, predictor.batch_size)
    if quiet or len(paths) < PROGRESS_FROM * step:
        return predictor.predict_paths(paths, topk=topk)
    from tqdm import tqdm

    predictions = []
    with tqdm(total=len(paths), desc="predict", unit="file", file=sys.stderr, leave=False) as bar:
        for start in range(0, len(paths), step):
            predictions += predictor.predict_paths(paths[start:start + step], topk=topk)
            bar.update(len(paths[start:start + step]))
    return predictions


def _percent(probability: float) -> str:
    return f"{100 * probability:.1f}%" if math.isfinite(probability) else "n/a"
