"""Sweeps that really run: the 2 × 2 demo grid (two methods × two seeds, plug-in on) on the local
backend with one cell stopped mid-run and resumed, on Ray with 2 CPUs, and a failing cell.

Every table value is checked against the cells' run folders, read here with the csv / json
modules, and the mean ± std are the formulas written out (sample std, n − 1)."""
from __future__ import annotations

import csv
import json
import math
import os
import socket
import subprocess
from pathlib import Path

import pytest

from errors import UserError

from engine.sweep.backends import run_cells
from engine.sweep.cells import CellStatus, cell_dir, read_status, shown_state, write_status, write_sweep
from engine.sweep.report import write_report
from engine.sweep.spec import load_spec

GRID = """\
name = "t"
preset = "demo"
methods = ["ce", "bsce"]
seeds = [0, 1]
[overrides]
"optim.epochs" = {epochs}
"optim.batch_size" = 128
"optim.warmup_epochs" = 0
"data.image_size" = 16
"device" = "cpu"
[plugin]
epochs = 1
feature_passes = 1
[resources]
cpus = 1
"""
METRICS = {"acc": "top1", "hm": "hm", "gm": "gm", "lr": "lowest_recall", "zero": "zero_recall"}


def prepare(tmp_path: Path, epochs: int):
    spec_path = tmp_path / "grid.toml"
    spec_path.write_text(GRID.format(epochs=epochs))
    spec = load_spec(spec_path)
    folder = tmp_path / "sweep"
    write_sweep(folder, spec.path, spec.name, spec.cells)
    return spec, folder


def only_run(path: Path) -> Path:
    runs = [p for p in path.iterdir() if (p / "config.json").exists()]
    assert len(runs) == 1, runs
    return runs[0]


def numbers_in_run_folders(folder: Path, cell_id: str, epochs: int) -> dict[str, dict[str, float]]:
    """base = the base run's last metrics.csv row; gml / gml_ens = the GML plug-in's report.json."""
    with open(only_run(cell_dir(folder, cell_id) / "train") / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["epoch"]) for r in rows] == list(range(1, epochs + 1))
    report = json.loads((only_run(cell_dir(folder, cell_id) / "plugin-gml") / "report.json").read_text())
    return {"base": {k: float(rows[-1][f"test_{a}"]) for k, a in METRICS.items()},
            "gml": {k: report["columns"]["new"][a] for k, a in METRICS.items()},
            "gml_ens": {k: report["columns"]["ensemble"][a] for k, a in METRICS.items()}}


def assert_table_matches_run_folders(spec, folder: Path, epochs: int) -> None:
    paths = write_report(folder)
    with open(paths["csv"], newline="") as handle:
        table = {row["method"]: row for row in csv.DictReader(handle)}
    assert set(table) == {"ce", "bsce"}
    for method, row in table.items():
        assert (row["dataset"], row["imbalance"], row["seeds"], row["planned"]) == ("demo", "10", "2", "2")
        seeds = [numbers_in_run_folders(folder, f"demo-ir10-{method}-s{s}", epochs) for s in (0, 1)]
        for model in ("base", "gml", "gml_ens"):
            for metric in METRICS:
                a, b = (seed[model][metric] for seed in seeds)
                mean, std = (a + b) / 2, math.sqrt(((a - (a + b) / 2) ** 2 + (b - (a + b) / 2) ** 2) / (2 - 1))
                assert float(row[f"{model}_{metric}_mean"]) == pytest.approx(mean, abs=1e-12)
                assert float(row[f"{model}_{metric}_std"]) == pytest.approx(std, abs=1e-12)
    markdown = paths["markdown"].read_text()
    ce_acc = float(table["ce"]["base_acc_mean"]) * 100, float(table["ce"]["base_acc_std"]) * 100
    assert f"| demo | 10 | ce | 2/2 | {ce_acc[0]:.2f} ± {ce_acc[1]:.2f} |" in markdown
    assert "base Zeros" in markdown and "test split, last epoch" in markdown  # issue 21: which epoch, labelled
    assert "\\begin{tabular}" in paths["latex"].read_text() and "$\\pm$" in paths["latex"].read_text()
    with open(paths["per_class"], newline="") as handle:
        per_class = list(csv.DictReader(handle))
    assert len(per_class) == 4 * 3 * 10  # cells × (base, gml, gml_ens) × classes
    first = [r for r in per_class if r["cell"] == "demo-ir10-ce-s0" and r["model"] == "gml"]
    report = json.loads((only_run(cell_dir(folder, "demo-ir10-ce-s0") / "plugin-gml") / "report.json").read_text())
    assert [float(r["recall"]) for r in first] == report["columns"]["new"]["per_class_recall"]


