"""The headless command line: ``train``, ``tune``, ``eval``, ``predict``, ``bench``, ``sweep`` and ``sweep-report``.

Each sub-command module offers ``add_parser(subparsers)`` (setting ``func``) and ``run(args)``.
``COMMANDS`` is the registry (command → module), the one list ``main.py`` dispatches on: a new
sub-command is one entry here. A user error prints one line and exits with status 2 (naming the
rank in a run of several processes).

Two commands are not for typing (``HIDDEN``): ``train-rank``, one process of a run that
``train --nproc N`` started, and ``torchrun``, torchrun's own command line (``cli.ranks``).
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from engine.distributed import AGENT_COMMAND, RANK_COMMAND
from errors import UserError

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130

# command → module under cli (imported only when the parser is built: they import torch)
COMMANDS: dict[str, str] = {"train": "train", "tune": "tune", "eval": "evaluate", "predict": "predict",
                            "bench": "bench", "sweep": "sweep", "sweep-report": "sweep", RANK_COMMAND: "ranks"}
HIDDEN = (RANK_COMMAND,)


def is_cli_argument(word: str) -> bool:
    """A registered command or an option (``-h``, ``--help``): the CLI's, not the app's."""
    return word in COMMANDS or word == AGENT_COMMAND or word.startswith("-")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="main.py", description="Long-Tail Studio: long-tailed recognition "
                                     "with worst-class metrics (HM, GM, lowest recall) and the GML plug-in.")
    public = [command for command in COMMANDS if command not in HIDDEN]
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="{" + ",".join(public) + "}")
    for module in dict.fromkeys(COMMANDS.values()):  # sweep brings sweep and sweep-report
        importlib.import_module(f"cli.{module}").add_parser(subparsers)
    return parser


def main(argv: list[str]) -> int:
    if argv[:1] == [AGENT_COMMAND]:
        from torch.distributed.run import main as torchrun

        torchrun(argv[1:])
        return 0
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UserError as error:
        rank = f"rank {os.environ.get('RANK', '0')}: " if os.environ.get("WORLD_SIZE", "1") != "1" else ""
        print(f"error: {rank}{error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
