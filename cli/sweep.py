"""``main.py sweep SPEC`` runs a grid of cells; ``main.py sweep-report DIR`` writes its table.

``sweep`` checks the whole file first (a bad field stops it before any cell starts), writes the
sweep folder, runs every unfinished cell on the chosen backend (finished cells are skipped,
interrupted ones resume from their run folders) and ends with the table. docs/sweeps.md.
"""
from __future__ import annotations

import argparse
import math
import re
import sys
from pathlib import Path

from engine.sweep.backends import BACKENDS
from engine.sweep.spec import MAX_CELLS


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "sweep", help="run a grid of methods × datasets × imbalance ratios × seeds (+ classifier repairs)",
        description="Run every cell of a sweep file (TOML or JSON; docs/sweeps.md) into one sweep folder. "
                    "Re-running skips finished cells and resumes interrupted ones.")
    parser.add_argument("spec", type=Path, help="the sweep file (.toml or .json)")
    parser.add_argument("--out", type=Path, help="sweep folder (default: <workspace>/sweeps/<name>)")
    parser.add_argument("--backend", choices=BACKENDS, default="local",
                        help="local: this machine, one cell per GPU; ray: Ray tasks (pip install -r requirements-ray.txt)")
    parser.add_argument("--jobs", type=int, help="local: cells at once (default: one per GPU, else 1)")
    parser.add_argument("--max-cells", type=int, default=MAX_CELLS, metavar="N",
                        help=f"refuse grids of more than N cells (default {MAX_CELLS:,}; each cell is a whole training run)")
    parser.add_argument("--address", help="ray: an existing cluster (e.g. auto or ray://head:10001)")
    parser.add_argument("--dry-run", action="store_true", help="print the cells and the estimated cost, run nothing")
    parser.add_argument("--rate", type=float, help="dry run: forward images / s of a ResNet-32 at 32 px on the "
                        "machine that will run it (default: measured by finished cells, else a built-in guess)")
    parser.set_defaults(func=run)

    report = subparsers.add_parser("sweep-report", help="write a sweep folder's table (CSV, Markdown, LaTeX)",
                                   description="Mean ± std over seeds of Acc / HM / GM / LR for base / +GML / "
                                               "+ensemble, plus every cell's per-class recalls.")
    report.add_argument("folder", type=Path, help="the sweep folder")
    report.set_defaults(func=run_report)


def sweep_folder(spec_name: str, out: Path | None) -> Path:
    from engine import workspace

    if out is not None:
        return out
    return workspace.workspace_root() / "sweeps" / (re.sub(r"[^A-Za-z0-9._-]+", "-", spec_name).strip("-") or "sweep")


def run(args: argparse.Namespace) -> int:
    from errors import UserError
    from engine.sweep.cells import sweep_lock, write_sweep
    from engine.sweep.spec import load_spec

    if args.jobs is not None and args.jobs < 1:
        raise UserError(f"--jobs must be 1 or more (cells at once), not {args.jobs}")
    spec = load_spec(args.spec, max_cells=args.max_cells)
    folder = sweep_folder(spec.name, args.out)
    if args.dry_run:
        print(dry_run_text(spec, folder, args.rate, args.backend))
        return 0
    with sweep_lock(folder):  # one sweep per folder: a second one is refused in one line naming this one
        write_sweep(folder, spec.path, spec.name, spec.cells)
        print(f"sweep {spec.name}: {len(spec.cells)} cell(s) in {folder} ({args.backend} backend)", flush=True)
        return _run_and_report(folder, spec.cells, args)


