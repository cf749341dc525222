"""Where the cells run: ``local`` (one after another, or one worker process per GPU) or ``ray``.

Ray *tasks*, not Ray Tune: a cell is already a complete, self-checkpointing unit (the trainer
writes last.pt every epoch and resumes from its run folder), the grid is fixed (no search
algorithm or early stopping to schedule), and the results are the run folders themselves. Tune
would add a second checkpoint and result store beside the run folders and the pandas/pyarrow
extras; one ``ray.remote`` function per cell with ``num_cpus`` / ``num_gpus`` (fractions allowed)
is all the scheduling the grid needs, and Ray's task retries plus the run folders' resume make a
lost worker cost at most the epoch in progress. Every worker writes into the one sweep folder,
which on a cluster must be shared storage (NFS or the like) mounted at the same path.

A cell may ask for several processes (``nproc = N`` in ``[overrides]``: data parallel over N
GPUs, ``engine.distributed``). Its run starts them through torchrun wherever the cell runs: on
the local backend such cells run one after another (each uses the machine's GPUs); on Ray the
cell's task reserves N times its ``[resources]`` (they are per process) on one node, and torchrun
starts the N processes there. (Ray Train's ``TorchTrainer`` would also place them on several
nodes; it needs the ``ray[train]`` extra, which this project does not install: docs/distributed.md.)
"""
from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

from errors import UserError
from engine.events import StopFlag, never_stop
from engine.sweep.cells import CellStatus, StatusSink, ignore_status, read_status, run_cell, write_status
from engine.sweep.spec import Cell

BACKENDS = ("local", "ray")
ROOT = Path(__file__).resolve().parents[2]
RAY_EXCLUDES = [".git", ".venv", "dist", "build", "tests", "docs", "__pycache__", "*.pt"]


def run_cells(sweep_dir: str | Path, cells: list[Cell], backend: str = "local", jobs: int | None = None,
              address: str | None = None, on_status: StatusSink = ignore_status,
              should_stop: StopFlag = never_stop) -> list[CellStatus]:
    """Run every unfinished cell; returns the final status of each cell, in grid order. The caller
    holds the sweep folder's lock (``engine.sweep.cells.sweep_lock``)."""
    if jobs is not None and jobs < 1:
        raise UserError(f"--jobs must be 1 or more (cells at once), not {jobs}")
    todo = [c for c in cells if read_status(sweep_dir, c.id).state != "done"]
    if backend == "local":
        from engine.devices import gpu_count

        cuda = sorted({c.run["device"] for c in todo if str(c.run["device"]).startswith("cuda")})
        if cuda and not gpu_count():
            raise UserError(f"the cells ask for device {cuda[0]}, but this machine has no CUDA GPU; set "
                            '"device" = "auto" or "cpu" in [overrides], or use --backend ray on a cluster with GPUs')
        workers = jobs if jobs is not None else max(1, gpu_count())
        if any(processes(c) > 1 for c in todo):
            workers = 1  # a cell of several processes takes the machine's GPUs for itself
        if workers <= 1:
            for cell in todo:
                if should_stop():
                    break
                run_cell(sweep_dir, cell, on_status, should_stop)
        else:
            _run_processes(sweep_dir, todo, workers, on_status)
    elif backend == "ray":
        _run_ray(sweep_dir, todo, address, on_status)
    else:
        raise UserError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    return [read_status(sweep_dir, c.id) for c in cells]


def processes(cell: Cell) -> int:
    """How many processes the cell's run trains with (``RunConfig.nproc``)."""
    return int(cell.run.get("nproc", 1))


def reserved(cell: Cell) -> tuple[float, float]:
    """(CPUs, GPUs) the cell's Ray task reserves: its ``[resources]`` for each of its processes."""
    return cell.resources.get("cpus", 1.0) * processes(cell), cell.resources.get("gpus", 0.0) * processes(cell)


# --- local: one process per GPU -------------------------------------------------------------

def _run_processes(sweep_dir: str | Path, cells: list[Cell], workers: int, on_status: StatusSink) -> None:
    """``workers`` processes, each pinned to one GPU (CUDA_VISIBLE_DEVICES) when there are GPUs."""
    # spawn, also without GPUs: CUDA cannot be used in a forked child, and a child forked after the
    # parent's OpenMP thread pool ran hangs in its first parallel op (tried: both cells stuck)
    context = multiprocessing.get_context("spawn")
    slots = context.Queue()
    for index in range(workers):
        slots.put(index)
    from engine.devices import gpu_count

    gpus = gpu_count()
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_claim_slot, initargs=(slots, gpus)) as pool:
        pending = {pool.submit(_cell_in_process, str(sweep_dir), cell.to_dict()): cell for cell in cells}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                cell = pending.pop(future)
                on_status(_result_or_failed(sweep_dir, cell, future.exception, future.result))


