"""Redraw a page in small steps: one step per turn of the event loop.

Qt paints every widget changed in a turn of the event loop in one go, so a page that updates
five plots and a table at once keeps the GUI thread for the sum of them (and, while a worker
thread trains, for as long again waiting for the interpreter lock between Qt calls). Run as
steps, each change is painted before the next starts: the longest pause is the largest step.
A newer set of steps replaces the pending ones (a newer epoch makes the older one's pointless).
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable

from PySide6.QtCore import QObject, QTimer, Slot


class RedrawQueue(QObject):
    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.steps: deque[Callable[[], None]] = deque()
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(0)  # after the posted events of this turn, the paint among them
        self.timer.timeout.connect(self._next)

    def replace(self, steps: Iterable[Callable[[], None]]) -> None:
        """Drop the pending steps; run ``steps`` from the next turn on."""
        self.steps = deque(steps)
        if self.steps:
            self.timer.start()

    def flush(self) -> None:
        """Run every pending step now."""
        self.timer.stop()
        while self.steps:
            self.steps.popleft()()

    def pending(self) -> int:
        return len(self.steps)

    @Slot()
    def _next(self) -> None:
        if self.steps:
            self.steps.popleft()()
        if self.steps:
            self.timer.start()
