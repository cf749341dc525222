"""The run folder: what a training or tuning run leaves behind, shared by the CLI and the app.

Layout of ``<workspace>/runs/<YYYYmmdd-HHMMSS>-<label>/``::

    config.json        the run's settings (``kind`` says train or tune)
    dataset.json       dataset name, class names and training counts
    metrics.csv        one row per epoch: epoch, stage (1-based), lr, seconds, train_*, test_* (pandas-readable;
                       test_nll / test_ece calibration, HM / GM / LR as engine.metrics defines them)
    per_class.csv      one row per epoch: the test recall of every class
    per_class_precision.csv   the same layout: the test precision of every class
    confusion_best.csv, confusion_last.csv   the held-out confusion matrix of the best and the last
                       epoch (row = true class, column = predicted; header and first column name the
                       classes, the header cell the epoch), up to 512 classes, written when a session ends
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
- ``commit_epoch`` makes an epoch one unit whatever the kill point. The history CSVs only grow
  (``engine.run_files.HistoryFile``): the epoch's rows are appended and fsynced, then the new best
  goes into a pending file named after the epoch, then ``last.pt`` is written (the commit point; it
  records each CSV's committed length and SHA-256 in ``extra["run_history"]``), then the pending
  best is renamed to ``best.pt``.
- ``recover()`` (on resume) first checks everything it will rely on, writing nothing: ``last.pt``
  must be this run's checkpoint (our format, the run's class count, the resume state the caller's
  ``restore`` accepts) and each CSV must start with exactly what ``last.pt`` committed. Only then
  does it remove temporary files, promote or drop the pending best, and cut each CSV back to its
  committed length, so history, ``best.pt`` and ``last.pt`` agree. A refusal is one
  ``RunDamaged`` line naming the file, with the folder untouched.
- A write that fails (disk full, a folder made read-only) is one ``RunWriteError`` line; the
  epochs committed before it stay intact and resumable.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import re
import socket
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from errors import UserError
from engine import workspace
from engine.metrics import Metrics
from engine.run_files import (HistoryFile, RunDamaged, RunWriteError, csv_number, number_or_text, read_csv,
                              read_json, read_text, write_atomically)

if TYPE_CHECKING:
    from engine.checkpoints import Checkpoint

METRICS_FILE = "metrics.csv"
PER_CLASS_FILE = "per_class.csv"
PRECISION_FILE = "per_class_precision.csv"
HISTORY_FILES = (METRICS_FILE, PER_CLASS_FILE, PRECISION_FILE)
STATUS_FILE = "status.json"
LOCK_FILE = ".lock"
CHECKPOINTS = "checkpoints"
HISTORY_KEY = "run_history"  # in last.pt's extra: {"rows", "best_at", "files": {csv name: HistoryFile.record()}}
PENDING_BEST = re.compile(r"^\.best\.pending\.(\d+)\.pt$")
TEMPORARY = re.compile(r"^\..*\.tmp$")  # save_checkpoint's ".last.pt.XXXX.tmp", our ".README.md.tmp"
MAX_NAME_TRIES = 10_000
RESTORE_FAULTS = (KeyError, TypeError, ValueError, IndexError, AttributeError, RuntimeError)


class RunLocked(UserError):
    """Another process (or another task in this one) is writing the run folder."""


class RunFolder:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._files: dict[str, HistoryFile] | None = None  # the committed history CSVs, once known
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
            run._files = {name: HistoryFile(path / name) for name in HISTORY_FILES}
            return run
        raise workspace.WorkspaceError(f"{root} already holds {MAX_NAME_TRIES} runs named {base}")

    @property
    def name(self) -> str:
        return self.path.name

    def is_run(self) -> bool:
        return (self.path / "config.json").is_file()

    # --- one writer ---------------------------------------------------------------------
    @contextlib.contextmanager
    def writing(self, command: str | None = None, on_interrupt: Callable[[int], None] | None = None,
                resume: Callable[[Checkpoint], None] | None = None) -> Iterator[RunFolder]:
        """Hold the run's lock while the block writes it; raises ``RunLocked`` naming the holder.

        With ``resume`` (what restores a loop from ``last.pt``), the folder is ``recover``-ed first:
        a checkpoint the run cannot continue from is refused before anything is written, and
        ``status.json`` keeps what it said. ``status.json`` says "running" from then on; the loop
        marks "finished" or "stopped" at its end (``mark_status``); a crash leaves "running", which
        readers show as interrupted once the lock is free (``lock_holder``).
        Ctrl-C (``KeyboardInterrupt``) inside the block logs "interrupted during epoch N+1"
        (N = epochs committed), writes ``status.json`` and calls ``on_interrupt(N)`` (e.g. to
        write the run card) before it propagates; the lock is released in every case."""
        lock = RunLock(self.path, command).acquire()
        self._lock = lock
        try:
            if resume is not None and self.recover(resume) is None:
                raise UserError(f"{self.path} has no checkpoints/last.pt to resume from (was 'save model' off?)")
            self.mark_status("running", pid=os.getpid())
            yield self
        except KeyboardInterrupt:
            done = self._rows_known()
            with contextlib.suppress(UserError):  # the interruption is what the user must see
                self.log(f"interrupted (Ctrl-C) during epoch {done + 1}; {done} epoch(s) are saved, "
                         f"resume with: python main.py train --resume {self.path}")
                self.mark_status("interrupted", epochs=done)
            if on_interrupt is not None:
                with contextlib.suppress(Exception):
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
        with self._saving():
            write_atomically(self.path / name, json.dumps(payload, indent=2, allow_nan=True))

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
                     precision_row: Mapping[str, Any] | None = None, *, state_dict: Mapping[str, Any] | None = None,
                     meta: Mapping[str, Any] | None = None, heads: Mapping[str, Mapping[str, Any]] | None = None,
                     extra: Mapping[str, Any] | None = None, method_state: Mapping[str, Any] | None = None,
                     is_best: bool = False) -> None:
        """Write one epoch as one unit: its CSV rows and, with ``state_dict``, ``last.pt``
        (``extra`` = resume state, the history record is added) and ``best.pt`` when ``is_best``.

        ``best.pt`` gets the same weights, meta and heads without the resume state. Without
        ``state_dict`` (``save_model`` off) only the CSV rows are appended. A resumed run must call
        ``recover()`` first. Steps: ``_append_history``, ``_write_pending_best``, ``_write_last``
        (the commit point), ``_promote_best``, ``_promote_history``; a failure before the commit
        point leaves the previous epoch in force, one after it is repaired by ``recover()``.
        Weights, buffers or heads holding NaN/inf are refused (``engine.finite.NonFiniteError``)
        before anything is written, so ``last.pt`` and ``best.pt`` stay the last finite epoch. A
        failed write (disk full, read-only) raises ``RunWriteError``."""
        self._require_history(state_dict is not None)
        if state_dict is not None:
            if meta is None:
                raise ValueError("commit_epoch needs meta with the state_dict")
            self._refuse_non_finite(state_dict, heads)
        with self._saving():
            files = self._append_history({METRICS_FILE: metrics_row, PER_CLASS_FILE: per_class_row,
                                          PRECISION_FILE: precision_row})
            rows = files[METRICS_FILE].rows
            if state_dict is not None:
                best_at = rows if is_best else self._best_at
                if is_best:
                    self._write_pending_best(rows, state_dict, meta, heads, method_state)
                self._write_last(state_dict, meta, heads, {**(extra or {}), HISTORY_KEY: _record(files, best_at)},
                                 method_state)
                self._best_at = best_at
            self._files = files
            if state_dict is not None and is_best:
                self._promote_best(rows)
            self._promote_history()

    def update_last(self, state_dict: Mapping[str, Any], meta: Mapping[str, Any], *,
                    heads: Mapping[str, Mapping[str, Any]] | None = None, extra: Mapping[str, Any] | None = None,
                    method_state: Mapping[str, Any] | None = None) -> None:
        """Rewrite ``last.pt`` after the last epoch (the plug-in's final meta), keeping its history."""
        self._require_history(True)
        self._refuse_non_finite(state_dict, heads)
        with self._saving():
            self._write_last(state_dict, meta, heads, {**(extra or {}), HISTORY_KEY: _record(self._files, self._best_at)},
                             method_state)

    def append_epoch(self, epoch: int, lr: float, seconds: float, train: Metrics, test: Metrics,
                     **columns: Any) -> None:
        """One epoch's CSV rows, no checkpoint (an evaluation-only run)."""
        self.commit_epoch(*epoch_rows(epoch, lr, seconds, train, test, **columns))

    def epochs_committed(self) -> int:
        """Rows of history this folder holds (what a resume continues after)."""
        self._require_history(False)
        return self._files[METRICS_FILE].rows

    def recover(self, restore: Callable[[Checkpoint], None] | None = None) -> Checkpoint | None:
        """Bring the folder to its last committed epoch before a resume; returns the loaded
        ``last.pt`` (an ``engine.checkpoints.Checkpoint``) or None when there is none (then
        nothing is touched).

        Everything is checked before any file changes; a refusal is one ``RunDamaged`` line naming
        the file: ``last.pt`` must load, be our format with its resume state and this run's class
        count, and be accepted by ``restore`` (the caller's loop restoring itself from it: weights
        that do not fit, a damaged optimiser or RNG state); each history CSV must start with
        exactly what it committed. Then leftover temporary files are removed, the pending best
        of the committed epoch is promoted (any other dropped), and each CSV is cut back to its
        committed length (runs written before the record existed: rewritten from ``last.pt``'s
        history, or from the CSV rows up to its ``epochs_done``)."""
        last = self.path / CHECKPOINTS / "last.pt"
        if not last.exists():
            return None
        checkpoint = self._load_last(last)
        plan, best_at = self._committed_history(checkpoint, last)
        if restore is not None:
            try:
                restore(checkpoint)
            except UserError as error:
                raise RunDamaged(f"{last} cannot be resumed from: {error}; the run folder was left as it was") from None
            except RESTORE_FAULTS as error:
                what = f"lacks {error} in its resume state" if isinstance(error, KeyError) else \
                    f"holds a resume state this run cannot use ({type(error).__name__}: {_first_line(error)})"
                raise RunDamaged(f"{last} {what}; the run folder was left as it was") from None
        rows = plan[METRICS_FILE].rows if isinstance(plan[METRICS_FILE], HistoryFile) else len(plan[METRICS_FILE])
        with self._saving():
            self._remove_temporaries()
            for path, pending_rows in self._pending_bests():
                if pending_rows == rows == best_at:
                    os.replace(path, path.with_name("best.pt"))
                else:
                    path.unlink(missing_ok=True)
            self._files = {name: state.settle() if isinstance(state, HistoryFile) else
                           HistoryFile.written(self.path / name, state) for name, state in plan.items()}
        self._best_at = best_at
        return checkpoint

    def mark_status(self, state: str, **details: Any) -> None:
        """``status.json``: "running", "finished", "stopped", "interrupted" or "diverged", with details."""
        self.write_json(STATUS_FILE, {"state": state, "at": time.strftime("%Y-%m-%d %H:%M:%S"), **details})

    def write_confusion(self, tag: str, confusion, epoch: int | None = None) -> Path:
        """Write ``confusion_<tag>.csv`` (e.g. tag "best" or "last"): a (C, C) count matrix (tensor on
        any device, array or nested list; row = true class, column = predicted), headed by the class
        names (and the epoch it is from, when given)."""
        import csv
        import io

        rows = confusion.tolist() if hasattr(confusion, "tolist") else [list(r) for r in confusion]
        names = self._dataset_or_empty()["class_names"]
        if len(names) != len(rows):
            names = [str(i) for i in range(len(rows))]
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["true \\ predicted" + (f" (epoch {epoch})" if epoch is not None else ""), *names])
        writer.writerows([name, *row] for name, row in zip(names, rows))
        path = self.path / f"confusion_{tag}.csv"
        with self._saving():
            write_atomically(path, buffer.getvalue())
        return path

    def write_confused_pairs(self, tag: str, pairs: list[tuple[int, int, int]], epoch: int | None = None) -> Path:
        """Write ``confused_pairs_<tag>.csv``: the most confused (true, predicted) pairs, most frequent
        first (``engine.confusion_counts``; what remains of the matrix above 512 classes), with the
        class names (and the epoch they are from, in a last column, when given)."""
        import csv
        import io

        names = self._dataset_or_empty()["class_names"]
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["true", "predicted", "count", "true_name", "predicted_name"] + (["epoch"] if epoch else []))
        writer.writerows([true, predicted, count, *(names[c] if c < len(names) else str(c) for c in (true, predicted)),
                          *([epoch] if epoch else [])] for true, predicted, count in pairs)
        path = self.path / f"confused_pairs_{tag}.csv"
        with self._saving():
            write_atomically(path, buffer.getvalue())
        return path

    def log(self, text: str) -> None:
        with self._saving(), open(self.path / "log.txt", "a", encoding="utf-8") as handle:
            handle.write(f"{time.strftime('%H:%M:%S')} {text}\n")

    def write_card(self, text: str) -> None:
        with self._saving():
            write_atomically(self.path / "README.md", text)

    # --- the commit's steps (separate so that tests can fail each one) ---------------------
    def _append_history(self, rows: dict[str, Mapping[str, Any] | None]) -> dict[str, HistoryFile]:
        return {name: self._files[name].append([dict(row)] if row else []) for name, row in rows.items()}

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

    def _promote_history(self) -> None:
        self._files = {name: state.promote() for name, state in self._files.items()}

    # --- helpers ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def _saving(self) -> Iterator[None]:
        """Turn a failed write (disk full, read-only folder, removed folder) into one line."""
        try:
            yield
        except OSError as error:
            where = f" ({error.filename})" if error.filename else ""
            done = self._rows_known()
            raise RunWriteError(f"cannot write the run folder {self.path}{where}: {error.strerror or error}; "
                                f"the {done} epoch(s) saved before stay intact; free space or make the folder "
                                f"writable, then resume with: python main.py train --resume {self.path}") from None

    def _rows_known(self) -> int:
        """Epochs committed, without reading anything that could fail (for error messages)."""
        return self._files[METRICS_FILE].rows if self._files else 0

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
        if self._files is not None:
            return
        if with_checkpoint and (self.path / CHECKPOINTS / "last.pt").exists():
            raise RuntimeError("call RunFolder.recover() before committing epochs to a resumed run")
        self._files = {name: HistoryFile.as_found(self.path / name) for name in HISTORY_FILES}

    def _load_last(self, last: Path) -> Checkpoint:
        """``last.pt`` if it is a checkpoint of this run (our format, with a resume state, the run's
        class count); ``RunDamaged`` naming it otherwise."""
        from engine.checkpoints import load_checkpoint

        try:
            checkpoint = load_checkpoint(last)
        except UserError as error:
            raise RunDamaged(f"{last} cannot be resumed from: {error}; the run folder was left as it was") from None
        if checkpoint.source != "long-tail-studio":
            raise RunDamaged(f"{last} is not a checkpoint of this run: it holds plain model weights without a run's "
                             "history and resume state; the run folder was left as it was")
        extra = checkpoint.extra
        if HISTORY_KEY not in extra and "epochs_done" not in extra:
            raise RunDamaged(f"{last} holds no resume state (it is a final model, not a run's last epoch); "
                             "the run folder was left as it was")
        classes = len(self.dataset()["class_names"])
        spec = checkpoint.spec
        if classes and spec is not None and spec.num_classes != classes:
            raise RunDamaged(f"{last} is a model of {spec.num_classes} classes, but this run has {classes} "
                             "(dataset.json); it belongs to another run; the run folder was left as it was")
        return checkpoint

    def _committed_history(self, checkpoint: Checkpoint, last: Path) -> tuple[dict[str, Any], int | None]:
        """Per CSV, its checked committed state (a ``HistoryFile``) or the rows to rewrite it from
        (older runs); and the 1-based row best.pt holds. Reads only."""
        history = checkpoint.extra.get(HISTORY_KEY)
        if history is None:  # format /1: the CSV rows up to the checkpoint's epoch
            try:
                done = int(checkpoint.extra.get("epochs_done", checkpoint.meta.get("epoch", 0)))
            except (TypeError, ValueError):
                raise RunDamaged(f"{last} holds a damaged resume state (epochs_done)") from None
            return {name: [row for row in self._csv_rows(name) if _is_number(row.get("epoch"))
                           and row["epoch"] <= done] for name in HISTORY_FILES}, None
        try:
            best_at = history["best_at"]
            if best_at is not None and not 1 <= int(best_at) <= int(history["rows"]):
                raise ValueError(best_at)
            if isinstance(history.get("files"), Mapping):
                files = history["files"]
                plan = {name: HistoryFile.committed(self.path / name, files.get(name, {"bytes": 0, "rows": 0,
                                                                                       "sha256": ""}))
                        for name in HISTORY_FILES}
                if plan[METRICS_FILE].rows != int(history["rows"]):
                    raise ValueError("rows")
                return plan, best_at
            plan = {METRICS_FILE: history["metrics"], PER_CLASS_FILE: history["per_class"],
                    PRECISION_FILE: history.get("precision", [])}  # the whole history, as runs kept it before
            if len(plan[METRICS_FILE]) != int(history["rows"]) or not all(
                    isinstance(rows, list) and all(isinstance(row, Mapping) for row in rows) for rows in plan.values()):
                raise ValueError("rows")
            return {name: [dict(row) for row in rows] for name, rows in plan.items()}, best_at
        except (KeyError, TypeError, ValueError, AttributeError):
            raise RunDamaged(f"{last} holds a damaged history record; the run folder was left as it was") from None

    def _csv_rows(self, name: str) -> list[dict[str, Any]]:
        path = self.path / name
        return [{k: number_or_text(v) for k, v in row.items()} for row in read_csv(path)] if path.exists() else []

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

    # --- reading (RunDamaged, naming the file, for anything unusable) -----------------------
    def config(self) -> dict:
        """config.json: ``{"kind": "train" | "tune", "run": {...}}`` (plug-in runs written before the
        schemas were one: ``{"kind": "tune", "tune": {...}}``)."""
        path = self.path / "config.json"
        raw = read_json(path)
        kind = raw.get("kind", "train")
        if kind not in ("train", "tune"):
            raise RunDamaged(f"{path} is not a run's settings (kind {kind!r} is neither train nor tune)")
        if not isinstance(raw.get("run"), dict) and not (kind == "tune" and isinstance(raw.get("tune"), dict)):
            raise RunDamaged(f"{path} is not a run's settings (it has no 'run' section)")
        return raw

    def dataset(self) -> dict:
        """dataset.json: name, class_names, class_counts (empty lists for runs without one) and
        eval_split (the split the per-epoch test_* columns measure; "test" for older runs)."""
        path = self.path / "dataset.json"
        if not path.exists():
            return {"name": "", "class_names": [], "class_counts": [], "eval_split": "test"}
        raw = read_json(path)
        names, counts = raw.get("class_names"), raw.get("class_counts")
        if not isinstance(names, list) or not isinstance(counts, list) or len(names) != len(counts):
            raise RunDamaged(f"{path} is damaged: it needs the lists class_names and class_counts, one entry per "
                             "class")
        if not all(isinstance(c, int) and not isinstance(c, bool) for c in counts):
            raise RunDamaged(f"{path} is damaged: class_counts must be whole numbers")
        return {"name": str(raw.get("name", "")), "class_names": [str(n) for n in names], "class_counts": counts,
                "eval_split": str(raw.get("eval_split", "test"))}

    def _dataset_or_empty(self) -> dict:
        try:
            return self.dataset()
        except RunDamaged:
            return {"name": "", "class_names": [], "class_counts": [], "eval_split": "test"}

    def class_names(self) -> list[str]:
        return self.dataset()["class_names"]

    def class_counts(self) -> list[int]:
        return self.dataset()["class_counts"]

    def history(self) -> list[dict[str, float]]:
        path = self.path / METRICS_FILE
        if not path.exists():
            return []
        return [{k: csv_number(path, k, v) for k, v in row.items()} for row in read_csv(path)]

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
        return [[csv_number(path, k, v) for k, v in row.items() if k != "epoch"] for row in read_csv(path)]

    def confusion(self, tag: str = "last") -> list[list[int]] | None:
        """The confusion matrix saved as ``confusion_<tag>.csv``, or None."""
        import csv
        import io

        path = self.path / f"confusion_{tag}.csv"
        if not path.exists():
            return None
        try:
            rows = list(csv.reader(io.StringIO(read_text(path), newline="")))[1:]
            matrix = [[int(v) for v in row[1:]] for row in rows]
        except (csv.Error, ValueError):
            raise RunDamaged(f"{path} is damaged: not a table of whole counts") from None
        if any(len(row) != len(matrix) for row in matrix):
            raise RunDamaged(f"{path} is damaged: not a square matrix")
        return matrix

    def confused_pairs(self, tag: str = "last") -> list[tuple[int, int, int]] | None:
        """The pairs saved as ``confused_pairs_<tag>.csv`` (true, predicted, count), or None."""
        path = self.path / f"confused_pairs_{tag}.csv"
        if not path.exists():
            return None
        try:
            return [(int(row["true"]), int(row["predicted"]), int(row["count"])) for row in read_csv(path)]
        except (KeyError, TypeError, ValueError):
            raise RunDamaged(f"{path} is damaged: not a table of true, predicted, count") from None

    def checkpoint(self, which: str = "best") -> Path | None:
        path = self.path / CHECKPOINTS / f"{which}.pt"
        return path if path.exists() else None

    def card(self) -> str:
        path = self.path / "README.md"
        try:
            return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
        except OSError:
            return ""

    def is_finished(self) -> bool:
        """The run trained all it was set to. ``status.json`` decides; a run written before it
        existed is finished when its history reaches the configured epochs."""
        state = self.status().get("state")
        if state is not None:
            return state == "finished"
        try:
            epochs = self.config()["run"]["optim"]["epochs"]
        except (RunDamaged, KeyError, TypeError):
            return False
        done = [row.get("epoch", math.nan) for row in self.history()]
        return bool(done) and max(done) >= epochs

    def status(self) -> dict[str, Any]:
        """``status.json`` (``{"state": …}``), or ``{}`` for older runs and a damaged file."""
        path = self.path / STATUS_FILE
        try:
            raw = read_json(path) if path.exists() else {}
        except RunDamaged:
            return {}
        return raw if isinstance(raw.get("state", ""), str) else {}

    def state(self) -> str:
        """What the run is now, in one word: its ``status.json`` state, except that "running" with
        nobody holding the lock (the writer was killed) is "interrupted"; "" for older runs."""
        state = self.status().get("state", "")
        if state == "running" and self.lock_holder() is None:
            return "interrupted"
        return state


