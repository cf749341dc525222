"""``main.py tune``: repair a pretrained model's classifier (GML plug-in, cRT, LWS, τ-norm, weight
balancing), ensemble, report.

The same run as ``main.py train --freeze features --pretrained CHECKPOINT``, started from the
plug-in preset of the chosen loss (resources/presets/30-plugin.toml: "plugin" for GML,
"plugin-crt", "plugin-lws", "plugin-tau_norm", "plugin-wb") with the data the checkpoint was
trained on. Prints the old / new / ensemble report and writes a run folder (kind "tune").
"""
from __future__ import annotations

import argparse

from errors import UserError
from cli.common import TerminalReporter, add_data_arguments, data_config_from_args, print_result, trained_on
from cli.options import add_setting_arguments, apply_arguments

# --checkpoint; always freeze features; the plug-in's one stage; no distillation
NOT_FLAGS = ("pretrained", "freeze", "stages", "teacher")


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "tune", help="repair only the classifier of a pretrained model (GML plug-in, cRT, LWS, τ-norm, WB) and "
                     "ensemble it",
        description="Freeze a pretrained model's feature extractor, repair its classifier with the geometric mean "
                    "loss or another repair (crt, lws, tau_norm, wb: decoupling's and weight balancing's), optionally "
                    "ensemble new and old classifiers, and report both and the ensemble class by class. --epochs 0 "
                    "only evaluates the old model (τ-norm trains nothing and ignores it). A flag left out keeps the "
                    "value of the chosen loss's plug-in preset (its official defaults).")
    parser.add_argument("--checkpoint", required=True, help="pretrained model: ours, or a foreign state dict")
    parser.add_argument("--per-class", action="store_true", help="also print every class's recall")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    add_data_arguments(parser)
    chosen = add_setting_arguments(parser, lambda item: not item.path.startswith("data.")
                                   and item.name not in NOT_FLAGS, plugin=True)
    parser.set_defaults(func=run, settings=chosen)


def config_from_args(args: argparse.Namespace):
    from engine.presets import PLUGIN, plugin_preset, preset

    if args.search_temperatures and (args.t1 is not None or args.t2 is not None):
        raise UserError("--search-temperatures chooses t1 and t2 itself; give either it or --t1/--t2")
    config = preset(plugin_preset(args.loss) if args.loss else PLUGIN)  # the repair's own defaults
    config.model.pretrained = args.checkpoint
    config.data = data_config_from_args(args, trained_on(args.checkpoint))
    apply_arguments(config, args, args.settings)
    return config.validate()


def run(args: argparse.Namespace) -> int:
    from engine.plugin import tune

    result = tune(config_from_args(args), on_event=TerminalReporter(quiet=args.quiet))
    if result.run_dir is not None:  # the rank that wrote it (every rank of a torchrun returns)
        print_result(result)
    if args.per_class and result.reports:
        print("\n" + "class".rjust(20) + "  train" + "".join(name.rjust(10) for name in result.reports))
        for c, (name, count) in enumerate(zip(result.class_names, result.class_counts)):
            recalls = "".join(f"{100 * m.per_class_recall[c]:10.2f}" for m in result.reports.values())
            print(f"{name:>20}  {count:>5}{recalls}")
    return 0