@pytest.mark.slow
def test_local_sweep_resumes_only_the_stopped_cell_and_the_table_is_the_run_folders(tmp_path):
    spec, folder = prepare(tmp_path, epochs=2)
    victim = "demo-ir10-bsce-s1"  # the last cell: the three before it finish first
    seen = []

    def stop_after_first_epoch() -> bool:
        status = read_status(folder, victim)
        return status.stage == "train" and status.epoch >= 1

    statuses = run_cells(folder, spec.cells, "local", jobs=1, on_status=seen.append,
                         should_stop=stop_after_first_epoch)
    assert [s.state for s in statuses] == ["done", "done", "done", "pending"]
    assert "resumes after epoch 1" in statuses[-1].reason
    assert any(s.cell == victim and s.state == "running" and s.epoch == 1 for s in seen)
    victim_run = only_run(cell_dir(folder, victim) / "train")
    assert (victim_run / "checkpoints" / "last.pt").exists() and not (cell_dir(folder, victim) / "plugin-gml").exists()
    finished = {c.id: read_status(folder, c.id).updated for c in spec.cells if c.id != victim}
    # a SIGKILLed worker cannot write its status: it stays "running" with a process that is gone
    gone = subprocess.Popen(["true"])
    gone.wait()
    write_status(folder, CellStatus(victim, "running", stage="train", epoch=1, epochs=2, host=socket.gethostname(),
                                    pid=gone.pid))
    assert shown_state(folder, read_status(folder, victim)) == "interrupted"

    seen.clear()
    statuses = run_cells(folder, spec.cells, "local", jobs=1, on_status=seen.append)
    assert [s.state for s in statuses] == ["done"] * 4
    assert {s.cell for s in seen} == {victim}  # nothing else ran again
    assert {c: read_status(folder, c).updated for c in finished} == finished
    assert only_run(cell_dir(folder, victim) / "train") == victim_run  # same run folder, resumed
    log = (victim_run / "log.txt").read_text()
    assert log.count("start on") == 2 and "stopped during epoch 2" in log and log.count("epoch 1 (") == 1
    assert_table_matches_run_folders(spec, folder, epochs=2)

    changed = load_spec(spec.path)
    changed.cells[0].run["optim"]["lr"] = 0.5  # the file edited after the cells ran
    with pytest.raises(UserError, match=r"cell demo-ir10-ce-s0 already ran with other settings \(run.optim.lr changed\)"):
        write_sweep(folder, spec.path, spec.name, changed.cells)


@pytest.fixture(scope="module")
def ray_on_two_cpus():
    ray = pytest.importorskip("ray")
    from engine.sweep.backends import start_ray

    start_ray(num_cpus=2)
    yield ray
    ray.shutdown()


@pytest.mark.ray
@pytest.mark.slow
def test_ray_sweep_on_two_cpus_matches_the_run_folders(tmp_path, ray_on_two_cpus):
    spec, folder = prepare(tmp_path, epochs=1)
    statuses = run_cells(folder, spec.cells, "ray")
    assert [s.state for s in statuses] == ["done"] * 4, [s.describe() for s in statuses]
    assert len({read_status(folder, c.id).pid for c in spec.cells} - {0}) >= 2  # ran in Ray's worker processes
    assert_table_matches_run_folders(spec, folder, epochs=1)


TWO_PROCESSES = """\
name = "ddp"
preset = "demo"
methods = ["ce"]
[overrides]
"optim.epochs" = 1
"optim.warmup_epochs" = 0
"data.image_size" = 8
precision = "fp32"
device = "cpu"
nproc = 2
[resources]
cpus = 1
"""


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["local", pytest.param("ray", marks=pytest.mark.ray)])
def test_a_cell_asking_for_two_processes_runs_them_through_torchrun(tmp_path, backend, request):
    """Locally one cell after another; on Ray a task reserving the cell's [resources] twice (both
    CPUs here), in which torchrun starts the two processes; one run folder either way."""
    if backend == "ray":
        request.getfixturevalue("ray_on_two_cpus")
    (tmp_path / "ddp.toml").write_text(TWO_PROCESSES)
    spec = load_spec(tmp_path / "ddp.toml")
    [status] = run_cells(tmp_path / "sweep", spec.cells, backend)
    assert status.state == "done", status.reason
    assert (status.epoch, status.epochs) == (1, 1)  # rank 0's epochs reached the cell's status
    run = only_run(cell_dir(tmp_path / "sweep", spec.cells[0].id) / "train")
    assert json.loads((run / "config.json").read_text())["processes"] == {"world_size": 2, "backend": "gloo"}


