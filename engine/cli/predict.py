"""``main.py predict IMAGE…``: top-k labels with probabilities for image files or folders."""
from __future__ import annotations

import argparse
import json

from engine.config import ARCHITECTURES


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("predict", help="predict image files (or folders of images)")
    parser.add_argument("images", nargs="+", help="image files or folders")
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--arch", choices=ARCHITECTURES, help="when the checkpoint has no metadata")
    parser.add_argument("--dataset", choices=("cifar10", "cifar100"),
                        help="whose class names apply, when the checkpoint has none")
    parser.add_argument("--topk", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("--no-router", action="store_true", help="RIDE: call every expert, ignoring the router")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine.inference import Predictor, expand_paths

    predictor = Predictor.from_checkpoint(args.checkpoint, arch=args.arch, dataset=args.dataset, device=args.device,
                                          use_router=not args.no_router)
    predictions = predictor.predict_paths(expand_paths(args.images), topk=args.topk)
    if args.json:
        print(json.dumps([{"path": str(p.path), "error": p.error,
                           "topk": [{"label": label, "probability": prob} for label, prob in p.topk],
                           **({"experts": p.experts} if p.experts is not None else {})}
                          for p in predictions], indent=2))
    else:
        for p in predictions:
            if p.error:
                print(f"{p.path}: error: {p.error}")
            else:
                experts = f"  [{p.experts} expert{'s' if p.experts > 1 else ''}]" if p.experts is not None else ""
                print(f"{p.path}: " + ", ".join(f"{label} {100 * prob:.1f}%" for label, prob in p.topk) + experts)
    return 1 if predictions and all(p.error for p in predictions) else 0
