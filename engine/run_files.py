"""The run folder's files, read and written safely: what ``engine.runs.RunFolder`` builds on.

- Reading: every file a run folder holds may be missing, cut short, binary, not UTF-8 or another
  program's; each reader turns that into one ``RunDamaged`` line naming the file and saying what
  is wrong, never a traceback (``read_text``, ``read_json``, ``read_csv``, ``csv_number``).
- Writing: ``write_atomically`` (temporary sibling, fsync, rename) for files rewritten whole, and
  ``HistoryFile`` for the history CSVs, which only grow: each epoch appends its rows at the
  committed end of the file (what was written after it by a killed writer is cut off first) and
  fsyncs them *before* ``last.pt`` commits the epoch. ``last.pt`` records each file's committed
  length, row count and SHA-256 (``HistoryFile.record``), so recovery cuts a file back to exactly
  what was committed and refuses one that no longer starts with it. An epoch costs the same to
  write at epoch 200 as at epoch 1 (docs/benchmarks.md).
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from errors import UserError

PENDING_SUFFIX = ".pending"  # ".metrics.csv.pending": a history file rewritten whole, before its commit


class RunDamaged(UserError):
    """A file of a run folder cannot be used as it is; the message names it and what is wrong."""


class RunWriteError(UserError):
    """A run folder could not be written (disk full, read-only, removed); the saved epochs stay."""


# ------------------------------------------------------------------------------------ reading

def read_text(path: Path) -> str:
    """The UTF-8 text of ``path``; ``RunDamaged`` when it cannot be read or is not text."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise RunDamaged(f"{path} cannot be read ({error.strerror or error})") from None
    if b"\x00" in data:
        raise RunDamaged(f"{path} is damaged: it holds binary data, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RunDamaged(f"{path} is damaged: not UTF-8 text (byte {error.start})") from None


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``; ``RunDamaged`` for anything else."""
    try:
        value = json.loads(read_text(path))
    except ValueError as error:
        raise RunDamaged(f"{path} is damaged: not valid JSON ({error})") from None
    if not isinstance(value, dict):
        raise RunDamaged(f"{path} is damaged: it holds a JSON {type(value).__name__}, not an object of settings")
    return value


def read_csv(path: Path, text: str | None = None) -> list[dict[str, str]]:
    """The rows of a CSV file with a header; ``RunDamaged`` for binary data or ragged rows."""
    text = read_text(path) if text is None else text
    try:
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise RunDamaged(f"{path} is damaged: not a CSV table ({error})") from None
    for number, row in enumerate(rows, start=2):
        if None in row:
            raise RunDamaged(f"{path} is damaged: line {number} has more fields than the header")
    return rows


def csv_number(path: Path, column: str, text: str | None) -> float:
    """A CSV cell as a float (empty → NaN); ``RunDamaged`` naming the cell otherwise."""
    if text in ("", None):
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise RunDamaged(f"{path} is damaged: {text[:20]!r} in column {column} is not a number") from None


def number_or_text(text: str | None) -> Any:
    """A CSV cell back as the number it was written from (ints stay ints), else the text."""
    if text in ("", None):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


# ------------------------------------------------------------------------------------ writing

def write_atomically(path: Path, text: str) -> None:
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


def csv_text(rows: list[dict[str, Any]], columns: list[str] | None = None, header: bool = True) -> str:
    """Rows → CSV text; the columns default to every key in order of first appearance."""
    columns = columns or list(dict.fromkeys(key for row in rows for key in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, restval="")
    if header:
        writer.writeheader()
    writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)
    return buffer.getvalue()


@dataclass
class HistoryFile:
    """One history CSV as far as it is known to be written: header, length, rows, SHA-256 so far.

    Immutable in use: ``append`` writes and returns the state after it, which the run folder
    adopts once the epoch is committed; until then the file's committed state stays in force, and
    the next append (or recovery) cuts off whatever was written after it."""

    path: Path
    columns: tuple[str, ...] = ()
    size: int = 0
    rows: int = 0
    digest: Any = None  # hashlib object over bytes [0, size)
    pending: Path | None = None  # a whole rewrite waiting for the commit (the columns changed)

    def __post_init__(self) -> None:
        if self.digest is None:
            self.digest = hashlib.sha256()

    def record(self) -> dict[str, Any]:
        """What ``last.pt`` keeps of this file."""
        return {"bytes": self.size, "rows": self.rows, "sha256": self.digest.hexdigest()}

    def append(self, rows: list[dict[str, Any]]) -> HistoryFile:
        """Write ``rows`` after the committed end (fsynced); the state after them. Rows that bring
        new columns rewrite the file whole into a pending sibling instead (``promote`` after the
        commit), so the committed file stays intact until then."""
        if not rows:
            return self
        columns = self.columns or tuple(dict.fromkeys(key for row in rows for key in row))
        added = tuple(dict.fromkeys(key for row in rows for key in row if key not in columns))
        if added:
            return self._rewritten(rows, columns + added)
        data = csv_text(rows, list(columns), header=not self.columns).encode("utf-8")
        mode = "r+b" if self.path.exists() else "w+b"
        with open(self.path, mode) as handle:
            end = handle.seek(0, os.SEEK_END)
            if end < self.size:
                raise RunDamaged(f"{self.path} was cut or replaced while the run was written "
                                 f"({end} bytes, {self.size} committed)")
            handle.truncate(self.size)
            handle.seek(self.size)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        digest = self.digest.copy()
        digest.update(data)
        return HistoryFile(self.path, columns, self.size + len(data), self.rows + len(rows), digest)

    def _rewritten(self, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> HistoryFile:
        old = read_csv(self.path, self._committed_text()) if self.size else []
        data = csv_text(old + rows, list(columns)).encode("utf-8")
        pending = pending_path(self.path)
        with open(pending, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        return HistoryFile(self.path, columns, len(data), len(old) + len(rows), hashlib.sha256(data), pending)

    def promote(self) -> HistoryFile:
        """After the commit: a pending rewrite becomes the file."""
        if self.pending is not None:
            os.replace(self.pending, self.path)
        return HistoryFile(self.path, self.columns, self.size, self.rows, self.digest)

    def _committed_text(self) -> str:
        with open(self.path, "rb") as handle:
            return handle.read(self.size).decode("utf-8")

    # --- starting points ---------------------------------------------------------------------
    @classmethod
    def written(cls, path: Path, rows: list[dict[str, Any]]) -> HistoryFile:
        """Rewrite ``path`` whole from ``rows`` (atomically; removed when there are none)."""
        if not rows:
            path.unlink(missing_ok=True)
            return cls(path)
        text = csv_text(rows)
        write_atomically(path, text)
        return cls.of_text(path, text)

    @classmethod
    def of_text(cls, path: Path, text: str) -> HistoryFile:
        data = text.encode("utf-8")
        header = next(csv.reader(io.StringIO(text, newline="")), [])
        return cls(path, tuple(header), len(data), len(read_csv(path, text)), hashlib.sha256(data))

    @classmethod
    def as_found(cls, path: Path) -> HistoryFile:
        """The file as it is (a run without checkpoints has no record to check it against)."""
        return cls.of_text(path, read_text(path)) if path.exists() else cls(path)

    @classmethod
    def committed(cls, path: Path, record: dict[str, Any]) -> HistoryFile:
        """The state ``last.pt`` recorded, checked against the file (or the pending rewrite that the
        commit was for). Reads only; ``RunDamaged`` when the file no longer starts with what was
        committed. ``settle()`` then cuts the file back to it."""
        try:
            size, rows, digest = int(record["bytes"]), int(record["rows"]), str(record["sha256"])
        except (KeyError, TypeError, ValueError):
            raise RunDamaged(f"the history record of {path.name} in checkpoints/last.pt is damaged") from None
        if size == 0:
            return cls(path)
        for candidate in (path, pending_path(path)):
            data = _head(candidate, size)
            if data is not None and len(data) == size and hashlib.sha256(data).hexdigest() == digest:
                try:
                    text = data.decode("utf-8")
                except UnicodeDecodeError:
                    break
                found = cls.of_text(path, text)
                if found.rows == rows:
                    return HistoryFile(path, found.columns, size, rows, found.digest,
                                       candidate if candidate != path else None)
        raise RunDamaged(f"{path} does not hold the {rows} row(s) checkpoints/last.pt committed: it was changed, "
                         "cut, replaced or removed since; restore it, or start a new run from the run's settings "
                         f"(--config {path.parent})")

    def settle(self) -> HistoryFile:
        """Make the file exactly its committed state: promote a pending rewrite, cut off the rest."""
        state = self.promote()
        pending_path(self.path).unlink(missing_ok=True)
        if self.size == 0:
            self.path.unlink(missing_ok=True)
        elif self.path.stat().st_size != self.size:
            os.truncate(self.path, self.size)
        return state


def pending_path(path: Path) -> Path:
    return path.with_name(f".{path.name}{PENDING_SUFFIX}")


def _head(path: Path, size: int) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read(size)
    except OSError:
        return None
