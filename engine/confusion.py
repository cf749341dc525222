"""What a run keeps of its held-out confusion: the last epoch's and the best epoch's.

An epoch's confusion statistics come with its metrics (``engine.confusion_counts``: the matrix up
to 512 classes, the most confused pairs at any class count). ``ConfusionRecord`` keeps the last
and the best epoch's and writes them (``confusion_<tag>.csv``, or ``confused_pairs_<tag>.csv``
above 512 classes) only when a session of the run ends (finished, stopped, interrupted,
diverged, failed): writing them every epoch cost half a second per epoch at 1,000 classes
(docs/benchmarks.md). Each file names its epoch. A session killed outright (kill -9) writes
nothing, so the files then still show the epochs of the session before, until the next session
that ends writes the epochs it saw.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.metrics import Metrics
from engine.runs import RunFolder


@dataclass
class _Kept:
    metrics: Metrics  # its confusion (≤ 512 classes) and confused_pairs
    epoch: int


class ConfusionRecord:
    """The last and the best epoch's confusion of one session, written at its end."""

    def __init__(self) -> None:
        self.last: _Kept | None = None
        self.best: _Kept | None = None

    def update(self, metrics: Metrics, epoch: int, is_best: bool) -> None:
        """Keep this epoch's statistics as the last (and as the best when it is); no copy, no write."""
        if metrics.confusion is None and not metrics.confused_pairs:
            return  # outputs that were not numbers: nothing to keep
        self.last = _Kept(metrics, epoch)
        if is_best:
            self.best = self.last

    def write(self, run: RunFolder) -> list[Path]:
        """Write what this session saw (each file once); returns the paths written."""
        written = []
        for tag, kept in (("last", self.last), ("best", self.best)):
            if kept is None:
                continue
            if kept.metrics.confusion is not None:
                written.append(run.write_confusion(tag, kept.metrics.confusion, kept.epoch))
            else:
                written.append(run.write_confused_pairs(tag, kept.metrics.confused_pairs, kept.epoch))
        self.last = self.best = None
        return written
