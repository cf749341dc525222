"""A run of several processes on a Ray cluster: Ray Train's ``TorchTrainer`` starts them.

The Ray backend of a sweep (``engine.sweep.backends``) hands a cell that asks for N processes
(``nproc = N``) here instead of to torchrun (``engine.distributed.launch``): ``TorchTrainer``
places N Ray Train workers, each with the cell's ``[resources]`` (they are per process), on
whichever nodes have room, and before the training function runs it joins them in one
``torch.distributed`` process group (``init_process_group``, env://) and sets ``RANK``,
``LOCAL_RANK`` and ``WORLD_SIZE`` in their environments. Each worker then calls the ordinary
``engine.trainer.train``, which joins that group as it is (``engine.distributed.world``): rank
0 writes the run folder, the others train their shares.

- **Events and result:** rank 0 puts its events and, at the end, the run's result on a Ray
  queue (``ray.util.queue.Queue``, an actor of no CPU); the caller reports the events as they
  come (the cell's status follows rank 0's epochs) and returns the result, as for torchrun.
  Ray Train's own ``ray.train.report`` is not used: its metrics reach the caller only with a
  checkpoint, and the run folder is this project's checkpoint.
- **Failures:** ``FailureConfig(max_failures=0)``: a worker that raises or dies ends the whole
  worker group, and ``fit()`` raises ``WorkerGroupError`` with each failed rank's exception;
  :class:`~engine.distributed.launch.RunFailed` says the first cause in one line
  ("rank 1: …", a rank's own error before what the others met because of it). A re-run of the
  sweep resumes the run folder.
- **Backend:** gloo when the cell trains on the CPU or asks for no GPU, else Ray's choice
  (NCCL on GPUs); the collective timeout is the run's ``collective_timeout``.
- Ray Train keeps its own small state under ``storage`` (``<cell>/ray-train/<stage>``); on a
  cluster, like the sweep folder, it must be shared storage.

Ray Train documentation (ray 2.60.0, the ``ray[train]`` extra):
https://docs.ray.io/en/latest/train/getting-started-pytorch.html (TorchTrainer, ScalingConfig),
https://docs.ray.io/en/latest/train/user-guides/fault-tolerance.html (FailureConfig),
https://docs.ray.io/en/latest/train/api/api.html (RunConfig, WorkerGroupError).
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from engine.config import RunConfig
from engine.distributed.launch import RunFailed, describe_failure, is_consequence
from engine.events import EventSink, RunStarted, StopFlag, ignore_event
from errors import UserError

POLL_S = 0.2


def run_on_ray_train(config: RunConfig, on_event: EventSink, should_stop: StopFlag, resume: str | Path | None = None,
                     command: str = "", *, cpus: float = 1.0, gpus: float = 0.0, storage: str | Path = "") -> Any:
    """Run ``config`` (or continue the run folder ``resume``) on ``config.nproc`` Ray Train
    workers of ``cpus`` CPUs and ``gpus`` GPUs each; rank 0's events go to ``on_event``; returns
    rank 0's result. Called inside a Ray task or driver. ``should_stop`` is not relayed: a Ray
    cell runs to its end, as the one-process Ray cells do (their tasks get no stop flag)."""
    try:
        from ray.train import FailureConfig, RunConfig as RayRunConfig, ScalingConfig
        from ray.train.torch import TorchConfig, TorchTrainer
        from ray.util.queue import Empty, Queue
    except ImportError:
        raise UserError("a cell of several processes on Ray needs Ray Train: pip install -r requirements-ray.txt "
                        "(ray[train])") from None
    del should_stop
    resources = {"CPU": cpus, **({"GPU": gpus} if gpus else {})}
    gloo = config.device == "cpu" or not gpus
    events = Queue(actor_options={"num_cpus": 0})
    trainer = TorchTrainer(
        _worker, train_loop_config={"config": None if resume else config, "resume": str(resume) if resume else None,
                                    "command": command or "train", "events": events},
        torch_config=TorchConfig(backend="gloo" if gloo else None, timeout_s=int(config.collective_timeout)),
        scaling_config=ScalingConfig(num_workers=config.nproc, use_gpu=bool(gpus), resources_per_worker=resources),
        run_config=RayRunConfig(name=Path(config.runs_dir).name, storage_path=str(Path(storage).resolve()),
                                failure_config=FailureConfig(max_failures=0)))
    outcome: dict[str, Any] = {}

    def fit() -> None:
        try:
            trainer.fit()
        except Exception as error:  # WorkerGroupError, ControllerError, a refused setting: one line each
            outcome["error"] = error

    fitting = threading.Thread(target=fit, name="ray-train-fit", daemon=True)
    fitting.start()
    run_dir = ""
    try:
        while fitting.is_alive() or not events.empty():
            try:
                kind, payload = events.get(timeout=POLL_S)
            except Empty:
                continue
            if kind == "result":
                outcome["result"] = payload
            else:
                run_dir = str(payload.run_dir) if isinstance(payload, RunStarted) else run_dir
                on_event(payload)
        fitting.join()
    finally:
        events.shutdown()
    if "error" in outcome or "result" not in outcome:
        resume_hint = f"; a re-run of the sweep resumes {run_dir}" if run_dir else ""
        raise RunFailed(failure_line(outcome.get("error")) + resume_hint)
    return outcome["result"]


def _worker(setup: dict[str, Any]) -> None:
    """One Ray Train worker: the ordinary ``train`` on this rank's share (the process group is
    Ray's); rank 0 sends its events and result to the caller."""
    import torch.distributed as dist

    from engine.trainer import train

    events = setup["events"]
    writer = dist.get_rank() == 0
    result = train(setup["config"], on_event=(lambda event: events.put(("event", event))) if writer else ignore_event,
                   resume=setup["resume"], command=setup["command"])
    if writer:
        events.put(("result", result))


def failure_line(error: BaseException | None) -> str:
    """One line for a failed ``fit()``: the lowest rank's own error, else what a rank met because
    another failed, else Ray Train's own first line."""
    failures = getattr(error, "worker_failures", None) or {}
    ranked = sorted(failures.items(), key=lambda item: (is_consequence(item[1]), item[0]))
    if ranked:
        rank, cause = ranked[0]
        return f"rank {rank}: {describe_failure(cause)}"
    if error is None:
        return "Ray Train ended without rank 0's result"
    controller = getattr(error, "controller_failure", None)
    return f"Ray Train failed: {describe_failure(controller or error)}"
