"""The run folder: what a training or tuning run leaves behind, shared by the CLI and the app.

Layout of ``<workspace>/runs/<YYYYmmdd-HHMMSS>-<label>/``::

    config.json        the run's settings (``kind`` says train or tune)
    dataset.json       dataset name, class names and training counts
    metrics.csv        one row per epoch: epoch, stage (1-based), lr, seconds, train_*, test_* (pandas-readable;
                       test_nll / test_ece calibration, HM / GM / LR as engine.metrics defines them)
    per_class.csv      one row per epoch: the test recall of every class
    per_class_precision.csv   the same layout: the test precision of every class
    confusion_best.csv, confusion_last.csv   the test confusion matrix (row = true class,
                       column = predicted; header and first column name the classes), up to 512 classes
    confused_pairs_best.csv, confused_pairs_last.csv   above 512 classes: the 1,000 most confused
                       (true, predicted) pairs with their counts and names (engine.confusion_counts)
    test_report.json   with a validation split: best.pt measured once on the test split
    checkpoints/       last.pt and best.pt
    log.txt            the run's messages
    status.json        running, finished, stopped, interrupted or diverged (absent in older runs)
    README.md          a short human-readable run card
    .lock              who writes the run now (pid, host, command, start time)

Reliability (docs/reliability.md):

- ``create`` is race-free: ``mkdir`` without ``exist_ok`` in a retry loop, so processes creating
  the same name at the same second each get their own folder.
- ``writing()`` holds the run's lock while it is written (the app and the CLI alike): an OS lock
  (``flock``; ``msvcrt.locking`` on Windows) that dies with its process, so a killed writer's
  lock is taken over; a second writer is refused with one line naming the holder.
- ``commit_epoch`` makes an epoch one unit whatever the kill point. The history lives in
  ``last.pt`` (``extra["run_history"]``); the steps are: the new best into a pending file named
  after the epoch, then ``last.pt`` (the commit point), then the pending best renamed to
  ``best.pt``, then both CSVs rewritten atomically from the history. ``recover()`` (on resume)
  removes temporary files, promotes or drops the pending best by what ``last.pt`` committed, and
  rewrites the CSVs from ``last.pt``'s history, so history, ``best.pt`` and ``last.pt`` agree.
"""
from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import re
import socket
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from errors import UserError
from engine import workspace
from engine.metrics import Metrics

METRICS_FILE = "metrics.csv"
PER_CLASS_FILE = "per_class.csv"
STATUS_FILE = "status.json"
LOCK_FILE = ".lock"
CHECKPOINTS = "checkpoints"
HISTORY_KEY = "run_history"  # in last.pt's extra: {"rows", "best_at", "metrics", "per_class"}
PENDING_BEST = re.compile(r"^\.best\.pending\.(\d+)\.pt$")
TEMPORARY = re.compile(r"^\..*\.tmp$")  # save_checkpoint's ".last.pt.XXXX.tmp", our ".metrics.csv.tmp"
MAX_NAME_TRIES = 10_000


class RunLocked(UserError):
    """Another process (or another task in this one) is writing the run folder."""
PRECISION_FILE = "per_class_precision.csv"


