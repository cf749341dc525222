"""Hostile input and faults: every bad input is one line, nothing is lost, nothing is silently wrong.

What is promised and why is in docs/reliability.md. Everything here is generated on the fly and
small: tiny state dicts, a few images, processes that only create folders or take locks.
"""
from __future__ import annotations

import json
import math
import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest
import torch

from errors import UserError
from engine.checkpoints import load_checkpoint
from engine.runs import HISTORY_KEY, RunFolder, RunLocked
from test_gui_support import engine_info, gui_settings, shown_panel, window  # noqa: F401 (fixtures)

META = {"arch": "resnet20", "head": "linear", "num_classes": 2}


def _context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


class SimulatedKill(BaseException):
    """Stands for kill -9 at one step of an epoch's commit (nothing after it runs)."""


def _weights(epoch: int) -> dict[str, torch.Tensor]:
    return {"linear.weight": torch.full((2, 3), float(epoch)), "linear.bias": torch.zeros(2)}


def _commit(run: RunFolder, epoch: int, is_best: bool) -> None:
    run.commit_epoch({"epoch": epoch, "lr": 0.1, "test_hm": epoch / 10},
                     {"epoch": epoch, "class_0": 0.5, "class_1": 0.25},
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
    """The CSVs are exactly what last.pt committed (rows 1..N, length and SHA-256), best.pt is the
    epoch last.pt calls best, no leftovers."""
    import hashlib

    last = load_checkpoint(run.path / "checkpoints" / "last.pt")
    history = last.extra[HISTORY_KEY]
    epochs = _csv_epochs(run, "metrics.csv")
    assert epochs == list(range(1, history["rows"] + 1)) == _csv_epochs(run, "per_class.csv")
    assert last.meta["epoch"] == epochs[-1]
    for name, record in history["files"].items():
        data = (run.path / name).read_bytes() if record["bytes"] else b""
        assert len(data) == record["bytes"] and hashlib.sha256(data).hexdigest() == record["sha256"], name
    best = load_checkpoint(run.path / "checkpoints" / "best.pt")
    assert best.meta["epoch"] == epochs[history["best_at"] - 1]
    assert torch.equal(best.state_dict["linear.weight"], _weights(best.meta["epoch"])["linear.weight"])
    leftovers = [p.name for p in run.path.rglob(".*") if p.name != ".lock"]
    assert leftovers == []
    return len(epochs)


# ------------------------------------------------------------------ one atomic epoch commit

STEPS = ("_append_history", "_write_pending_best", "_write_last", "_promote_best", "_promote_history")
BEST_ONLY = ("_write_pending_best", "_promote_best")  # steps an epoch without a new best skips
BEFORE_THE_COMMIT = ("_append_history", "_write_pending_best", "_write_last")


@pytest.mark.parametrize(("step", "is_best"), [(s, b) for s in STEPS for b in (True, False) if b or s not in BEST_ONLY])
def test_a_kill_at_any_step_of_an_epoch_commit_leaves_an_agreeing_run(tmp_path, monkeypatch, step, is_best):
    run = RunFolder.create(tmp_path, "kill")
    _commit(run, 1, True)
    _commit(run, 2, True)
    original = getattr(RunFolder, step)

    def killed(self, *args):
        if step == "_append_history":  # killed half-way through appending the rows
            with open(run.path / "metrics.csv", "ab") as handle:
                handle.write(b"3,0.1,0.")
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
    assert committed == (2 if step in BEFORE_THE_COMMIT else 3)
    assert checkpoint.extra["epochs_done"] == committed
    best_epoch = load_checkpoint(run.path / "checkpoints" / "best.pt").meta["epoch"]
    assert best_epoch == (3 if is_best and committed == 3 else 2)
    _commit(resumed, committed + 1, False)  # and the run goes on from there
    assert _assert_consistent(resumed) == committed + 1


def test_an_epoch_with_non_finite_weights_is_not_committed(tmp_path):
    from engine.finite import NonFiniteError

    run = RunFolder.create(tmp_path, "diverged")
    _commit(run, 1, True)
    broken = {**_weights(2), "bn.running_var": torch.tensor([float("inf"), 1.0])}
    with pytest.raises(NonFiniteError, match=r"epoch 2 left NaN or infinite values in the model \(bn\.running_var\)"):
        run.commit_epoch({"epoch": 2}, {"epoch": 2}, state_dict=broken, meta={**META, "epoch": 2}, is_best=True)
    assert _assert_consistent(RunFolder(run.path)) == 1
    assert load_checkpoint(run.path / "checkpoints" / "last.pt").meta["epoch"] == 1


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


@pytest.mark.skipif(os.name == "nt", reason="POSIX flock")
def test_without_os_locks_a_live_pid_still_holds_the_run(tmp_path, monkeypatch):
    import errno
    import socket

    import engine.runs

    def unsupported(*args):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(engine.runs.fcntl, "flock", unsupported)
    run = RunFolder.create(tmp_path, "nfs")
    holder = {"pid": os.getppid(), "host": socket.gethostname(), "command": "elsewhere", "started": "x"}
    (run.path / ".lock").write_text(json.dumps(holder))
    with pytest.raises(RunLocked, match="elsewhere"):
        with run.writing("mine"):
            pass
    (run.path / ".lock").write_text(json.dumps({**holder, "pid": 999999}))
    with run.writing("mine"):
        assert json.loads((run.path / ".lock").read_text())["command"] == "mine"


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


# ------------------------------------------------------------------- main.py and the CLI's usage

def test_a_word_that_is_neither_a_command_nor_a_file_gets_the_usage_and_exit_2(capsys, monkeypatch, tmp_path):
    import main

    def no_window(argv):
        raise AssertionError(f"the app opened for {argv}")

    monkeypatch.setattr("gui.app.run_app", no_window)
    for argv in (["sweeep", "--help"], ["trian"], ["--nonsense"], [str(tmp_path / "absent.png")]):
        with pytest.raises(SystemExit) as exit_:
            main.main(argv)
        assert exit_.value.code == 2, argv
        assert "usage: main.py" in capsys.readouterr().err


def test_existing_files_open_the_app_and_registered_commands_win_over_files(monkeypatch, tmp_path):
    import main
    import cli

    opened = []
    monkeypatch.setattr("gui.app.run_app", lambda argv: opened.append(argv) or 0)
    image = tmp_path / "cat.png"
    image.write_bytes(b"")
    assert main.main([str(image), str(tmp_path)]) == 0 and opened == [[str(image), str(tmp_path)]]
    assert main.main(["-psn_0_12345"]) == 0 and opened[-1] == []  # a double-click on macOS
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sweep").mkdir()  # a folder named like a command
    monkeypatch.setitem(cli.COMMANDS, "sweep", "bench")  # a new sub-command: one registry entry, no main.py edit
    assert main._is_for_the_cli(["sweep"]) and not main._is_for_the_cli([str(image)])


# ----------------------------------------------------------------------- folders that cannot be used

def _dataset_must_not_load(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the dataset loaded before the folders were checked")

    monkeypatch.setattr("engine.trainer.load_dataset", refuse)


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("error: "), err
    return err


def _read_only_folder(tmp_path) -> Path:
    if os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o500)
        return folder
    import tempfile

    try:  # root writes anywhere chmod forbids; a read-only file system still refuses
        handle, name = tempfile.mkstemp(dir="/sys")
    except OSError:
        return Path("/sys")
    os.close(handle)
    os.unlink(name)
    pytest.skip("no read-only folder to try as root")


@pytest.mark.parametrize("case", ["runs dir is a file", "under a file", "not creatable", "read-only",
                                  "workspace is a file"])
def test_an_unusable_runs_folder_or_workspace_is_one_line_before_the_dataset_loads(case, tmp_path, monkeypatch, capsys):
    from cli import main as cli

    _dataset_must_not_load(monkeypatch)
    afile = tmp_path / "afile"
    afile.write_text("x")
    runs = {"runs dir is a file": afile, "under a file": afile / "runs", "not creatable": Path("/proc/lts/runs"),
            "read-only": None, "workspace is a file": None}[case]
    if case == "read-only":
        runs = _read_only_folder(tmp_path)
    if case == "workspace is a file":
        monkeypatch.setenv("LTS_WORKSPACE", str(afile))
    flags = ["--runs-dir", str(runs)] if runs else []
    assert cli(["train", "--preset", "demo", "--epochs", "1", "--warmup-epochs", "0", *flags]) == 2
    err = _one_line_error(capsys)
    assert str(runs or afile) in err and ("file" in err or "cannot be created" in err or "not writable" in err)


def test_the_folder_check_leaves_nothing_behind(tmp_path):
    from engine.workspace import check_run_folders

    assert check_run_folders(tmp_path / "new" / "runs") == tmp_path / "new" / "runs"
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "runs").mkdir()
    check_run_folders(tmp_path / "runs")
    assert list((tmp_path / "runs").iterdir()) == []


