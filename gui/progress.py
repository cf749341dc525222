"""Progress text for long tasks: batches, epoch and a smoothed time-left estimate."""
from __future__ import annotations

import math
import time

SMOOTHING = 0.1  # weight of the newest measurement in the moving average of seconds per batch


class EtaEstimator:
    """Smoothed seconds-per-batch → remaining time, from (epoch, epochs, batch, batches) reports."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.reset()

    def reset(self) -> None:
        self.seconds_per_batch: float | None = None
        self._last: tuple[float, int] | None = None  # (time, global batch index)

    def update(self, epoch: int, epochs: int, batch: int, batches: int) -> float | None:
        """Record a report (1-based epoch and batch); return the estimated seconds left, or None."""
        done = (epoch - 1) * batches + batch
        now = self.clock()
        if self._last is not None and done > self._last[1]:
            rate = (now - self._last[0]) / (done - self._last[1])
            self.seconds_per_batch = rate if self.seconds_per_batch is None else (
                SMOOTHING * rate + (1 - SMOOTHING) * self.seconds_per_batch)
        self._last = (now, done)
        if self.seconds_per_batch is None:
            return None
        return max(0.0, (epochs * batches - done) * self.seconds_per_batch)


def format_duration(seconds: float | None) -> str:
    """``75`` → ``"1:15"``, ``3725`` → ``"1:02:05"``, unknown → ``"…"``."""
    if seconds is None or not math.isfinite(seconds):
        return "…"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
