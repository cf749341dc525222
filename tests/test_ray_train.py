"""A Ray sweep cell of several processes, without starting Ray: the one line a failed Ray Train
run leaves in its cell's status, and the check of the cluster's room (the runs themselves: the
Ray tests of tests/test_sweep_run.py)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from engine.distributed.ray_train import failure_line
from engine.distributed.world import Terminated
from engine.sweep.backends import check_feasible
from engine.sweep.spec import load_spec
from errors import UserError


def test_the_line_names_the_rank_that_failed_not_the_ones_that_met_its_failure():
    train = pytest.importorskip("ray.train")
    error = train.WorkerGroupError("Training failed due to worker errors: …", {
        0: RuntimeError("[gloo] Connection closed by peer [10.0.0.2]:4242\nmore"),
        2: UserError("data folder /x is missing"),
        3: Terminated(),
    })
    assert failure_line(error) == "rank 2: data folder /x is missing"
    only_consequences = train.WorkerGroupError("…", {1: Terminated(), 0: RuntimeError("Connection reset by peer")})
    assert failure_line(only_consequences) == "rank 0: RuntimeError: Connection reset by peer"


def test_a_failure_outside_the_workers_is_one_line_too():
    assert failure_line(ValueError("num_workers must be positive\ndetails")) == (
        "Ray Train failed: ValueError: num_workers must be positive")
    assert failure_line(None) == "Ray Train ended without rank 0's result"


def test_a_cell_whose_processes_the_whole_cluster_cannot_hold_is_refused(tmp_path):
    """Ray Train places a cell's workers on any nodes: each must fit a node, all must fit the cluster."""
    two_nodes = SimpleNamespace(nodes=lambda: [{"Alive": True, "Resources": {"CPU": 8.0, "GPU": 2.0}}] * 2
                                + [{"Alive": False, "Resources": {"CPU": 64.0, "GPU": 8.0}}])

    def cells(nproc: int, gpus: int):
        (tmp_path / "s.toml").write_text(f'preset = "demo"\nmethods = ["ce"]\n[overrides]\nnproc = {nproc}\n'
                                         f"[resources]\ncpus = 2\ngpus = {gpus}\n")
        return load_spec(tmp_path / "s.toml").cells

    check_feasible(two_nodes, cells(4, 1))  # 2 + 2 GPUs on two nodes
    with pytest.raises(UserError, match=r"a cell of 5 processes asks for 10 CPU\(s\) and 5 GPU\(s\) in all .* "
                                        r"the Ray cluster has 16 CPU\(s\) and 4 GPU\(s\)"):
        check_feasible(two_nodes, cells(5, 1))
    with pytest.raises(UserError, match=r"each cell asks for 2 CPU\(s\) and 3 GPU\(s\) .*per process"):
        check_feasible(two_nodes, cells(1, 3))