# --------------------------------------------------------------------------------- config files

@pytest.mark.parametrize(("change", "field"), [
    (lambda raw: [1, 2], "config"),
    (lambda raw: raw["method"].update(params=[1]), "method.params"),
    (lambda raw: raw["optim"].update(epochs=1.5), "optim.epochs"),
    (lambda raw: raw["optim"].update(decay_at="0.8"), "optim.decay_at"),
    (lambda raw: raw["data"].update(imbalance_ratio="abc"), "data.imbalance_ratio"),
    (lambda raw: raw.update(data=[1, 2]), "data"),
    (lambda raw: raw["optim"].update(decay_at=[0.8, "x"]), "optim.decay_at[1]"),
    (lambda raw: raw.update(save_model="yes"), "save_model"),
    (lambda raw: raw["method"].update(params={"gamma": None}), "method.params.gamma"),
])
def test_a_bad_config_file_is_one_line_naming_the_field(change, field, tmp_path, monkeypatch, capsys):
    from cli import main as cli
    from engine.presets import preset

    _dataset_must_not_load(monkeypatch)
    raw = preset("demo").to_dict()
    changed = change(raw)
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"kind": "train", "run": changed if changed is not None else raw}))
    assert cli(["train", "--config", str(path), "--runs-dir", str(tmp_path / "runs")]) == 2
    assert _one_line_error(capsys).startswith(f"error: {field}: ")
    assert not (tmp_path / "runs").exists()


def test_a_config_set_in_code_is_type_checked_too():
    from engine.config import ConfigError
    from engine.presets import preset

    config = preset("demo")
    config.optim.epochs = 1.5
    with pytest.raises(ConfigError, match=r"optim\.epochs: must be a whole number, not 1\.5"):
        config.validate()


# ------------------------------------------------------------------------------- resuming a run

def _run_folder(tmp_path, epochs_done: int, status: str | None = None) -> RunFolder:
    from engine.presets import preset

    run = RunFolder.create(tmp_path, "resume")
    config = preset("demo")
    config.optim.epochs = 2
    run.write_json("config.json", {"kind": "train", "run": config.to_dict()})
    for epoch in range(1, epochs_done + 1):
        run.commit_epoch({"epoch": epoch, "lr": 0.1}, {"epoch": epoch, "class_0": 0.5})
    if status:
        run.mark_status(status)
    return run


def test_resume_with_other_flags_names_the_flags_it_would_ignore(tmp_path, monkeypatch, capsys):
    from cli import main as cli

    _dataset_must_not_load(monkeypatch)
    run = _run_folder(tmp_path, 1)
    assert cli(["train", "--resume", str(run.path), "--epochs", "400", "--lr", "0.01", "--param", "gamma=2"]) == 2
    err = _one_line_error(capsys)
    assert "--param, --epochs, --lr would be ignored" in err and str(run.path) in err  # in the config's order


@pytest.mark.parametrize(("epochs_done", "status", "finished"), [(2, None, True), (1, None, False),
                                                                 (2, "finished", True), (2, "running", False)])
def test_a_finished_run_says_it_is_finished(tmp_path, monkeypatch, capsys, epochs_done, status, finished):
    from cli import main as cli

    run = _run_folder(tmp_path, epochs_done, status)
    assert run.is_finished() is finished
    if finished:
        _dataset_must_not_load(monkeypatch)
        assert cli(["train", "--resume", str(run.path)]) == 2
        assert "is finished (2 epochs); nothing to resume" in _one_line_error(capsys)


# ------------------------------------------------------------------------ checkpoints as attacks

def _tiny_checkpoint(path: Path, fill: float | None = None) -> Path:
    from engine.checkpoints import save_checkpoint
    from models import build_model

    model = build_model("resnet20", 3)
    state = model.state_dict()
    if fill is not None:
        for key, value in state.items():
            if value.is_floating_point():
                value.fill_(fill)
    meta = {"arch": "resnet20", "head": "linear", "num_classes": 3, "class_names": ["cat", "dog", "rabbit"]}
    return save_checkpoint(path, state, meta)


