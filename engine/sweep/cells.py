"""One cell of a sweep: its folder, its status file, and running it (base run, then plug-in run).

Layout of a sweep folder::

    sweep.json                 the cells (id, run config, plug-in configs, resources) and the spec's path
    cells/<cell-id>/status.json    state (pending | running | done | failed), one-line reason, stage, epoch
    cells/<cell-id>/train/<run>/   the base run: an ordinary run folder (metrics.csv, checkpoints/last.pt …)
    cells/<cell-id>/plugin-<repair>/<run>/  each repair's plug-in run on the base run's last.pt
                               (plugin-gml, plugin-crt, …: report.json …), in the order of the repairs
    report/                    the table (sweep-report)

A cell is resumable because the trainer saves ``last.pt`` after every epoch: running a cell again
continues its base run with ``train(None, resume=run)`` and its plug-in run with
``tune(..., resume=run)`` (a killed worker loses at most the epoch in progress); a run killed
before its first checkpoint is started again from scratch.

One writer per sweep folder and per cell: ``sweep_lock`` (``<sweep>/.lock``, held by ``main.py
sweep`` and the app's "Run remaining cells" for the whole run) refuses a second sweep on the
folder in one line naming the holder; ``run_cell`` holds ``cells/<id>/.lock`` while it runs the
cell and leaves a cell that another process holds alone; ``_clean_runs`` never removes a run
folder whose own lock is held. The locks die with their process, so a status that says
"running" while its cell's lock is free was left by a killed worker: ``shown_state`` says
"interrupted". A status file that cannot be read is "damaged" (a re-run rewrites it).
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
from typing import TYPE_CHECKING, Callable

from errors import UserError
from engine.events import EpochEnd, Event, EventSink, StopFlag, ignore_event, never_stop
from engine.plugin.config import saved_run_config
from engine.run_files import RunDamaged, RunWriteError, read_json
from engine.runs import RunFolder, RunLock, list_runs
from engine.sweep.spec import Cell

if TYPE_CHECKING:
    from engine.distributed.launch import ProcessStarter

STATES = ("pending", "running", "done", "failed", "damaged")  # shown besides: "interrupted" (shown_state)
SWEEP_FILE = "sweep.json"
STATUS_FILE = "status.json"


@dataclass
class CellStatus:
    cell: str
    state: str = "pending"
    reason: str = ""  # one line: why failed, or where a stopped cell will resume
    stage: str = ""  # "train" | "plugin <repair>"
    epoch: int = 0
    epochs: int = 0
    train_done: bool = False  # the base run finished (the plug-in may still be to run)
    host: str = ""
    pid: int = 0
    updated: float = 0.0

    def describe(self, state: str | None = None) -> str:
        """One line: the state (``state`` overrides it, e.g. ``shown_state``), progress and reason."""
        state = state or self.state
        progress = f" {self.stage} {self.epoch}/{self.epochs}" if state == "running" and self.epochs else ""
        return state + progress + (f": {self.reason}" if self.reason else "")


StatusSink = Callable[[CellStatus], None]


def ignore_status(_status: CellStatus) -> None:
    """The default status sink."""


# --- the sweep folder -------------------------------------------------------------------------

def cell_dir(sweep_dir: str | Path, cell_id: str) -> Path:
    return Path(sweep_dir) / "cells" / cell_id


def sweep_lock(sweep_dir: str | Path, command: str | None = None) -> RunLock:
    """The sweep folder's lock, to hold (``with``) while planning and running its cells; a second
    holder is refused with ``RunLocked`` naming the first (pid, host, command, start)."""
    folder = Path(sweep_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RunWriteError(f"cannot make the sweep folder {folder}: {error.strerror or error}") from None
    return RunLock(folder, command, what=f"the sweep folder {folder}")


def cell_lock(sweep_dir: str | Path, cell_id: str) -> RunLock:
    return RunLock(cell_dir(sweep_dir, cell_id), what=f"cell {cell_id}")


def shown_state(sweep_dir: str | Path, status: CellStatus) -> str:
    """The cell's state as it is now: "running" whose cell lock is free (its worker was killed) is
    "interrupted". A status written by a live process of this host that does not hold the lock
    (an older version) keeps "running"."""
    if status.state != "running" or cell_lock(sweep_dir, status.cell).holder() is not None:
        return status.state
    if status.host == socket.gethostname() and status.pid and _alive(status.pid):
        return status.state
    return "interrupted"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_sweep(sweep_dir: str | Path, spec_path: Path, name: str, cells: list[Cell]) -> None:
    """Plan the sweep in ``sweep_dir``. A cell that already has runs there must keep its settings
    (a re-run resumes it), else this refuses with the first setting that changed."""
    sweep_dir = Path(sweep_dir)
    if (sweep_dir / SWEEP_FILE).exists():
        _check_unchanged(sweep_dir, cells)
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

    return {"run": RunConfig.from_dict(cell.run).to_dict(),
            "plugins": {loss: plugin_settings(plugin).to_dict() for loss, plugin in zip(cell.repairs, cell.plugins)}}


def plugin_settings(plugin: dict):
    """A cell's plug-in run config (checkpoint and folder unset); a sweep.json written before the
    plug-in's settings were a run config holds them under their old names."""
    older = "optim" not in plugin
    return saved_run_config({"kind": "tune", "tune" if older else "run": plugin})