class RunFolder:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._metrics: list[dict[str, Any]] | None = None  # the committed history, once known
        self._per_class: list[dict[str, Any]] | None = None
        self._precision: list[dict[str, Any]] | None = None
        self._best_at: int | None = None  # 1-based row of the history best.pt holds
        self._lock: RunLock | None = None

    @classmethod
    def create(cls, root: str | Path | None, label: str) -> RunFolder:
        """A new, uniquely named run folder under ``root`` (default: the workspace's runs/).

        Race-free: each candidate name is claimed with ``mkdir`` (no ``exist_ok``); a name another
        process took first moves on to the next suffix."""
        root = workspace.ensure_folder(Path(root), "runs folder") if root else workspace.runs_dir()
        safe = re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-") or "run"
        base = f"{time.strftime('%Y%m%d-%H%M%S')}-{safe}"
        for suffix in range(1, MAX_NAME_TRIES + 1):
            path = root / (base if suffix == 1 else f"{base}-{suffix}")
            try:
                path.mkdir()
            except FileExistsError:
                continue
            except OSError as error:
                raise workspace.WorkspaceError(f"cannot create a run folder in {root} "
                                               f"({error.strerror or error})") from None
            (path / CHECKPOINTS).mkdir()
            run = cls(path)
            run._metrics, run._per_class, run._precision = [], [], []
            return run
        raise workspace.WorkspaceError(f"{root} already holds {MAX_NAME_TRIES} runs named {base}")

    @property
    def name(self) -> str:
        return self.path.name

    def is_run(self) -> bool:
        return (self.path / "config.json").is_file()

    # --- one writer ---------------------------------------------------------------------
    @contextlib.contextmanager
    def writing(self, command: str | None = None,
                on_interrupt: Callable[[int], None] | None = None) -> Iterator[RunFolder]:
        """Hold the run's lock while the block writes it; raises ``RunLocked`` naming the holder.

        ``status.json`` says "running" from here on; the loop marks "finished" or "stopped" at its
        end (``mark_status``); a crash leaves "running", so the run stays resumable.
        Ctrl-C (``KeyboardInterrupt``) inside the block logs "interrupted during epoch N+1"
        (N = epochs committed), writes ``status.json`` and calls ``on_interrupt(N)`` (e.g. to
        write the run card) before it propagates; the lock is released in every case."""
        lock = RunLock(self.path, command).acquire()
        self._lock = lock
        try:
            self.mark_status("running", pid=os.getpid())
            yield self
        except KeyboardInterrupt:
            done = self.epochs_committed()
            self.log(f"interrupted (Ctrl-C) during epoch {done + 1}; {done} epoch(s) are saved, "
                     f"resume with: python main.py train --resume {self.path}")
            self.mark_status("interrupted", epochs=done)
            if on_interrupt is not None:
                with contextlib.suppress(Exception):  # the interruption is what the user must see
                    on_interrupt(done)
            raise
        finally:
            self._lock = None
            lock.release()

    def lock_holder(self) -> dict[str, Any] | None:
        """Who holds the lock now (pid, host, command, started), or None when nobody does."""
        return RunLock(self.path).holder()

    # --- writing -------------------------------------------------------------------------
    def write_json(self, name: str, payload: dict) -> None:
        _write_atomically(self.path / name, json.dumps(payload, indent=2, allow_nan=True))

    def write_dataset(self, name: str, class_names: list[str], class_counts: list[int], eval_split: str = "test") -> None:
        """``dataset.json``: names, training counts and ``eval_split``, the split the per-epoch ``test_*``
        columns measure ("val" when the dataset has a validation split)."""
        self.write_json("dataset.json", {"name": name, "class_names": class_names, "class_counts": class_counts,
                                         "eval_split": eval_split})

    def write_test_report(self, test: Metrics, chosen: str, chosen_by: str) -> None:
        """``test_report.json``: the test split measured once with the model the validation split chose."""
        self.write_json("test_report.json", {"split": "test", "model": chosen, "chosen_on": "val",
                                             "chosen_by": chosen_by, **test.summary("test_"),
                                             "test_lr": test.lowest_recall,
                                             "per_class_recall": test.per_class_recall})

    def commit_epoch(self, metrics_row: Mapping[str, Any], per_class_row: Mapping[str, Any],
                     precision_row: Mapping[str, Any] | None = None, *, state_dict: Mapping[str, Any] | None = None, meta: Mapping[str, Any] | None = None,
                     heads: Mapping[str, Mapping[str, Any]] | None = None, extra: Mapping[str, Any] | None = None,
                     method_state: Mapping[str, Any] | None = None, is_best: bool = False) -> None:
        """Write one epoch as one unit: its two CSV rows and, with ``state_dict``, ``last.pt``
        (``extra`` = resume state, the history is added) and ``best.pt`` when ``is_best``.

        ``best.pt`` gets the same weights, meta and heads without the resume state. Without
        ``state_dict`` (``save_model`` off) only the CSVs are rewritten. A resumed run must call
        ``recover()`` first. Steps: ``_write_pending_best``, ``_write_last`` (commit point),
        ``_promote_best``, ``_write_history``; a failure before the commit point leaves the
        previous epoch in force, one after it is repaired by ``recover()``. Weights, buffers or heads
        holding NaN/inf are refused (``engine.finite.NonFiniteError``) before anything is written,
        so ``last.pt`` and ``best.pt`` stay the last finite epoch."""
        self._require_history(state_dict is not None)
        if state_dict is not None:
            self._refuse_non_finite(state_dict, heads)
        metrics, per_class = self._metrics + [dict(metrics_row)], self._per_class + [dict(per_class_row)]
        precision = self._precision + ([dict(precision_row)] if precision_row else [])
        rows = len(metrics)
        if state_dict is not None:
            if meta is None:
                raise ValueError("commit_epoch needs meta with the state_dict")
            best_at = rows if is_best else self._best_at
            if is_best:
                self._write_pending_best(rows, state_dict, meta, heads, method_state)
            history = {"rows": rows, "best_at": best_at, "metrics": metrics, "per_class": per_class,
                       "precision": precision}
            self._write_last(state_dict, meta, heads, {**(extra or {}), HISTORY_KEY: history}, method_state)
            self._metrics, self._per_class, self._precision, self._best_at = metrics, per_class, precision, best_at
            if is_best:
                self._promote_best(rows)
        else:
            self._metrics, self._per_class, self._precision = metrics, per_class, precision
        self._write_history()

    def update_last(self, state_dict: Mapping[str, Any], meta: Mapping[str, Any], *,
                    heads: Mapping[str, Mapping[str, Any]] | None = None, extra: Mapping[str, Any] | None = None,
                    method_state: Mapping[str, Any] | None = None) -> None:
        """Rewrite ``last.pt`` after the last epoch (the plug-in's final meta), keeping its history."""
        self._require_history(True)
        self._refuse_non_finite(state_dict, heads)
        history = {"rows": len(self._metrics), "best_at": self._best_at, "metrics": self._metrics,
                   "per_class": self._per_class, "precision": self._precision}
        self._write_last(state_dict, meta, heads, {**(extra or {}), HISTORY_KEY: history}, method_state)

    def append_epoch(self, epoch: int, lr: float, seconds: float, train: Metrics, test: Metrics,
                     **columns: Any) -> None:
        """One epoch's CSV rows, no checkpoint (an evaluation-only run)."""
        self.commit_epoch(*epoch_rows(epoch, lr, seconds, train, test, **columns))

    def epochs_committed(self) -> int:
        """Rows of history this folder holds (what a resume continues after)."""
        if self._metrics is None:
            self._load_history_from_csv()
        return len(self._metrics)

    def recover(self) -> Any | None:
        """Bring the folder to its last committed epoch before a resume; returns the loaded
        ``last.pt`` (an ``engine.checkpoints.Checkpoint``) or None when there is none.

        Removes leftover temporary files, promotes the pending best of the committed epoch (drops
        any other), and rewrites the CSVs from ``last.pt``'s history (files of format /1 without
        one: the CSV rows up to its ``epochs_done``)."""
        self._remove_temporaries()
        last = self.path / CHECKPOINTS / "last.pt"
        checkpoint = None
        history = None
        if last.is_file():
            from engine.checkpoints import load_checkpoint

            checkpoint = load_checkpoint(last)
            history = checkpoint.extra.get(HISTORY_KEY)
        if history is not None:
            self._metrics = [dict(row) for row in history["metrics"]]
            self._per_class = [dict(row) for row in history["per_class"]]
            self._precision = [dict(row) for row in history.get("precision", [])]
            self._best_at = history["best_at"]
        else:
            done = None if checkpoint is None else int(checkpoint.extra.get("epochs_done",
                                                                            checkpoint.meta.get("epoch", 0)))
            self._load_history_from_csv(done)
        for path, rows in self._pending_bests():
            if history is not None and rows == history["rows"] == history["best_at"]:
                os.replace(path, path.with_name("best.pt"))
            else:
                path.unlink(missing_ok=True)
        self._write_history()
        return checkpoint

    def mark_status(self, state: str, **details: Any) -> None:
        """``status.json``: "running", "finished", "stopped", "interrupted" or "diverged", with details."""
        self.write_json(STATUS_FILE, {"state": state, "at": time.strftime("%Y-%m-%d %H:%M:%S"), **details})

    def write_confusion(self, tag: str, confusion) -> Path:
        """Write ``confusion_<tag>.csv`` (e.g. tag "best" or "last"): a (C, C) matrix (tensor, array or
        nested list; row = true class, column = predicted), headed by the class names."""
        rows = confusion.tolist() if hasattr(confusion, "tolist") else [list(r) for r in confusion]
        names = self.class_names()
        if len(names) != len(rows):
            names = [str(i) for i in range(len(rows))]
        path = self.path / f"confusion_{tag}.csv"
        tmp = self.path / f".confusion_{tag}.tmp"
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["true \\ predicted", *names])
            for name, row in zip(names, rows):
                writer.writerow([name, *(int(v) for v in row)])
        tmp.replace(path)
        return path

    def write_confused_pairs(self, tag: str, pairs: list[tuple[int, int, int]]) -> Path:
        """Write ``confused_pairs_<tag>.csv``: the most confused (true, predicted) pairs, most frequent
        first (``engine.confusion_counts``; what remains of the matrix above 512 classes), with the class names."""
        names = self.class_names()
        path = self.path / f"confused_pairs_{tag}.csv"
        tmp = self.path / f".confused_pairs_{tag}.tmp"
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["true", "predicted", "count", "true_name", "predicted_name"])
            for true, predicted, count in pairs:
                writer.writerow([true, predicted, count, *(names[c] if c < len(names) else str(c)
                                                           for c in (true, predicted))])
        tmp.replace(path)
        return path

    def log(self, text: str) -> None:
        with open(self.path / "log.txt", "a", encoding="utf-8") as handle:
            handle.write(f"{time.strftime('%H:%M:%S')} {text}\n")

    def write_card(self, text: str) -> None:
        _write_atomically(self.path / "README.md", text)

    # --- the commit's steps (separate so that tests can fail each one) ---------------------
    def _write_pending_best(self, rows: int, state_dict, meta, heads, method_state) -> None:
        from engine.checkpoints import save_checkpoint

        save_checkpoint(self.path / CHECKPOINTS / f".best.pending.{rows}.pt", state_dict, meta, heads=heads,
                        method_state=method_state)

    def _write_last(self, state_dict, meta, heads, extra, method_state) -> None:
        from engine.checkpoints import save_checkpoint

        save_checkpoint(self.path / CHECKPOINTS / "last.pt", state_dict, meta, heads=heads, extra=extra,
                        method_state=method_state)

    def _promote_best(self, rows: int) -> None:
        os.replace(self.path / CHECKPOINTS / f".best.pending.{rows}.pt", self.path / CHECKPOINTS / "best.pt")

    def _write_history(self) -> None:
        for name, rows in ((METRICS_FILE, self._metrics), (PER_CLASS_FILE, self._per_class),
                           (PRECISION_FILE, self._precision)):
            if rows:
                _write_atomically(self.path / name, _csv_text(rows))
            else:
                (self.path / name).unlink(missing_ok=True)

    # --- helpers ---------------------------------------------------------------------------
    def _refuse_non_finite(self, state_dict: Mapping[str, Any], heads: Mapping[str, Any] | None) -> None:
        from engine.finite import NonFiniteError, non_finite_keys

        bad = non_finite_keys(state_dict) + non_finite_keys(heads or {}, prefix="heads.")
        if bad:
            listed = ", ".join(bad[:3]) + (f" and {len(bad) - 3} more" if len(bad) > 3 else "")
            kept = self.epochs_committed()
            raise NonFiniteError(f"epoch {kept + 1} left NaN or infinite values in the model ({listed}); it was "
                                 f"not saved, the checkpoints of epoch {kept} are kept. Lower the learning rate "
                                 "or check the method's hyperparameters", bad)

    def _require_history(self, with_checkpoint: bool) -> None:
        if self._metrics is not None:
            return
        if with_checkpoint and (self.path / CHECKPOINTS / "last.pt").exists():
            raise RuntimeError("call RunFolder.recover() before committing epochs to a resumed run")
        self._load_history_from_csv()

    def _load_history_from_csv(self, up_to_epoch: int | None = None) -> None:
        def rows(name: str) -> list[dict[str, Any]]:
            path = self.path / name
            found = [{k: _number_or_text(v) for k, v in row.items()}
                     for row in _read_csv(path)] if path.exists() else []
            if up_to_epoch is not None:
                found = [row for row in found if _is_number(row.get("epoch")) and row["epoch"] <= up_to_epoch]
            return found

        self._metrics, self._per_class = rows(METRICS_FILE), rows(PER_CLASS_FILE)
        self._precision = rows(PRECISION_FILE)

    def _pending_bests(self) -> list[tuple[Path, int]]:
        folder = self.path / CHECKPOINTS
        found = [(p, PENDING_BEST.match(p.name)) for p in folder.iterdir()] if folder.is_dir() else []
        return [(path, int(match.group(1))) for path, match in found if match]

    def _remove_temporaries(self) -> None:
        for folder in (self.path, self.path / CHECKPOINTS):
            if folder.is_dir():
                for path in folder.iterdir():
                    if TEMPORARY.match(path.name) and path.is_file():
                        path.unlink(missing_ok=True)

    # --- reading -------------------------------------------------------------------------
    def config(self) -> dict:
        return json.loads((self.path / "config.json").read_text())

    def dataset(self) -> dict:
        path = self.path / "dataset.json"
        return json.loads(path.read_text()) if path.exists() else {"name": "", "class_names": [], "class_counts": []}

    def class_names(self) -> list[str]:
        return self.dataset()["class_names"]

    def class_counts(self) -> list[int]:
        return self.dataset()["class_counts"]

    def history(self) -> list[dict[str, float]]:
        path = self.path / METRICS_FILE
        return [{k: _number(v) for k, v in row.items()} for row in _read_csv(path)] if path.exists() else []

    def per_class(self) -> list[list[float]]:
        """Every epoch's test recall per class (one list per epoch)."""
        return self._per_class_rows(PER_CLASS_FILE)

    def per_class_precision(self) -> list[list[float]]:
        """Every epoch's test precision per class ([] for runs written before precision was saved)."""
        return self._per_class_rows(PRECISION_FILE)

    def _per_class_rows(self, name: str) -> list[list[float]]:
        path = self.path / name
        if not path.exists():
            return []
        return [[_number(v) for k, v in row.items() if k != "epoch"] for row in _read_csv(path)]

    def confusion(self, tag: str = "last") -> list[list[int]] | None:
        """The confusion matrix saved as ``confusion_<tag>.csv``, or None."""
        path = self.path / f"confusion_{tag}.csv"
        if not path.exists():
            return None
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))[1:]
        return [[int(v) for v in row[1:]] for row in rows]

    def confused_pairs(self, tag: str = "last") -> list[tuple[int, int, int]] | None:
        """The pairs saved as ``confused_pairs_<tag>.csv`` (true, predicted, count), or None."""
        path = self.path / f"confused_pairs_{tag}.csv"
        if not path.exists():
            return None
        return [(int(row["true"]), int(row["predicted"]), int(row["count"])) for row in _read_csv(path)]

    def checkpoint(self, which: str = "best") -> Path | None:
        path = self.path / CHECKPOINTS / f"{which}.pt"
        return path if path.exists() else None

    def card(self) -> str:
        path = self.path / "README.md"
        return path.read_text(encoding="utf-8") if path.exists() else ""

    def is_finished(self) -> bool:
        """The run trained all it was set to. ``status.json`` decides; a run written before it
        existed is finished when its history reaches the configured epochs."""
        state = self.status().get("state")
        if state is not None:
            return state == "finished"
        try:
            epochs = self.config()["run"]["optim"]["epochs"]
        except (OSError, ValueError, KeyError, TypeError):
            return False
        done = [row.get("epoch", math.nan) for row in self.history()]
        return bool(done) and max(done) >= epochs

    def status(self) -> dict[str, Any]:
        """``status.json`` (``{"state": …}``), or ``{}`` while running or for older runs."""
        path = self.path / STATUS_FILE
        try:
            return json.loads(path.read_text()) if path.exists() else {}
        except (OSError, ValueError):
            return {}


