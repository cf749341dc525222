"""The main window: start-up, engine loading, menus, settings that persist, the one error path,
export, themes, and closing mid-run."""
from __future__ import annotations

import os
import sys
import subprocess
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QMessageBox

from errors import UserError
from engine.checkpoints import load_checkpoint
from engine.runs import list_runs
from gui import errors, plots, theme
from gui.main_window import MainWindow
from gui.settings import Settings
from gui.train_form import fill_form
from test_gui_support import gui_settings, no_leaked_threads, open_error_boxes, tiny_demo_config, window  # noqa: F401

pytestmark = pytest.mark.usefixtures("no_leaked_threads")


def test_every_page_builds_shows_and_the_status_bar_names_the_device(qtbot, window):
    assert [window.tabs.tabText(i) for i in range(4)] == ["Train", "Inference", "Compare", "Runs"]
    for index in range(4):
        window.tabs.setCurrentIndex(index)
        qtbot.waitExposed(window.tabs.currentWidget())
        assert window.tabs.currentWidget().isVisible()
    assert window.device_label.text().startswith("Device: CPU")
    assert window.train.start_button.isEnabled()  # enabled once the engine has loaded
    import gc

    assert gc.get_freeze_count() > 0  # long-lived objects exempt from GUI-thread collections
    menus = [action.text() for action in window.menuBar().actions()]
    assert menus == ["&File", "&View", "&Help"]
    file_actions = [a.text() for a in window.menuBar().actions()[0].menu().actions() if a.text()]
    assert file_actions == ["Open &run folder…", "Open &checkpoint…", "Open s&weep folder…",
                            "Export &figures…", "Export &metrics table…",
                            "&Quit"]
    window.close()
    assert not window.isVisible()


def test_every_field_and_button_explains_itself(window):
    for panel in window.panels():
        for field in panel.form.fields.values():
            assert len(field.tooltip) > 20, f"{field.key} needs a tooltip"
            assert field.editor.toolTip() == field.tooltip
    for button in (window.train.start_button, window.train.stop_button, window.train.resume_button,
                   window.compare.run_button, window.inference.export_button):
        assert button.toolTip()


def test_settings_round_trip_exact_types(gui_settings):
    values = {"int": 3, "float": 0.0002, "text": "cifar100", "flag": False, "list": [1, 2], "none": None}
    for key, value in values.items():
        gui_settings.set(f"t/{key}", value)
    gui_settings.sync()
    again = Settings(QSettings(gui_settings.store.fileName(), QSettings.Format.IniFormat))
    for key, value in values.items():
        got = again.get(f"t/{key}", "missing")
        assert got == value and type(got) is type(value)
    assert again.get("t/absent", 7) == 7


def test_window_size_splitters_and_every_field_persist(qtbot, gui_settings):
    first = MainWindow(gui_settings)
    qtbot.addWidget(first)
    first.show()
    first.resize(1111, 777)
    first.train.main_split.setSizes([500, 611])
    first.train.form["epochs"].set_value(37)
    first.train.form["lr"].set_value(0.0125)
    first.train.form["imbalance_type"].set_value("step")
    first.train.form["save_model"].set_value(False)
    first.train.form["experiment"].set_value("persisted")
    first.compare.form["epochs"].set_value(4)
    first.inference.form["dataset"].set_value("cifar10")
    first.tabs.setCurrentIndex(2)
    sizes = first.train.main_split.sizes()
    first.close()

    second = MainWindow(Settings(QSettings(gui_settings.store.fileName(), QSettings.Format.IniFormat)))
    qtbot.addWidget(second)
    second.show()
    assert (second.width(), second.height()) == (1111, 777)
    assert second.tabs.currentIndex() == 2
    second.tabs.setCurrentIndex(0)
    assert second.train.main_split.sizes() == sizes
    form = second.train.form
    assert (form["epochs"].value(), form["lr"].value(), form["imbalance_type"].value()) == (37, 0.0125, "step")
    assert form["save_model"].value() is False and form["experiment"].value() == "persisted"
    assert second.compare.form["epochs"].value() == 4
    assert second.inference.form["dataset"].value() == "cifar10"
    second.close()


