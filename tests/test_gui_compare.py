"""The Compare page: the plug-in on a real pretrained checkpoint (old / new / ensemble bars per
class, the metrics table) and saved run folders overlaid."""
from __future__ import annotations

import csv

import pytest

from engine.runs import RunFolder
from engine.trainer import train
from gui.compare_panel import ComparePanel
from tests.datagen import write_cifar
from test_gui_support import (engine_info, gui_settings, no_leaked_threads, open_error_boxes,  # noqa: F401
                              shown_panel, tiny_demo_config)

pytestmark = pytest.mark.usefixtures("no_leaked_threads")


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
    names = [RunFolder(p).name for p in two_runs]
    assert [s.name for s in panel.series] == names
    assert all(panel.curves.point_count(name) == 1 for name in names)
    assert panel.bars.bar_count(0) == 10 and panel.bars.bar_count(1) == 10
    panel.run_list.item(0).setSelected(True)
    panel.remove_selected()
    assert [s.name for s in panel.series] == names[1:]
    assert panel.table.rowCount() == 1


def test_a_folder_that_is_not_a_run_is_reported_and_the_others_still_load(panel, two_runs, tmp_path):
    panel.add_runs([str(tmp_path), str(two_runs[0])])
    assert [s.name for s in panel.series] == [RunFolder(two_runs[0]).name]
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
