"""Run Python's cyclic garbage collector on the GUI thread only.

The collector runs in whichever thread happens to allocate past its threshold. When that is a
worker thread (loading a checkpoint, training) and the garbage holds Qt wrappers created on the
GUI thread, destroying them there crashes the process (seen as a segfault inside
``Garbage-collecting`` on a worker). So automatic collection is switched off and a GUI-thread
timer collects instead whenever the allocation counts pass the usual thresholds: the same
schedule, always on the right thread.

A full collection walks every tracked object, and with torch, Qt and the engine imported that
took ~100 ms on the GUI thread (a visible stall each time). ``freeze_long_lived`` therefore
moves what exists once the engine has loaded (modules, classes, the widgets) into the
permanent generation, so later collections only walk what training and prediction create:
the worst stall during a demo run fell from 120 ms back to ~25 ms (docs/benchmarks.md).
"""
from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer, Slot

CHECK_INTERVAL_MS = 500


class MainThreadGarbageCollector(QObject):
    def __init__(self, parent: QObject):
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.setInterval(CHECK_INTERVAL_MS)
        self.timer.timeout.connect(self.collect_if_due)
        self.timer.start()

    @Slot()
    def collect_if_due(self) -> None:
        """Collect the oldest generation whose allocation count passed its threshold."""
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self.thresholds[generation]:
                gc.collect(generation)
                return


    def uninstall(self) -> None:
        """Back to automatic collection (tests do this once no worker thread is left)."""
        self.timer.stop()
        gc.unfreeze()
        gc.enable()
        gc.collect()
        self.setParent(None)


def freeze_long_lived() -> None:
    """Collect once, then exempt every surviving object from later collections (GUI thread)."""
    gc.collect()
    gc.freeze()


def install(app: QObject) -> MainThreadGarbageCollector:
    """Switch collection to the GUI thread for the lifetime of ``app`` (idempotent)."""
    existing = app.findChild(MainThreadGarbageCollector)
    return existing or MainThreadGarbageCollector(app)