def _record(files: dict[str, HistoryFile], best_at: int | None) -> dict[str, Any]:
    """The history record ``last.pt`` carries: rows, the best row and each CSV's committed state."""
    return {"rows": files[METRICS_FILE].rows, "best_at": best_at,
            "files": {name: state.record() for name, state in files.items()}}


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [""])[0][:200]


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


def format_count(value: int | None) -> str:
    """A count such as zero-recall classes; — when there is none (outputs that were not numbers)."""
    return "—" if value is None else str(value)


# ------------------------------------------------------------------------------------ lock

class RunLock:
    """The OS lock on ``<folder>/.lock`` plus, in the file, who holds it. The OS releases it when
    the holder dies (even by kill -9), so a dead writer's lock is simply taken over. Run folders,
    sweep folders and sweep cells each have one; ``what`` names the folder in the refusal."""

    def __init__(self, folder: Path, command: str | None = None, what: str = ""):
        self.path = Path(folder) / LOCK_FILE
        self.command = command or " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])[:300]
        self.what = what or self.path.parent.name
        self._handle: int | None = None

    def acquire(self) -> RunLock:
        try:
            handle = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise UserError(f"cannot lock {self.path.parent} ({error.strerror or error})") from None
        if not _try_lock(handle):
            os.close(handle)
            raise RunLocked(f"{self.what} is being written by {_describe(self.holder())}; "
                            "wait for it to finish or stop it, then try again")
        info = {"pid": os.getpid(), "host": socket.gethostname(), "command": self.command,
                "started": time.strftime("%Y-%m-%d %H:%M:%S")}
        os.ftruncate(handle, 0)
        os.write(handle, json.dumps(info).encode())
        self._handle = handle
        return self

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *_exc) -> None:
        self.release()

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


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