def plugin_folder(sweep_dir: str | Path, cell_id: str, repair: str) -> Path:
    """Where the cell's plug-in run of ``repair`` (a loss: gml, crt, …) lives."""
    return cell_dir(sweep_dir, cell_id) / f"plugin-{repair}"


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
    """The cell's status.json; "pending" when there is none yet, "damaged" (with the reason) when
    it cannot be read."""
    path = cell_dir(sweep_dir, cell_id) / STATUS_FILE
    if not path.exists():
        return CellStatus(cell_id)
    try:
        raw = read_json(path)
        status = CellStatus(**{k: raw[k] for k in asdict(CellStatus(cell_id)) if k in raw})
        if status.state not in STATES or status.cell != cell_id:
            raise RunDamaged(f"{path} is damaged: state {status.state!r} of cell {status.cell!r}")
        return status
    except RunDamaged as error:
        return CellStatus(cell_id, "damaged", reason=str(error))
    except TypeError:
        return CellStatus(cell_id, "damaged", reason=f"{path} is damaged: a field has the wrong type")


def write_status(sweep_dir: str | Path, status: CellStatus) -> CellStatus:
    status.updated = time.time()
    _write_json(cell_dir(sweep_dir, status.cell) / STATUS_FILE, asdict(status))
    return status


def train_run(sweep_dir: str | Path, cell_id: str) -> RunFolder | None:
    """The cell's base run folder (the newest one with a checkpoint), if any."""
    runs = [r for r in list_runs(cell_dir(sweep_dir, cell_id) / "train") if r.checkpoint("last")]
    return runs[0] if runs else None


def plugin_run(sweep_dir: str | Path, cell_id: str, repair: str) -> RunFolder | None:
    """The cell's finished plug-in run folder of ``repair``, if any."""
    runs = [r for r in list_runs(plugin_folder(sweep_dir, cell_id, repair)) if _plugin_finished(r)]
    return runs[0] if runs else None


def plugin_report(run: RunFolder) -> dict | None:
    """A plug-in run's report.json when the run finished, None while it has none or is unfinished;
    ``RunDamaged`` when the report is there but unreadable or not a plug-in report."""
    path = run.path / "report.json"
    if not path.exists():
        return None
    report = read_json(path)
    try:
        finished = not report["stopped"] and report["epochs_done"] == saved_run_config(run.config()).optim.epochs
        columns = report["columns"]
        if not isinstance(columns, dict) or not all(isinstance(c, dict) for c in columns.values()):
            raise TypeError(columns)
    except (KeyError, TypeError):
        raise RunDamaged(f"{path} is damaged: not a plug-in report (stopped, epochs_done, columns)") from None
    except UserError as error:  # its run's config.json
        raise RunDamaged(str(error)) from None
    return report if finished else None


def cell_runs(sweep_dir: str | Path, cell: Cell) -> list[Path]:
    """The cell's run folders to compare: its base run and, when finished, each repair's plug-in run."""
    runs = [train_run(sweep_dir, cell.id), *(plugin_run(sweep_dir, cell.id, repair) for repair in cell.repairs)]
    return [run.path for run in runs if run is not None]


def _plugin_finished(run: RunFolder) -> bool:
    try:
        return plugin_report(run) is not None
    except RunDamaged:
        return False  # a re-run of the cell writes it again


def epochs_done(run: RunFolder) -> int:
    try:
        history = run.history()
    except RunDamaged:
        return 0  # the resume refuses it with the reason
    return int(history[-1]["epoch"]) if history else 0


# --- running one cell -------------------------------------------------------------------------

