"""Small widgets the panels share: the log pane, the progress line, CSV export."""
from __future__ import annotations

import csv
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPlainTextEdit, QProgressBar, QTableWidgetItem

from gui.progress import EtaEstimator, format_duration

STAGE_WORDS = {"train": "training", "eval": "evaluating", "features": "extracting features", "tune": "tuning",
               "predict": "predicting"}


class LogPane(QPlainTextEdit):
    """Read-only, time-stamped lines; keeps the newest 5000."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("logPane")
        self.setReadOnly(True)
        self.setMaximumBlockCount(5000)
        self.setPlaceholderText("Messages from the engine appear here.")

    def add(self, text: str, level: str = "info") -> None:
        prefix = "⚠ " if level == "warning" else ""
        self.appendPlainText(f"{time.strftime('%H:%M:%S')}  {prefix}{text}")


class ProgressLine(QProgressBar):
    """Progress over all epochs, with the batch, the epoch and a smoothed time left as text."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setRange(0, 1000)
        self.setTextVisible(True)
        self.eta = EtaEstimator()
        self.idle()

    def idle(self, text: str = "Ready") -> None:
        self.setValue(0)
        self.setFormat(text)
        self.eta.reset()

    def done(self, text: str) -> None:
        self.setValue(self.maximum())
        self.setFormat(text)

    def show_progress(self, epoch: int, epochs: int, batch: int, batches: int, stage: str = "train") -> str:
        """Update from a Progress event; returns the text shown (for the status bar too)."""
        epochs, batches = max(1, epochs), max(1, batches)
        word = STAGE_WORDS.get(stage, stage)
        if stage in ("train", "tune", "predict"):
            left = self.eta.update(epoch, epochs, batch, batches)
            self.setValue(int(1000 * ((epoch - 1) * batches + batch) / (epochs * batches)))
            eta = f" · {format_duration(left)} left"
        else:
            eta = ""
        if stage == "predict":
            text = f"{word.capitalize()} · image {batch}/{batches}{eta}"
        else:
            text = f"{word.capitalize()} · epoch {epoch}/{epochs} · batch {batch}/{batches}{eta}"
        self.setFormat(text)
        return text


def write_csv(path: str | Path, header: Sequence[str], rows: Iterable[Sequence]) -> Path:
    path = Path(path)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


class NumberItem(QTableWidgetItem):
    """A table cell that sorts by its number (kept in UserRole), not by its text."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine, theirs = self.data(Qt.ItemDataRole.UserRole), other.data(Qt.ItemDataRole.UserRole)
        return (mine if mine is not None else -1.0) < (theirs if theirs is not None else -1.0)


def number_item(value: float | None, percent: bool = False) -> NumberItem:
    """A right-aligned cell: a fraction shown in percent, a count as is, None as a dash."""
    text = "—" if value is None else (f"{100 * value:.2f}" if percent else f"{value:g}")
    item = NumberItem(text)
    item.setData(Qt.ItemDataRole.UserRole, value)
    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item
