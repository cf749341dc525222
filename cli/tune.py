"""``main.py tune``: re-train a pretrained model's classifier (GML plug-in), ensemble, report.

Prints the old / new / ensemble report and writes a run folder (kind "tune"). A flag left out
keeps ``TuneConfig``'s default, so the defaults live in one place (engine/plugin/config.py).
"""
from __future__ import annotations

import argparse

from errors import UserError
from data.samplers import SAMPLERS
from cli.common import (TerminalReporter, add_data_arguments, data_config_from_args, metrics_table,
                               parse_params, trained_on)
from engine.config import ARCHITECTURES
from engine.config import OPTIMIZERS
from engine.plugin.config import INITS, TUNE_SCHEDULES

# flag → TuneConfig field, for the flags that map one to one
FIELDS = ("loss", "epochs", "lr", "batch_size", "momentum", "weight_decay", "optimizer", "schedule", "sampler",
          "init", "ensemble", "t1", "t2", "search_temperatures", "validation_fraction", "feature_passes", "arch",
          "seed", "device", "threads", "runs_dir", "experiment")


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "tune", help="re-train only the classifier of a pretrained model (GML plug-in) and ensemble it",
        description="Freeze a pretrained model's feature extractor, re-train its classifier with the geometric "
                    "mean loss (or another loss), optionally ensemble new and old classifiers, and report both "
                    "and the ensemble class by class. --epochs 0 only evaluates the old model.")
    parser.add_argument("--checkpoint", required=True, help="pretrained model: ours, or a foreign state dict")
    parser.add_argument("--arch", choices=ARCHITECTURES, help="when the checkpoint cannot tell its architecture")
    add_data_arguments(parser)
    parser.add_argument("--no-augment", action="store_true", help="no random crop / flip while tuning")
    parser.add_argument("--loss", help="loss for tuning (default gml; any registered loss)")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="a loss hyperparameter")
    parser.add_argument("--epochs", type=int, help="tuning epochs (default 10; 0 = evaluate the old model only)")
    parser.add_argument("--lr", type=float, help="learning rate (default 0.02)")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--momentum", type=float)
    parser.add_argument("--weight-decay", type=float)
    parser.add_argument("--optimizer", choices=OPTIMIZERS)
    parser.add_argument("--schedule", choices=TUNE_SCHEDULES)
    parser.add_argument("--sampler", choices=tuple(SAMPLERS), help="default instance (GML balances classes itself)")
    parser.add_argument("--init", choices=INITS, help="new classifier starts from the old one (default) or fresh")
    parser.add_argument("--ensemble", action=argparse.BooleanOptionalAction, default=None,
                        help="also report ½·[softmax(z_new/t1) + softmax(z_old/t2)] (default on)")
    parser.add_argument("--t1", type=float, help="temperature of the new classifier (default 1)")
    parser.add_argument("--t2", type=float, help="temperature of the old classifier (default 1)")
    parser.add_argument("--search-temperatures", action="store_true", default=None,
                        help="choose t1, t2 on a held-out split of the training data (maximising HM)")
    parser.add_argument("--validation-fraction", type=float, help="held-out share of each class for the search")
    parser.add_argument("--no-cache", action="store_true", help="run the backbone on every batch instead of caching")
    parser.add_argument("--feature-passes", type=int, help="augmented feature passes to cache (default 4)")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--device", help="auto (default), cpu, cuda or cuda:N")
    parser.add_argument("--threads", type=int, help="CPU threads (default 0: one per CPU; fixed, recorded in config.json)")
    parser.add_argument("--runs-dir", help="where run folders go (default: <workspace>/runs)")
    parser.add_argument("--experiment", help="run label")
    parser.add_argument("--no-save", action="store_true", help="do not write the tuned checkpoint")
    parser.add_argument("--per-class", action="store_true", help="also print every class's recall")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(func=run)


def config_from_args(args: argparse.Namespace):
    from engine.plugin import TuneConfig

    if args.search_temperatures and (args.t1 is not None or args.t2 is not None):
        raise UserError("--search-temperatures chooses t1 and t2 itself; give either it or --t1/--t2")
    config = TuneConfig(checkpoint=args.checkpoint, data=data_config_from_args(args, trained_on(args.checkpoint)))
    for name in FIELDS:
        value = getattr(args, name)
        if value is not None:
            setattr(config, name, value)
    config.loss_params.update(parse_params(args.param))
    config.data.augment = not args.no_augment
    config.cache_features = not args.no_cache
    config.save_model = not args.no_save
    return config.validate()


def run(args: argparse.Namespace) -> int:
    from engine.plugin import tune

    result = tune(config_from_args(args), on_event=TerminalReporter(quiet=args.quiet))
    if result.reports:
        print()
        print(metrics_table(result.reports))
    if "ensemble" in result.reports:
        how = (f"chosen on the held-out split, validation HM {100 * result.search.hm:.2f}" if result.search
               else "as set")
        print(f"\nensemble temperatures: t1 = {result.t1:g} (new), t2 = {result.t2:g} (old), {how}")
    if args.per_class and result.reports:
        print("\n" + "class".rjust(20) + "  train" + "".join(name.rjust(10) for name in result.reports))
        for c, (name, count) in enumerate(zip(result.class_names, result.class_counts)):
            recalls = "".join(f"{100 * m.per_class_recall[c]:10.2f}" for m in result.reports.values())
            print(f"{name:>20}  {count:>5}{recalls}")
    print(f"\nrun folder: {result.run_dir}")
    return 0