def run_cell(sweep_dir: str | Path, cell: Cell, on_status: StatusSink = ignore_status,
             should_stop: StopFlag = never_stop, on_event: EventSink = ignore_event,
             start_processes: ProcessStarter | None = None) -> CellStatus:
    """Run (or finish) one cell; never raises for a failed cell: its status says why. A cell that
    another process holds (its lock) is left alone and its status returned as it is. A cell of
    several processes starts them with ``start_processes`` (default: torchrun on this machine)."""
    lock = cell_lock(sweep_dir, cell.id)
    try:
        cell_dir(sweep_dir, cell.id).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RunWriteError(f"cannot make {cell_dir(sweep_dir, cell.id)}: {error.strerror or error}") from None
    try:
        lock.acquire()
    except UserError:
        return read_status(sweep_dir, cell.id)
    try:
        return _run_locked_cell(sweep_dir, cell, on_status, should_stop, on_event, start_processes)
    finally:
        lock.release()


def _run_locked_cell(sweep_dir: str | Path, cell: Cell, on_status: StatusSink, should_stop: StopFlag,
                     on_event: EventSink, start_processes: ProcessStarter | None) -> CellStatus:
    status = read_status(sweep_dir, cell.id)
    if status.state == "done":
        return status
    status = CellStatus(cell.id, "running", train_done=status.train_done, host=socket.gethostname(), pid=os.getpid())
    reporter = _Reporter(sweep_dir, status, on_status, on_event)
    try:
        stopped = _run_stages(sweep_dir, cell, reporter, should_stop, start_processes)
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


def _run_stages(sweep_dir: str | Path, cell: Cell, reporter: _Reporter, should_stop: StopFlag,
                start_processes: ProcessStarter | None) -> bool:
    """The base run, then each repair's plug-in run; True when stopped."""
    from data import load_dataset
    from engine.config import RunConfig
    from engine.trainer import train

    config = RunConfig.from_dict(cell.run)
    config.runs_dir = str(cell_dir(sweep_dir, cell.id) / "train")
    config.experiment = cell.id
    run = _clean_runs(cell_dir(sweep_dir, cell.id) / "train", lambda r: r.checkpoint("last") is not None)
    reporter.stage("train", cell.epochs, epochs_done(run) if run else 0)
    dataset = load_dataset(config.data) if config.nproc == 1 else None  # else each process loads its own
    if not reporter.status.train_done:
        # the trainer decides what is left: a finished run resumed trains nothing and returns at once
        result = train(config if run is None else None, reporter, should_stop, dataset=dataset,
                       resume=run.path if run else None, start_processes=start_processes)
        if result.stopped:
            return True
        reporter.status.train_done = True
        reporter.publish()
    return any(_run_plugin(sweep_dir, cell, repair, plugin, dataset, reporter, should_stop, start_processes)
               for repair, plugin in zip(cell.repairs, cell.plugins))  # stops at the first stopped one


def _run_plugin(sweep_dir, cell: Cell, repair: str, plugin: dict, dataset, reporter: _Reporter,
                should_stop: StopFlag, start_processes: ProcessStarter | None) -> bool:
    """One repair's plug-in run on the base run's last.pt (finished: nothing to do; else resumed
    or started); True when stopped."""
    from engine.plugin import tune
    from engine.plugin.run import plugin_stages

    base = train_run(sweep_dir, cell.id)
    if base is None:
        raise UserError(f"{cell.id}: the base run left no checkpoints/last.pt for the plug-in")
    folder = plugin_folder(sweep_dir, cell.id, repair)
    run = _clean_runs(folder, lambda r: _plugin_finished(r) or r.checkpoint("last") is not None)
    if run is not None and _plugin_finished(run):
        return False
    config = plugin_settings(plugin)
    config.model.pretrained, config.runs_dir = str(base.checkpoint("last")), str(folder)
    reporter.stage(f"plugin {repair}", sum(stage.epochs for stage in plugin_stages(config)),
                   epochs_done(run) if run else 0)
    result = tune(config, reporter, should_stop, dataset=dataset, resume=run.path if run else None,  # resumes inside
                  start_processes=start_processes)
    return result.stopped


def _clean_runs(root: Path, keep: Callable[[RunFolder], bool]) -> RunFolder | None:
    """The newest run under ``root`` that ``keep`` accepts; the others (killed too early) are
    removed, except a run folder another process is writing (its lock is held): never touched."""
    kept = None
    for run in list_runs(root):
        if run.lock_holder() is not None:
            continue
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
    """Write ``payload`` atomically; a folder that cannot be written (disk full, read-only) is one
    ``RunWriteError`` line."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(payload, indent=2), encoding="utf-8")
        tmp.replace(path)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        raise RunWriteError(f"cannot write {path}: {error.strerror or error}; the cells already run keep their "
                            "run folders, run the sweep again once the folder is writable") from None
