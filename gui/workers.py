"""Engine tasks on worker threads, reported as Qt signals (after napari's thread_worker and
Orange's concurrent.py).

A task is any callable ``task(on_event, should_stop) -> result``, usually an engine function
bound to its config with ``functools.partial``. :class:`TaskWorker` lives on a ``QThread``
(``moveToThread``), turns the task's events into signals and throttles per-batch progress.
:class:`TaskRunner` runs one task at a time: starting a task cancels the previous one.
Cancelling is cooperative (the task polls ``should_stop``); a thread is never terminated.
Connect the signals to methods of GUI-thread objects so the slots run on the GUI thread.
"""
from __future__ import annotations

import threading
import time
import traceback
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

Task = Callable[[Callable[[Any], None], Callable[[], bool]], Any]
PROGRESS_INTERVAL_S = 0.1  # at most 10 progress signals a second: each wakes the GUI thread, which then waits for the interpreter lock

_threads: weakref.WeakSet[QThread] = weakref.WeakSet()


@dataclass
class TaskFailure:
    """What ``failed`` carries: the exception and its formatted traceback."""

    error: BaseException
    details: str


class TaskWorker(QObject):
    """Runs one task on the thread it was moved to and reports through signals."""

    progress = Signal(object)  # engine.events.Progress, throttled
    epoch_finished = Signal(object)  # engine.events.EpochEnd
    dataset_ready = Signal(object)  # engine.events.DatasetReady
    message = Signal(object)  # engine.events.Message
    event = Signal(object)  # any other event a task reports
    finished = Signal(object)  # the task's return value
    failed = Signal(object)  # TaskFailure
    done = Signal()  # after finished or failed: the thread may quit

    def __init__(self, task: Task, name: str = "task", progress_interval: float = PROGRESS_INTERVAL_S):
        super().__init__()
        self.task, self.name = task, name
        self.progress_interval = progress_interval
        self._stop = threading.Event()
        self._last_progress = 0.0

    def cancel(self) -> None:
        """Ask the task to stop at its next poll (thread-safe)."""
        self._stop.set()

    def should_stop(self) -> bool:
        return self._stop.is_set()

    @Slot()
    def run(self) -> None:
        try:
            result = self.task(self.on_event, self.should_stop)
        except Exception as exc:  # every failure goes to the one error path
            self.failed.emit(TaskFailure(exc, "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))))
        else:
            self.finished.emit(result)
        finally:
            self.done.emit()

    def on_event(self, event: Any) -> None:
        from engine.events import DatasetReady, EpochEnd, Message, Progress

        if isinstance(event, Progress):
            now = time.monotonic()
            if now - self._last_progress >= self.progress_interval or event.batch == event.batches:
                self._last_progress = now
                self.progress.emit(event)
        elif isinstance(event, EpochEnd):
            self.epoch_finished.emit(event)
        elif isinstance(event, DatasetReady):
            self.dataset_ready.emit(event)
        elif isinstance(event, Message):
            self.message.emit(event)
        else:
            self.event.emit(event)


class TaskRunner(QObject):
    """Owns the threads of one panel's tasks; at most one task is current."""

    idle = Signal()  # the last thread has finished

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._jobs: list[tuple[QThread, TaskWorker]] = []
        self.current: TaskWorker | None = None

    def start(self, worker: TaskWorker) -> TaskWorker:
        """Cancel the current task and run ``worker`` on a new thread (connect its signals first)."""
        self.cancel()
        thread = QThread()
        thread.setObjectName(f"lts-{worker.name}")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.done.connect(thread.quit, Qt.ConnectionType.DirectConnection)  # works while the GUI waits
        thread.finished.connect(self._thread_ended)
        self._jobs.append((thread, worker))
        _threads.add(thread)
        self.current = worker
        thread.start()
        return worker

    def cancel(self) -> None:
        if self.current is not None:
            self.current.cancel()

    def is_running(self) -> bool:
        """A task runs, or its thread has ended but what it reported (its result) is still on its
        way to the GUI thread: until then nothing has seen the task end."""
        return bool(self._jobs)

    def wait(self, timeout_ms: int = 60_000) -> bool:
        """Block until every thread has finished (used when the window closes)."""
        deadline = time.monotonic() + timeout_ms / 1000
        for thread, _ in list(self._jobs):
            remaining = max(0, int((deadline - time.monotonic()) * 1000))
            if not thread.wait(remaining):
                return False
        self._forget(list(self._jobs))
        return True

    @Slot()
    def _thread_ended(self) -> None:
        """One thread's ``finished`` has arrived. Only that thread is forgotten: every signal its
        worker emitted was queued before this one, so its result has been delivered. Another
        thread may have ended too, but its result can still be in the queue behind this call; it
        is forgotten (and ``idle`` emitted) when its own ``finished`` arrives."""
        ended = self.sender()
        self._forget([job for job in self._jobs if job[0] is ended])

    def _forget(self, jobs: list[tuple[QThread, TaskWorker]]) -> None:
        for thread, worker in jobs:
            thread.wait()  # ``finished`` is emitted a moment before the thread has really ended
            self._jobs.remove((thread, worker))
            if worker is self.current:
                self.current = None
        if jobs and not self._jobs:
            self.idle.emit()


def live_threads() -> list[QThread]:
    """Worker threads that have not finished (tests assert this is empty)."""
    return [thread for thread in list(_threads) if not thread.isFinished()]
