"""Long-Tail Studio.

``python main.py`` opens the desktop app; ``python main.py train|tune|eval|predict|bench …`` runs
the same engine headless; ``python main.py --self-test`` checks the (packaged) app headless.
Dispatch only: heavy modules are imported by the branch that needs them.
"""
from __future__ import annotations

import multiprocessing
import os
import sys

CLI_COMMANDS = {"train", "tune", "eval", "predict", "bench", "sweep", "sweep-report", "-h", "--help"}
SELF_TEST = "--self-test"

# --- frozen-mode guard (packaging, docs/packaging.md): a windowed bundle started by double-click has
# no console, so sys.stdout / sys.stderr are None and the first print, warning or tqdm bar would raise.
for _stream in ("stdout", "stderr"):
    if getattr(sys, _stream) is None:
        setattr(sys, _stream, open(os.devnull, "w", encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in CLI_COMMANDS:
        from engine.cli import main as cli_main

        return cli_main(argv)
    # The app shares the cores with its own GUI thread: OpenMP's default spin-waiting would starve
    # it (and collapses throughput on a busy 2-core machine). Must be set before torch loads. The
    # CLI keeps the default, which is ~13 % faster on an idle machine (docs/benchmarks.md).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    if argv and argv[0] == SELF_TEST:
        from gui.self_test import run_self_test

        return run_self_test(argv[1:])
    from gui.app import run_app

    return run_app(argv)


if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
