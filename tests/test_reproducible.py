"""Issue 21's done-when, small: two CLI runs of one command, the second beside three busy processes,
record the same thread count in config.json and give identical metrics (tools/check_reproducible.py
runs the full demo in fresh processes)."""
import json

import torch

from engine.cpu_policy import default_threads
from engine.precision_probe import busy_neighbours
from main import main
from tools.check_reproducible import differences


def test_a_run_beside_three_busy_processes_records_the_same_threads_and_gives_identical_metrics(tmp_path, monkeypatch):
    monkeypatch.delenv("OMP_WAIT_POLICY")  # the CLI's load policy samples the machine, as for a user
    argv = ["train", "--preset", "demo", "--image-size", "8", "--epochs", "2", "--batch-size", "128",
            "--runs-dir", str(tmp_path), "--quiet", "--no-save"]
    threads = torch.get_num_threads()
    try:
        assert main(argv + ["--experiment", "calm"]) == 0
        with busy_neighbours(3):
            assert main(argv + ["--experiment", "busy"]) == 0
    finally:
        torch.set_num_threads(threads)
    calm, busy = (next(tmp_path.glob(f"*-{label}")) for label in ("calm", "busy"))
    assert json.loads((busy / "config.json").read_text())["run"]["threads"] == default_threads()
    assert differences(calm, busy) == []
