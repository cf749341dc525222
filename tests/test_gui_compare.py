"""The Compare page: the plug-in on a real pretrained checkpoint (old / new / ensemble bars per
class, the metrics table) and saved run folders overlaid."""
from __future__ import annotations

import csv

import pytest

from engine.runs import RunFolder
from engine.trainer import train
from gui.class_views import ZERO_MARK
from gui.compare_panel import ComparePanel
from tests.datagen import write_cifar
from test_gui_support import (engine_info, gui_settings, no_leaked_threads, open_error_boxes,  # noqa: F401
                              shown_panel, tiny_demo_config)

pytestmark = pytest.mark.usefixtures("no_leaked_threads")


def series_name(run_dir, first: bool = True) -> str:
    """A training run's series: its method and its folder's label (the folder's date and time dropped),
    and for a later run with the same name, its date and time after all."""
    date, time, label = RunFolder(run_dir).name.split("-", 2)
    return f"CE · {label}" + ("" if first else f" ({date[4:6]}-{date[6:8]} {time[:2]}:{time[2:4]}:{time[4:]})")


@pytest.fixture
def panel(qtbot, gui_settings, engine_info):
    return shown_panel(qtbot, ComparePanel(gui_settings), engine_info)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    runs = []
    for seed in (0, 1):
        config = tiny_demo_config(root, epochs=1)
        config.seed = seed
        runs.append(train(config).run_dir)
    return runs


def test_the_plugin_compares_old_new_and_ensemble_class_by_class(qtbot, panel, tmp_path, shared_checkpoint):
    data_root = tmp_path / "data"
    write_cifar(data_root, "cifar100", train_per_class=6, test_per_class=2)
    form = panel.form
    form["pretrained"].set_value(str(shared_checkpoint("CE.pt")))
    form["dataset"].set_value("cifar100")
    form["root"].set_value(str(data_root))
    form["imbalance_ratio"].set_value(0.2)  # the seed's factor convention: ratio 5
    form["epochs"].set_value(1)
    assert form["loss"].value() == "gml"  # the seed's default loss for tuning
    with qtbot.waitSignal(panel.runner.idle, timeout=240_000):
        panel.run_button.click()

    assert [s.name for s in panel.series] == ["plug-in · old", "plug-in · GML · new", "plug-in · GML · ensemble"]
    for k in range(3):
        assert panel.bars.bar_count(k) == 100  # one bar per CIFAR-100 class, per model
    counts = panel.series[0].class_counts
    assert [counts[i] for i in panel.bars.order] == sorted(counts, reverse=True)
    assert panel.table.rowCount() == 3
    assert panel.bars.line_mode  # three models over 100 classes: step lines, not 300 bars
    heights = panel.bars.heights(1)
    new = panel.series[1].per_class
    assert [h / 100 for h in heights] == pytest.approx([new[i] for i in panel.bars.order])
    hm_column = 2  # Model, Acc, HM, …
    for row in range(3):
        name = panel.table.item(row, 0).text()
        series = next(s for s in panel.series if s.name == name)
        assert panel.table.item(row, hm_column).text() == f"{100 * series.summary['hm']:.2f}"
    assert panel.curves.point_count("plug-in · GML · new") == 1  # the tuning epoch's test curve

    # another repair of the same model joins the overlay, class by class
    form["loss"].set_value("tau_norm")
    assert form["epochs"].value() == 0  # τ-norm's own defaults, not GML's
    with qtbot.waitSignal(panel.runner.idle, timeout=240_000):
        panel.run_button.click()
    assert [s.name for s in panel.series] == ["plug-in · old", "plug-in · GML · new", "plug-in · GML · ensemble",
                                              "plug-in · τ-norm · new", "plug-in · τ-norm · ensemble"]
    assert [panel.bars.bar_count(k) for k in range(5)] == [100] * 5 and panel.table.rowCount() == 5


def test_saved_runs_overlay_their_curves_and_bars(panel, two_runs):
    panel.add_runs([str(p) for p in two_runs])
    names = [series_name(two_runs[0]), series_name(two_runs[1], first=RunFolder(two_runs[1]).name.endswith("-2"))]
    assert [s.name for s in panel.series] == names
    assert all(panel.curves.point_count(name) == 1 for name in names)
    assert panel.bars.bar_count(0) == 10 and panel.bars.bar_count(1) == 10
    panel.run_list.item(0).setSelected(True)
    panel.remove_selected()
    assert [s.name for s in panel.series] == names[1:]
    assert panel.table.rowCount() == 1


