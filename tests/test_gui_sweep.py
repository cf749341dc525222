"""The sweep window: cells fill in live from their status files and run folders, the table shows
mean ± std over seeds, and a cell opens its base and plug-in runs in Compare."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
from PySide6.QtWidgets import QHeaderView

from engine.metrics import compute_metrics
from engine.runs import RunFolder
from engine.sweep.cells import CellStatus, cell_dir, write_status, write_sweep
from engine.sweep.spec import load_spec
from gui.main_window import MainWindow
from gui.sweep_view import SweepView
from test_gui_support import gui_settings, no_leaked_threads  # noqa: F401

pytestmark = pytest.mark.usefixtures("no_leaked_threads")
SPEC = ('name = "g"\npreset = "demo"\nmethods = ["ce", "bsce"]\nseeds = [0, 1]\n'
        '[overrides]\n"optim.epochs" = 1\n"optim.warmup_epochs" = 0\n[plugin]\nepochs = 1\n')
COUNTS = [5, 3]


def metrics(correct: list[int]):
    """Two classes, 4 test images each, ``correct[c]`` of class c right."""
    confusion = torch.tensor([[correct[0], 4 - correct[0]], [4 - correct[1], correct[1]]])
    return compute_metrics(confusion, torch.tensor(COUNTS))


def finish_cell(folder: Path, cell, base: list[int], new: list[int]) -> None:
    """The run folders a finished cell leaves, written with the engine's own writers."""
    train = RunFolder.create(cell_dir(folder, cell.id) / "train", cell.id)
    train.write_json("config.json", {"kind": "train", "run": cell.run})
    train.write_dataset("demo", ["a", "b"], COUNTS)
    train.append_epoch(1, 0.1, 1.0, metrics(base), metrics(base))
    (train.path / "checkpoints" / "last.pt").write_bytes(b"")
    plugin = RunFolder.create(cell_dir(folder, cell.id) / "plugin-gml", cell.id + "-gml")
    plugin.write_json("config.json", {"kind": "tune", "run": cell.plugins[0]})
    plugin.write_json("report.json", {"stopped": False, "epochs_done": 1, "class_names": ["a", "b"],
                                      "class_counts": COUNTS, "columns": {
                                          "old": metrics(base).to_dict(), "new": metrics(new).to_dict(),
                                          "ensemble": metrics(new).to_dict()}})
    write_status(folder, CellStatus(cell.id, "done", stage="plugin gml", epoch=1, epochs=1))


def column(view: SweepView, table, title: str) -> list[str]:
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    return [table.item(r, headers.index(title)).text() for r in range(table.rowCount())]


def test_the_table_fills_live_and_a_cell_opens_in_compare(qtbot, tmp_path, gui_settings):
    (tmp_path / "g.toml").write_text(SPEC)
    spec = load_spec(tmp_path / "g.toml")
    folder = tmp_path / "sweep"
    write_sweep(folder, spec.path, spec.name, spec.cells)
    ce0, ce1, bsce0, _bsce1 = spec.cells
    finish_cell(folder, ce0, base=[4, 2], new=[3, 3])
    write_status(folder, CellStatus(ce1.id, "running", stage="train", epoch=0, epochs=1, host=os.uname().nodename,
                                    pid=os.getpid()))
    write_status(folder, CellStatus(bsce0.id, "failed", reason="out of memory"))

    window = MainWindow(gui_settings)
    qtbot.addWidget(window)
    view = window.open_sweep(str(folder))
    qtbot.addWidget(view)
    cells = view.cells_table
    assert column(view, cells, "State") == ["done", "running · train 0/1", "failed", "pending"]
    assert column(view, cells, "base Acc")[:2] == ["75.00", "—"]  # (4 + 2) / 8
    assert column(view, cells, "+GML LR")[0] == "75.00" and column(view, cells, "+GML+ens HM")[0] == "75.00"
    assert cells.item(2, 5).toolTip() == "out of memory"
    assert column(view, view.table, "Seeds") == ["1/2", "0/2"]
    assert column(view, view.table, "base HM") == [f"{100 * 2 / (1 / 1.0 + 1 / 0.5):.2f}", "—"]  # one seed: no ±
    assert column(view, cells, "base Zeros")[0] == "0" and column(view, cells, "+GML Zeros")[0] == "0"
    assert column(view, view.table, "base Zeros") == ["0", "—"]
    assert "last epoch" in view.table.toolTip()  # issue 21.2: which epoch the means are of

    finish_cell(folder, ce1, base=[4, 4], new=[4, 0])  # its re-trained classifier leaves class b at zero  # the second seed finishes while the window is open
    qtbot.waitUntil(lambda: column(view, view.table, "Seeds")[0] == "2/2", timeout=5000)
    accs = [0.75, 1.0]
    mean, std = sum(accs) / 2, ((accs[0] - 0.875) ** 2 + (accs[1] - 0.875) ** 2) ** 0.5  # n − 1 = 1
    assert column(view, view.table, "base Acc")[0] == f"{100 * mean:.2f} ± {100 * std:.2f}"
    assert column(view, view.table, "base Zeros")[0] == "0.0 ± 0.0"
    assert column(view, view.table, "+GML Zeros")[0] == f"0.5 ± {0.5 ** 0.5:.1f}"  # 0 and 1 classes at zero
    assert view.summary.text() == "2 done · 1 failed · 1 pending"

    with qtbot.waitSignal(view.open_runs) as opened:
        cells.cellDoubleClicked.emit(0, 0)
    assert [Path(p).parent.name for p in opened.args[0]] == ["train", "plugin-gml"]
    assert window.tabs.currentWidget() is window.compare
    names = [s.name for s in window.compare.series]
    assert len(names) == 4 and any(n.endswith("· new") for n in names) and any(ce0.id in n for n in names)
    assert view.open_cell(3) == []  # a pending cell has nothing to show yet
    view.grab().save(str(tmp_path / "sweep.png"))
    view.close()


