"""The Train page against the real engine: validation at the field, a live demo run, Stop,
Resume, the plug-in and evaluate-only modes, and closing the window mid-run."""
from __future__ import annotations

import math

import pytest
from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QApplication

from engine.checkpoints import load_checkpoint
from engine.runs import RunFolder, list_runs
from engine.trainer import train
from tools.latency import LatencyProbe
from gui.train_panel import TrainPanel
from test_gui_support import engine_info, gui_settings, no_leaked_threads, shown_panel, tiny_demo_config  # noqa: F401

pytestmark = pytest.mark.usefixtures("no_leaked_threads")
RUN_TIMEOUT_MS = 240_000  # a loaded 2-core machine can be slow; a normal run takes seconds


@pytest.fixture
def panel(qtbot, gui_settings, engine_info):
    return shown_panel(qtbot, TrainPanel(gui_settings), engine_info)


def use_config(panel: TrainPanel, config) -> None:
    panel.base_config = config
    panel.fill(config)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """One tiny finished demo run (2 epochs), made directly with the engine."""
    root = tmp_path_factory.mktemp("trained")
    return train(tiny_demo_config(root)).run_dir


class EventSpy(QObject):
    """``read(event)`` of each event a worker signal carries (a slot on the GUI thread)."""

    def __init__(self, read):
        super().__init__()
        self.read, self.values = read, []

    @Slot(object)
    def record(self, event):
        self.values.append(self.read(event))


def progress_text(event) -> str:
    """The progress line's text for a progress event."""
    from gui.widgets import ProgressLine

    return ProgressLine().show_progress(event.epoch, event.epochs, event.batch, event.batches, event.stage,
                                        event.stage_name)


def test_invalid_values_are_flagged_at_their_field_and_nothing_starts(panel):
    panel.form["epochs"].set_value(0)
    panel.start()
    assert panel.form["epochs"].editor.property("invalid") is True
    assert "epochs" in panel.form["epochs"].editor.toolTip().lower() or "outside" in panel.form["epochs"].error
    assert panel.error_line.isVisible() and "Epochs" in panel.error_line.text()
    assert not panel.is_running()

    panel.form["epochs"].set_value(2)
    panel.form["lr"].editor.setText("fast")
    panel.start()
    assert panel.form["epochs"].editor.property("invalid") is False  # cleared on the next try
    assert panel.form["lr"].editor.property("invalid") is True
    assert "not a number" in panel.error_line.text()

    panel.form["lr"].set_value(0.05)
    panel.form["freeze"].set_value("features")  # freezing needs a pretrained model
    panel.start()
    assert panel.form["pretrained"].editor.property("invalid") is True
    assert not panel.is_running()


def test_the_imbalance_is_shown_in_both_conventions(panel):
    panel.form["imbalance_ratio"].editor.setText("0.01")
    assert panel.form["imbalance_ratio"].hint.text() == "ratio n_max/n_min = 100 (factor 0.01)"
    panel.form["imbalance_ratio"].editor.setText("100")
    assert panel.form["imbalance_ratio"].hint.text() == "ratio n_max/n_min = 100 (factor 0.01)"


def test_a_demo_run_plots_every_epoch_live_and_the_gui_stays_responsive(qtbot, panel, tmp_path):
    use_config(panel, tiny_demo_config(tmp_path, epochs=2))
    probe = LatencyProbe(10)
    spy = EventSpy(lambda event: event.epoch)
    probe.start()
    panel.start()
    assert panel.is_running() and not panel.start_button.isEnabled() and panel.stop_button.isEnabled()
    panel.runner.current.epoch_finished.connect(spy.record)
    with qtbot.waitSignal(panel.runner.idle, timeout=RUN_TIMEOUT_MS):
        pass
    worst = probe.stop()
    print(f"\nworst GUI event-loop stall during the demo run: {worst:.1f} ms over {probe.ticks} ticks")

    assert spy.values == [1, 2]
    assert [row["epoch"] for row in panel.history] == [1, 2]
    for name in ("test top-1", "train top-1", "test GM", "train GM"):
        assert panel.plots["accuracy"].point_count(name) == 2
    for name in ("test HM", "train HM", "test LR", "train LR"):
        assert panel.plots["worst"].point_count(name) == 2
    # issue 21.5: beside HM/LR, how many classes are at zero recall, per epoch
    assert list(panel.plots["zero"].curves["test"].getData()[1]) == [row["test_zero_recall"] for row in panel.history]
    assert panel.bars.bar_count() == 10  # one bar per digit class
    counts = panel.class_counts
    assert [counts[i] for i in panel.bars.order] == sorted(counts, reverse=True)
    zeros = sum(1 for r in panel.bars.series[0][1] if r == 0)
    assert panel.bars.zero_count() == zeros
    (run,) = list_runs(tmp_path / "runs")
    assert run.checkpoint("last") is not None and len(run.history()) == 2
    assert panel.progress.format() == "Finished"
    assert worst < 1000, "the GUI thread stalled for over a second"


