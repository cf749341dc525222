"""Hostile input and faults: every bad input is one line, nothing is lost, nothing is silently wrong.

What is promised and why is in docs/reliability.md. Everything here is generated on the fly and
small: tiny state dicts, a few images, processes that only create folders or take locks.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest
import torch

from data.errors import UserError
from engine.checkpoints import load_checkpoint
from engine.runs import HISTORY_KEY, RunFolder, RunLocked

META = {"arch": "resnet20", "head": "linear", "num_classes": 2}


def _context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


class SimulatedKill(BaseException):
    """Stands for kill -9 at one step of an epoch's commit (nothing after it runs)."""


def _weights(epoch: int) -> dict[str, torch.Tensor]:
    return {"linear.weight": torch.full((2, 3), float(epoch)), "linear.bias": torch.zeros(2)}


def _commit(run: RunFolder, epoch: int, is_best: bool) -> None:
    run.commit_epoch({"epoch": epoch, "lr": 0.1, "test_hm": epoch / 10}, {"epoch": epoch, "class_0": 0.5, "class_1": 0.25},
                     state_dict=_weights(epoch), meta={**META, "epoch": epoch},
                     extra={"epochs_done": epoch, "optimizer": {"step": epoch}}, is_best=is_best)


def _csv_epochs(run: RunFolder, name: str) -> list[int]:
    import csv

    path = run.path / name
    if not path.exists():
        return []
    with open(path, newline="") as handle:
        return [int(row["epoch"]) for row in csv.DictReader(handle)]


def _assert_consistent(run: RunFolder) -> int:
    """History in last.pt == both CSVs == 1..N, best.pt is the epoch last.pt calls best, no leftovers."""
    last = load_checkpoint(run.path / "checkpoints" / "last.pt")
    history = last.extra[HISTORY_KEY]
    epochs = [row["epoch"] for row in history["metrics"]]
    assert epochs == list(range(1, len(epochs) + 1)) == [last.meta["epoch"] - len(epochs) + e for e in epochs]
    assert _csv_epochs(run, "metrics.csv") == epochs == _csv_epochs(run, "per_class.csv")
    best = load_checkpoint(run.path / "checkpoints" / "best.pt")
    assert best.meta["epoch"] == history["metrics"][history["best_at"] - 1]["epoch"]
    assert torch.equal(best.state_dict["linear.weight"], _weights(best.meta["epoch"])["linear.weight"])
    leftovers = [p.name for p in run.path.rglob(".*") if p.name != ".lock"]
    assert leftovers == []
    return len(epochs)


# ------------------------------------------------------------------ one atomic epoch commit

STEPS = ("_write_pending_best", "_write_last", "_promote_best", "_write_history")
BEST_ONLY = ("_write_pending_best", "_promote_best")  # steps an epoch without a new best skips


@pytest.mark.parametrize(("step", "is_best"), [(s, b) for s in STEPS for b in (True, False) if b or s not in BEST_ONLY])
def test_a_kill_at_any_step_of_an_epoch_commit_leaves_an_agreeing_run(tmp_path, monkeypatch, step, is_best):
    run = RunFolder.create(tmp_path, "kill")
    _commit(run, 1, True)
    _commit(run, 2, True)
    original = getattr(RunFolder, step)

    def killed(self, *args):
        raise SimulatedKill(step)

    monkeypatch.setattr(RunFolder, step, killed)
    (run.path / "checkpoints" / ".last.pt.x1y2.tmp").write_bytes(b"half a checkpoint")  # torch.save cut short
    (run.path / ".metrics.csv.tmp").write_text("epoch\n1\n")
    with pytest.raises(SimulatedKill):
        _commit(run, 3, is_best)
    monkeypatch.setattr(RunFolder, step, original)

    resumed = RunFolder(run.path)
    checkpoint = resumed.recover()
    committed = _assert_consistent(resumed)
    assert committed == (2 if step in ("_write_pending_best", "_write_last") else 3)
    assert checkpoint.extra["epochs_done"] == committed
    best_epoch = load_checkpoint(run.path / "checkpoints" / "best.pt").meta["epoch"]
    assert best_epoch == (3 if is_best and committed == 3 else 2)
    _commit(resumed, committed + 1, False)  # and the run goes on from there
    assert _assert_consistent(resumed) == committed + 1


def _commit_forever(path: str, started) -> None:
    run = RunFolder(path)
    run.recover()
    with run.writing("commit forever"):
        started.set()
        epoch = run.epochs_committed()
        while True:
            epoch += 1
            _commit(run, epoch, epoch % 3 == 0)


def test_kill_minus_9_during_commits_leaves_an_agreeing_run(tmp_path):
    run = RunFolder.create(tmp_path, "sigkill")
    _commit(run, 1, True)
    context = _context()
    for delay in (0.05, 0.13, 0.21):
        started = context.Event()
        process = context.Process(target=_commit_forever, args=(str(run.path), started))
        process.start()
        assert started.wait(30)
        time.sleep(delay)
        os.kill(process.pid, signal.SIGKILL)
        process.join()
        resumed = RunFolder(run.path)
        resumed.recover()
        _assert_consistent(resumed)


