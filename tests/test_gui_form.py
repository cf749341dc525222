"""The Train form that helps (issue 21, "the form"): presets keep the user's paths and names, every
mistake is shown at once where it is, method hyperparameters and warm-up are checked before any
data loads, the Preset box and the start epoch say what is loaded, Resume on a finished run says
so, Start / Stop have shortcuts, and the form fits a small screen with the main fields on top."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QLabel

from engine.presets import preset, preset_titles
from engine.runs import RunFolder
from engine.trainer import train
from gui.main_window import MainWindow
from gui.train_panel import TrainPanel
from test_gui_support import engine_info, gui_settings, no_leaked_threads, shown_panel, tiny_demo_config  # noqa: F401

pytestmark = pytest.mark.usefixtures("no_leaked_threads")
RUN_TIMEOUT_MS = 240_000


@pytest.fixture
def panel(qtbot, gui_settings, engine_info):
    return shown_panel(qtbot, TrainPanel(gui_settings), engine_info, size=(1280, 720))


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    return train(tiny_demo_config(tmp_path_factory.mktemp("finished"), epochs=1)).run_dir


def visible_in_the_form(panel: TrainPanel, widget) -> bool:
    """``widget`` lies wholly inside the form's scrolled viewport."""
    viewport = panel.form.scroll_area.viewport()
    top_left = widget.mapTo(viewport, QPoint(0, 0))
    return top_left.y() >= 0 and top_left.y() + widget.height() <= viewport.height()


def test_applying_a_preset_keeps_the_data_path_and_the_experiment_name(panel, tmp_path):
    form = panel.form
    form["root"].set_value(str(tmp_path / "datasets"))
    form["experiment"].set_value("my-ablation")
    form["runs_dir"].set_value(str(tmp_path / "runs"))
    panel.apply_preset("cifar100-ldam-drw")
    assert form["root"].value() == str(tmp_path / "datasets") and form["experiment"].value() == "my-ablation"
    assert form["runs_dir"].value() == str(tmp_path / "runs")
    assert (form["loss"].value(), form["train_rule"].value(), form["epochs"].value()) == ("ldam", "drw", 200)
    assert panel.build_config().data.root == str(tmp_path / "datasets")


def test_every_mistake_is_flagged_at_once_and_the_first_is_scrolled_into_view(qtbot, panel):
    form = panel.form
    form["momentum"].editor.setText("0.9x")  # unreadable
    form["weight_decay"].set_value(5.0)  # out of range
    form["epochs"].set_value(3)
    form["warmup_epochs"].set_value(3)  # across fields
    assert not visible_in_the_form(panel, form["momentum"].editor)  # below the fold at 1280×720
    panel.start()
    assert not panel.is_running()
    for key in ("momentum", "weight_decay", "warmup_epochs"):
        assert form[key].editor.property("invalid") is True, key
    lines = panel.error_line.text().splitlines()
    assert len(lines) == 3 and {line.split(":")[0] for line in lines} == {"Momentum", "Weight decay", "Warm-up epochs"}
    qtbot.waitUntil(lambda: visible_in_the_form(panel, form["momentum"].editor))  # the first to fix, in form order


def test_method_hyperparameters_are_checked_before_the_data_loads(panel, tmp_path, monkeypatch):
    import data

    monkeypatch.setattr(data, "load_dataset", lambda *a, **k: pytest.fail("the data loaded before the check"))
    panel.base_config = tiny_demo_config(tmp_path)
    panel.fill(panel.base_config)
    panel.form["loss"].set_value("focal")
    panel.form["params"].rows["gamma"].editor.setText("50")  # Focal's γ is sensible from 0 to 10
    panel.start()
    assert not panel.is_running()
    assert panel.form["params"].rows["gamma"].editor.property("invalid") is True
    assert "Focusing power γ: 50 is outside" in panel.error_line.text()


def test_a_warm_up_as_long_as_the_run_is_refused(panel, tmp_path):
    panel.base_config = tiny_demo_config(tmp_path)
    panel.fill(panel.base_config)
    panel.form["epochs"].set_value(4)
    panel.form["warmup_epochs"].set_value(4)
    panel.start()
    assert not panel.is_running() and panel.form["warmup_epochs"].editor.property("invalid") is True
    assert panel.error_line.text().startswith("Warm-up epochs: must be fewer than the 4 epochs")


