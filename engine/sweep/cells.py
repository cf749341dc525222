"""One cell of a sweep: its folder, its status file, and running it (base run, then plug-in run).

Layout of a sweep folder::

    sweep.json                 the cells (id, run config, plug-in config, resources) and the spec's path
    cells/<cell-id>/status.json    state (pending | running | done | failed), one-line reason, stage, epoch
    cells/<cell-id>/train/<run>/   the base run: an ordinary run folder (metrics.csv, checkpoints/last.pt …)
    cells/<cell-id>/plugin/<run>/  the GML plug-in run on the base run's last.pt (report.json …)
    report/                    the table (sweep-report)

A cell is resumable because the trainer saves ``last.pt`` after every epoch: running a cell again
continues its base run with ``train(None, resume=run)`` and its plug-in run with
``tune(..., resume=run)`` (a killed worker loses at most the epoch in progress); a run killed
before its first checkpoint is started again from scratch.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from errors import UserError
from engine.events import EpochEnd, Event, EventSink, StopFlag, ignore_event, never_stop
from engine.plugin.config import saved_run_config
from engine.runs import RunFolder, list_runs
from engine.sweep.spec import Cell

STATES = ("pending", "running", "done", "failed")
SWEEP_FILE = "sweep.json"
STATUS_FILE = "status.json"


@dataclass
class CellStatus:
    cell: str
    state: str = "pending"
    reason: str = ""  # one line: why failed, or where a stopped cell will resume
    stage: str = ""  # "train" | "plugin"
    epoch: int = 0
    epochs: int = 0
    train_done: bool = False  # the base run finished (the plug-in may still be to run)
    host: str = ""
    pid: int = 0
    updated: float = 0.0

    def describe(self) -> str:
        progress = f" {self.stage} {self.epoch}/{self.epochs}" if self.state == "running" and self.epochs else ""
        return self.state + progress + (f": {self.reason}" if self.reason else "")

    def interrupted(self) -> bool:
        """A "running" status whose process (on this host) is gone: killed, not running."""
        if self.state != "running" or self.host != socket.gethostname() or not self.pid:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False


StatusSink = Callable[[CellStatus], None]


def ignore_status(_status: CellStatus) -> None:
    """The default status sink."""


# --- the sweep folder -------------------------------------------------------------------------

def cell_dir(sweep_dir: str | Path, cell_id: str) -> Path:
    return Path(sweep_dir) / "cells" / cell_id


def write_sweep(sweep_dir: str | Path, spec_path: Path, name: str, cells: list[Cell]) -> None:
    """Plan the sweep in ``sweep_dir``. A cell that already has runs there must keep its settings
    (a re-run resumes it), else this refuses with the first setting that changed."""
    sweep_dir = Path(sweep_dir)
    if (sweep_dir / SWEEP_FILE).exists():
        _check_unchanged(sweep_dir, cells)
    sweep_dir.mkdir(parents=True, exist_ok=True)
    _write_json(sweep_dir / SWEEP_FILE, {"kind": "sweep", "name": name, "spec": str(spec_path),
                                        "cells": [c.to_dict() for c in cells]})
    for cell in cells:
        if not (cell_dir(sweep_dir, cell.id) / STATUS_FILE).exists():
            write_status(sweep_dir, CellStatus(cell.id))


def _check_unchanged(sweep_dir: Path, cells: list[Cell]) -> None:
    _name, planned = read_sweep(sweep_dir)
    before = {cell.id: cell for cell in planned}
    for cell in cells:
        old = before.get(cell.id)
        if old is None or not (cell_dir(sweep_dir, cell.id) / "train").exists():
            continue
        changed = _first_difference(_settings(old), _settings(cell))
        if changed:
            raise UserError(f"{sweep_dir}: cell {cell.id} already ran with other settings ({changed} changed); "
                            "give the sweep another --out folder or name, or delete cells/" + cell.id)


def _settings(cell: Cell) -> dict:
    """The cell's run and plug-in settings in today's layout (sweep.json may be older)."""
    from engine.config import RunConfig

    plugin = plugin_settings(cell).to_dict() if cell.plugin else None
    return {"run": RunConfig.from_dict(cell.run).to_dict(), "plugin": plugin}


def plugin_settings(cell: Cell):
    """The cell's plug-in run config (checkpoint and folder unset); a sweep.json written before the
    plug-in's settings were a run config holds them under their old names."""
    older = "optim" not in cell.plugin
    return saved_run_config({"kind": "tune", "tune" if older else "run": cell.plugin})