def test_a_folder_that_is_not_a_run_is_reported_and_the_others_still_load(panel, two_runs, tmp_path):
    panel.add_runs([str(tmp_path), str(two_runs[0])])
    assert [s.name for s in panel.series] == [series_name(two_runs[0])]
    (box,) = open_error_boxes()
    assert "not a run folder" in box.informativeText() and not box.detailedText()


def test_the_table_and_per_class_values_export_to_csv(panel, two_runs, tmp_path):
    panel.add_runs([str(p) for p in two_runs])
    path = panel.export_metrics(tmp_path / "compare.csv")
    rows = list(csv.reader(path.open()))
    assert rows[0][:10] == ["model", "Acc", "HM", "GM", "LR", "Many", "Medium", "Few", "ECE", "zero_recall"]
    assert len(rows) == 3 and len(rows[1]) == 10 + 10
    last = RunFolder(two_runs[0]).history()[-1]
    assert float(rows[1][2]) == pytest.approx(last["test_hm"])
    assert panel.table.horizontalHeaderItem(0).text() == "Model (last epoch)"  # issue 21.2: which epoch, said


def test_the_tuning_loss_hyperparameters_reach_the_plugin_config(panel):
    form = panel.form
    form["pretrained"].set_value(__file__)
    assert form["params"].rows == {} and not form["params"].widget.isVisible()  # GML has none: no row at all
    form["loss"].set_value("ldam")
    assert list(form["params"].rows) == ["max_margin", "scale"] and form["params"].widget.isVisible()
    form["params"].rows["scale"].editor.setText("10")
    config = panel.build_tune_config()
    assert config.method.loss == "ldam" and config.method.params == {"scale": 10.0} and config.plugin_run


def test_each_repair_brings_its_own_defaults_not_the_training_forms(panel):
    form = panel.form
    form["pretrained"].set_value(__file__)
    expected = {"crt": (10, 0.2, "class_aware", "fresh"), "lws": (5, 0.2, "class_aware", "old"),
                "tau_norm": (0, 0.02, "instance", "old"), "wb": (10, 0.01, "instance", "old"),
                "gml": (10, 0.02, "instance", "old")}
    for loss, (epochs, lr, sampler, init) in expected.items():
        form["loss"].set_value(loss)
        assert form["epochs"].value() == epochs, loss
        config = panel.build_tune_config()
        assert (config.optim.epochs, config.optim.lr, config.plugin.sampler, config.plugin.init) == \
            (epochs, lr, sampler, init), loss
    assert panel.build_tune_config().plugin.max_norm == 0.0
    form["loss"].set_value("wb")
    assert panel.build_tune_config().plugin.max_norm == 0.1  # weight balancing's MaxNorm


def test_the_plugin_offers_the_losses_that_declare_they_can_re_train_a_classifier(panel):
    from engine.methods import available_methods

    offered = [panel.form["loss"].editor.itemData(i) for i in range(panel.form["loss"].editor.count())]
    expected = sorted(name for name, cls in available_methods().items() if cls.repairs_classifier)
    assert sorted(offered) == expected and "gml" in offered and "mislas" not in offered
    panel.form["pretrained"].set_value(__file__)
    panel.form["loss"].set_value("mislas")  # a restored choice the plug-in cannot run: refused on the field
    with pytest.raises(Exception, match="loss: MiSLAS .* cannot re-train a classifier"):
        panel.build_tune_config()


def test_a_chosen_checkpoint_sets_the_dataset_it_was_trained_on(qtbot, panel, two_runs):
    """Issue 21.7: the dataset stayed CIFAR-100 whatever the checkpoint said."""
    assert panel.form["dataset"].value() == "cifar100"
    panel.form["pretrained"].set_value(str(RunFolder(two_runs[0]).checkpoint("best")))
    qtbot.waitUntil(lambda: panel.form["dataset"].value() == "demo", timeout=30_000)
    assert panel.form["imbalance_ratio"].value() == 50 and panel.form["imbalance_type"].value() == "exp"
    qtbot.waitUntil(lambda: not panel.peek_runner.is_running(), timeout=30_000)


