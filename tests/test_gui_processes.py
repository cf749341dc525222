"""The Train page's GPUs field: greyed at 1 on a machine without two GPUs, and a run of two
processes started from the app through the launcher of ``main.py train --nproc``, its rank 0's
epochs shown live and the Stop button reaching the ranks."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from engine.runs import list_runs
from gui.train_panel import TrainPanel
from test_gui_support import engine_info, gui_settings, no_leaked_threads, shown_panel, tiny_demo_config  # noqa: F401

pytestmark = pytest.mark.usefixtures("no_leaked_threads")
RUN_TIMEOUT_MS = 240_000


def test_without_two_gpus_the_field_stays_at_one_process_and_says_why(qtbot, gui_settings, engine_info):
    panel = shown_panel(qtbot, TrainPanel(gui_settings), replace(engine_info, gpus=0))
    field = panel.form["nproc"]
    field.set_value(4)  # e.g. a preset or a saved form from a machine with GPUs
    assert field.value() == 1 and not field.editor.isEnabled()
    assert "0 GPU(s)" in field.editor.toolTip()


@pytest.mark.slow
def test_two_processes_started_from_the_app_show_rank_0s_epochs_and_stop_together(qtbot, gui_settings, engine_info,
                                                                                   tmp_path):
    panel = shown_panel(qtbot, TrainPanel(gui_settings), replace(engine_info, gpus=2))  # as on a 2-GPU machine
    assert panel.form["nproc"].editor.isEnabled() and panel.form["nproc"].editor.maximum() == 2
    config = tiny_demo_config(tmp_path, epochs=8)  # device cpu: the two processes use gloo
    panel.base_config = config
    panel.fill(config)
    panel.form["nproc"].set_value(2)
    panel.start()
    qtbot.waitUntil(lambda: len(panel.history) >= 1, timeout=RUN_TIMEOUT_MS)
    with qtbot.waitSignal(panel.runner.idle, timeout=RUN_TIMEOUT_MS):
        panel.stop_button.click()
    assert panel.progress.format() == "Stopped"
    (run,) = list_runs(tmp_path / "runs")
    saved = json.loads((Path(run.path) / "config.json").read_text())
    assert saved["processes"]["world_size"] == 2
    done = len(run.history())
    assert 1 <= done < 8 and [row["epoch"] for row in panel.history] == list(range(1, done + 1))