def _image(path: Path) -> Path:
    from PIL import Image

    Image.new("RGB", (32, 32), (200, 30, 30)).save(path)
    return path


def _garbage(kind: str, good: bytes, rng) -> bytes:
    if kind == "pickle-like random bytes":
        return b"\x80" + bytes([rng.integers(2, 6)]) + rng.bytes(3000)
    if kind == "zip-like random bytes":
        return b"PK\x03\x04" + rng.bytes(3000)
    if kind == "truncated":
        return good[: len(good) // 2]
    return good[:400] + rng.bytes(200) + good[600:]  # "bit rot in the middle"


@pytest.mark.parametrize("kind", ["pickle-like random bytes", "zip-like random bytes", "truncated", "bit rot"])
def test_damaged_checkpoints_are_one_line_without_pytorchs_unsafe_advice(kind, tmp_path, capsys):
    import numpy as np

    from cli import main as cli

    good = _tiny_checkpoint(tmp_path / "good.pt").read_bytes()
    rng = np.random.default_rng(sum(map(ord, kind)))
    for attempt in range(20):
        path = tmp_path / f"bad{attempt}.pt"
        path.write_bytes(_garbage(kind, good, rng))
        with pytest.raises(UserError) as refused:
            load_checkpoint(path)
        message = str(refused.value)
        assert "\n" not in message and "weights_only" not in message and path.name in message
    assert cli(["predict", str(_image(tmp_path / "x.png")), "--checkpoint", str(path)]) == 2
    assert "weights_only" not in _one_line_error(capsys)


class _Payload:
    def __reduce__(self):
        return (os.system, (f"touch {_Payload.marker}",))


def test_a_malicious_pickle_is_refused_and_never_runs(tmp_path, capsys):
    from cli import main as cli

    _Payload.marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"state_dict": {"linear.weight": torch.zeros(2, 2)}, "hook": _Payload()}, path)
    assert cli(["predict", str(_image(tmp_path / "x.png")), "--checkpoint", str(path)]) == 2
    assert "contains executable code" in _one_line_error(capsys)
    assert not _Payload.marker.exists()


def test_a_wrong_shape_checkpoint_is_refused_with_the_key_that_differs(tmp_path, capsys):
    from cli import main as cli
    from models import build_model

    state = build_model("resnet20", 3).state_dict()
    state["layer1.0.conv1.weight"] = torch.zeros(16, 16, 5, 5)
    path = tmp_path / "odd.pt"
    torch.save(state, path)
    assert cli(["predict", str(_image(tmp_path / "x.png")), "--checkpoint", str(path)]) == 2
    err = capsys.readouterr().err  # one line: what differs first
    assert err.startswith("error: odd.pt does not fit a resnet20, 3 classes, linear head: 1 shape mismatch")
    assert "layer1.0.conv1.weight [16, 16, 5, 5] vs [16, 16, 3, 3]" in err and "Traceback" not in err
    assert err.count("\n") == 1


def test_non_finite_tensors_are_refused_by_name_and_integers_are_ignored():
    from engine.finite import NonFiniteError, assert_finite, non_finite_keys

    state = {"a": torch.ones(3), "b": torch.tensor([1.0, float("nan")]), "n": torch.tensor(5),
             "heads": {"old.weight": torch.tensor([float("inf")])}}
    assert non_finite_keys(state) == ["b", "heads.old.weight"]
    with pytest.raises(NonFiniteError) as refused:
        assert_finite(state, "last.pt")
    message = str(refused.value)
    assert message.startswith("last.pt holds NaN or infinite values in 2 of 4 tensors (b, heads.old.weight)")
    assert "\n" not in message
    assert_finite({"a": torch.ones(2), "n": torch.tensor(3)}, "fine.pt")


def test_a_nan_checkpoint_is_refused_at_load_and_json_stays_strict_whatever_the_numbers(tmp_path, capsys,
                                                                                          monkeypatch):
    from cli import main as cli
    from engine.inference import Predictor

    path = _tiny_checkpoint(tmp_path / "nan.pt", fill=float("nan"))
    image = _image(tmp_path / "x.png")
    assert cli(["predict", str(image), "--checkpoint", str(path), "--json"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: nan.pt holds NaN or infinite values") and err.count("\n") == 1
    # numbers that overflow at run time still give strict JSON and "n/a" text
    finite = _tiny_checkpoint(tmp_path / "ok.pt", fill=0.0)
    monkeypatch.setattr(Predictor, "predict_tensor", lambda self, images: torch.full((len(images), 3), float("nan")))
    assert cli(["predict", str(image), "--checkpoint", str(finite), "--json"]) == 0
    captured = capsys.readouterr()
    rows = json.loads(captured.out, parse_constant=lambda name: pytest.fail(f"{name} is not JSON"))
    assert [entry["probability"] for entry in rows[0]["topk"]] == [None, None, None]
    assert "not finite" in captured.err
    assert cli(["predict", str(image), "--checkpoint", str(finite)]) == 0
    out = capsys.readouterr().out
    assert out.endswith("cat n/a, dog n/a, rabbit n/a\n") and "nan%" not in out


def test_predicting_many_files_shows_progress_batch_by_batch(tmp_path, capsys):
    from cli.predict import predict_with_progress
    from engine.inference import Prediction

    class Counting:
        batch_size = 2
        calls: list[int] = []

        def predict_paths(self, paths, topk):
            self.calls.append(len(paths))
            return [Prediction(Path(p), [("cat", 1.0)]) for p in paths]

    paths = [tmp_path / f"{i}.png" for i in range(7)]
    predictor = Counting()
    assert [p.path for p in predict_with_progress(predictor, paths, topk=1)] == paths
    assert predictor.calls == [2, 2, 2, 1]
    assert "predict" in capsys.readouterr().err  # tqdm's bar, on stderr


def test_a_decompression_bomb_is_one_message_and_the_other_images_are_predicted(tmp_path, capsys):
    import struct
    import zlib

    from cli import main as cli

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    bomb = tmp_path / "bomb.png"  # claims 60000 × 60000 pixels in a few bytes
    bomb.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))
    good = _image(tmp_path / "good.png")
    path = _tiny_checkpoint(tmp_path / "m.pt")
    assert cli(["predict", str(bomb), str(good), "--checkpoint", str(path), "--json"]) == 0
    rows = {Path(r["path"]).name: r for r in json.loads(capsys.readouterr().out)}
    assert rows["bomb.png"]["error"].startswith("cannot read image bomb.png") and not rows["bomb.png"]["topk"]
    assert rows["good.png"]["error"] is None and len(rows["good.png"]["topk"]) == 3


