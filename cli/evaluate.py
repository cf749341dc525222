"""``main.py eval``: a checkpoint on a dataset → the Acc / HM / GM / LR report.

Outputs that are not finite numbers (finite weights whose logits overflow) are never scored:
every metric is shown as — (JSON null), one warning goes to stderr, and the exit status is 1."""
from __future__ import annotations

import argparse
import sys

from cli.common import add_data_arguments, data_config_from_args, json_text, metrics_table, trained_on
from cli.options import add_setting_arguments, apply_arguments
from engine.config import RunConfig
from engine.knobs import first, knob_problems

RUN_FLAGS = ("recall_floor", "device")


def add_parser(subparsers) -> None:
    from models import architectures

    parser = subparsers.add_parser("eval", help="evaluate a checkpoint on a dataset's balanced test split")
    parser.add_argument("--checkpoint", required=True, help="ours, or a foreign state dict (keys are remapped)")
    parser.add_argument("--arch", default=None, choices=architectures(), help="architecture, when the file cannot tell")
    add_data_arguments(parser)
    parser.add_argument("--seed", type=int, dest="cut_seed", help="the older name of --cut-seed")
    parser.add_argument("--per-class", action="store_true", help="also print every class's recall")
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    parser.add_argument("--no-router", action="store_true", help="RIDE: call every expert, ignoring the router")
    parser.set_defaults(func=run, settings=add_setting_arguments(parser, lambda item: item.name in RUN_FLAGS))


def run(args: argparse.Namespace) -> int:
    from engine.evaluate_checkpoint import evaluate_checkpoint
    from engine.finite import OUTPUTS_NOT_FINITE
    from engine.runs import format_percent

    data_config = data_config_from_args(args, trained_on(args.checkpoint))
    data_config.validate()
    run = RunConfig()  # the floor and device flags, checked as in a run
    apply_arguments(run, args, args.settings)
    first(knob_problems(run))
    metrics, dataset = evaluate_checkpoint(args.checkpoint, data_config, arch=args.arch, device=run.device,
                                           recall_floor=run.recall_floor, use_router=not args.no_router)
    status = 0
    if not metrics.are_numbers():  # every value is NaN: shown as — / null, and the exit status says so
        print("warning: " + OUTPUTS_NOT_FINITE.format(bad=metrics.non_finite, total=len(dataset.test_labels),
                                                      what="no metric is reported"), file=sys.stderr)
        status = 1
    if args.json:
        print(json_text({"dataset": dataset.name, "class_names": dataset.class_names, **metrics.to_dict()}))
        return status
    print(dataset.describe())
    print(metrics_table({"checkpoint": metrics}))
    if args.per_class:
        for name, count, recall, precision in zip(dataset.class_names, dataset.class_counts.tolist(),
                                                  metrics.per_class_recall, metrics.per_class_precision):
            print(f"{name:>20}  train {count:>5}  recall {format_percent(recall):>6}  "
                  f"precision {format_percent(precision):>6}")
    return status
