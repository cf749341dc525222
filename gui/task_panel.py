"""What the Train, Inference and Compare pages share: a form, one engine task at a time on a
worker thread whose events reach the page's handlers on the GUI thread, field errors flagged where
the user must fix them, and two panes side by side whose sizes persist.

A page reads its fields with :meth:`TaskPanel.checked` (a ``ConfigError`` marks its field, any
other ``UserError`` shows on the error line) and starts the task with :meth:`TaskPanel.launch`.

A task that a newer one replaces (or that :meth:`TaskPanel.discard` drops) is cancelled *and cut
off*: its relays are disconnected and switched off, so none of its late events or its result
reaches the page, even one already queued (as Orange's ``ConcurrentWidgetMixin`` disconnects a
cancelled task's watcher). Stop, by contrast, lets the task finish its batch and report.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QAbstractButton, QSplitter, QVBoxLayout, QWidget

from errors import UserError
from engine.knobs import ConfigError
from gui import errors
from gui.engine_info import EngineInfo
from gui.forms import Form
from gui.settings import Settings
from gui.widgets import LogPane, ProgressLine, wrapping_label
from gui.workers import Task, TaskRunner, TaskWorker

T = TypeVar("T")
# TaskWorker signal → the page's handler of it
HANDLERS = {"progress": "on_progress", "epoch_finished": "on_epoch", "dataset_ready": "on_dataset",
            "message": "on_message", "event": "on_event", "finished": "on_finished", "failed": "on_failed"}


class TaskPanel(QWidget):
    """A page that builds a task from its form and runs it on a worker. Subclasses build
    ``self.form`` and their widgets, list their Start / Stop buttons, and handle ``on_finished``."""

    activity = Signal(str)  # what is running, for the status bar
    worker_name = "task"
    activity_prefix = ""  # put before the progress text in the status bar (marked for context TaskPanel)
    shutdown_timeout_ms = 120_000

    def __init__(self, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings
        self.runner = TaskRunner(self)
        self.runner.idle.connect(self._on_idle)
        self.engine: EngineInfo | None = None
        self.current_task = ""  # what a failure report says failed
        self.form: Form
        self.progress = ProgressLine()
        self.log: LogPane | None = None  # pages with a log pane set it
        self.error_line = wrapping_label("errorLine")
        self.error_line.hide()
        self.start_buttons: list[QAbstractButton] = []  # enabled when the engine is ready and nothing runs
        self.stop_buttons: list[QAbstractButton] = []  # enabled while a task runs
        self.splitters: dict[str, QSplitter] = {}  # settings key → splitter whose sizes persist
        self._relays: list[_Relay] = []  # the current task's, one per worker signal

    # --- layout ----------------------------------------------------------------------------
    def splitter(self, key: str, orientation: Qt.Orientation, *widgets: QWidget) -> QSplitter:
        """A splitter over ``widgets`` whose sizes are saved under ``key``."""
        splitter = QSplitter(orientation)
        for widget in widgets:
            splitter.addWidget(widget)
        self.splitters[key] = splitter
        return splitter

    def set_panes(self, key: str, left: QWidget, right: QWidget) -> QSplitter:
        """Lay the page out as ``left`` | ``right``. The left pane opens at its minimum width,
        which a fitted column or a form scroller keeps at its contents' width; the right one takes
        the rest of the window."""
        splitter = self.splitter(key, Qt.Orientation.Horizontal, left, right)
        splitter.setCollapsible(0, False)
        splitter.setSizes([1, 1_000_000])  # width is shared out in proportion to these: the left keeps its minimum
        QVBoxLayout(self).addWidget(splitter)
        return splitter

    # --- engine and tasks ------------------------------------------------------------------
    def engine_ready(self, info: EngineInfo) -> None:
        """The engine has loaded: tasks can start."""
        self.engine = info
        self._sync_buttons()

    def is_running(self) -> bool:
        return self.runner.is_running()

    def can_start(self) -> bool:
        """The engine has loaded and no task runs."""
        return self.engine is not None and not self.is_running()

    def checked(self, build: Callable[[], T]) -> T | None:
        """``build()`` after clearing old marks; on a user's mistakes, mark every field they name
        (the first one scrolled into view), list them all on the error line and return None."""
        self.form.clear_errors()
        self.show_error("")
        try:
            return build()
        except ConfigError as error:
            flagged = sorted(((self.form.flag(e), e) for e in getattr(error, "problems", [error])),
                             key=lambda pair: self.form.position(pair[0]))
            self.show_error("\n".join(f"{field.label if field else e.field_name}: {e.message}" for field, e in flagged))
            self.form.show_first([field for field, _ in flagged])
        except UserError as error:
            self.show_error(str(error))
        return None

    def launch(self, task: Task, context: str, status: str) -> TaskWorker:
        """Run ``task`` on a worker; a running one is cancelled and discarded (nothing it reports
        later reaches the page). ``context`` names it in a failure report, ``status`` shows until
        its first progress."""
        self.discard()
        worker = TaskWorker(task, name=self.worker_name)
        self._relays = [_Relay(handler, self) for handler in HANDLERS.values()]
        for signal, relay in zip(HANDLERS, self._relays):
            relay.listen(getattr(worker, signal))
        self.current_task = context
        self.progress.idle(status)
        self.activity.emit(status)
        self.runner.start(worker)
        self._sync_buttons()
        return worker

    def discard(self) -> None:
        """Cancel the current task and cut it off: none of its later events or its result reach
        the page (its thread still ends on its own; ``runner.idle`` follows)."""
        for relay in self._relays:
            relay.close()
        self._relays = []
        self.runner.cancel()

    def stop(self) -> None:
        """Ask the task to stop after its current batch."""
        if self.is_running():
            self.runner.cancel()
            self.progress.setFormat(self.tr("Stopping after this batch…"))
            self.activity.emit(self.tr("Stopping after this batch…"))

    def shutdown(self, timeout_ms: int | None = None) -> bool:
        """Stop any task and wait for its thread (the window is closing)."""
        self.runner.cancel()
        return self.runner.wait(self.shutdown_timeout_ms if timeout_ms is None else timeout_ms)

    # --- what pages show (GUI thread) --------------------------------------------------------
    def on_progress(self, event) -> None:
        """engine.events.Progress: the progress line and the status bar follow it."""
        text = self.progress.show_progress(event.epoch, event.epochs, event.batch, event.batches, event.stage,
                                           event.stage_name)
        self.activity.emit(f"{self.tr(self.activity_prefix)}{text}")

    def on_message(self, event) -> None:
        """engine.events.Message: logged."""
        self.log.add(event.text, event.level)

    def on_epoch(self, event) -> None:
        """engine.events.EpochEnd: pages with curves draw it."""

    def on_dataset(self, event) -> None:
        """engine.events.DatasetReady: the dataset is loaded."""

    def on_event(self, event) -> None:
        """Any other event the task reports."""

    def on_finished(self, result) -> None:
        """The task's return value."""
        raise NotImplementedError

    def on_failed(self, failure) -> None:
        """A workers.TaskFailure: reported through the one error path."""
        self.progress.fail(self.tr("Failed: {0}").format(_first_line(failure.error)))
        if self.log is not None:
            self.log.add(self.tr("failed: {0}").format(failure.error), "warning")
        errors.report_error(failure.error, self, self.current_task, failure.details)

    @Slot()
    def _on_idle(self) -> None:
        self.activity.emit(self.tr("Idle"))
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        for button in self.start_buttons:
            button.setEnabled(self.can_start())
        for button in self.stop_buttons:
            button.setEnabled(self.is_running())

    def show_error(self, text: str) -> None:
        self.error_line.setText(text)
        self.error_line.setVisible(bool(text))

    # --- state -----------------------------------------------------------------------------
    def save_state(self) -> None:
        self.form.save(self.settings)
        for key, splitter in self.splitters.items():
            self.settings.save_splitter(key, splitter)

    def restore_state(self) -> None:
        self.form.restore(self.settings)
        for key, splitter in self.splitters.items():
            self.settings.restore_splitter(key, splitter)


class _Relay(QObject):
    """Hands one worker signal to a handler of the page, on the GUI thread (where this object
    lives). Pages override plain ``on_*`` methods rather than slots: PySide6 runs a slot that a
    subclass overrides on the emitting (worker) thread."""

    def __init__(self, handler: str, page: TaskPanel):
        super().__init__(page)
        self.handler, self.page = handler, page
        self.open = True
        self._signal = None

    def listen(self, signal) -> None:
        self._signal = signal
        signal.connect(self.deliver)

    def close(self) -> None:
        """Deliver nothing more: calls already queued for this relay are dropped too."""
        self.open = False
        if self._signal is not None:
            try:
                self._signal.disconnect(self.deliver)
            except (RuntimeError, TypeError):  # the worker is gone already
                pass
            self._signal = None
        self.deleteLater()

    @Slot(object)
    def deliver(self, payload: Any) -> None:
        if self.open:
            getattr(self.page, self.handler)(payload)


def _first_line(error: BaseException, limit: int = 90) -> str:
    text = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return text if len(text) <= limit else text[: limit - 1] + "…"