# ------------------------------------------------------------------------------------ the app

def test_selecting_a_row_with_nan_probabilities_raises_nothing(qtbot, gui_settings, engine_info, tmp_path):
    from engine.inference import Prediction
    from gui.inference_panel import InferencePanel, PredictionBatch

    panel = shown_panel(qtbot, InferencePanel(gui_settings), engine_info, (1000, 600))
    nan = float("nan")
    batch = PredictionBatch([Prediction(tmp_path / "a.png", [("rabbit", nan), ("cat", nan)]),
                             Prediction(tmp_path / "b.png", [("cat", 0.75), ("dog", 0.25)])], [None, None])
    panel.on_event(batch)  # selects the first row: the detail pane shows its bars
    panel.table.selectRow(1)
    panel.table.selectRow(0)
    bars = panel.detail.bars
    assert [bar.text() for bar in bars[:2]] == ["n/a", "n/a"] and bars[0].value() == 0
    assert panel.table.item(0, 2).text() == "—" and panel.table.item(0, 3).text() == "rabbit (n/a)   cat (n/a)"


# ------------------------------------------------------------- recovery refuses before it rewrites

HISTORY = ("metrics.csv", "per_class.csv", "per_class_precision.csv", "checkpoints/last.pt", "checkpoints/best.pt",
           "status.json")
TAMPERINGS = ("missing", "garbage", "foreign", "truncated")
# what a resume must do with each tampered file: refuse (exit 2, one line, nothing changed) or go on
REFUSED = {"config.json", "dataset.json", "metrics.csv", "per_class.csv", "per_class_precision.csv",
           "checkpoints/last.pt"}
RESUMED = {"checkpoints/best.pt", "log.txt", "README.md", "confusion_last.csv", ".lock"}


@pytest.fixture(scope="module")
def crashed_run(tmp_path_factory) -> Path:
    """A real two-epoch demo run whose writer died after its last epoch: status.json says running."""
    from engine.trainer import train
    from test_gui_support import tiny_demo_config

    root = tmp_path_factory.mktemp("crashed")
    run = RunFolder(train(tiny_demo_config(root, epochs=2)).run_dir)
    run.mark_status("running", pid=999999)
    return run.path


def _foreign(name: str, path: Path) -> bytes:
    """A well-formed file of the same kind that belongs to something else."""
    if name == "checkpoints/last.pt" or name == "checkpoints/best.pt":  # plain weights of the very same model
        import io

        buffer = io.BytesIO()
        torch.save({key: value.clone() for key, value in load_checkpoint(path).state_dict.items()}, buffer)
        return buffer.getvalue()
    if name == "config.json":
        return json.dumps({"kind": "sweep", "cells": []}).encode()
    if name == "dataset.json":
        return json.dumps({"name": "other", "class_names": ["a", "b", "c"], "class_counts": [5, 3, 1]}).encode()
    if name == "status.json":
        return json.dumps({"state": "running", "at": "then", "pid": 1}).encode()  # another writer's, gone
    if name == ".lock":
        return json.dumps({"pid": 999999, "host": "elsewhere", "command": "gone", "started": "x"}).encode()
    if name.endswith(".csv"):  # the same table edited by hand (or another run's)
        text = path.read_text()
        return text.replace("1,", "7,", 1).encode()
    return b"# another run's notes\n"


