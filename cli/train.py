"""``main.py train``: flags mirror the run config; ``--preset`` or ``--config`` give the starting point."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from errors import UserError
from cli.common import TerminalReporter, default_imbalance_type, metrics_table, parse_params
from engine.config import (ARCHITECTURES, BEST_METRICS, DATASETS, FREEZE_MODES, IMBALANCE_TYPES, OPTIMIZERS,
                           PRECISIONS, SCHEDULES, TRAIN_RULES, RunConfig)
from engine.presets import CLI_NAMES, preset
from engine.workspace import check_run_folders, ensure_writable_folder

# flag → (section, field); a flag left out keeps the preset's / config file's value
FIELDS = {
    "dataset": ("data", "dataset"), "data_root": ("data", "root"), "imbalance": ("data", "imbalance_ratio"),
    "imbalance_type": ("data", "imbalance_type"), "image_size": ("data", "image_size"),
    "cut_seed": ("data", "cut_seed"), "recall_floor": (None, "recall_floor"),
    "arch": ("model", "arch"), "pretrained": ("model", "pretrained"), "freeze": ("model", "freeze"),
    "loss": ("method", "loss"), "train_rule": ("method", "train_rule"), "teacher": ("method", "teacher"),
    "epochs": ("optim", "epochs"), "batch_size": ("optim", "batch_size"), "lr": ("optim", "lr"),
    "momentum": ("optim", "momentum"), "weight_decay": ("optim", "weight_decay"),
    "schedule": ("optim", "schedule"), "warmup_epochs": ("optim", "warmup_epochs"),
    "seed": (None, "seed"), "device": (None, "device"), "experiment": (None, "experiment"),
    "runs_dir": (None, "runs_dir"), "threads": (None, "threads"),
    "holdout_fraction": ("data", "holdout_fraction"), "stages": ("method", "stages"),
    "reweight_beta": ("method", "reweight_beta"), "nesterov": ("optim", "nesterov"),
    "optimizer": ("optim", "optimizer"), "decay_at": ("optim", "decay_at"), "decay_factors": ("optim", "decay_factors"),
    "best_metric": (None, "best_metric"), "precision": (None, "precision"), "fp32_layers": (None, "fp32_layers"),
    "color_jitter": ("data", "color_jitter"), "loader_workers": ("data", "loader_workers"),
}


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("train", help="train a model and write a run folder")
    start = parser.add_mutually_exclusive_group()
    start.add_argument("--preset", choices=sorted(CLI_NAMES), help="start from a preset (default: cifar100-ce)")
    start.add_argument("--config", type=Path, help="start from a config.json (a run folder's works too)")
    start.add_argument("--resume", type=Path, metavar="RUN_FOLDER", help="continue a run from its last checkpoint")
    parser.add_argument("--dataset", choices=DATASETS)
    parser.add_argument("--data-root", help="dataset folder (default: <workspace>/datasets)")
    parser.add_argument("--imbalance", type=float, help="ratio n_max/n_min (100) or factor n_min/n_max (0.01)")
    parser.add_argument("--imbalance-type", choices=IMBALANCE_TYPES)
    parser.add_argument("--image-size", type=int, help="side the model sees (default: 32 for CIFAR, the demo and "
                        "folders; 224 for the streamed datasets, resized to 256 and centre-cropped for evaluation)")
    parser.add_argument("--color-jitter", type=float, help="streamed datasets: ColorJitter strength after the crop "
                        "(0.4 in the recipes that use it; default 0)")
    parser.add_argument("--loader-workers", type=int, help="streamed datasets: decoding processes (default 4, at "
                        "most the CPUs; 0: decode in the training process)")
    parser.add_argument("--arch", choices=ARCHITECTURES)
    parser.add_argument("--pretrained", help="checkpoint to start from; a torchvision ImageNet weights file "
                        "(e.g. resnet152-394f9c45.pth) initialises the trunk of an ImageNet architecture")
    parser.add_argument("--freeze", choices=FREEZE_MODES, help="features: train the classifier only; all: evaluate only")
    parser.add_argument("--loss", help="method name (ce, bsce, focal, logit_adjust, ldam, lade, feabal, gml, mislas …)")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="a method hyperparameter")
    parser.add_argument("--train-rule", choices=TRAIN_RULES)
    parser.add_argument("--teacher", help="teacher checkpoint of a distillation method (ride_distill)")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--momentum", type=float)
    parser.add_argument("--weight-decay", type=float)
    parser.add_argument("--schedule", choices=SCHEDULES)
    parser.add_argument("--warmup-epochs", type=int)
    parser.add_argument("--seed", type=int, help="seed of initialisation, batch order and augmentation")
    parser.add_argument("--cut-seed", type=int,
                        help="seed of the long-tailed cut (default 0: the subset LDAM-DRW, MiSLAS, RIDE, PaCo train on)")
    parser.add_argument("--recall-floor", type=float,
                        help="floor of each class's recall in HM / GM / LR (default: the paper's 1e-3; 0 = unfloored)")
    parser.add_argument("--device", help="auto (default), cpu, cuda or cuda:N")
    parser.add_argument("--threads", type=int, help="CPU threads (default 0: one per CPU, or OMP_NUM_THREADS; "
                        "fixed, never chosen from the load, and recorded in config.json)")
    parser.add_argument("--holdout-fraction", type=float, help="test share of an image folder without test/")
    parser.add_argument("--stages", nargs="+", metavar="STAGE", help="run only these stages of the method "
                        "(e.g. mislas: classifier, ride: router, on a --pretrained checkpoint)")
    parser.add_argument("--reweight-beta", type=float, help="effective-number β of Reweight and DRW (0.9999)")
    parser.add_argument("--nesterov", action=argparse.BooleanOptionalAction, default=None, help="Nesterov momentum")
    parser.add_argument("--optimizer", choices=OPTIMIZERS)
    parser.add_argument("--decay-at", type=float, nargs="+", metavar="FRACTION",
                        help="step decays as fractions of the run (0.8 0.9 = epochs 160 and 180 of 200)")
    parser.add_argument("--decay-factors", type=float, nargs="+", metavar="FACTOR",
                        help="lr factor after each decay point (LDAM-DRW 0.01 0.0001; MiSLAS 0.1 0.01)")
    parser.add_argument("--best-metric", choices=BEST_METRICS, help="the test metric that picks best.pt")
    parser.add_argument("--precision", choices=PRECISIONS,
                        help="auto (default): bf16 where this machine measured it faster, else fp32; recorded in config.json")
    parser.add_argument("--fp32-layers", nargs="*", metavar="MODULE",
                        help="under bf16, the modules kept in fp32 (default: the heads and the convolutions measured "
                             "slow in bf16 here)")
    parser.add_argument("--experiment", help="run label")
    parser.add_argument("--runs-dir", help="where run folders go (default: <workspace>/runs)")
    parser.add_argument("--no-save", action="store_true", help="do not write checkpoints")
    parser.add_argument("--no-augment", action="store_true", help="no random crop / flip")
    parser.add_argument("--compile", action="store_true", help="torch.compile the training step (falls back if it fails)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(func=run)


def config_from_args(args: argparse.Namespace) -> RunConfig:
    if args.config:
        raw = _read_json(args.config)
        config = RunConfig.from_dict(raw["run"] if isinstance(raw, dict) and "run" in raw else raw)
    else:
        config = preset(args.preset or "cifar100-ce")
    for flag, (section, name) in FIELDS.items():
        value = getattr(args, flag)
        if value is not None:
            setattr(getattr(config, section) if section else config, name, tuple(value) if name.startswith("decay_")
                    else value)
    if args.dataset and args.imbalance_type is None:
        config.data.imbalance_type = default_imbalance_type(args.dataset)
    config.method.params.update(parse_params(args.param))
    if args.no_save:
        config.save_model = False
    if args.no_augment:
        config.data.augment = False
    if args.compile:
        config.compile = True
    return config.validate()


def resume_check(args: argparse.Namespace) -> None:
    """``--resume RUN`` continues a run with its own saved settings: setting flags beside it would
    be silently ignored, and a finished run has nothing left, so both are one line (exit 2)."""
    from engine.runs import RunFolder

    given = [flag for flag in FIELDS if getattr(args, flag) is not None]
    given += ["param"] * bool(args.param) + ["no_save"] * args.no_save + ["no_augment"] * args.no_augment
    given += ["compile"] * args.compile
    if given:
        flags = ", ".join("--" + flag.replace("_", "-") for flag in given)
        raise UserError(f"--resume continues {args.resume} with its saved settings, so {flags} would be ignored; "
                        f"leave them out, or start a new run from its settings: --config {args.resume} {flags} …")
    run = RunFolder(args.resume)
    if not run.is_run():
        raise UserError(f"{args.resume} is not a run folder (it has no config.json)")
    ensure_writable_folder(run.path, "run folder")
    if run.is_finished():
        raise UserError(f"{run.name} is finished ({len(run.history())} epochs); nothing to resume. To train "
                        f"longer, start a new run from its settings: --config {args.resume} --epochs N")


def run(args: argparse.Namespace) -> int:
    from engine.trainer import train

    reporter = TerminalReporter(quiet=args.quiet)
    if args.resume:
        resume_check(args)
        result = train(None, on_event=reporter, resume=args.resume)
    else:
        result = train(config_from_args(args), on_event=reporter)
    if result.final is not None:
        print()
        columns = {"last epoch": result.final}
        if result.test is not None:  # a validation split chose best.pt
            columns = {"last epoch (val)": result.final, "best.pt (test)": result.test}
        print(metrics_table(columns))
    print(f"\nrun folder: {result.run_dir}")
    return 0


def _read_json(path: Path) -> dict:
    path = path / "config.json" if path.is_dir() else path
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise UserError(f"cannot read config {path}: {error}") from None
