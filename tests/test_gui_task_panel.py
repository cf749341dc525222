"""The page base class: worker events reach the page's handlers on the GUI thread, a field's
mistake is flagged at the field, any other user error shows on the error line, and a failing
task is reported with the page's name for it."""
from __future__ import annotations

import threading

import pytest

from errors import UserError
from engine.config import ConfigError
from engine.events import DatasetReady, EpochEnd, Message, Progress
from engine.metrics import Metrics
from gui.forms import Form, IntField
from gui.task_panel import TaskPanel
from gui.widgets import Column
from test_gui_support import gui_settings, no_leaked_threads, open_error_boxes  # noqa: F401

pytestmark = pytest.mark.usefixtures("no_leaked_threads")


class RecordingPanel(TaskPanel):
    """A page whose handlers record what arrived and on which thread."""

    def __init__(self, settings):
        super().__init__(settings)
        self.form = Form("test")
        group = self.form.group("Test", [IntField("epochs", "Epochs", "How many passes over the data to make.")])
        self.set_panes("test/split", Column(group, self.error_line, fitted=True), self.progress)
        self.arrived: list[tuple[str, object, int]] = []

    def record(self, kind: str, payload) -> None:
        self.arrived.append((kind, payload, threading.get_ident()))

    def on_progress(self, event) -> None:
        super().on_progress(event)
        self.record("progress", event)

    def on_epoch(self, event) -> None:
        self.record("epoch", event.epoch)

    def on_dataset(self, event) -> None:
        self.record("dataset", event.name)

    def on_message(self, event) -> None:
        self.record("message", event.text)

    def on_event(self, event) -> None:
        self.record("event", event)

    def on_finished(self, result) -> None:
        self.record("finished", result)


@pytest.fixture
def page(qtbot, gui_settings):
    widget = RecordingPanel(gui_settings)
    qtbot.addWidget(widget)
    return widget


def engine_shaped_task(on_event, should_stop):
    on_event(DatasetReady("digits", ["0", "1"], [5, 1]))
    on_event(Message("loaded"))
    on_event(Progress(1, 1, 1, 1))
    half = Metrics(0.5, 0.5, 1.0, 0.5, 0.5, 0.5, 0.5, 0, None, None, None, [0.5, 0.5])
    on_event(EpochEnd(1, 1, 0.1, half, half, 0.01))
    on_event("something else")
    return "done"


def test_worker_events_reach_the_pages_handlers_on_the_gui_thread(qtbot, page):
    with qtbot.waitSignal(page.runner.idle, timeout=10_000):
        page.launch(engine_shaped_task, "Testing", "Testing: starting…")
    assert [(kind, payload) for kind, payload, _ in page.arrived if kind != "progress"] == [
        ("dataset", "digits"), ("message", "loaded"), ("epoch", 1), ("event", "something else"), ("finished", "done")]
    assert [kind for kind, _, _ in page.arrived].count("progress") == 1
    assert {thread for _, _, thread in page.arrived} == {threading.get_ident()}
    assert page.progress.format().startswith("Training · epoch 1/1")


def test_a_failing_task_is_reported_under_the_pages_name_for_it(qtbot, page):
    def broken(on_event, should_stop):
        raise UserError("the folder /nowhere has no images")

    with qtbot.waitSignal(page.runner.idle, timeout=10_000):
        page.launch(broken, "Testing", "Testing: starting…")
    (box,) = open_error_boxes()
    assert box.text() == "Testing failed" and "/nowhere" in box.informativeText()
    assert page.progress.format() == "⚠ Failed: the folder /nowhere has no images"
    assert page.progress.value() < page.progress.maximum()  # not a full bar like "Finished"
    highlight = page.progress.palette().color(page.progress.palette().ColorRole.Highlight).name()
    assert highlight == "#d64545"
    page.progress.done("Finished")
    assert page.progress.palette().color(page.progress.palette().ColorRole.Highlight).name() != "#d64545"


def test_checked_flags_a_config_error_at_its_field_and_shows_other_user_errors(page):
    def bad_field():
        raise ConfigError("epochs", "must be at least 1")

    assert page.checked(bad_field) is None
    assert page.form["epochs"].editor.property("invalid") is True
    assert page.error_line.text() == "Epochs: must be at least 1" and not page.error_line.isHidden()

    def bad_data():
        raise UserError("CIFAR-100 is not in /data")

    assert page.checked(bad_data) is None
    assert page.form["epochs"].editor.property("invalid") is False  # each check starts clean
    assert page.error_line.text() == "CIFAR-100 is not in /data"
    assert page.checked(lambda: 42) == 42 and page.error_line.isHidden()


def test_a_replaced_task_reports_nothing_more_not_even_its_result(qtbot, page):
    started, release = threading.Event(), threading.Event()

    def old_task(on_event, should_stop):
        on_event(Message("old: first"))
        started.set()
        release.wait(10)  # still running when the new task replaces it
        on_event(Message("old: late"))  # emitted after the cancel, ignoring it
        return "old result"

    page.launch(old_task, "Old", "old…")
    assert started.wait(10)
    qtbot.waitUntil(lambda: ("message", "old: first") in [(k, p) for k, p, _ in page.arrived])
    page.launch(lambda on_event, should_stop: "new result", "New", "new…")
    release.set()
    qtbot.waitUntil(lambda: not page.is_running(), timeout=10_000)
    qtbot.wait(50)
    payloads = [payload for kind, payload, _ in page.arrived if kind in ("message", "finished")]
    assert payloads == ["old: first", "new result"]