def test_closing_mid_run_asks_stops_cleanly_and_keeps_a_loadable_checkpoint(qtbot, window, tmp_path, monkeypatch):
    asked = []
    monkeypatch.setattr(MainWindow, "confirm_close_during_run", lambda self: asked.append(True) or True)
    config = tiny_demo_config(tmp_path, epochs=50)
    window.train.base_config = config
    fill_form(window.train.form, config)
    window.train.start()
    qtbot.waitUntil(lambda: len(window.train.history) >= 1, timeout=240_000)
    window.close()
    assert asked == [True]
    assert not window.isVisible() and not window.train.is_running()
    (run,) = list_runs(tmp_path / "runs")
    checkpoint = load_checkpoint(run.checkpoint("last"))
    done = checkpoint.extra["epochs_done"]
    assert 1 <= done < 50 and checkpoint.meta["arch"] == "resnet20"
    assert len(run.history()) == done


def test_declining_the_close_question_keeps_the_run_going(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setattr(MainWindow, "confirm_close_during_run", lambda self: False)
    config = tiny_demo_config(tmp_path, epochs=50)
    window.train.base_config = config
    fill_form(window.train.form, config)
    window.train.start()
    window.close()
    assert window.isVisible() and window.train.is_running()
    with qtbot.waitSignal(window.train.runner.idle, timeout=60_000):
        window.train.stop()


def test_a_failing_run_shows_the_users_mistake_without_a_traceback(qtbot, window, tmp_path):
    train = window.train
    train.form["dataset"].set_value("folder")
    train.form["root"].set_value(str(tmp_path))  # an empty folder: no class sub-folders
    with qtbot.waitSignal(train.runner.idle, timeout=60_000):
        train.start()
    (box,) = open_error_boxes()
    assert box.text() == "Training failed" and box.detailedText() == ""
    assert str(tmp_path) in box.informativeText() or "folder" in box.informativeText().lower()
    assert "Training failed" in errors.log_path().read_text()


def test_an_unexpected_exception_shows_details_on_demand_and_is_logged(qtbot, window, monkeypatch):
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test (pytest-qt has its own)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    errors.install_excepthook()
    try:
        raise RuntimeError("unexpected state")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())
    (box,) = open_error_boxes()
    assert box.icon() == QMessageBox.Icon.Critical
    assert "RuntimeError: unexpected state" in box.informativeText()
    assert "Traceback" in box.detailedText() and "test_gui_app.py" in box.detailedText()
    log = errors.log_path().read_text()
    assert "unexpected state" in log and "Traceback" in log
    sys.excepthook(RuntimeError, RuntimeError("unexpected state"), None)
    assert len(open_error_boxes()) == 1  # the same message is not stacked twice

    worker_thread = threading.Thread(target=lambda: 1 / 0)  # an uncaught error on another thread
    worker_thread.start()
    worker_thread.join()
    qtbot.waitUntil(lambda: any("ZeroDivisionError" in box.informativeText() for box in open_error_boxes()))


def test_a_user_error_from_anywhere_shows_only_its_message(window):
    errors.report_error(UserError("CIFAR-100 is not in /data and there is no network: copy it there"), window)
    (box,) = open_error_boxes()
    assert box.icon() == QMessageBox.Icon.Warning
    assert box.informativeText().startswith("CIFAR-100 is not in /data") and box.detailedText() == ""


