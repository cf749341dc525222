"""An event-loop latency probe: how late does a periodic timer fire on the GUI thread?

The worst lateness is the longest time the GUI could not react (to a click, a repaint).
"""
from __future__ import annotations

import time

from PySide6.QtCore import QObject, Qt, QTimer, Slot


class LatencyProbe(QObject):
    def __init__(self, interval_ms: int = 10, parent: QObject | None = None):
        super().__init__(parent)
        self.interval = interval_ms / 1000
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.worst_ms = 0.0
        self.ticks = 0
        self.lateness_ms: list[float] = []
        self._last = 0.0

    def start(self) -> None:
        self.worst_ms, self.ticks, self.lateness_ms = 0.0, 0, []
        self._last = time.perf_counter()
        self.timer.start()

    def percentile(self, fraction: float) -> float:
        """The lateness (ms) that ``fraction`` of the ticks stayed within, e.g. 0.99."""
        ordered = sorted(self.lateness_ms)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0

    def stop(self) -> float:
        """Stop and return the worst lateness in milliseconds."""
        self.timer.stop()
        return self.worst_ms

    @Slot()
    def _tick(self) -> None:
        now = time.perf_counter()
        late = (now - self._last - self.interval) * 1000
        self.lateness_ms.append(late)
        self.worst_ms = max(self.worst_ms, late)
        self._last = now
        self.ticks += 1