def _claim_slot(slots, gpus: int) -> None:
    index = slots.get()
    if gpus:
        os.environ["CUDA_VISIBLE_DEVICES"] = str(index % gpus)


def _cell_in_process(sweep_dir: str, cell: dict) -> CellStatus:
    return run_cell(sweep_dir, Cell.from_dict(cell))


def _result_or_failed(sweep_dir, cell: Cell, exception, result) -> CellStatus:
    """A worker that died (killed, out of memory) leaves the cell pending with the reason."""
    error = exception()
    if error is None:
        return result()
    status = read_status(sweep_dir, cell.id)
    status.state, status.reason = "pending", f"worker lost ({type(error).__name__}); a re-run resumes it"
    return write_status(sweep_dir, status)


# --- ray ------------------------------------------------------------------------------------

def _run_ray(sweep_dir: str | Path, cells: list[Cell], address: str | None, on_status: StatusSink) -> None:
    try:
        import ray
    except ImportError:
        raise UserError("the ray backend needs Ray: pip install -r requirements-ray.txt") from None
    started_here = not ray.is_initialized()
    if started_here:
        start_ray(address)
    try:
        check_feasible(ray, cells)
        remote = ray.remote(max_retries=3)(_cell_in_process)
        pending = {}
        for cell in cells:
            cpus, gpus = reserved(cell)
            options = {"num_cpus": cpus, "num_gpus": gpus}
            pending[remote.options(**options).remote(str(Path(sweep_dir).resolve()), cell.to_dict())] = cell
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            cell = pending.pop(done[0])
            on_status(_ray_result(ray, sweep_dir, cell, done[0]))
    finally:
        if started_here:
            ray.shutdown()


def start_ray(address: str | None = None, num_cpus: int | None = None) -> None:
    """Connect to a cluster (``address``) or start Ray on this machine, able to import this code.
    Anything Ray refuses (no cluster at the address, ``ray://`` without the ``ray[client]``
    extra) is one ``UserError`` line."""
    import ray

    if address:  # a cluster: ship this code to the workers; the sweep folder must be shared storage
        runtime_env = {"working_dir": str(ROOT), "excludes": RAY_EXCLUDES}
    else:
        runtime_env = {"env_vars": {"PYTHONPATH": str(ROOT)}}
    try:
        ray.init(address=address, num_cpus=None if address else num_cpus, include_dashboard=False,
                 runtime_env=runtime_env, log_to_driver=False, logging_level=logging.ERROR)  # our lines only
    except Exception as error:  # ValueError, ConnectionError, RuntimeError, TimeoutError …, one line each
        where = f" at {address}" if address else " on this machine"
        raise UserError(f"cannot start Ray{where}: {_first_line(error)}") from None


def check_feasible(ray, cells: list[Cell]) -> None:
    """Refuse, before any task is queued, a cell whose [resources] no live node of the cluster has
    (Ray would keep such a task pending forever, its warning hidden from the driver)."""
    nodes = [node.get("Resources", {}) for node in ray.nodes() if node.get("Alive")]
    for request in {reserved(c) for c in cells}:
        cpus, gpus = request
        if not any(node.get("CPU", 0) >= cpus and node.get("GPU", 0) >= gpus for node in nodes):
            largest = max(nodes, key=lambda n: (n.get("GPU", 0), n.get("CPU", 0)), default={})
            raise UserError(f"each cell asks for {cpus:g} CPU(s) and {gpus:g} GPU(s) ([resources], per process), but no "
                            "node of the "
                            f"Ray cluster has that much (the largest: {largest.get('CPU', 0):g} CPU(s), "
                            f"{largest.get('GPU', 0):g} GPU(s)); lower [resources] in the sweep file or add a node")


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:300]


def _ray_result(ray, sweep_dir, cell: Cell, ref) -> CellStatus:
    try:
        return ray.get(ref)
    except Exception as error:  # the task's worker died more often than it was retried
        status = read_status(sweep_dir, cell.id)
        status.state, status.reason = "pending", f"worker lost ({type(error).__name__}); a re-run resumes it"
        return write_status(sweep_dir, status)