def test_stop_keeps_the_last_epoch_and_resume_finishes_the_run(qtbot, panel, tmp_path):
    use_config(panel, tiny_demo_config(tmp_path, epochs=3))
    panel.start()
    qtbot.waitUntil(lambda: len(panel.history) >= 1, timeout=RUN_TIMEOUT_MS)
    with qtbot.waitSignal(panel.runner.idle, timeout=RUN_TIMEOUT_MS):
        panel.stop_button.click()
    assert panel.progress.format() == "Stopped"
    run = RunFolder(panel.resume_target)
    done = len(run.history())
    assert 1 <= done < 3
    assert load_checkpoint(run.checkpoint("last")).extra["epochs_done"] == done

    with qtbot.waitSignal(panel.runner.idle, timeout=RUN_TIMEOUT_MS):
        panel.resume_button.click()
        assert panel.form["start_epoch"].value() == done + 1
    assert panel.form["start_epoch"].value() == 1  # finished: the next run is a new one
    assert [row["epoch"] for row in RunFolder(run.path).history()] == [1, 2, 3]
    assert [row["epoch"] for row in panel.history] == [1, 2, 3]
    assert len(list_runs(tmp_path / "runs")) == 1  # resumed in the same folder


def test_freezing_the_features_runs_the_plugin_with_the_train_fields(qtbot, panel, tmp_path, trained_run):
    config = tiny_demo_config(tmp_path, epochs=1)
    use_config(panel, config)
    panel.form["train_rule"].set_value("reweight")
    panel.form["freeze"].set_value("features")
    # the fields now show the plug-in's own schedule, not the training preset's
    assert (panel.form["epochs"].value(), panel.form["lr"].value(), panel.form["schedule"].value()) == (10, 0.02, "cosine")
    panel.form["epochs"].set_value(1)
    panel.form["pretrained"].set_value(str(RunFolder(trained_run).checkpoint("best")))
    panel.form["loss"].set_value("gml")
    panel.form["t1"].set_value(2.0)
    with qtbot.waitSignal(panel.runner.idle, timeout=RUN_TIMEOUT_MS):
        panel.start()
    (run,) = list_runs(tmp_path / "runs")
    raw = run.config()
    assert raw["kind"] == "tune" and raw["run"]["model"]["freeze"] == "features"
    settings = raw["run"]
    assert settings["method"]["loss"] == "gml" and settings["plugin"]["t1"] == 2.0 and settings["plugin"]["ensemble"]
    assert settings["optim"]["lr"] == 0.02 and settings["optim"]["epochs"] == 1
    assert settings["method"]["train_rule"] == "reweight" and settings["runs_dir"] == str(tmp_path / "runs")
    assert [row["epoch"] for row in panel.history] == [1]
    assert panel.bars.bar_count() == 10
    log = panel.log.toPlainText()
    assert all(f"{column}: test Acc" in log for column in ("old", "new", "ensemble"))


