"""``main.py train``: a flag per run setting (generated, ``cli.options``); ``--preset`` or ``--config``
give the starting point, ``--resume`` continues a run."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from errors import UserError
from cli.common import TerminalReporter, print_result
from cli.options import add_setting_arguments, apply_arguments
from data import default_imbalance_type
from engine.config import RunConfig
from engine.presets import DEFAULT, preset, preset_titles
from engine.workspace import ensure_writable_folder


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "train", help="train a model and write a run folder",
        description=f"Every run setting has a flag; a flag left out keeps the starting config's value (a preset, "
                    f"default {DEFAULT}, or a config file). --freeze features runs the GML plug-in on --pretrained.")
    start = parser.add_mutually_exclusive_group()
    start.add_argument("--preset", choices=list(preset_titles()), help=f"start from a preset (default: {DEFAULT})")
    start.add_argument("--config", type=Path, help="start from a config.json (a run folder's works too)")
    start.add_argument("--resume", type=Path, metavar="RUN_FOLDER", help="continue a run from its last checkpoint")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(func=run, settings=add_setting_arguments(parser))


def config_from_args(args: argparse.Namespace) -> RunConfig:
    if args.config:
        from engine.plugin.config import saved_run_config

        raw = _read_json(args.config)
        config = saved_run_config(raw) if "run" in raw or "tune" in raw else RunConfig.from_dict(raw)
    else:
        config = preset(args.preset or DEFAULT)
    given = apply_arguments(config, args, args.settings)
    if args.dataset and "--imbalance-type" not in given:
        config.data.imbalance_type = default_imbalance_type(args.dataset)
    optim = config.optim
    if "--epochs" in given and "--warmup-epochs" not in given and 0 < optim.epochs <= optim.warmup_epochs:
        # a run shortened below its starting point's warm-up keeps what fits rather than being refused
        print(f"note: warm-up {optim.warmup_epochs} → {optim.epochs - 1} epochs, to fit the {optim.epochs}-epoch run "
              "(--warmup-epochs sets it)", file=sys.stderr)
        optim.warmup_epochs = optim.epochs - 1
    return config.validate()


RESUME_FLAGS = ("--nproc",)  # how a resumed run runs here (at the same global batch), not what it is


def resume_check(args: argparse.Namespace) -> None:
    """``--resume RUN`` continues a run with its own saved settings: setting flags beside it would
    be silently ignored, and a finished run has nothing left, so both are one line (exit 2).
    ``--nproc`` may change: the run continues on that many processes, at its global batch."""
    from engine.runs import RunFolder
    from engine.trainer import check_resumable

    given = [flag for flag in apply_arguments(RunConfig(), args, args.settings) if flag not in RESUME_FLAGS]
    if given:
        flags = ", ".join(given)
        raise UserError(f"--resume continues {args.resume} with its saved settings, so {flags} would be ignored; "
                        f"leave them out, or start a new run from its settings: --config {args.resume} {flags} …")
    run = RunFolder(args.resume)
    try:
        check_resumable(run)
    except UserError as error:
        raise UserError(f"{error}: --config {args.resume} --epochs N" if run.is_run() else str(error)) from None
    ensure_writable_folder(run.path, "run folder")


def run(args: argparse.Namespace) -> int:
    from engine.trainer import train

    reporter = TerminalReporter(quiet=args.quiet)
    if args.resume:
        resume_check(args)
        result = train(None, on_event=reporter, resume=args.resume, nproc=args.nproc)
    else:
        result = train(config_from_args(args), on_event=reporter)
    if result.run_dir is not None:  # the rank that wrote it (every rank of a torchrun returns)
        print_result(result)
    return 0


def _read_json(path: Path) -> dict:
    path = path / "config.json" if path.is_dir() else path
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise UserError(f"cannot read config {path}: {error}") from None