def epoch_rows(epoch: int, lr: float, seconds: float, train: Metrics, test: Metrics,
               **columns: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    """The metrics.csv, per_class.csv and per_class_precision.csv rows of one epoch (the last None
    when the metrics have no precision); ``columns`` (e.g. ``stage=2``) go into metrics.csv."""
    metrics = {"epoch": epoch, **columns, "lr": lr, "seconds": round(seconds, 3),
               **train.summary("train_"), **test.summary("test_")}
    per_class = {"epoch": epoch, **{f"class_{i}": r for i, r in enumerate(test.per_class_recall)}}
    precision = ({"epoch": epoch, **{f"class_{i}": p for i, p in enumerate(test.per_class_precision)}}
                 if test.per_class_precision else None)
    return metrics, per_class, precision


def list_runs(root: str | Path | None = None) -> list[RunFolder]:
    """Run folders under ``root`` (default: the workspace's runs/), newest first."""
    root = Path(root) if root else workspace.runs_dir()
    runs = [RunFolder(p) for p in root.iterdir() if p.is_dir()] if root.exists() else []
    return sorted((r for r in runs if r.is_run()), key=lambda r: r.name, reverse=True)


def format_percent(value: float | None) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{100 * value:.2f}"


# ------------------------------------------------------------------------------------ lock

class RunLock:
    """The OS lock on ``<run>/.lock`` plus, in the file, who holds it. The OS releases it when the
    holder dies (even by kill -9), so a dead writer's lock is simply taken over."""

    def __init__(self, folder: Path, command: str | None = None):
        self.path = Path(folder) / LOCK_FILE
        self.command = command or " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])[:300]
        self._handle: int | None = None

    def acquire(self) -> RunLock:
        try:
            handle = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise UserError(f"cannot lock the run folder {self.path.parent} "
                            f"({error.strerror or error})") from None
        if not _try_lock(handle):
            os.close(handle)
            raise RunLocked(f"{self.path.parent.name} is being written by {_describe(self.holder())}; "
                            "wait for it to finish or stop it, then try again")
        info = {"pid": os.getpid(), "host": socket.gethostname(), "command": self.command,
                "started": time.strftime("%Y-%m-%d %H:%M:%S")}
        os.ftruncate(handle, 0)
        os.write(handle, json.dumps(info).encode())
        self._handle = handle
        return self

    def release(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._handle, 0)
            _unlock(self._handle)
            os.close(self._handle)
            self._handle = None

    def holder(self) -> dict[str, Any] | None:
        """The holder's pid, host, command and start time, or None when the lock is free."""
        try:
            handle = os.open(self.path, os.O_RDWR)
        except OSError:
            return None
        try:
            if _try_lock(handle):
                _unlock(handle)
                return None
            for _ in range(20):  # the holder writes its details right after taking the lock
                with contextlib.suppress(OSError, ValueError):
                    info = json.loads(self.path.read_text() or "null")
                    if isinstance(info, dict):
                        return info
                time.sleep(0.01)
            return {}
        finally:
            os.close(handle)


def _describe(info: dict[str, Any] | None) -> str:
    if not info:
        return "another process"
    return (f"pid {info.get('pid', '?')} on {info.get('host', '?')} (`{info.get('command', '?')}`, "
            f"since {info.get('started', '?')})")


if os.name == "nt":  # pragma: no cover - Windows
    import msvcrt

    _LOCK_OFFSET = 1 << 30  # lock a byte far past the details, so that others can still read them

    def _try_lock(handle: int) -> bool:
        os.lseek(handle, _LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(handle, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
        finally:
            os.lseek(handle, 0, os.SEEK_SET)

    def _unlock(handle: int) -> None:
        os.lseek(handle, _LOCK_OFFSET, os.SEEK_SET)
        with contextlib.suppress(OSError):
            msvcrt.locking(handle, msvcrt.LK_UNLCK, 1)
        os.lseek(handle, 0, os.SEEK_SET)
else:
    import fcntl

    def _try_lock(handle: int) -> bool:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False
        except OSError:  # a file system without locks (some network mounts): trust a live pid instead
            return not _live_holder(handle)

    def _unlock(handle: int) -> None:
        with contextlib.suppress(OSError):
            fcntl.flock(handle, fcntl.LOCK_UN)


def _live_holder(handle: int) -> bool:
    """The details in the lock file name another live process on this host."""
    try:
        info = json.loads(os.pread(handle, 4096, 0) or b"null")
        pid = int(info["pid"])
        if info.get("host") != socket.gethostname() or pid == os.getpid():
            return False
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    except (OSError, ValueError, KeyError, TypeError):
        return False


# ------------------------------------------------------------------------------------- files

def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to a temporary sibling, flush it to disk, then rename it over ``path``."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _csv_text(rows: list[dict[str, Any]]) -> str:
    """Rows → CSV text; the header is every column in order of first appearance."""
    if not rows:
        return ""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, restval="")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buffer.getvalue()


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _number(text: str) -> float:
    return float(text) if text not in ("", None) else math.nan


def _number_or_text(text: str | None) -> Any:
    """A CSV cell back as the number it was written from (ints stay ints), else the text."""
    if text in ("", None):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