def test_plots_export_to_png_at_a_dpi_svg_and_pdf(window, tmp_path):
    from PySide6.QtGui import QImage

    window.tabs.setCurrentWidget(window.train)
    pngs = window.export_plots(str(tmp_path / "run.png"), ".png", dpi=300, light=True)
    svgs = window.export_plots(str(tmp_path / "run.svg"), ".svg")
    pdfs = window.export_plots(str(tmp_path / "run.pdf"), ".pdf")
    assert sorted(p.name for p in pngs) == ["run-train-accuracy-gm.png", "run-train-confusion.png",
                                            "run-train-hm-lr.png", "run-train-left-behind.png", "run-train-loss.png",
                                            "run-train-lr.png", "run-train-zero-recall.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    image = QImage(str(pngs[0]))
    assert round(image.dotsPerMeterX() * 0.0254) == 300  # the DPI is in the file
    plot = window.train.plots["accuracy"]
    assert image.width() == round(plot.item.sceneBoundingRect().width() * 300 / 96)
    assert all(b"<svg" in p.read_bytes()[:400] for p in svgs) and len(svgs) == 7
    assert all(p.read_bytes()[:5] == b"%PDF-" for p in pdfs) and len(pdfs) == 7
    assert not plot._light  # the plain light theme was only for the export


def test_themes_switch_the_palette_and_the_plots(window):
    app = QApplication.instance()
    for choice, dark in (("dark", True), ("light", False)):
        assert theme.apply_theme(app, choice) is dark
        window_color = app.palette().window().color()
        assert (window_color.lightness() < 128) is dark
        background = window.train.bars.backgroundBrush().color().name()
        assert background == plots._THEME[dark][0]


def test_garbage_is_collected_on_the_gui_thread_only(qapp, qtbot):
    import gc
    import threading

    from gui import gc_guard

    guard = gc_guard.install(qapp)
    assert gc_guard.install(qapp) is guard and not gc.isenabled()
    collections = []
    gc.callbacks.append(lambda phase, info: collections.append(threading.current_thread()))
    try:
        junk = [[] for _ in range(guard.thresholds[0] + 10)]
        for item in junk:
            item.append(item)  # reference cycles only the collector can free
        del junk, item
        qtbot.wait(3 * gc_guard.CHECK_INTERVAL_MS)
    finally:
        gc.callbacks.pop()
    assert collections and all(thread is threading.main_thread() for thread in collections)


def ink_in(image, rect) -> int:
    """Pixels in ``rect`` (image pixels) that are not the white background."""
    from PySide6.QtGui import QColor

    white = QColor("white").rgb()
    return sum(image.pixel(x, y) != white for x in range(int(rect.left()), int(rect.right()))
               for y in range(int(rect.top()), int(rect.bottom())))


GUARDED_CALLS = """
import sys
sys.path.insert(0, {root!r})
from gui.none_guard import keep_none_alive
keep_none_alive()
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QStandardItem
from PySide6.QtWidgets import QApplication

class Sender(QObject):
    flag = Signal(bool)

app = QApplication([])
sender, received = Sender(), []
sender.flag.connect(received.append)
item = QStandardItem("x")
for _ in range(40_000):
    item.setEditable(False)  # a Qt call that returns nothing
    sender.flag.emit(True)  # a bool signal to a Python slot
print("alive", len(received))
"""


def test_none_and_true_outlive_many_more_qt_calls_than_they_had_references():
    """shiboken6 6.12 on Python 3.11 takes a reference from None at each Qt call that returns
    nothing and from True/False at each bool signal to a Python slot: a fresh process holds ~5,000
    references to None and ~600 to True, so 40,000 such calls end in "Fatal Python error:
    deallocating None" without gui/none_guard.py. With it (as the app and this suite start) the
    process lives; on Python 3.12+ the singletons are immortal and the guard does nothing."""
    script = GUARDED_CALLS.format(root=str(Path(__file__).resolve().parent.parent))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.split() == ["alive", "40000"]


def test_column_sized_figures_scale_fonts_and_legends_with_the_dpi(window, tmp_path):
    """Issue 21.4: legends kept their screen size at 300 DPI, and there was no figure size."""
    from PySide6.QtGui import QImage

    plot = window.train.plots["worst"]
    plot.set_curve("test HM", [1, 2, 3], [0.2, 0.4, 0.5])
    on_screen = plot.size()
    images = {}
    for dpi in (150, 300):
        path = plot.export(tmp_path / f"hm-{dpi}.png", dpi=dpi, light=True, size="single")
        images[dpi] = QImage(str(path))
    assert (images[300].width(), images[300].height()) == (1050, 750)  # 3.5 × 2.5 in at 300 DPI
    assert (images[150].width(), images[150].height()) == (525, 375)
    assert round(images[300].dotsPerMeterX() * 0.0254) == 300
    # the legend row (the bottom of the figure) holds four times the ink at twice the DPI: its text and
    # samples grew with the rest (at screen size it was as much ink at any DPI)
    ink = {dpi: ink_in(image, image.rect().adjusted(0, int(0.86 * image.height()), 0, 0))
           for dpi, image in images.items()}
    assert 3.0 < ink[300] / ink[150] < 5.0
    double = plot.export(tmp_path / "hm.pdf", size="double")
    assert double.read_bytes()[:5] == b"%PDF-"
    assert plot.size() == on_screen  # laid out again as on screen after the export


def test_exporting_to_a_missing_or_read_only_folder_says_so_and_claims_nothing(window, tmp_path):
    window.tabs.setCurrentWidget(window.train)
    assert window.export_plots(str(tmp_path / "missing" / "run.png"), ".png") == []
    (box,) = open_error_boxes()
    assert "does not exist" in box.informativeText() and "missing" in box.informativeText()
    box.done(0)
    assert window.statusBar().currentMessage() == "" or "Exported" not in window.statusBar().currentMessage()
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if not os.access(locked, os.W_OK):  # (root may write anywhere)
            with pytest.raises(UserError, match="cannot be written"):
                window.train.plots["loss"].export(locked / "loss.svg")
            with pytest.raises(UserError, match="cannot be written"):
                window.train.export_metrics(locked / "metrics.csv")
    finally:
        locked.chmod(0o700)
    assert not list(tmp_path.rglob("*.png"))
