"""``main.py train-rank``: one rank of a run that ``train --nproc N`` started (not for typing).

torchrun starts N of these (``engine.distributed.launch``); each runs ``train`` on its share and
reports to the process that started the run. ``main.py torchrun …`` (``cli.main``) is torchrun's
own command line, so the packaged app, which has no ``python -m``, can start its agent too.
"""
from __future__ import annotations

import argparse


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("train-rank", description=__doc__.splitlines()[0])
    start = parser.add_mutually_exclusive_group(required=True)
    start.add_argument("--config", help="the run's settings (written by the process that started it)")
    start.add_argument("--resume", help="the run folder to continue")
    parser.add_argument("--command", default="train", help="what the run folder's lock says holds it")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine.distributed.launch import serve_rank

    return serve_rank(args.config, args.resume, args.command)
