"""The worker layer with engine-shaped fake tasks: signals, throttling, cancel, failure, ETA."""
from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import QObject, Slot

from engine.events import EpochEnd, Message, Progress
from engine.metrics import Metrics
from gui.progress import EtaEstimator, format_duration
from gui.workers import TaskFailure, TaskRunner, TaskWorker, live_threads
from test_gui_support import no_leaked_threads  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("no_leaked_threads")


def metrics(value: float) -> Metrics:
    return Metrics(value, value, 1.0, value, value, value, value, 0, None, None, None, [value, value])


def fake_training(on_event, should_stop, epochs=3, batches=50, pause=0.0):
    """Shaped like engine.trainer.train: Progress per batch, EpochEnd per epoch, polls should_stop."""
    on_event(Message("starting"))
    for epoch in range(1, epochs + 1):
        for batch in range(1, batches + 1):
            if should_stop():
                return "stopped"
            time.sleep(pause)
            on_event(Progress(epoch, epochs, batch, batches))
        on_event(EpochEnd(epoch, epochs, 0.1, metrics(0.1 * epoch), metrics(0.1 * epoch), 0.01))
    return "done"


class Recorder(QObject):
    """GUI-thread receiver: the slots record what arrived and on which thread."""

    def __init__(self):
        super().__init__()
        self.progress, self.epochs, self.messages, self.results, self.failures, self.threads = [], [], [], [], [], set()

    @Slot(object)
    def on_progress(self, event):
        self.progress.append(event)
        self.threads.add(threading.get_ident())

    @Slot(object)
    def on_epoch(self, event):
        self.epochs.append(event.epoch)
        self.threads.add(threading.get_ident())

    @Slot(object)
    def on_message(self, event):
        self.messages.append(event.text)

    @Slot(object)
    def on_finished(self, result):
        self.results.append(result)

    @Slot(object)
    def on_failed(self, failure):
        self.failures.append(failure)


class IdleWitness(QObject):
    """Records what the recorders hold at the moment ``idle`` is emitted."""

    def __init__(self, *recorders):
        super().__init__()
        self.recorders, self.seen = recorders, []

    @Slot()
    def record(self):
        self.seen.append(tuple(list(r.results) for r in self.recorders))


def run_worker(qtbot, runner, task, recorder, **kwargs):
    worker = TaskWorker(task, **kwargs)
    worker.progress.connect(recorder.on_progress)
    worker.epoch_finished.connect(recorder.on_epoch)
    worker.message.connect(recorder.on_message)
    worker.finished.connect(recorder.on_finished)
    worker.failed.connect(recorder.on_failed)
    runner.start(worker)
    return worker


def test_events_become_signals_on_the_gui_thread_and_progress_is_throttled(qtbot):
    runner, recorder = TaskRunner(), Recorder()
    with qtbot.waitSignal(runner.idle, timeout=10_000):
        run_worker(qtbot, runner, lambda on_event, should_stop: fake_training(on_event, should_stop, 3, 200),
                   recorder, progress_interval=10.0)
    assert recorder.epochs == [1, 2, 3]
    assert recorder.messages == ["starting"]
    assert recorder.results == ["done"]
    assert recorder.threads == {threading.get_ident()}
    # 600 batch events with a 10 s interval: the first one, then the last batch of each epoch.
    assert [(p.epoch, p.batch) for p in recorder.progress] == [(1, 1), (1, 200), (2, 200), (3, 200)]


def test_cancel_is_cooperative_and_the_thread_ends(qtbot):
    runner, recorder = TaskRunner(), Recorder()
    task = lambda on_event, should_stop: fake_training(on_event, should_stop, 100, 100, pause=0.001)  # noqa: E731
    worker = run_worker(qtbot, runner, task, recorder)
    qtbot.waitUntil(lambda: bool(recorder.progress), timeout=5000)
    with qtbot.waitSignal(runner.idle, timeout=10_000):
        runner.cancel()
    assert worker.should_stop()
    assert recorder.results == ["stopped"]
    assert not runner.is_running()