def folder_grid(tmp_path: Path, datasets: str) -> tuple:
    """Cells on an image folder that does not exist (they fail while loading), and the demo."""
    text = (f'preset = "demo"\nmethods = ["ce"]\ndatasets = [{datasets}]\nseeds = [0, 1]\n[overrides]\n'
            f'"data.root" = "{tmp_path / "missing"}"\n"optim.epochs" = 1\n"optim.warmup_epochs" = 0\n'
            '"data.image_size" = 16\n"device" = "cpu"\n')
    (tmp_path / "s.toml").write_text(text)
    spec = load_spec(tmp_path / "s.toml")
    folder = tmp_path / "sweep"
    write_sweep(folder, spec.path, spec.name, spec.cells)
    return spec, folder


def test_a_failing_cell_is_marked_with_its_reason_and_the_others_go_on(tmp_path):
    spec, folder = folder_grid(tmp_path, '"folder", "demo"')
    statuses = run_cells(folder, spec.cells[1:3])  # folder seed 1, demo seed 0
    assert [s.state for s in statuses] == ["failed", "done"]
    assert "missing" in statuses[0].reason and "\n" not in statuses[0].reason
    with open(write_report(folder)["cells"], newline="") as handle:
        rows = {r["cell"]: r for r in csv.DictReader(handle)}
    assert rows[statuses[0].cell]["state"] == "failed" and rows[statuses[0].cell]["base_acc"] == ""
    assert float(rows[statuses[1].cell]["base_acc"]) >= 0
    assert rows["demo-ir10-ce-s1"]["state"] == "pending"  # not asked for


@pytest.mark.slow
def test_parallel_local_workers_run_the_cells_in_their_own_processes(tmp_path):
    spec, folder = folder_grid(tmp_path, '"folder"')
    statuses = run_cells(folder, spec.cells, "local", jobs=2)  # as with two GPUs: one process each
    assert [s.state for s in statuses] == ["failed", "failed"] and all("missing" in s.reason for s in statuses)
    assert os.getpid() not in {read_status(folder, s.cell).pid for s in statuses}


REPAIRS_GRID = """\
name = "repairs"
preset = "demo"
methods = ["ce"]
[overrides]
"optim.epochs" = 1
"optim.batch_size" = 128
"optim.warmup_epochs" = 0
"data.image_size" = 16
"device" = "cpu"
[plugin]
repairs = ["gml", "crt", "lws", "tau_norm", "wb"]
feature_passes = 1
[plugin.crt]
epochs = 2
[plugin.wb]
ensemble = false
"""


@pytest.mark.slow
def test_a_sweep_with_every_repair_writes_them_side_by_side(tmp_path):
    spec_path = tmp_path / "repairs.toml"
    spec_path.write_text(REPAIRS_GRID)
    spec = load_spec(spec_path)
    [cell] = spec.cells
    assert cell.repairs == ["gml", "crt", "lws", "tau_norm", "wb"] and spec.repairs == cell.repairs
    own = {repair: plugin for repair, plugin in zip(cell.repairs, cell.plugins)}
    assert own["crt"]["optim"]["epochs"] == 2 and own["lws"]["optim"]["epochs"] == 5  # a table of its own, its preset
    assert own["crt"]["plugin"]["sampler"] == "class_aware" and own["wb"]["plugin"]["max_norm"] == 0.1
    folder = tmp_path / "sweep"
    write_sweep(folder, spec.path, spec.name, spec.cells)
    [status] = run_cells(folder, spec.cells, "local", jobs=1)
    assert status.state == "done", status.reason
    paths = write_report(folder)
    with open(paths["csv"], newline="") as handle:
        [row] = list(csv.DictReader(handle))
    for repair in cell.repairs:
        report = json.loads((only_run(cell_dir(folder, cell.id) / f"plugin-{repair}") / "report.json").read_text())
        assert report["loss"] == repair
        assert float(row[f"{repair}_hm_mean"]) == pytest.approx(report["columns"]["new"]["hm"], abs=1e-12)
        if repair != "wb":
            assert float(row[f"{repair}_ens_hm_mean"]) == pytest.approx(report["columns"]["ensemble"]["hm"],
                                                                      abs=1e-12)
    assert "wb_ens_hm_mean" not in row  # WB ran without the ensemble here
    header = paths["markdown"].read_text().splitlines()[0]
    for title in ("+GML HM", "+GML+ens HM", "+cRT HM", "+cRT+ens HM", "+LWS HM", "+τ-norm HM", "+τ-norm+ens HM",
                  "+WB HM"):
        assert title in header, title
    assert "+WB+ens" not in header