def _run_and_report(folder: Path, cells, args: argparse.Namespace) -> int:
    from engine.sweep.backends import run_cells
    from engine.sweep.cells import STATES
    from engine.sweep.report import collect, write_report

    last: dict[str, str] = {}

    def show(status) -> None:
        text = status.describe()
        if last.get(status.cell) != text:
            last[status.cell] = text
            print(f"{status.cell}: {text}", flush=True)

    statuses = run_cells(folder, cells, args.backend, args.jobs, args.address, on_status=show)
    results = collect(folder)
    paths = write_report(folder, results)
    print("\n" + paths["markdown"].read_text(encoding="utf-8"))
    counts = {state: sum(s.state == state for s in statuses) for state in STATES}
    print(", ".join(f"{n} {state}" for state, n in counts.items() if n) + f"; table: {paths['markdown'].parent}")
    for status in statuses:
        if status.state in ("failed", "damaged"):
            print(f"{status.state}: {status.cell}: {status.reason}")
    return 0 if counts["done"] == len(statuses) and not _report_problems(results) else 1


def dry_run_text(spec, folder: Path, rate: float | None, backend: str) -> str:
    from engine.sweep.cells import read_status, shown_state
    from engine.sweep.cost import DEFAULT_RATES, cell_cost, format_duration, measured_rate

    lines = [f"sweep {spec.name}: {len(spec.cells)} cell(s) → {folder}",
             f"{'cell':<40}{'epochs':>7}{'train imgs':>12}  {'state':<12}  plug-ins (epochs, +ens)"]
    costs = []
    for cell in spec.cells:
        cost = cell_cost(cell)
        costs.append(cost)
        plugin = ", ".join(f"{repair} {p['optim']['epochs']}" + ("+ens" if p["plugin"]["ensemble"] else "")
                           for repair, p in zip(cell.repairs, cell.plugins)) or "off"
        status = read_status(folder, cell.id) if folder.exists() else None
        state = status.describe(shown_state(folder, status)) if status else "new"
        lines.append(f"{cell.id:<40}{cell.epochs:>7}{cost.train_images or '?':>12}  {state:<12}  {plugin}")
    known = [c.forwards for c in costs if c.forwards is not None]
    measured = measured_rate(folder, spec.cells)
    todo = sum(c.forwards for c, cell in zip(costs, spec.cells)
               if c.forwards is not None and not (folder.exists() and read_status(folder, cell.id).state == "done"))
    lines.append(f"cost: {sum(known) / 1e6:.2f} M forward-image equivalents (ResNet-32, 32 px) in all, "
                 f"{todo / 1e6:.2f} M still to run"
                 + (f"; {len(costs) - len(known)} cell(s) of unknown size" if len(known) < len(costs) else ""))
    speeds = ([(measured, "measured by this sweep's finished epochs")] if measured else
              [(rate, "--rate")] if rate else
              [(DEFAULT_RATES["cpu"], "a 2-core CPU, measured"), (DEFAULT_RATES["cuda"], "one GPU, estimated")])
    lines += [f"      ≈ {format_duration(todo / speed)} at {speed:,.0f} images/s ({source})" for speed, source in speeds]
    resources = spec.resources
    lines.append(f"      on N devices (local --jobs N, or ray) about 1/N of that; per cell {resources['cpus']:g} CPU, "
                 f"{resources['gpus']:g} GPU" + (" (ray backend)" if backend == "ray" else ""))
    return "\n".join(lines)


def run_report(args: argparse.Namespace) -> int:
    """The table, the files written, and a line per cell whose files are damaged (exit 1 then)."""
    from engine.sweep.report import collect, write_report

    results = collect(args.folder)
    paths = write_report(args.folder, results)
    print(paths["markdown"].read_text(encoding="utf-8"))
    for name, path in paths.items():
        print(f"{name}: {path}")
    problems = _report_problems(results)
    for line in problems:
        print(line, file=sys.stderr)
    return 1 if problems else 0


def _report_problems(results) -> list[str]:
    """One line per cell whose files could not be read or whose outputs were not numbers."""
    return [f"{r.state}: {r.cell.id}: {r.reason}" for r in results if r.state == "damaged"] + \
        [f"not numbers: {r.cell.id}: {', '.join(m for m, values in r.values.items() if _not_numbers(values))} "
         "(NaN/inf outputs; shown as n/a)" for r in results if any(_not_numbers(v) for v in r.values.values())]


def _not_numbers(values: dict) -> bool:
    return any(not math.isfinite(v) for v in values.values() if isinstance(v, float))