def test_the_plugin_offers_only_losses_that_can_re_train_a_classifier(panel):
    def offered() -> list[str]:
        editor = panel.form["loss"].editor
        return [editor.itemData(i) for i in range(editor.count())]

    panel.form["freeze"].set_value("none")
    assert {"mislas", "ride_distill", "gml"} <= set(offered())  # training: every method
    panel.form["loss"].set_value("gml")
    panel.form["freeze"].set_value("features")
    assert "gml" in offered() and "mislas" not in offered() and "ride_distill" not in offered()
    assert panel.form["loss"].value() == "gml"  # the choice survives the switch
    panel.form["freeze"].set_value("none")
    assert "mislas" in offered()


def test_mislas_runs_both_stages_from_the_app(qtbot, panel, tmp_path):
    from engine.config import MethodConfig

    use_config(panel, tiny_demo_config(tmp_path, epochs=1, method=MethodConfig(loss="mislas",
                                                                                params={"stage2_epochs": 1})))
    panel.show_plan()
    assert panel.plan_line.text() == "Trains 2 epochs in 2 stages: mixup 1, classifier 1"
    progress = EventSpy(progress_text)
    with qtbot.waitSignal(panel.runner.idle, timeout=RUN_TIMEOUT_MS):
        panel.start()
        panel.runner.current.progress.connect(progress.record)
    assert [row["epoch"] for row in panel.history] == [1, 2]
    log = panel.log.toPlainText()
    assert "stage 1/2: mixup" in log and "stage 2/2: classifier" in log
    assert "epoch 1/2 (stage 1/2 mixup)" in log and "epoch 2/2 (stage 2/2 classifier)" in log
    assert "Training · stage 2/2 classifier · epoch 2/2" in progress.values[-1]
    assert panel.progress.format() == "Finished"
    for plot in panel.plots.values():  # every curve marks where the classifier stage begins
        assert [(line.value(), line.label.format) for line in plot.stage_lines] == [(1.5, "classifier")]
    run_dir = panel.resume_target
    panel.load_run(run_dir)  # a saved run: its stages named from its config
    assert [(line.value(), line.label.format) for line in panel.plots["zero"].stage_lines] == [(1.5, "classifier")]


def test_ride_trains_its_experts_then_the_router_from_the_app(qtbot, panel, tmp_path):
    from engine.config import MethodConfig

    use_config(panel, tiny_demo_config(tmp_path, epochs=1, method=MethodConfig(
        loss="ride", train_rule="drw", params={"router_epochs": 1, "router_batch_size": 128})))
    with qtbot.waitSignal(panel.runner.idle, timeout=RUN_TIMEOUT_MS):
        panel.start()
    assert [row["epoch"] for row in panel.history] == [1, 2]
    log = panel.log.toPlainText()
    assert "stage 1/2: train" in log and "stage 2/2: router" in log and "experts/image" in log
    assert panel.progress.format() == "Finished"


def test_freezing_everything_evaluates_the_pretrained_model(qtbot, panel, tmp_path, trained_run):
    use_config(panel, tiny_demo_config(tmp_path, epochs=1))
    panel.form["freeze"].set_value("all")
    panel.form["pretrained"].set_value(str(RunFolder(trained_run).checkpoint("best")))
    with qtbot.waitSignal(panel.runner.idle, timeout=RUN_TIMEOUT_MS):
        panel.start()
    (row,) = panel.history
    assert row["epoch"] == 0
    best = load_checkpoint(RunFolder(trained_run).checkpoint("best")).meta["metrics"]
    assert row["test_top1"] == pytest.approx(best["test_top1"])  # the same model on the same test split


def test_opening_a_run_folder_shows_its_curves_and_settings(panel, trained_run):
    panel.load_run(trained_run)
    run = RunFolder(trained_run)
    assert panel.plots["accuracy"].point_count("test top-1") == 2
    assert panel.form["arch"].value() == "resnet20" and panel.form["epochs"].value() == 2
    assert panel.form["start_epoch"].value() == 1 and "finished" in panel.form["start_epoch"].editor.text()
    assert panel.resume_target == run.path
    last = run.per_class()[-1]
    heights = panel.bars.bars[0].opts["height"]
    assert [h / 100 for h in heights] == pytest.approx([last[i] for i in panel.bars.order])


