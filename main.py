"""Long-Tail Studio.

``python main.py`` (or ``python main.py FILE…`` with existing files or folders) opens the desktop
app; ``python main.py <command> …`` runs the same engine headless, the commands being the CLI's
own registry (``cli.COMMANDS``); ``python main.py --self-test`` checks the (packaged) app
headless. Any other word goes to the CLI, which prints its usage and exits 2, so a typo never
opens a window in a terminal. Dispatch only: heavy modules are imported by the branch that needs them.
"""
from __future__ import annotations

import multiprocessing
import os
import sys

SELF_TEST = "--self-test"

# --- frozen-mode guard (packaging, docs/packaging.md): a windowed bundle started by double-click has
# no console, so sys.stdout / sys.stderr are None and the first print, warning or tqdm bar would raise.
for _stream in ("stdout", "stderr"):
    if getattr(sys, _stream) is None:
        setattr(sys, _stream, open(os.devnull, "w", encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    argv = [word for word in argv if not word.startswith("-psn_")]  # macOS Finder's process serial number
    if argv and argv[0] != SELF_TEST and _is_for_the_cli(argv):
        from engine.cpu_policy import apply_cli_policy

        apply_cli_policy()  # before torch loads: passive waiting and fewer threads on a busy machine
        from cli import main as cli_main

        return cli_main(argv)
    # The app shares the cores with its own GUI thread: OpenMP's default spin-waiting would starve
    # it (and collapses throughput on a busy 2-core machine). Must be set before torch loads. The
    # CLI decides from the load (engine/cpu_policy.py; docs/benchmarks.md).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    if argv and argv[0] == SELF_TEST:
        from gui.self_test import run_self_test

        return run_self_test(argv[1:])
    from gui.app import run_app

    return run_app(argv)


def _is_for_the_cli(argv: list[str]) -> bool:
    """A CLI command or option, or any word that is not an existing file or folder (the CLI then
    prints its usage and exits 2). Only existing paths go to the app."""
    from cli import is_cli_argument  # light: no torch until a command's parser is built

    return is_cli_argument(argv[0]) or not all(os.path.exists(word) for word in argv)


if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