def test_a_refresh_with_nothing_new_sets_no_cell_and_sizes_no_column(qtbot, tmp_path, monkeypatch):
    """Issue 21.8: every refresh (once a second) set every cell again, and each setItem re-measured
    every row for the ResizeToContents columns: the window stalled ~0.3 s per refresh at 12 cells."""
    (tmp_path / "g.toml").write_text(SPEC)
    spec = load_spec(tmp_path / "g.toml")
    folder = tmp_path / "sweep"
    write_sweep(folder, spec.path, spec.name, spec.cells)
    finish_cell(folder, spec.cells[0], base=[4, 2], new=[3, 3])
    view = SweepView(folder)
    qtbot.addWidget(view)
    view.timer.stop()
    set_items, resized = [], []
    for table in (view.cells_table, view.table):
        monkeypatch.setattr(table, "setItem", lambda *args, table=table: set_items.append(table))
        monkeypatch.setattr(table, "resizeColumnsToContents", lambda table=table: resized.append(table))
    header = view.cells_table.horizontalHeader()
    assert {header.sectionResizeMode(c) for c in range(header.count())} == {QHeaderView.ResizeMode.Interactive}
    view.refresh()
    assert set_items == [] and resized == []
    write_status(folder, CellStatus(spec.cells[1].id, "failed", reason="out of memory"))  # one cell changes
    view.refresh()
    assert set_items == [view.cells_table] and resized == [view.cells_table]  # its state cell, sized once
    view.close()


def test_a_folder_that_is_not_a_sweep_is_one_clear_error(qtbot, tmp_path, gui_settings, monkeypatch):
    from gui import errors

    shown = []
    monkeypatch.setattr(errors, "report_error", lambda error, *a, **k: shown.append(str(error)))
    window = MainWindow(gui_settings)
    qtbot.addWidget(window)
    assert window.open_sweep(str(tmp_path)) is None
    assert len(shown) == 1 and "is not a sweep folder" in shown[0]


def test_run_remaining_cells_runs_on_a_worker_and_the_table_shows_the_outcome(qtbot, tmp_path):
    spec_path = tmp_path / "f.toml"
    spec_path.write_text(f'preset = "demo"\nmethods = ["ce"]\ndatasets = ["folder"]\n[overrides]\n'
                         f'"data.root" = "{tmp_path / "missing"}"\n')
    spec = load_spec(spec_path)
    folder = tmp_path / "sweep"
    write_sweep(folder, spec.path, spec.name, spec.cells)
    view = SweepView(folder)
    qtbot.addWidget(view)
    assert column(view, view.cells_table, "State") == ["pending"] and not view.stop_button.isEnabled()
    with qtbot.waitSignal(view.runner.idle, timeout=60_000):
        view.run_button.click()
        assert view.stop_button.isEnabled() and not view.run_button.isEnabled()
    assert column(view, view.cells_table, "State") == ["failed"]  # the folder does not exist
    assert "missing" in view.cells_table.item(0, 5).toolTip()
    assert view.run_button.isEnabled() and not view.stop_button.isEnabled()
    view.close()


def test_killed_and_damaged_cells_say_so_in_the_window(qtbot, tmp_path):
    (tmp_path / "g.toml").write_text(SPEC)
    spec = load_spec(tmp_path / "g.toml")
    folder = tmp_path / "sweep"
    write_sweep(folder, spec.path, spec.name, spec.cells)
    ce0, ce1, bsce0, _bsce1 = spec.cells
    finish_cell(folder, ce0, base=[4, 2], new=[3, 3])
    next((cell_dir(folder, ce0.id) / "train").iterdir()).joinpath("metrics.csv").write_bytes(b"\x00\xff")
    write_status(folder, CellStatus(ce1.id, "running", stage="train", epoch=1, epochs=1, host=os.uname().nodename,
                                    pid=999999))  # killed: its cell lock died with it
    (cell_dir(folder, bsce0.id) / "status.json").write_text("{not json")
    view = SweepView(folder)
    qtbot.addWidget(view)
    assert column(view, view.cells_table, "State") == ["damaged", "interrupted", "damaged", "pending"]
    assert "metrics.csv is damaged: it holds binary data" in view.cells_table.item(0, 5).toolTip()
    assert "status.json is damaged: not valid JSON" in view.cells_table.item(2, 5).toolTip()
    assert view.summary.text() == "2 damaged · 1 interrupted · 1 pending"
    view.close()