def test_metrics_export_writes_one_row_per_epoch(panel, trained_run, tmp_path):
    panel.load_run(trained_run)
    path = panel.export_metrics(tmp_path / "metrics.csv")
    lines = path.read_text().splitlines()
    assert lines[0].startswith("epoch,stage,lr,seconds,train_loss")
    assert len(lines) == 3
    first = dict(zip(lines[0].split(","), lines[1].split(",")))
    assert math.isclose(float(first["test_hm"]), RunFolder(trained_run).history()[0]["test_hm"])


def test_the_hyperparameters_follow_the_loss_and_only_changed_ones_reach_the_config(panel):
    params = panel.form["params"]
    panel.form["loss"].set_value("ldam")
    assert list(params.rows) == ["max_margin", "scale"]
    assert [row.editor.text() for row in params.rows.values()] == ["0.5", "30"]  # LDAM-DRW's values
    assert "Default: 0.5" in params.rows["max_margin"].editor.toolTip()
    assert panel.build_config().method.params == {}  # all at their defaults: nothing is written

    params.rows["max_margin"].editor.setText("0.3")
    config = panel.build_config()
    assert config.method.loss == "ldam" and config.method.params == {"max_margin": 0.3}

    panel.form["loss"].set_value("ce")
    assert params.rows == {} and panel.build_config().method.params == {}
    panel.form["loss"].set_value("ldam")  # what was typed for LDAM is still there
    assert params.rows["max_margin"].editor.text() == "0.3"

    panel.form["freeze"].set_value("features")  # the plug-in re-trains with the same hyperparameters
    panel.form["pretrained"].set_value(__file__)
    assert panel.build_config().method.params == {"max_margin": 0.3}


def test_unreadable_or_infinite_hyperparameters_are_flagged_at_their_row(panel):
    panel.form["loss"].set_value("focal")
    gamma = panel.form["params"].rows["gamma"]
    for text, message in (("strong", "not a number"), ("inf", "not a finite number")):
        gamma.editor.setText(text)
        panel.start()
        assert gamma.editor.property("invalid") is True and not panel.is_running()
        assert panel.error_line.text().startswith("Focusing power γ: ") and message in panel.error_line.text()
    gamma.editor.setText("2")
    assert panel.build_config().method.params == {"gamma": 2.0}
    panel.form["epochs"].set_value(0)
    panel.start()  # the next check clears the row's mark
    assert gamma.editor.property("invalid") is False


def test_hyperparameters_persist_and_show_a_loaded_config(qtbot, gui_settings, engine_info, tmp_path):
    first = shown_panel(qtbot, TrainPanel(gui_settings), engine_info)
    first.form["loss"].set_value("lade")
    first.form["params"].rows["alpha"].editor.setText("0.25")
    first.save_state()

    second = TrainPanel(gui_settings)  # restored before the engine lists the losses
    qtbot.addWidget(second)
    assert second.form["params"].rows == {}
    second.engine_ready(engine_info)
    assert second.form["params"].rows["alpha"].editor.text() == "0.25"
    assert second.build_config().method.params == {"alpha": 0.25}

    config = tiny_demo_config(tmp_path)
    config.method.loss, config.method.params = "ldam", {"scale": 16.0}
    use_config(second, config)
    assert [row.editor.text() for row in second.form["params"].rows.values()] == ["0.5", "16"]
    assert second.build_config().method.params == {"scale": 16.0}


def fake_epoch(epoch: int, recall: list[float]):
    from engine.events import EpochEnd
    from engine.metrics import Metrics

    n = len(recall)
    test = Metrics(sum(recall) / n, 1.0, 1.0, sum(recall) / n, 0.5, 0.5, min(recall), recall.count(0.0), None, None,
                   None, list(recall), per_class_precision=list(recall))
    return EpochEnd(epoch, 3, 0.1, test, test, 1.0)