def test_starting_a_task_cancels_the_previous_one(qtbot):
    runner, first, second = TaskRunner(), Recorder(), Recorder()
    slow = lambda on_event, should_stop: fake_training(on_event, should_stop, 100, 100, pause=0.001)  # noqa: E731
    old = run_worker(qtbot, runner, slow, first)
    qtbot.waitUntil(lambda: bool(first.progress), timeout=5000)
    with qtbot.waitSignal(runner.idle, timeout=10_000):
        run_worker(qtbot, runner, lambda on_event, should_stop: fake_training(on_event, should_stop, 1, 5), second)
    assert old.should_stop()
    assert first.results == ["stopped"]
    assert second.results == ["done"]


def test_idle_follows_every_result_when_two_threads_end_close_together(qtbot):
    """The race behind a flaky failure of the test above: the first thread's end used to reap
    every thread that had finished, including a second one whose result was still queued
    behind it, so ``idle`` came (and a waiting test returned) before that result arrived."""
    runner, first, second = TaskRunner(), Recorder(), Recorder()
    slow = lambda on_event, should_stop: fake_training(on_event, should_stop, 100, 100, pause=0.001)  # noqa: E731
    old_thread = run_worker(qtbot, runner, slow, first).thread()
    qtbot.waitUntil(lambda: bool(first.progress), timeout=5000)

    def after_the_first(on_event, should_stop):
        while not old_thread.isFinished():  # its "finished" is queued before this task's result
            time.sleep(0.001)
        return "done"

    at_idle = IdleWitness(first, second)
    runner.idle.connect(at_idle.record)
    with qtbot.waitSignal(runner.idle, timeout=10_000):
        new_thread = run_worker(qtbot, runner, after_the_first, second).thread()
        while not new_thread.isFinished():  # the GUI thread is busy until both threads have ended
            time.sleep(0.001)
    assert at_idle.seen == [(["stopped"], ["done"])]  # both results had arrived when idle came



def test_a_task_counts_as_running_until_its_result_has_arrived(qtbot):
    """A page asked "running?" between the thread's end and the result's delivery was told no,
    and read a result that had not arrived (tools/screenshots.py failed that way under load)."""
    runner, recorder = TaskRunner(), Recorder()
    thread = run_worker(qtbot, runner, lambda on_event, should_stop: "done", recorder).thread()
    while not thread.isFinished():  # the GUI thread has not handled anything yet
        time.sleep(0.001)
    assert runner.is_running() and recorder.results == []
    qtbot.waitUntil(lambda: not runner.is_running(), timeout=10_000)
    assert recorder.results == ["done"]


def test_a_failing_task_reports_its_exception_and_traceback(qtbot):
    runner, recorder = TaskRunner(), Recorder()

    def broken(on_event, should_stop):
        raise ZeroDivisionError("boom")

    with qtbot.waitSignal(runner.idle, timeout=10_000):
        run_worker(qtbot, runner, broken, recorder)
    (failure,) = recorder.failures
    assert isinstance(failure, TaskFailure) and isinstance(failure.error, ZeroDivisionError)
    assert "boom" in failure.details and "in broken" in failure.details
    assert recorder.results == []


def test_wait_blocks_until_the_thread_has_ended_even_without_the_event_loop(qtbot):
    runner, recorder = TaskRunner(), Recorder()
    run_worker(qtbot, runner, lambda on_event, should_stop: fake_training(on_event, should_stop, 1000, 10, 0.001),
               recorder)
    qtbot.waitUntil(lambda: runner.is_running(), timeout=5000)
    runner.cancel()
    assert runner.wait(10_000)
    assert not live_threads()


def test_the_eta_is_a_smoothed_seconds_per_batch_times_the_batches_left():
    now = [0.0]
    eta = EtaEstimator(clock=lambda: now[0])
    assert eta.update(1, 2, 1, 10) is None  # one report gives no rate yet
    now[0] = 2.0
    assert eta.update(1, 2, 3, 10) == pytest.approx(17 * 1.0)  # 2 s for 2 batches; 20 - 3 batches left
    now[0] = 5.0
    # the newest rate (3 s / 1 batch) weighs 0.1: 0.1·3 + 0.9·1 = 1.2 s per batch, 16 left
    assert eta.update(1, 2, 4, 10) == pytest.approx(16 * 1.2)


def test_durations_read_as_minutes_and_hours():
    assert format_duration(75) == "1:15"
    assert format_duration(3725) == "1:02:05"
    assert format_duration(None) == "…"