def _first_difference(old, new, prefix: str = "") -> str:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            found = _first_difference(old.get(key), new.get(key), f"{prefix}{key}.")
            if found:
                return found
        return ""
    return prefix.rstrip(".") if old != new else ""


def read_sweep(sweep_dir: str | Path) -> tuple[str, list[Cell]]:
    """The sweep's name and cells; a UserError when the folder is not a sweep."""
    path = Path(sweep_dir) / SWEEP_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return raw["name"], [Cell.from_dict(c) for c in raw["cells"]]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UserError(f"{sweep_dir} is not a sweep folder (no readable {SWEEP_FILE}: {error})") from None


def read_status(sweep_dir: str | Path, cell_id: str) -> CellStatus:
    path = cell_dir(sweep_dir, cell_id) / STATUS_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return CellStatus(**{k: raw[k] for k in asdict(CellStatus(cell_id)) if k in raw})
    except (OSError, ValueError, TypeError):
        return CellStatus(cell_id)


def write_status(sweep_dir: str | Path, status: CellStatus) -> CellStatus:
    status.updated = time.time()
    folder = cell_dir(sweep_dir, status.cell)
    folder.mkdir(parents=True, exist_ok=True)
    _write_json(folder / STATUS_FILE, asdict(status))
    return status


def train_run(sweep_dir: str | Path, cell_id: str) -> RunFolder | None:
    """The cell's base run folder (the newest one with a checkpoint), if any."""
    runs = [r for r in list_runs(cell_dir(sweep_dir, cell_id) / "train") if r.checkpoint("last")]
    return runs[0] if runs else None


def plugin_run(sweep_dir: str | Path, cell_id: str) -> RunFolder | None:
    """The cell's finished plug-in run folder, if any."""
    runs = [r for r in list_runs(cell_dir(sweep_dir, cell_id) / "plugin") if _plugin_finished(r)]
    return runs[0] if runs else None


def cell_runs(sweep_dir: str | Path, cell_id: str) -> list[Path]:
    """The cell's run folders to compare: its base run and, when finished, its plug-in run."""
    return [run.path for run in (train_run(sweep_dir, cell_id), plugin_run(sweep_dir, cell_id)) if run is not None]


def _plugin_finished(run: RunFolder) -> bool:
    try:
        report = json.loads((run.path / "report.json").read_text(encoding="utf-8"))
        return not report["stopped"] and report["epochs_done"] == saved_run_config(run.config()).optim.epochs
    except (OSError, ValueError, KeyError):
        return False


def epochs_done(run: RunFolder) -> int:
    history = run.history()
    return int(history[-1]["epoch"]) if history else 0


# --- running one cell -------------------------------------------------------------------------

def run_cell(sweep_dir: str | Path, cell: Cell, on_status: StatusSink = ignore_status,
             should_stop: StopFlag = never_stop, on_event: EventSink = ignore_event) -> CellStatus:
    """Run (or finish) one cell; never raises for a failed cell: its status says why."""
    status = read_status(sweep_dir, cell.id)
    if status.state == "done":
        return status
    status = CellStatus(cell.id, "running", train_done=status.train_done, host=socket.gethostname(), pid=os.getpid())
    reporter = _Reporter(sweep_dir, status, on_status, on_event)
    try:
        stopped = _run_stages(sweep_dir, cell, reporter, should_stop)
        status.state = "pending" if stopped else "done"
        status.reason = f"stopped in {status.stage}; a re-run resumes after epoch {status.epoch}" if stopped else ""
    except UserError as error:
        status.state, status.reason = "failed", _one_line(str(error))
    except Exception as error:  # a bug or an environment fault: the cell fails, the sweep goes on
        status.state, status.reason = "failed", _one_line(f"{type(error).__name__}: {error}")
        (cell_dir(sweep_dir, cell.id) / "error.txt").write_text(traceback.format_exc(), encoding="utf-8")
    except BaseException:  # Ctrl+C, a worker being shut down: leave a status a re-run understands
        status.state, status.reason = "pending", "interrupted; a re-run resumes it"
        reporter.publish()
        raise
    reporter.publish()
    return status


