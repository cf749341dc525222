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

from errors import UserError
from engine.checkpoints import load_checkpoint
from engine.runs import HISTORY_KEY, RunFolder, RunLocked
from test_gui_support import engine_info, gui_settings, shown_panel  # noqa: F401 (fixtures)

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
