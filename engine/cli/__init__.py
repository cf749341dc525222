"""The headless command line: ``train``, ``tune``, ``eval``, ``predict``, ``bench``, ``sweep`` and ``sweep-report``.

Each sub-command module offers ``add_parser(subparsers)`` (setting ``func``) and ``run(args)``.
A user error prints one line and exits with status 2.
"""
from __future__ import annotations

import argparse
import sys

from data.errors import UserError

EXIT_USER_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    from engine.cli import bench, evaluate, predict, sweep, train, tune

    parser = argparse.ArgumentParser(prog="main.py", description="Long-Tail Studio: long-tailed recognition "
                                     "with worst-class metrics (HM, GM, lowest recall) and the GML plug-in.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in (train, tune, evaluate, predict, bench, sweep):
        module.add_parser(subparsers)
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
        return 130
