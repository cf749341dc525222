"""The headless command line: ``train``, ``tune``, ``eval``, ``predict``, ``bench``, ``sweep`` and ``sweep-report``.

Each sub-command module offers ``add_parser(subparsers)`` (setting ``func``) and ``run(args)``.
``COMMANDS`` is the registry (command → module), the one list ``main.py`` dispatches on: a new
sub-command is one entry here. A user error prints one line and exits with status 2.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from errors import UserError

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130

# command → module under cli (imported only when the parser is built: they import torch)
COMMANDS: dict[str, str] = {"train": "train", "tune": "tune", "eval": "evaluate", "predict": "predict",
                            "bench": "bench", "sweep": "sweep", "sweep-report": "sweep"}


def is_cli_argument(word: str) -> bool:
    """A registered command or an option (``-h``, ``--help``): the CLI's, not the app's."""
    return word in COMMANDS or word.startswith("-")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="main.py", description="Long-Tail Studio: long-tailed recognition "
                                     "with worst-class metrics (HM, GM, lowest recall) and the GML plug-in.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in dict.fromkeys(COMMANDS.values()):  # sweep brings sweep and sweep-report
        importlib.import_module(f"cli.{module}").add_parser(subparsers)
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