def _run_stages(sweep_dir: str | Path, cell: Cell, reporter: _Reporter, should_stop: StopFlag) -> bool:
    """The base run, then the plug-in run; True when stopped."""
    from data import load_dataset
    from engine.config import RunConfig
    from engine.trainer import train

    config = RunConfig.from_dict(cell.run)
    config.runs_dir = str(cell_dir(sweep_dir, cell.id) / "train")
    config.experiment = cell.id
    run = _clean_runs(cell_dir(sweep_dir, cell.id) / "train", lambda r: r.checkpoint("last") is not None)
    reporter.stage("train", cell.epochs, epochs_done(run) if run else 0)
    dataset = load_dataset(config.data)
    if not reporter.status.train_done:
        # the trainer decides what is left: a finished run resumed trains nothing and returns at once
        result = (train(config, reporter, should_stop, dataset=dataset) if run is None else
                  train(None, reporter, should_stop, dataset=dataset, resume=run.path))
        if result.stopped:
            return True
        reporter.status.train_done = True
        reporter.publish()
    if cell.plugin is None:
        return False
    return _run_plugin(sweep_dir, cell, dataset, reporter, should_stop)


def _run_plugin(sweep_dir, cell: Cell, dataset, reporter: _Reporter, should_stop: StopFlag) -> bool:
    from engine.plugin import tune

    base = train_run(sweep_dir, cell.id)
    if base is None:
        raise UserError(f"{cell.id}: the base run left no checkpoints/last.pt for the plug-in")
    folder = cell_dir(sweep_dir, cell.id) / "plugin"
    run = _clean_runs(folder, lambda r: _plugin_finished(r) or r.checkpoint("last") is not None)
    if run is not None and _plugin_finished(run):
        return False
    config = plugin_settings(cell)
    config.model.pretrained, config.runs_dir = str(base.checkpoint("last")), str(folder)
    reporter.stage("plugin", config.optim.epochs, epochs_done(run) if run else 0)
    result = tune(config, reporter, should_stop, dataset=dataset, resume=run.path if run else None)  # resumes inside
    return result.stopped


def _clean_runs(root: Path, keep: Callable[[RunFolder], bool]) -> RunFolder | None:
    """The newest run under ``root`` that ``keep`` accepts; the others (killed too early) are removed."""
    kept = None
    for run in list_runs(root):
        if kept is None and keep(run):
            kept = run
        else:
            shutil.rmtree(run.path, ignore_errors=True)
    return kept


class _Reporter:
    """The cell's event sink: keeps status.json's stage and epoch current."""

    def __init__(self, sweep_dir, status: CellStatus, on_status: StatusSink, on_event: EventSink):
        self.sweep_dir, self.status, self.on_status, self.on_event = sweep_dir, status, on_status, on_event

    def stage(self, name: str, epochs: int, done: int = 0) -> None:
        self.status.stage, self.status.epochs, self.status.epoch = name, epochs, done
        self.publish()

    def progress(self, epoch: int) -> None:
        self.status.epoch = epoch
        self.publish()

    def publish(self) -> None:
        write_status(self.sweep_dir, self.status)
        self.on_status(CellStatus(**asdict(self.status)))

    def __call__(self, event: Event) -> None:
        if isinstance(event, EpochEnd) and event.epochs:
            self.progress(event.epoch)
        self.on_event(event)


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 300 else line[:297] + "…"


def _write_json(path: Path, payload: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    tmp.replace(path)
