"""The test confusion matrices a run keeps: the last epoch's and the best epoch's.

They stay where they were counted (the training device) and are written as
``confusion_last.csv`` / ``confusion_best.csv`` only when a session of the run ends (finished,
stopped, interrupted, diverged, failed): writing a C × C table every epoch cost up to a second
per epoch at 1,000 classes (docs/benchmarks.md). Each file names its epoch in its header cell. A
session killed outright (kill -9) writes nothing, so the files then still show the epochs of
the session before; the next session that ends writes the epochs it saw.

One place for what the run keeps of the matrix, so that a sparser record (the top confused
pairs at thousands of classes) can replace the dense one here.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from engine.runs import RunFolder


@dataclass
class _Kept:
    matrix: torch.Tensor  # (C, C) counts, row = true class, on the device it was counted on
    epoch: int


class ConfusionRecord:
    """The last and the best epoch's test confusion of one session, written at its end."""

    def __init__(self) -> None:
        self.last: _Kept | None = None
        self.best: _Kept | None = None

    def update(self, confusion: torch.Tensor | None, epoch: int, is_best: bool) -> None:
        """Keep this epoch's matrix as the last (and as the best when it is); no copy, no wait."""
        if confusion is None:
            return
        self.last = _Kept(confusion, epoch)
        if is_best:
            self.best = self.last

    def write(self, run: RunFolder) -> list:
        """Write what this session saw (each file once); returns the paths written."""
        written = [run.write_confusion(tag, kept.matrix.cpu(), kept.epoch)
                   for tag, kept in (("last", self.last), ("best", self.best)) if kept is not None]
        self.last = self.best = None
        return written