def _tamper(run_path: Path, name: str, how: str) -> None:
    import numpy as np

    path = run_path / name
    original = path.read_bytes() if path.exists() else b""
    if how == "missing":
        path.unlink(missing_ok=True)
    elif how == "garbage":
        path.write_bytes(b"\x00\xff" + np.random.default_rng(len(name)).bytes(500))
    elif how == "truncated":
        path.write_bytes(original[: len(original) // 2])
    else:
        path.write_bytes(_foreign(name, path))


def _history_bytes(run_path: Path) -> dict[str, bytes | None]:
    return {name: (run_path / name).read_bytes() if (run_path / name).exists() else None for name in HISTORY}


@pytest.mark.parametrize("how", TAMPERINGS)
@pytest.mark.parametrize("name", sorted(REFUSED | RESUMED | {"status.json"}))
def test_every_tampering_of_a_run_folder_is_refused_untouched_or_resumed_consistently(crashed_run, tmp_path, capsys,
                                                                                       name, how):
    import shutil

    from cli import main as cli

    run_path = tmp_path / crashed_run.name
    shutil.copytree(crashed_run, run_path)
    _tamper(run_path, name, how)
    before = _history_bytes(run_path)
    code = cli(["train", "--resume", str(run_path)])
    err = capsys.readouterr().err
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err, err
        assert _history_bytes(run_path) == before, f"a refused resume changed the history ({name} {how})"
        assert not list(run_path.rglob(".*.tmp"))
    if name in REFUSED and (name, how) != ("dataset.json", "missing"):  # written again from the data
        assert code == 2, f"{name} {how}: resumed from a damaged run ({err})"
        assert Path(name).name in err or (name == "config.json" and "not a run folder" in err), err
    elif name == "status.json" and how != "foreign":  # without a status the history says: both epochs done
        assert code == 2 and "is finished (2 epochs); nothing to resume" in err
    else:
        assert code == 0, f"{name} {how}: {err}"
        assert RunFolder(run_path).status()["state"] == "finished"
        last = load_checkpoint(run_path / "checkpoints" / "last.pt")
        record = last.extra[HISTORY_KEY]
        assert _csv_epochs(RunFolder(run_path), "metrics.csv") == [1, 2] and record["rows"] == 2
        assert RunFolder(run_path).class_names() == [str(d) for d in range(10)]


def test_a_plain_state_dict_as_last_pt_is_refused_by_name_and_the_status_stays(crashed_run, tmp_path, capsys):
    """The hostile case of issue 20: a plain state dict in place of last.pt used to cut the history to
    epoch 0 and delete the CSVs, then end in a traceback with status.json saying "running"."""
    import shutil

    from cli import main as cli

    run_path = tmp_path / crashed_run.name
    shutil.copytree(crashed_run, run_path)
    _tamper(run_path, "checkpoints/last.pt", "foreign")
    status = (run_path / "status.json").read_bytes()
    before = _history_bytes(run_path)
    assert cli(["train", "--resume", str(run_path)]) == 2
    err = _one_line_error(capsys)
    assert f"{run_path / 'checkpoints' / 'last.pt'} is not a checkpoint of this run" in err
    assert "left as it was" in err
    assert _history_bytes(run_path) == before and (run_path / "status.json").read_bytes() == status


def test_last_pt_of_another_run_with_other_weights_is_refused_by_what_differs(crashed_run, tmp_path, capsys):
    import shutil

    from cli import main as cli
    from engine.checkpoints import save_checkpoint

    run_path = tmp_path / crashed_run.name
    shutil.copytree(crashed_run, run_path)
    last = load_checkpoint(run_path / "checkpoints" / "last.pt")
    state = dict(last.state_dict)
    state["linear.weight"] = torch.zeros(10, 128)  # a wider network's head, same class count
    save_checkpoint(run_path / "checkpoints" / "last.pt", state, last.meta, extra=last.extra)
    before = _history_bytes(run_path)
    assert cli(["train", "--resume", str(run_path)]) == 2
    err = _one_line_error(capsys)
    assert "last.pt cannot be resumed from" in err and "linear.weight" in err
    assert _history_bytes(run_path) == before


# ------------------------------------------------------------------ append-only history

def test_each_epoch_appends_in_place_and_never_rewrites_the_history(tmp_path, monkeypatch):
    import engine.run_files

    run = RunFolder.create(tmp_path, "append")
    _commit(run, 1, True)
    first = {name: (run.path / name).read_bytes() for name in ("metrics.csv", "per_class.csv")}
    inodes = {name: os.stat(run.path / name).st_ino for name in first}

    def no_rewrite(path, text):
        raise AssertionError(f"{path.name} rewritten whole")

    monkeypatch.setattr(engine.run_files, "write_atomically", no_rewrite)
    for epoch in (2, 3):
        _commit(run, epoch, False)
    for name, data in first.items():
        assert (run.path / name).read_bytes().startswith(data) and os.stat(run.path / name).st_ino == inodes[name]
    monkeypatch.undo()
    assert _assert_consistent(RunFolder(run.path)) == 3 if RunFolder(run.path).recover() else False


def test_a_new_column_rewrites_the_file_only_once_committed(tmp_path, monkeypatch):
    """A run resumed by a version that writes more columns: the wider file waits beside the old one
    until last.pt commits it; a kill before that keeps the old file, a kill after it promotes it."""
    run = RunFolder.create(tmp_path, "columns")
    _commit(run, 1, True)
    wider = {"epoch": 2, "lr": 0.1, "test_hm": 0.2, "test_new": 1.0}

    def killed(self):
        raise SimulatedKill("after the commit")

    monkeypatch.setattr(RunFolder, "_promote_history", killed)
    with pytest.raises(SimulatedKill):
        run.commit_epoch(wider, {"epoch": 2, "class_0": 0.5, "class_1": 0.25}, state_dict=_weights(2),
                         meta={**META, "epoch": 2}, extra={"epochs_done": 2})
    monkeypatch.undo()
    assert "test_new" not in (run.path / "metrics.csv").read_text()  # the committed file waits
    resumed = RunFolder(run.path)
    resumed.recover()
    assert _assert_consistent(resumed) == 2
    assert resumed.history()[1]["test_new"] == 1.0 and math.isnan(resumed.history()[0]["test_new"])


def test_a_run_with_its_history_inside_last_pt_is_rewritten_from_it(tmp_path):
    """Runs written before the CSVs were appended kept every row in last.pt; resuming one rewrites
    the CSVs from it once and goes on appending."""
    from engine.checkpoints import save_checkpoint

    run = RunFolder.create(tmp_path, "older")
    rows = [{"epoch": e, "lr": 0.1, "test_hm": e / 10} for e in (1, 2)]
    per_class = [{"epoch": e, "class_0": 0.5, "class_1": 0.25} for e in (1, 2)]
    (run.path / "metrics.csv").write_text("epoch,lr\n1,0.1\n2,0.1\n3,0.1\n")  # one row past the checkpoint
    history = {"rows": 2, "best_at": 2, "metrics": rows, "per_class": per_class, "precision": []}
    save_checkpoint(run.path / "checkpoints" / "last.pt", _weights(2), {**META, "epoch": 2},
                    extra={"epochs_done": 2, HISTORY_KEY: history})
    save_checkpoint(run.path / "checkpoints" / "best.pt", _weights(2), {**META, "epoch": 2})
    resumed = RunFolder(run.path)
    resumed.recover()
    assert _csv_epochs(resumed, "metrics.csv") == [1, 2] == _csv_epochs(resumed, "per_class.csv")
    _commit(resumed, 3, False)
    assert _assert_consistent(RunFolder(run.path)) == 3


# ------------------------------------------------------------------ disk full, read-only folders

@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("error", ["ENOSPC", "EROFS", "EACCES"])
def test_a_failed_write_at_any_step_is_one_line_and_the_last_epoch_stays_resumable(tmp_path, monkeypatch, step, error):
    import errno

    from engine.run_files import RunWriteError

    run = RunFolder.create(tmp_path, "full")
    _commit(run, 1, True)
    _commit(run, 2, True)
    code = getattr(errno, error)

    def fails(self, *args):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(RunFolder, step, fails)
    with pytest.raises(RunWriteError) as refused:
        _commit(run, 3, True)
    monkeypatch.undo()
    message = str(refused.value)
    assert "\n" not in message and os.strerror(code) in message and "resume with" in message
    resumed = RunFolder(run.path)
    resumed.recover()
    committed = _assert_consistent(resumed)
    assert committed == (2 if step in BEFORE_THE_COMMIT else 3)
    _commit(resumed, committed + 1, False)
    assert _assert_consistent(RunFolder(run.path)) == committed + 1


def _full_disk_from_epoch(monkeypatch, epoch: int, code: int) -> None:
    """Every history append fails once the run reaches ``epoch`` (the disk filled up)."""
    import errno

    from engine.run_files import HistoryFile

    original = HistoryFile.append

    def append(self, rows):
        if rows and rows[0].get("epoch", 0) >= epoch:
            raise OSError(code, os.strerror(code), None if code == errno.ENOSPC else str(self.path))
        return original(self, rows)

    monkeypatch.setattr(HistoryFile, "append", append)


@pytest.mark.parametrize("cause", ["disk full", "made read-only"])
def test_a_run_that_cannot_write_ends_in_one_line_and_resumes_to_the_same_history(tmp_path, monkeypatch, capsys,
                                                                                   cause):
    import errno

    from cli import main as cli

    code = errno.ENOSPC if cause == "disk full" else errno.EROFS
    _full_disk_from_epoch(monkeypatch, 2, code)
    flags = ["--preset", "demo", "--epochs", "3", "--image-size", "8", "--batch-size", "128", "--warmup-epochs", "0",
             "--device", "cpu", "--runs-dir", str(tmp_path / "runs"), "--quiet"]
    assert cli(["train", *flags]) == 2
    err = _one_line_error(capsys)
    assert os.strerror(code) in err and "the 1 epoch(s) saved before stay intact" in err
    run = RunFolder(next((tmp_path / "runs").iterdir()))
    assert run.status()["state"] == "running" and run.state() == "interrupted"
    monkeypatch.undo()
    assert cli(["train", "--resume", str(run.path), "--quiet"]) == 0
    capsys.readouterr()
    assert _csv_epochs(run, "metrics.csv") == [1, 2, 3] and run.status()["state"] == "finished"
    assert run.confusion("last") is not None


# ------------------------------------------------------------------------------- sweeps

TINY_GRID = """\
name = "tiny"
preset = "demo"
methods = ["ce", "bsce"]
seeds = [0]
[overrides]
"optim.epochs" = {epochs}
"optim.batch_size" = 128
"optim.warmup_epochs" = 0
"data.image_size" = 8
"device" = "cpu"
"""


def _sweep_file(tmp_path: Path, text: str = TINY_GRID.format(epochs=2), name: str = "grid.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.slow
def test_a_second_sweep_on_a_folder_being_written_is_refused_and_the_first_runs_every_cell_once(tmp_path, capsys):
    import subprocess
    import sys

    from cli import main as cli
    from engine.runs import RunLock
    from engine.sweep.cells import cell_dir, read_status

    spec, folder = _sweep_file(tmp_path), tmp_path / "sweep"
    first = subprocess.Popen([sys.executable, "main.py", "sweep", str(spec), "--out", str(folder)],
                             cwd=Path(__file__).resolve().parent.parent, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 120
    while (holder := RunLock(folder).holder() if folder.exists() else None) is None and time.time() < deadline:
        assert first.poll() is None, first.stdout.read()
        time.sleep(0.01)
    assert holder and holder["pid"] == first.pid
    assert cli(["sweep", str(spec), "--out", str(folder)]) == 2
    err = _one_line_error(capsys)
    assert f"the sweep folder {folder} is being written by pid {first.pid}" in err and "main.py sweep" in err
    output, _ = first.communicate(timeout=300)
    assert first.returncode == 0, output
    for cell in ("demo-ir10-ce-s0", "demo-ir10-bsce-s0"):
        assert read_status(folder, cell).state == "done"
        runs = list((cell_dir(folder, cell) / "train").iterdir())
        assert len(runs) == 1 and (runs[0] / "log.txt").read_text().count("start on") == 1


def test_cleaning_a_cell_never_removes_a_run_folder_another_process_writes(tmp_path):
    from engine.sweep.cells import _clean_runs

    root = tmp_path / "train"
    held = RunFolder.create(root, "held")  # no checkpoint yet: a run killed early would be removed
    (held.path / "config.json").write_text("{}")
    stale = RunFolder.create(root, "stale")
    (stale.path / "config.json").write_text("{}")
    context = _context()
    ready, release = context.Event(), context.Event()
    holder = context.Process(target=_hold_lock, args=(str(held.path), ready, release))
    holder.start()
    assert ready.wait(30)
    try:
        assert _clean_runs(root, lambda run: run.checkpoint("last") is not None) is None
        assert held.path.is_dir() and (held.path / "config.json").exists() and not stale.path.exists()
    finally:
        release.set()
        holder.join()


def _hold_cell(folder: str, cell: str, ready, release) -> None:
    from engine.sweep.cells import cell_lock

    with cell_lock(folder, cell):
        ready.set()
        release.wait(30)


def test_a_cell_another_process_holds_is_left_alone(tmp_path, monkeypatch):
    from engine.sweep.cells import CellStatus, read_status, run_cell, shown_state, write_status
    from engine.sweep.spec import load_spec

    spec = load_spec(_sweep_file(tmp_path))
    folder, cell = tmp_path / "sweep", spec.cells[0]
    write_status(folder, CellStatus(cell.id, "running", host="elsewhere", pid=1))
    monkeypatch.setattr("engine.sweep.cells._run_stages", lambda *a: pytest.fail("ran a cell another process holds"))
    context = _context()
    ready, release = context.Event(), context.Event()
    holder = context.Process(target=_hold_cell, args=(str(folder), cell.id, ready, release))
    holder.start()
    assert ready.wait(30)
    try:
        assert run_cell(folder, cell).state == "running"
        assert shown_state(folder, read_status(folder, cell.id)) == "running"
    finally:
        release.set()
        holder.join()
    assert shown_state(folder, read_status(folder, cell.id)) == "interrupted"  # its holder is gone


def test_dry_run_shows_a_killed_cell_as_interrupted_and_a_damaged_status_as_damaged(tmp_path, capsys):
    import socket

    from cli import main as cli
    from engine.sweep.cells import CellStatus, cell_dir, write_status

    spec, folder = _sweep_file(tmp_path), tmp_path / "sweep"
    write_status(folder, CellStatus("demo-ir10-ce-s0", "running", stage="train", epoch=1, epochs=2,
                                    host=socket.gethostname(), pid=999999))
    (cell_dir(folder, "demo-ir10-bsce-s0")).mkdir(parents=True)
    (cell_dir(folder, "demo-ir10-bsce-s0") / "status.json").write_bytes(b"\x00\x01garbage")
    assert cli(["sweep", str(spec), "--out", str(folder), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "demo-ir10-ce-s0" in out and "interrupted" in out and "running" not in out
    assert "damaged:" in out and "binary data" in out


@pytest.mark.parametrize(("text", "needle"), [
    (TINY_GRID.format(epochs=1).replace('methods = ["ce", "bsce"]',
                                        'methods = [{loss = "ldam", params = {max_margin = 5.0}}]'),
     "methods.params.max_margin: 5 is outside LDAM (cosine head)'s sensible range 0 to 2"),
    (TINY_GRID.format(epochs=1).replace('methods = ["ce", "bsce"]',
                                        'methods = [{loss = "paco", params = {queue_size = 100000}}]'),
     "queue_size = 100,000 on 390 training images keeps its random initial keys"),
])
def test_method_hyperparameters_are_checked_before_any_cell_starts(tmp_path, capsys, text, needle):
    from cli import main as cli

    text = text.replace("seeds = [0]", "seeds = [0]\nimbalance = [50]")
    spec = _sweep_file(tmp_path, text)
    assert cli(["sweep", str(spec), "--out", str(tmp_path / "sweep")]) == 2
    err = _one_line_error(capsys)
    assert needle in err and f"{spec}:" in err
    assert not (tmp_path / "sweep").exists()


def test_a_huge_grid_is_refused_at_once_with_its_count(tmp_path, capsys):
    from cli import main as cli

    seeds = ", ".join(str(s) for s in range(100_000))
    text = TINY_GRID.format(epochs=1).replace('methods = ["ce", "bsce"]', 'methods = ["ce", "bsce", "focal", "ldam", '
                                              '"lade", "feabal", "gml", "logit_adjust"]').replace("seeds = [0]",
                                                                                                 f"seeds = [{seeds}]")
    spec = _sweep_file(tmp_path, text)
    started = time.perf_counter()
    assert cli(["sweep", str(spec), "--dry-run"]) == 2
    assert time.perf_counter() - started < 30  # counted before a single cell is built (it took hours)
    err = _one_line_error(capsys)
    assert "the grid has 800,000 cells (1 dataset(s) × 1 ratio(s) × 8 method(s) × 100000 seed(s))" in err
    assert "--max-cells" in err


@pytest.mark.parametrize("jobs", ["-1", "0"])
def test_jobs_below_one_is_refused(tmp_path, capsys, jobs):
    from cli import main as cli

    assert cli(["sweep", str(_sweep_file(tmp_path)), "--out", str(tmp_path / "s"), "--jobs", jobs]) == 2
    assert f"--jobs must be 1 or more (cells at once), not {jobs}" in _one_line_error(capsys)


@pytest.mark.parametrize("content", [b"\x00\x01\x02binary", "name = 'caf\u00e9'\n".encode("latin-1")])
def test_a_binary_or_non_utf8_sweep_file_is_one_line(tmp_path, capsys, content):
    from cli import main as cli

    spec = tmp_path / "grid.toml"
    spec.write_bytes(content)
    assert cli(["sweep", str(spec), "--dry-run"]) == 2
    err = _one_line_error(capsys)
    assert f"not a sweep file: {spec} is damaged: " in err and ("binary data" in err or "not UTF-8" in err)


def test_a_sweep_folder_that_cannot_be_written_is_one_line(tmp_path, monkeypatch, capsys):
    import errno

    from cli import main as cli

    def full(self, target):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Path, "replace", full)
    assert cli(["sweep", str(_sweep_file(tmp_path)), "--out", str(tmp_path / "sweep")]) == 2
    err = _one_line_error(capsys)
    assert f"cannot write {tmp_path / 'sweep' / 'sweep.json'}: No space left on device" in err


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory) -> tuple[Path, Path]:
    """A finished two-cell sweep with the plug-in (one epoch each, 8-pixel digits)."""
    from cli import main as cli

    root = tmp_path_factory.mktemp("sweep")
    spec = _sweep_file(root, TINY_GRID.format(epochs=1) + "[plugin]\nepochs = 1\nfeature_passes = 1\n")
    folder = root / "sweep"
    assert cli(["sweep", str(spec), "--out", str(folder)]) == 0
    return spec, folder


@pytest.mark.parametrize(("damage", "needle"), [
    ("status.json", "status.json is damaged: it holds binary data"),
    ("metrics.csv", "metrics.csv is damaged: it holds binary data"),
    ("report.json", "report.json is damaged: not valid JSON"),
    ("report.json columns", "report.json is damaged: not a plug-in report"),
    ("nan", "not numbers: demo-ir10-ce-s0: base"),
])
def test_sweep_report_names_damaged_files_and_never_averages_nan(finished_sweep, tmp_path, capsys, damage, needle):
    import shutil

    from cli import main as cli
    from engine.sweep.cells import cell_dir

    folder = tmp_path / "sweep"
    shutil.copytree(finished_sweep[1], folder)
    cell = cell_dir(folder, "demo-ir10-ce-s0")
    train = next((cell / "train").iterdir())
    plugin = next((cell / "plugin-gml").iterdir())
    if damage == "status.json":
        (cell / "status.json").write_bytes(b"\x00\x9f")
    elif damage == "metrics.csv":
        (train / "metrics.csv").write_bytes(b"epoch,lr\n\x00\x00\xff")
    elif damage == "report.json":
        (plugin / "report.json").write_bytes(b'{"columns": ')
    elif damage == "report.json columns":
        (plugin / "report.json").write_text(json.dumps({"stopped": False, "epochs_done": 1, "columns": [1]}))
    else:
        text = (train / "metrics.csv").read_text().splitlines()
        header, last = text[0].split(","), text[-1].split(",")
        last[header.index("test_top1")] = "nan"
        (train / "metrics.csv").write_text("\n".join(text[:-1] + [",".join(last)]) + "\n")
    assert cli(["sweep-report", str(folder)]) == 1
    captured = capsys.readouterr()
    assert needle in captured.err and "Traceback" not in captured.err
    row = next(line for line in captured.out.splitlines() if "| ce |" in line)
    assert ("n/a" in row) if damage == "nan" else ("0/1" in row)
    assert "| bsce |" in captured.out and "1/1" in next(l for l in captured.out.splitlines() if "| bsce |" in l)


@pytest.mark.ray
def test_ray_refuses_resources_no_node_has_in_seconds(tmp_path, capsys):
    from cli import main as cli

    spec = _sweep_file(tmp_path, TINY_GRID.format(epochs=1) + "[resources]\ncpus = 64\n")
    started = time.perf_counter()
    assert cli(["sweep", str(spec), "--out", str(tmp_path / "sweep"), "--backend", "ray"]) == 2
    assert time.perf_counter() - started < 120
    err = _one_line_error(capsys)
    assert "each cell asks for 64 CPU(s) and 0 GPU(s)" in err and "no node of the Ray cluster has that much" in err


def test_a_ray_client_address_without_the_client_extra_is_one_line(tmp_path, capsys, monkeypatch):
    pytest.importorskip("ray")
    from cli import main as cli

    monkeypatch.setattr("ray.is_initialized", lambda: False)
    spec = _sweep_file(tmp_path)
    code = cli(["sweep", str(spec), "--out", str(tmp_path / "sweep"), "--backend", "ray", "--address",
                "ray://127.0.0.1:1"])
    assert code == 2
    err = _one_line_error(capsys)
    assert err.startswith("error: cannot start Ray at ray://127.0.0.1:1: ")


# ---------------------------------------------------------------- outputs that are not numbers

def _overflowing_checkpoint(path: Path) -> Path:
    """Finite weights, overflowing logits: the classifier × 1e38 (issue 20's case)."""
    from engine.checkpoints import save_checkpoint
    from models import build_model

    torch.manual_seed(0)
    state = build_model("resnet20", 10).state_dict()
    state["linear.weight"] = state["linear.weight"] * 1e38
    assert torch.isfinite(state["linear.weight"]).all()
    meta = {"arch": "resnet20", "head": "linear", "num_classes": 10, "class_names": [str(d) for d in range(10)],
            "data": {"dataset": "demo", "imbalance_ratio": 50.0, "image_size": 8, "cut_seed": 0}}
    return save_checkpoint(path, state, meta)


def test_eval_never_scores_outputs_that_overflow(tmp_path, capsys):
    from cli import main as cli

    path = _overflowing_checkpoint(tmp_path / "overflow.pt")
    assert cli(["eval", "--checkpoint", str(path), "--device", "cpu"]) == 1
    captured = capsys.readouterr()
    assert "warning: the model's outputs are not finite numbers (NaN/inf) for" in captured.err
    assert "no metric is reported" in captured.err
    acc = next(line for line in captured.out.splitlines() if line.startswith("Acc (%)"))
    assert acc.split()[-1] == "—"
    assert cli(["eval", "--checkpoint", str(path), "--device", "cpu", "--json"]) == 1
    report = json.loads(capsys.readouterr().out, parse_constant=lambda name: pytest.fail(f"{name} is not JSON"))
    assert report["top1"] is None and report["hm"] is None and report["non_finite"] > 0


def test_the_plugin_report_marks_outputs_that_overflow_as_not_numbers(tmp_path):
    from engine.events import Message
    from engine.plugin import tune
    from engine.plugin.config import plugin_config

    path = _overflowing_checkpoint(tmp_path / "overflow.pt")
    config = plugin_config({"pretrained": str(path), "epochs": 0, "device": "cpu", "runs_dir": str(tmp_path / "runs"),
                            "data": {"dataset": "demo", "imbalance_ratio": 50.0, "image_size": 8}})
    messages = []
    result = tune(config, on_event=lambda e: messages.append(e) if isinstance(e, Message) else None)
    old = result.reports["old"]
    assert not old.are_numbers() and math.isnan(old.hm)
    assert any(m.level == "warning" and "not finite numbers" in m.text for m in messages)
    card = (result.run_dir / "README.md").read_text()
    assert "outputs were not finite numbers" in card and "| HM | — |" in card


def test_a_training_epoch_whose_test_outputs_overflow_is_never_the_best(tmp_path):
    from engine.loop import Loop
    from engine.metrics import not_numbers

    loop = Loop.__new__(Loop)
    loop.plan = type("Plan", (), {"best_metric": "test_hm"})()
    loop.best, loop.epochs_done = {}, 1
    assert not loop.track_best(not_numbers(3, 5))
    assert loop.best == {}


# ------------------------------------------------------------- reading run folders, the Runs tab

READERS = {"config": lambda run: run.config(), "dataset": lambda run: run.class_names(),
           "history": lambda run: run.history(), "per_class": lambda run: run.per_class(),
           "precision": lambda run: run.per_class_precision(), "confusion": lambda run: run.confusion("last"),
           "status": lambda run: run.status(), "card": lambda run: run.card(), "state": lambda run: run.state()}


@pytest.mark.parametrize("content", [b"\x00\x01\x02binary", "caf\u00e9;\xe9t\xe9\n".encode("latin-1"), b""])
@pytest.mark.parametrize("name", ["config.json", "dataset.json", "metrics.csv", "per_class.csv",
                                  "per_class_precision.csv", "confusion_last.csv", "status.json", "README.md"])
def test_every_reader_of_a_run_folder_names_a_damaged_file_in_words(crashed_run, tmp_path, name, content):
    import shutil

    from engine.run_files import RunDamaged
    from engine.run_index import summarize

    run_path = tmp_path / crashed_run.name
    shutil.copytree(crashed_run, run_path)
    (run_path / name).write_bytes(content)
    run = RunFolder(run_path)
    for reader in READERS.values():
        try:
            reader(run)
        except RunDamaged as error:
            assert f"{run_path / name} " in str(error) and "\n" not in str(error)
    summary = summarize(run_path)
    if name == "config.json" or (name == "metrics.csv" and content):  # an empty metrics.csv: no epoch yet
        assert summary.status == "damaged" and str(run_path / name) in summary.problem
    elif name == "status.json":  # without it the history decides: both epochs were done
        assert summary.status == "finished"
    else:
        assert summary.status == "interrupted", summary


def test_the_runs_tab_lists_damaged_and_interrupted_runs_and_errors_are_in_words(qtbot, window, crashed_run,
                                                                                 workspace):
    import shutil

    from test_gui_support import open_error_boxes

    runs_root = workspace / "runs"
    runs_root.mkdir(exist_ok=True)
    interrupted = runs_root / "20250101-000000-killed"
    damaged = runs_root / "20250101-000001-damaged"
    no_names = runs_root / "20250101-000002-no-names"
    for path in (interrupted, damaged, no_names):
        shutil.copytree(crashed_run, path)
    (damaged / "config.json").write_bytes(b"\x00\xff\x00")
    (no_names / "dataset.json").write_text(json.dumps({"name": "demo", "class_counts": [1] * 10}))
    panel = window.runs
    panel.refresh()
    status = {panel.table.item(r, 0).text(): panel.table.item(r, 5) for r in range(panel.table.rowCount())}
    assert status[interrupted.name].text() == "interrupted"
    assert status[damaged.name].text() == "damaged"
    assert "config.json is damaged: it holds binary data" in status[damaged.name].toolTip()
    panel.select([damaged.name])
    assert "binary data" in panel.details.item(0, 0).text()
    panel.status_filter.setCurrentIndex(panel.status_filter.findData("damaged"))
    assert panel.visible_names() == [damaged.name]
    window.open_run(str(no_names))
    (box,) = open_error_boxes()
    assert "dataset.json is damaged: it needs the lists class_names and class_counts" in box.informativeText()
