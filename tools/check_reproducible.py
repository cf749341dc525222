"""Do a run's numbers depend on how busy the machine is? Two runs of one command, one beside busy processes.

Runs ``python main.py train ARGS`` (default ``--preset demo``) twice, each in a fresh process
(the CLI's own start-up, its CPU policy included), the second beside ``--busy`` processes that
each keep a CPU busy, and compares what the two runs recorded: ``config.json``'s threads and
precision, and every value of ``metrics.csv`` and ``per_class.csv`` except the seconds column,
exactly (issue 21: same config + seed → same metrics whatever the load). Prints one table and
exits 1 if anything differs.

Usage: ``python tools/check_reproducible.py [--busy 3] [-- TRAIN ARGS …]``
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.precision_probe import busy_neighbours  # noqa: E402

RECORDED = ("threads", "precision", "fp32_layers")
UNTIMED_TABLES = ("metrics.csv", "per_class.csv")
TIME_COLUMNS = {"seconds"}


def recorded(run: Path) -> dict:
    """What the run's config.json says it used."""
    saved = json.loads((run / "config.json").read_text())["run"]
    return {key: saved.get(key) for key in RECORDED}


def differences(first: Path, second: Path) -> list[str]:
    """Every recorded setting and metric that differs between two run folders (empty: identical)."""
    found = [f"config.json {key}: {a!r} vs {b!r}" for key, (a, b) in
             ((key, (recorded(first)[key], recorded(second)[key])) for key in RECORDED) if a != b]
    for table in UNTIMED_TABLES:
        rows = [list(csv.DictReader(open(run / table, newline=""))) for run in (first, second)]
        if len(rows[0]) != len(rows[1]):
            found.append(f"{table}: {len(rows[0])} vs {len(rows[1])} rows")
            continue
        for a, b in zip(*rows):
            for column in a.keys() - TIME_COLUMNS:
                if a[column] != b.get(column):
                    found.append(f"{table} epoch {a.get('epoch')} {column}: {a[column]} vs {b.get(column)}")
    return found


def train_in_a_fresh_process(args: list[str], runs: Path, label: str) -> tuple[Path, float, float]:
    """(run folder, wall seconds, load average at the end) of ``main.py train ARGS``."""
    started = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "main.py"), "train", *args, "--runs-dir", str(runs),
                    "--experiment", label, "--quiet"], check=True, stdout=subprocess.DEVNULL)
    folder, = (path for path in runs.iterdir() if path.name.endswith(label))
    return folder, time.perf_counter() - started, os.getloadavg()[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--busy", type=int, default=3, help="busy processes beside the second run (default 3)")
    parser.add_argument("train_args", nargs="*", help="after --: the train command's arguments")
    args = parser.parse_args(argv)
    train_args = args.train_args or ["--preset", "demo"]
    with tempfile.TemporaryDirectory() as folder:
        runs = Path(folder)
        calm = train_in_a_fresh_process(train_args, runs, "calm")
        with busy_neighbours(args.busy):
            busy = train_in_a_fresh_process(train_args, runs, "busy")
        found = differences(calm[0], busy[0])
        print(f"python main.py train {' '.join(train_args)}, twice; the second beside {args.busy} busy processes")
        print(f"{'run':6} {'wall s':>8} {'load at end':>12}  threads  precision")
        for label, (run, wall, load) in (("calm", calm), ("busy", busy)):
            used = recorded(run)
            print(f"{label:6} {wall:8.1f} {load:12.2f}  {used['threads']:>7}  {used['precision']} "
                  f"(fp32 layers: {', '.join(used['fp32_layers'] or []) or 'none'})")
        last = list(csv.DictReader(open(calm[0] / "metrics.csv", newline="")))[-1]
        print(f"last epoch (both): test acc {100 * float(last['test_top1']):.2f}, HM {100 * float(last['test_hm']):.2f}")
        print("identical: config.json threads/precision and every metric" if not found else
              "DIFFERENT:\n  " + "\n  ".join(found[:20]))
    return 0 if not found else 1


if __name__ == "__main__":
    sys.exit(main())
