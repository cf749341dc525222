"""PaCo in the app: its hyperparameters in the Train form and the preview of its two views."""
from __future__ import annotations

import pytest

from engine.checkpoints import load_checkpoint
from engine.config import MethodConfig
from engine.runs import RunFolder
from gui.train_form import fill_form
from gui.train_panel import TrainPanel
from test_gui_support import engine_info, gui_settings, no_leaked_threads, shown_panel, tiny_demo_config  # noqa: F401

pytestmark = pytest.mark.usefixtures("no_leaked_threads")


@pytest.fixture
def panel(qtbot, gui_settings, engine_info):
    return shown_panel(qtbot, TrainPanel(gui_settings), engine_info)


def test_the_paco_preset_shows_its_official_hyperparameters(panel):
    panel.apply_preset("demo-paco")
    assert panel.form["loss"].value() == "paco"
    rows = panel.form["params"].rows
    assert {"alpha", "beta", "gamma", "temperature", "key_momentum", "queue_size"} <= set(rows)
    assert rows["alpha"].value() == 0.01 and rows["temperature"].value() == 0.05
    assert rows["queue_size"].value() == 256  # the demo's smaller queue; the 400-epoch preset keeps 1024
    assert panel.build_config().method.params == {"queue_size": 256}


def test_the_views_preview_shows_each_image_with_its_query_and_key_view(panel, qtbot, tmp_path):
    panel.apply_preset("demo-paco")
    panel.form["imbalance_ratio"].set_value(50.0)
    panel.preview_button.click()
    qtbot.waitUntil(lambda: panel.preview_dialog is not None and panel.preview_dialog.isVisible(), timeout=60_000)
    dialog = panel.preview_dialog
    assert len(dialog.images) == 6 * 3  # original, query, key for six images
    assert dialog.images[1].pixmap().width() == 3 * 32
    dialog.grab().save(str(tmp_path / "preview.png"))
    dialog.close()


def test_paco_trains_from_the_train_page(panel, qtbot, tmp_path):
    config = tiny_demo_config(tmp_path, epochs=1, method=MethodConfig(loss="paco", params={"queue_size": 100}))
    panel.base_config = config
    fill_form(panel.form, config)
    with qtbot.waitSignal(panel.runner.idle, timeout=240_000):
        panel.start()
    assert [row["epoch"] for row in panel.history] == [1]
    saved = load_checkpoint(RunFolder(panel.resume_target).checkpoint("last"))
    assert saved.meta["method"] == "paco" and saved.state_dict["queue"].shape == (100, 32)
