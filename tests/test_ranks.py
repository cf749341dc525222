"""Runs of several processes end to end (CPU, gloo): ``main.py train --nproc 2`` through torchrun,
one run folder written by rank 0, a killed rank, a resume on another number of processes (a
sweep cell that asks for two processes: tests/test_sweep_run.py).

Each test starts torchrun and two ranks (about ten seconds on two cores), on the demo digits at
8 × 8 pixels, a ratio of 100 and one or three short epochs.
"""
from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from cli import main
from engine.config import DataConfig, ModelConfig, OptimConfig, RunConfig
from engine.distributed.launch import RunFailed
from engine.events import DatasetReady, EpochEnd, RunStarted
from engine.runs import RunFolder
from engine.trainer import check_resumable, train

pytestmark = pytest.mark.slow

# A killed rank: torchrun notices the dead process within its 0.1 s monitor interval and ends the
# others with SIGTERM; the bound leaves room for a loaded two-core machine.
KILLED_RUN_ENDS_WITHIN_S = 60


def demo_config(tmp_path: Path, epochs: int, nproc: int) -> RunConfig:
    return RunConfig(data=DataConfig(dataset="demo", image_size=8, imbalance_ratio=100.0),
                     model=ModelConfig(arch="resnet20"),
                     optim=OptimConfig(epochs=epochs, batch_size=32, lr=0.05, warmup_epochs=0),
                     runs_dir=str(tmp_path / "runs"), experiment="ddp", device="cpu", precision="fp32", nproc=nproc)


def test_train_nproc_2_writes_one_run_folder_that_records_both_processes(tmp_path, capsys):
    code = main(["train", "--preset", "demo", "--epochs", "1", "--warmup-epochs", "0", "--image-size", "8",
                 "--precision", "fp32", "--device", "cpu", "--runs-dir", str(tmp_path), "--nproc", "2", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0 and "HM (%)" in out  # rank 0's result, printed by the caller
    runs = list(tmp_path.iterdir())
    assert len(runs) == 1
    saved = json.loads((runs[0] / "config.json").read_text())
    assert saved["processes"] == {"world_size": 2, "backend": "gloo"} and saved["run"]["nproc"] == 2
    assert json.loads((runs[0] / "status.json").read_text())["state"] == "finished"
    assert (runs[0] / "checkpoints" / "last.pt").is_file()
    assert "2 processes (gloo)" in (runs[0] / "log.txt").read_text()


def rank_pid(rank: int) -> int | None:
    """The pid of rank ``rank`` of the run this test process started (a descendant, ``train-rank``)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            environment = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"train-rank" in command and f"RANK={rank}".encode() in environment and _descends(int(entry.name)):
            return int(entry.name)
    return None


def _descends(pid: int) -> bool:
    while pid > 1:
        try:
            pid = int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            return False
        if pid == os.getpid():
            return True
    return False


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds the rank's process through /proc")
def test_a_killed_rank_ends_the_run_naming_it_and_the_folder_resumes_on_one_process(tmp_path):
    events, killed_at = [], []

    def kill_rank_1_after_the_first_epoch(event) -> None:
        events.append(event)
        if isinstance(event, EpochEnd) and not killed_at:
            os.kill(rank_pid(1), signal.SIGKILL)
            killed_at.append(time.monotonic())

    with pytest.raises(RunFailed) as failure:
        train(demo_config(tmp_path, epochs=3, nproc=2), on_event=kill_rank_1_after_the_first_epoch)
    ended_after = time.monotonic() - killed_at[0]
    message = str(failure.value)
    assert "\n" not in message and message.startswith("rank 1 ended without a word (killed")
    run_dir = next(event.run_dir for event in events if isinstance(event, RunStarted))
    assert f"resume with: main.py train --resume {run_dir}" in message
    assert ended_after < KILLED_RUN_ENDS_WITHIN_S
    assert any(isinstance(event, DatasetReady) for event in events)  # rank 0's events reached the caller

    run = RunFolder(run_dir)
    assert run.lock_holder() is None  # rank 0's lock was released (SIGTERM ran its finally blocks)
    check_resumable(run)
    resumed = train(None, resume=run_dir, nproc=1)  # the same global batch on one process
    assert resumed.epochs_done == 3 and not resumed.stopped
    rows = (Path(run_dir) / "metrics.csv").read_text().splitlines()[1:]
    assert [row.split(",")[0] for row in rows] == ["1", "2", "3"]
    assert "resumed on 1 process(es) after 2" in (Path(run_dir) / "log.txt").read_text()