def test_the_preset_box_follows_an_opened_run(panel, tmp_path, finished_run):
    titles = preset_titles()
    panel.preset.setCurrentIndex(panel.preset.findData("cifar100-ce"))
    panel.load_run(finished_run)  # made from no preset: the box names the run, Apply restores it
    assert panel.preset.currentText() == f"Opened run: {RunFolder(finished_run).name}"
    panel.form["epochs"].set_value(30)
    panel.apply_selected_preset()
    assert panel.form["epochs"].value() == 1

    demo = preset("demo")
    demo.runs_dir, demo.experiment, demo.device = str(tmp_path / "runs"), "mine", "cpu"  # local: not the recipe
    run = RunFolder.create(tmp_path / "runs", "from-the-demo")
    run.write_json("config.json", {"kind": "train", "run": demo.to_dict()})
    run.write_dataset("demo", [str(c) for c in range(10)], [10] * 10)
    panel.load_run(run.path)
    assert panel.preset.currentText() == titles["demo"]


def test_the_start_epoch_is_shown_not_typed_and_follows_the_opened_run(panel, finished_run):
    field = panel.form["start_epoch"]
    assert isinstance(field.editor, QLabel) and not isinstance(field.editor, QAbstractSpinBox)
    assert field.editor.focusPolicy() == Qt.FocusPolicy.NoFocus
    panel.load_run(finished_run)  # finished: nothing continues at epoch 2, the next run starts at 1
    assert field.value() == 1 and "finished" in field.editor.text()


def test_resume_on_a_finished_run_says_it_is_finished(panel, finished_run):
    panel.resume(finished_run)
    assert not panel.is_running()
    assert "is finished (1 epochs); nothing to resume" in panel.error_line.text()


def test_start_and_stop_have_keyboard_shortcuts(qtbot, panel, tmp_path):
    panel.base_config = tiny_demo_config(tmp_path, epochs=3)
    panel.fill(panel.base_config)
    panel.activateWindow()
    qtbot.waitActive(panel)
    qtbot.keyClick(panel.form["epochs"].editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(panel.is_running)  # a shortcut clicks its button a moment later, as Qt animates the click
    assert "Ctrl+Return" in panel.start_button.toolTip() and "Ctrl+." in panel.stop_button.toolTip()
    with qtbot.waitSignal(panel.runner.idle, timeout=RUN_TIMEOUT_MS):
        qtbot.keyClick(panel.form["epochs"].editor, Qt.Key.Key_Period, Qt.KeyboardModifier.ControlModifier)
    assert panel.progress.format() == "Stopped"
    done = len(RunFolder(panel.resume_target).history())
    assert panel.form["start_epoch"].value() == done + 1  # Resume continues there


def test_the_window_fits_1024_pixels_and_the_main_fields_are_above_the_fold(qtbot, gui_settings, engine_info):
    window = MainWindow(gui_settings)
    qtbot.addWidget(window)
    window.on_engine_ready(engine_info)
    window.resize(1280, 720)
    window.show()
    qtbot.waitExposed(window)
    QApplication.processEvents()
    assert window.minimumSizeHint().width() <= 1024
    panel = window.train
    for key in ("loss", "epochs", "lr", "batch_size"):
        assert visible_in_the_form(panel, panel.form[key].editor), key
    window.close()


def test_the_large_benchmarks_and_their_recipes_are_chosen_from_the_form(panel, tmp_path):
    """Issue 18: ImageNet-LT, iNaturalist 2018 and Places-LT are chosen from the Train form, their
    published recipes from the Preset box (the data root the user typed stays)."""
    editor = panel.form["dataset"].editor
    offered = {editor.itemData(i) for i in range(editor.count())}
    assert {"imagenet_lt", "inat2018", "places_lt"} <= offered
    panel.form["root"].set_value(str(tmp_path / "ImageNet_LT"))
    panel.apply_preset("imagenet_lt-ride")
    config = panel.build_config()
    assert (config.data.dataset, config.data.root, config.method.loss) == ("imagenet_lt", str(tmp_path / "ImageNet_LT"),
                                                                            "ride")
    assert config.model == preset("imagenet_lt-ride").model  # the recipe's ImageNet trunk


def test_sam_s_neighbourhood_is_editable_only_with_the_sam_optimiser(panel):
    form = panel.form
    form["optimizer"].set_value("sgd")
    assert not form["sam_rho"].editor.isEnabled()
    form["optimizer"].set_value("sam")
    assert form["sam_rho"].editor.isEnabled()
    panel.fill(preset("demo"))  # a preset (or an opened run) with SGD greys it again
    assert form["optimizer"].value() == "sgd" and not form["sam_rho"].editor.isEnabled()