def test_the_plugin_draws_while_it_runs_and_shows_each_class_s_change(qtbot, panel, two_runs, monkeypatch):
    """Issue 21.7: blank plots until the end, "epoch 1/5" on feature passes, no per-class change."""
    drawn, titles = [], []
    draw = panel._redraw_bars
    monkeypatch.setattr(panel, "_redraw_bars", lambda: (draw(), drawn.append(
        (panel.live.name if panel.live else None, panel.bars.bar_count(0)))))
    progress = panel.on_progress
    monkeypatch.setattr(panel, "on_progress", lambda event: (progress(event), titles.append(panel.bars.title)))
    form = panel.form
    form["pretrained"].set_value(str(RunFolder(two_runs[0]).checkpoint("best")))
    qtbot.waitUntil(lambda: form["dataset"].value() == "demo", timeout=30_000)
    form["epochs"].set_value(2)
    with qtbot.waitSignal(panel.runner.idle, timeout=240_000):
        panel.run_button.click()
    assert ("plug-in · GML · new, epoch 1/2", 10) in drawn and ("plug-in · GML · new, epoch 2/2", 10) in drawn
    assert any("Extracting features · pass 1/" in t for t in titles)  # the plots say what runs, before epoch 1
    assert not any("epoch 1/" in t for t in titles if "Extracting features" in t)
    assert panel.live is None and [s.name for s in panel.series][:2] == ["plug-in · old", "plug-in · GML · new"]

    old, new = panel.series[0], panel.series[1]
    assert (panel.change_from.currentText(), panel.change_to.currentText()) == (old.name, new.name)
    change = [100 * (n - o) for o, n in zip(old.per_class, new.per_class)]
    assert panel.change.changes() == pytest.approx(sorted(change, reverse=True))  # largest gain first
    rows = panel.change_table.shown_rows()
    def number(text: str) -> float:
        return 0.0 if text == ZERO_MARK else float(text)

    assert len(rows) == 10
    for row in rows:  # before %, after % (zero marked), change in points
        assert number(row[6]) == pytest.approx(number(row[5]) - number(row[4]), abs=0.011)
    zeros = [new.class_names[i] for i, r in enumerate(new.per_class) if r == 0]
    if zeros:
        assert panel.still_zero.text().startswith(f"Still at zero after: {len(zeros)} classes")
        assert all(name in panel.still_zero.text() for name in zeros)
    else:
        assert panel.still_zero.text().startswith("No class is at zero recall after")


def test_a_failed_plugin_leaves_no_earlier_result_on_screen(qtbot, panel, tmp_path):
    """Issue 21.7: after a failure the previous result stayed, now under the new run's name."""
    from engine.metrics import Metrics
    from gui.compare_series import series_from_metrics

    earlier = Metrics(0.5, 1.0, 1.0, 0.5, 0.4, 0.45, 0.2, 0, None, None, None, [0.5, 0.5])
    panel.series = [series_from_metrics("plug-in · GML · new", earlier, ["a", "b"], [10, 2])]
    panel.refresh()
    assert panel.bars.bar_count(0) == 2
    empty = tmp_path / "images"
    empty.mkdir()
    form = panel.form
    form["pretrained"].set_value(__file__)  # not a checkpoint: the plug-in fails
    form["dataset"].set_value("folder")
    form["root"].set_value(str(empty))
    with qtbot.waitSignal(panel.runner.idle, timeout=60_000):
        panel.run_button.click()
    assert panel.progress.format().startswith("⚠")
    assert panel.series == [] and panel.bars.bar_count(0) == 0 and panel.table.rowCount() == 0
    for box in open_error_boxes():
        box.done(0)


def test_the_csv_keeps_every_series_per_class_values(panel, tmp_path):
    """Issue 21.4: a series with another class count lost its per-class values in the CSV."""
    from gui.compare_series import Series

    panel.series = [Series("CE · digits", {"top1": 0.5}, [0.5, 0.25], ["zero", "one"], [10, 5]),
                    Series("CE · cifar", {"top1": 0.4}, [0.1, 0.2, 0.3], ["apple", "zero", "bus"], [9, 8, 7])]
    rows = list(csv.reader(panel.export_metrics(tmp_path / "both.csv").open()))
    assert rows[0][10:] == ["recall:zero", "recall:one", "recall:apple", "recall:bus"]
    assert rows[1][10:] == ["0.5", "0.25", "", ""]
    assert rows[2][10:] == ["0.2", "", "0.1", "0.3"]