def test_the_class_table_shows_the_epoch_the_bars_show_after_a_run_ends(qtbot, panel, monkeypatch):
    """Issue 21.1: epochs drawn while the table was hidden used to be kept for it and shown when
    its tab opened, even after a later epoch had filled it: the table then showed an old epoch."""
    from engine.events import DatasetReady

    names = [f"class {i}" for i in range(10)]
    panel.on_dataset(DatasetReady("demo", names, [100 - 9 * i for i in range(10)]))
    running = [True]
    monkeypatch.setattr(panel, "is_running", lambda: running[0])
    panel.views.setCurrentIndex(0)  # the bars in front, the class table hidden
    for epoch in (1, 2):
        panel.on_epoch(fake_epoch(epoch, [0.1 * epoch] * 5 + [0.0] * 5))
        panel.redraws.flush()
    running[0] = False  # the run's thread ended before its last epoch was drawn
    panel.on_epoch(fake_epoch(3, [0.3] * 5 + [1.0] * 5))
    panel.redraws.flush()
    panel.views.setCurrentWidget(panel.class_table)
    shown = {row[1]: row[4] for row in panel.class_table.shown_rows()}
    assert shown == {name: f"{100 * value:.2f}" for name, value in zip(names, [0.3] * 5 + [1.0] * 5)}
    assert panel.bars.heights() == pytest.approx([100 * v for v in [0.3] * 5 + [1.0] * 5])


@pytest.mark.parametrize("loss, sections, label", [
    ("mislas", ["Stage 1: mixup", "Stage 2: classifier"], ("shift_bn", "Re-estimate BatchNorm (1 = on)")),
    ("ride", ["Stage 1: experts", "Stage 2: router"], ("pos_weight", "Weight of “call the next expert”")),
    ("paco", [], ("supt", "Centre-logit divisor")),
])
def test_each_stage_s_hyperparameters_sit_under_it_with_human_names(panel, loss, sections, label):
    """Issue 21.3: stage-2 settings sat among machine-named rows ("Shift bn 1", "Supt", "Use router 1")."""
    from PySide6.QtWidgets import QLabel

    params = panel.form["params"]
    panel.form["loss"].set_value(loss)
    layout = params.rows_layout
    shown = [layout.itemAt(r, layout.ItemRole.SpanningRole) or layout.itemAt(r, layout.ItemRole.LabelRole)
             for r in range(layout.rowCount())]
    texts = [item.widget().text() for item in shown if isinstance(item.widget(), QLabel)]
    assert [t for t in texts if t.startswith("Stage ")] == sections
    key, text = label
    assert layout.labelForField(params.rows[key].editor).text() == text
    assert not {"Shift bn", "Supt", "Pos weight", "Stage2 epochs", "Lr factor"} & set(texts)
    if sections:  # the second stage's rows come after its title
        assert texts.index(sections[1]) < texts.index(text) or key == "mixup_alpha"


def test_a_live_epoch_redraws_one_view_per_turn_of_the_event_loop(qtbot, panel):
    """Issue 21.8: an epoch's redraw kept the GUI thread for all its plots and tables at once."""
    from engine.events import DatasetReady

    panel.on_dataset(DatasetReady("demo", [str(i) for i in range(10)], [100 - 9 * i for i in range(10)]))
    panel.on_epoch(fake_epoch(1, [0.5] * 10))
    steps = panel.redraws.pending()
    assert steps == len(panel.plots) + 3 and panel.plots["accuracy"].point_count("test top-1") == 0  # nothing yet
    drawn = []
    panel.redraws.steps = type(panel.redraws.steps)(  # record which turn each step runs in
        (lambda step=step: (drawn.append(turns[0]), step())) for step in panel.redraws.steps)
    turns = [0]
    while panel.redraws.pending():
        QApplication.processEvents()
        turns[0] += 1
    assert len(drawn) == steps and drawn == sorted(set(drawn))  # each step in a turn of its own
    assert panel.plots["accuracy"].point_count("test top-1") == 1 and len(panel.class_table.shown_rows()) == 10
    panel.on_epoch(fake_epoch(2, [0.5] * 10))
    panel.on_epoch(fake_epoch(3, [0.5] * 10))  # a newer epoch replaces the pending steps of the older one
    assert panel.redraws.pending() == steps
    panel.redraws.flush()
    assert panel.plots["accuracy"].point_count("test top-1") == 3
