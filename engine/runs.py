"""The run folder: what a training or tuning run leaves behind, shared by the CLI and the app.

Layout of ``<workspace>/runs/<YYYYmmdd-HHMMSS>-<label>/``::

    config.json        the run's settings (``kind`` says train or tune)
    dataset.json       dataset name, class names and training counts
    metrics.csv        one row per epoch: epoch, stage (1-based), lr, seconds, train_*, test_* (pandas-readable)
    per_class.csv      one row per epoch: the test recall of every class
    checkpoints/       last.pt and best.pt
    log.txt            the run's messages
    README.md          a short human-readable run card
"""
from __future__ import annotations

import csv
import json
import math
import re
import time
from pathlib import Path

from engine import workspace
from engine.metrics import Metrics

METRICS_FILE = "metrics.csv"
PER_CLASS_FILE = "per_class.csv"


class RunFolder:
    def __init__(self, path: str | Path):
        self.path = Path(path)

    @classmethod
    def create(cls, root: str | Path | None, label: str) -> RunFolder:
        """A new, uniquely named run folder under ``root`` (default: the workspace's runs/)."""
        root = Path(root) if root else workspace.runs_dir()
        safe = re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-") or "run"
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = root / f"{stamp}-{safe}"
        suffix = 1
        while path.exists():
            suffix += 1
            path = root / f"{stamp}-{safe}-{suffix}"
        (path / "checkpoints").mkdir(parents=True)
        return cls(path)

    @property
    def name(self) -> str:
        return self.path.name

    def is_run(self) -> bool:
        return (self.path / "config.json").is_file()

    # --- writing -------------------------------------------------------------------------
    def write_json(self, name: str, payload: dict) -> None:
        tmp = self.path / f".{name}.tmp"
        tmp.write_text(json.dumps(payload, indent=2, allow_nan=True))
        tmp.replace(self.path / name)

    def write_dataset(self, name: str, class_names: list[str], class_counts: list[int]) -> None:
        self.write_json("dataset.json", {"name": name, "class_names": class_names, "class_counts": class_counts})

    def append_epoch(self, epoch: int, lr: float, seconds: float, train: Metrics, test: Metrics,
                     stage: int = 1) -> None:
        row = {"epoch": epoch, "stage": stage, "lr": lr, "seconds": round(seconds, 3), **train.summary("train_"),
               **test.summary("test_")}
        _append_csv(self.path / METRICS_FILE, row)
        per_class = {"epoch": epoch, **{f"class_{i}": r for i, r in enumerate(test.per_class_recall)}}
        _append_csv(self.path / PER_CLASS_FILE, per_class)

    def truncate_history(self, epochs_done: int) -> None:
        """Drop rows after ``epochs_done`` (a resumed run rewrites the epochs it repeats)."""
        for name in (METRICS_FILE, PER_CLASS_FILE):
            path = self.path / name
            if path.exists():
                rows = [r for r in _read_csv(path) if int(float(r["epoch"])) <= epochs_done]
                path.unlink()
                for row in rows:
                    _append_csv(path, row)

    def log(self, text: str) -> None:
        with open(self.path / "log.txt", "a", encoding="utf-8") as handle:
            handle.write(f"{time.strftime('%H:%M:%S')} {text}\n")

    def write_card(self, text: str) -> None:
        (self.path / "README.md").write_text(text, encoding="utf-8")

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
        path = self.path / PER_CLASS_FILE
        if not path.exists():
            return []
        return [[_number(v) for k, v in row.items() if k != "epoch"] for row in _read_csv(path)]

    def checkpoint(self, which: str = "best") -> Path | None:
        path = self.path / "checkpoints" / f"{which}.pt"
        return path if path.exists() else None

    def card(self) -> str:
        path = self.path / "README.md"
        return path.read_text(encoding="utf-8") if path.exists() else ""


def list_runs(root: str | Path | None = None) -> list[RunFolder]:
    """Run folders under ``root`` (default: the workspace's runs/), newest first."""
    root = Path(root) if root else workspace.runs_dir()
    runs = [RunFolder(p) for p in root.iterdir() if p.is_dir()] if root.exists() else []
    return sorted((r for r in runs if r.is_run()), key=lambda r: r.name, reverse=True)


def format_percent(value: float | None) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{100 * value:.2f}"


def _append_csv(path: Path, row: dict) -> None:
    new = not path.exists()
    with open(path, "a", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow({k: "" if v is None else v for k, v in row.items()})


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _number(text: str) -> float:
    return float(text) if text not in ("", None) else math.nan
