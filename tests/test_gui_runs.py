"""The Runs page: two real runs in the workspace, filtered, their settings diffed, opened in Compare;
a plug-in run's settings shown; the run index against the files it reads."""
from __future__ import annotations

import json

import pytest

from engine.run_index import flatten, settings_diff, summarize
from engine.runs import RunFolder
from engine.trainer import train
from test_gui_support import gui_settings, no_leaked_threads, tiny_demo_config, window  # noqa: F401

pytestmark = pytest.mark.usefixtures("no_leaked_threads")


@pytest.fixture
def two_runs(workspace):
    """A CE run (seed 0) and a BSCE run (seed 3), one epoch each, in the workspace's runs/."""
    runs = []
    for loss, seed in (("ce", 0), ("bsce", 3)):
        config = tiny_demo_config(workspace, epochs=1, seed=seed)
        config.runs_dir = str(workspace / "runs")
        config.method.loss = loss
        config.experiment = f"browse-{loss}"
        runs.append(train(config).run_dir)
    return runs


def test_two_runs_are_listed_filtered_diffed_and_opened_in_compare(qtbot, window, two_runs):
    runs = window.runs
    window.tabs.setCurrentWidget(runs)
    runs.refresh()
    names = sorted(p.name for p in two_runs)
    assert sorted(runs.visible_names()) == names
    ce_row = next(r for r in range(runs.table.rowCount()) if runs.table.item(r, 0).text() == two_runs[0].name)
    cells = [runs.table.item(ce_row, c).text() for c in range(runs.table.columnCount())]
    assert cells[1:6] == ["ce", "demo", "50", "1/1", "finished"]
    last = RunFolder(two_runs[0]).history()[-1]
    assert cells[7] == f"{100 * last['test_hm']:.2f}"  # the last epoch's HM in percent, labelled so
    assert runs.table.horizontalHeaderItem(7).text() == "HM % (last)"
    assert cells[10] == str(int(last["test_zero_recall"]))

    runs.filter.setText("bsce")
    assert runs.visible_names() == [two_runs[1].name]
    runs.filter.setText("")
    runs.status_filter.setCurrentIndex(2)  # stopped: none
    assert runs.visible_names() == []
    runs.status_filter.setCurrentIndex(0)

    runs.select(names)
    assert sorted(runs.selected_paths()) == sorted(map(str, two_runs))
    diff = {key: (a, b) for key, a, b in runs.diff_selected()}
    assert set(diff) == {"run.method.loss", "run.seed", "run.experiment"}
    assert sorted(diff["run.method.loss"]) == ["bsce", "ce"] and sorted(diff["run.seed"]) == [0, 3]
    assert runs.details.rowCount() == 3 and runs.details.columnCount() == 3

    runs.compare_button.click()
    assert window.tabs.currentWidget() is window.compare
    assert sorted(s.name for s in window.compare.series) == ["BSCE · browse-bsce", "CE · browse-ce"]


def test_opening_a_training_run_fills_the_train_form_and_a_plugin_run_shows_its_settings(qtbot, window, two_runs,
                                                                                         tmp_path):
    runs = window.runs
    runs.refresh()
    runs.select([two_runs[1].name])
    runs.open_button.click()
    assert window.tabs.currentWidget() is window.train
    assert window.train.form["loss"].value() == "bsce" and window.train.form["seed"].value() == 3
    # a plug-in run folder written elsewhere: opened from File → Open run folder, it shows on Runs
    tune = tmp_path / "elsewhere" / "20250101-000000-plugin"
    tune.mkdir(parents=True)
    (tune / "config.json").write_text(json.dumps({"kind": "tune", "checkpoint": "CE.pt · resnet32",
                                                  "tune": {"loss": "gml", "epochs": 10, "t1": 1.5,
                                                           "data": {"dataset": "cifar100", "imbalance_ratio": 100}}}))
    (tune / "report.json").write_text(json.dumps({"epochs_done": 10, "stopped": False, "columns": {
        "old": {"top1": 0.4, "hm": 0.1, "gm": 0.2, "lowest_recall": 0.0},
        "ensemble": {"top1": 0.45, "hm": 0.3, "gm": 0.35, "lowest_recall": 0.05}}}))
    window.open_run(str(tune))
    assert window.tabs.currentWidget() is runs
    assert runs.selected_paths() == [str(tune)]
    shown = {runs.details.item(r, 0).text(): runs.details.item(r, 1).text() for r in range(runs.details.rowCount())}
    assert shown["tune.t1"] == "1.5" and shown["tune.loss"] == "gml" and shown["checkpoint"] == "CE.pt · resnet32"
    summary = summarize(tune)
    assert (summary.kind, summary.method, summary.status) == ("tune", "plug-in gml", "finished")
    assert summary.metrics_label == "ensemble, after the last epoch" and summary.metrics["hm"] == 0.3


def test_flatten_and_diff_name_every_differing_setting():
    a = flatten({"run": {"optim": {"lr": 0.1, "epochs": 200}, "seed": 0}})
    b = flatten({"run": {"optim": {"lr": 0.05, "epochs": 200}}, "extra": [1, 2]})
    assert a == {"run.optim.lr": 0.1, "run.optim.epochs": 200, "run.seed": 0}
    assert settings_diff(a, b) == [("extra", None, [1, 2]), ("run.optim.lr", 0.1, 0.05), ("run.seed", 0, None)]


@pytest.mark.parametrize("preset_name, stages", [
    ("demo-mislas", [("mixup", 12), ("classifier", 4)]),
    ("demo", [("train", 12)]),
])
def test_a_run_plans_the_epochs_of_every_stage(tmp_path, preset_name, stages):
    """Issue 21.3: Runs showed "16/12" for MiSLAS, the first stage's epochs only."""
    from engine.presets import preset

    folder = tmp_path / "20250101-000000-staged"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"kind": "train", "run": preset(preset_name).to_dict()}))
    summary = summarize(folder)
    assert summary.stages == stages and summary.epochs_planned == sum(n for _name, n in stages)