def test_a_format_1_run_is_cut_back_to_its_checkpoint(tmp_path):
    """Runs written before the history lived in last.pt: the CSV rows after its epoch are dropped."""
    from engine.checkpoints import save_checkpoint

    run = RunFolder.create(tmp_path, "old")
    (run.path / "metrics.csv").write_text("epoch,lr\n1,0.1\n2,0.1\n4,0.1\n")
    (run.path / "per_class.csv").write_text("epoch,class_0\n1,0.5\n2,0.5\n4,0.5\n")
    save_checkpoint(run.path / "checkpoints" / "last.pt", _weights(2), {**META, "epoch": 2}, extra={"epochs_done": 2})
    RunFolder(run.path).recover()
    assert _csv_epochs(run, "metrics.csv") == [1, 2] == _csv_epochs(run, "per_class.csv")


# ------------------------------------------------------------------------- one writer per run

def _create_runs(root: str, barrier, queue) -> None:
    barrier.wait()
    names = []
    for _ in range(5):
        try:
            names.append(RunFolder.create(root, "same").name)
        except Exception as error:  # reported, so that the test shows it
            names.append(f"error: {error!r}")
    queue.put(names)


def test_four_processes_creating_the_same_run_name_get_four_folders(tmp_path):
    context = _context()
    barrier, queue = context.Barrier(4), context.Queue()
    processes = [context.Process(target=_create_runs, args=(str(tmp_path), barrier, queue)) for _ in range(4)]
    for process in processes:
        process.start()
    names = [name for _ in processes for name in queue.get(timeout=60)]
    for process in processes:
        process.join()
    assert not [n for n in names if n.startswith("error")]
    assert len(set(names)) == 20 and all((tmp_path / n / "checkpoints").is_dir() for n in names)


def _hold_lock(path: str, held, release) -> None:
    with RunFolder(path).writing("main.py train --resume RUN"):
        held.set()
        release.wait(30)


def test_a_second_writer_is_told_who_holds_the_run_and_a_dead_holder_is_taken_over(tmp_path):
    run = RunFolder.create(tmp_path, "locked")
    context = _context()
    held, release = context.Event(), context.Event()
    holder = context.Process(target=_hold_lock, args=(str(run.path), held, release))
    holder.start()
    assert held.wait(30)
    with pytest.raises(RunLocked) as refused:
        with run.writing("second"):
            pass
    message = str(refused.value)
    assert "\n" not in message and f"pid {holder.pid}" in message and "train --resume RUN" in message
    assert run.lock_holder()["pid"] == holder.pid
    os.kill(holder.pid, signal.SIGKILL)  # dies holding the lock
    holder.join()
    with run.writing("third"):
        assert run.lock_holder() is None or run.lock_holder()["command"] == "third"
        info = json.loads((run.path / ".lock").read_text())
        assert info["pid"] == os.getpid() and info["command"] == "third"
    assert run.lock_holder() is None


def test_a_lock_file_left_by_a_dead_pid_is_taken_over(tmp_path):
    run = RunFolder.create(tmp_path, "stale")
    (run.path / ".lock").write_text(json.dumps({"pid": 999999, "host": "here", "command": "gone", "started": "x"}))
    with run.writing("new"):
        assert json.loads((run.path / ".lock").read_text())["command"] == "new"


def _resume_and_commit(path: str, barrier, queue) -> None:
    run = RunFolder(path)
    barrier.wait()
    try:
        with run.writing("resume"):
            run.recover()
            for _ in range(3):
                _commit(run, run.epochs_committed() + 1, False)
                time.sleep(0.05)
        queue.put("wrote")
    except RunLocked as error:
        queue.put(f"refused: {error}")


def test_two_resumes_at_once_one_writes_the_other_is_refused(tmp_path):
    run = RunFolder.create(tmp_path, "twice")
    _commit(run, 1, True)
    context = _context()
    barrier, queue = context.Barrier(2), context.Queue()
    processes = [context.Process(target=_resume_and_commit, args=(str(run.path), barrier, queue)) for _ in range(2)]
    for process in processes:
        process.start()
    outcomes = sorted(queue.get(timeout=60) for _ in processes)
    for process in processes:
        process.join()
    assert outcomes[0].startswith("refused: ") and "resume" in outcomes[0] and outcomes[1] == "wrote"
    assert _csv_epochs(run, "metrics.csv") == [1, 2, 3, 4]
    _assert_consistent(RunFolder(run.path))


def test_ctrl_c_logs_the_epoch_it_interrupted(tmp_path):
    run = RunFolder.create(tmp_path, "ctrl-c")
    seen = []
    with pytest.raises(KeyboardInterrupt):
        with run.writing("train", on_interrupt=seen.append):
            _commit(run, 1, True)
            _commit(run, 2, False)
            raise KeyboardInterrupt
    log = (run.path / "log.txt").read_text()
    assert "interrupted (Ctrl-C) during epoch 3; 2 epoch(s) are saved" in log
    assert seen == [2] and run.status()["state"] == "interrupted" and run.lock_holder() is None
