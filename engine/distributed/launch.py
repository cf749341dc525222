"""``main.py train --nproc N``: torchrun on this machine, and rank 0's events back to the caller.

A run asked to use N processes (``RunConfig.nproc``) by a caller that is not one of them (the CLI,
the app's worker thread, a sweep cell) is handed to :func:`run_processes`, which starts
torchrun's agent as a child process (``main.py torchrun --standalone --nproc-per-node N …``; the
packaged app has no ``python -m``, so the agent is this program again). The agent starts the N
ranks (``main.py train-rank``, :func:`serve_rank`), each of which runs the ordinary ``train``
on its share. The caller and the ranks talk over an authenticated local connection
(``multiprocessing.connection``, a random key in the ranks' environment):

- rank 0 sends every event (progress, epochs, messages) and, at the end, the run's result: the
  caller reports them exactly as for a run of one process, and returns the result;
- the caller sends rank 0 a stop request when its stop flag is set; the ranks agree on it at
  their next loss check (``engine.loop``) and stop together, rank 0 saving as usual;
- a rank that fails sends one line (``rank 1: <error>``) before it exits; a rank that dies without
  a word (killed, out of memory) is noticed when its connection closes. torchrun then ends the
  others with SIGTERM (their ``finally`` blocks run, ``engine.distributed.world``), and the caller
  raises :class:`RunFailed` with the cause, the run folder to resume, and where torchrun's log is
  kept. The cause is a rank's own error, else a rank that died, and only then what the others
  met because of it (a closed connection in a collective, torchrun's SIGTERM). The agent's own
  output goes to that log, not to the terminal or the window.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from multiprocessing.connection import Client, Connection, Listener, wait
from pathlib import Path
from typing import Any, Callable

from engine.config import RunConfig
from engine.distributed import AGENT_COMMAND, RANK_COMMAND
from engine.distributed.world import Terminated, launched_size
from engine.events import EventSink, RunStarted, StopFlag
from errors import UserError

RELAY = "LTS_RELAY"  # the ranks' environment: "host:port:key" of the caller's listener
ROOT = Path(__file__).resolve().parents[2]
POLL_S = 0.2


ProcessStarter = Callable[..., Any]
"""Starts a run's processes and returns rank 0's result, called as
``(config, on_event, should_stop, resume=None, command="")``: :func:`run_processes` (torchrun
on this machine) or ``engine.distributed.ray_train.run_on_ray_train`` (a Ray sweep cell)."""


class RunFailed(UserError):
    """A rank failed or died; the message names it and its error in one line."""


def wants_processes(config: RunConfig) -> bool:
    """Whether this call must start the run's processes (it is not one of them already)."""
    import torch.distributed as dist

    return config.nproc > 1 and launched_size() == 1 and not (dist.is_available() and dist.is_initialized())


def program() -> list[str]:
    """How to start this program again: the packaged app's executable, or Python with main.py."""
    return [sys.executable] if getattr(sys, "frozen", False) else [sys.executable, str(ROOT / "main.py")]


def check_devices(config: RunConfig) -> None:
    """Refuse, before anything starts, more GPU processes than this machine has GPUs."""
    from engine.devices import gpu_count

    gpus = gpu_count()
    if config.device != "cpu" and gpus and config.nproc > gpus:
        raise UserError(f"{config.nproc} processes need {config.nproc} GPUs; this machine has {gpus} (lower the "
                        "GPUs setting, or use device cpu for gloo processes)")


def run_processes(config: RunConfig, on_event: EventSink, should_stop: StopFlag, resume: str | Path | None = None,
                  command: str = "") -> Any:
    """Run ``config`` (or continue the run folder ``resume``) on ``config.nproc`` processes of this
    machine; rank 0's events go to ``on_event``; returns rank 0's result (see the module docstring)."""
    check_devices(config)
    key = os.urandom(32)
    scratch = Path(tempfile.mkdtemp(prefix="lts-ranks-"))
    log = scratch / "torchrun.log"
    rank_args = ["--resume", str(resume)] if resume else ["--config", str(_write_config(config, scratch))]
    with Listener(("127.0.0.1", 0), authkey=key) as listener, open(log, "wb") as output:
        host, port = listener.address
        threads = config.threads or max(1, (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                                           else os.cpu_count() or 1) // config.nproc)
        env = {**os.environ, RELAY: f"{host}:{port}:{key.hex()}", "OMP_NUM_THREADS": str(threads)}
        agent = subprocess.Popen([*program(), AGENT_COMMAND, "--standalone", f"--nproc-per-node={config.nproc}",
                                  "--no-python", *program(), RANK_COMMAND, *rank_args, "--command", command or "train"],
                                 env=env, stdout=output, stderr=subprocess.STDOUT, cwd=ROOT)
        relay = _Relay(listener, config.nproc)
        try:
            outcome = relay.follow(agent, on_event, should_stop)
        finally:
            _end(agent)
            relay.close()
    if agent.returncode == 0 and outcome.result is not None:
        _remove(scratch)
        return outcome.result
    raise RunFailed(outcome.explain(agent.returncode, log))


def _write_config(config: RunConfig, folder: Path) -> Path:
    path = folder / "config.json"
    path.write_text(config.to_json())
    return path


def _end(agent: subprocess.Popen) -> None:
    """Let the agent finish (it ends its ranks first); end it when it is still there after a minute
    or when the caller is leaving early (Ctrl-C: the agent passes SIGTERM on to the ranks)."""
    if agent.poll() is None:
        agent.terminate()
        try:
            agent.wait(timeout=60)
        except subprocess.TimeoutExpired:
            agent.kill()
            agent.wait()


def _remove(folder: Path) -> None:
    for item in folder.iterdir():
        item.unlink()
    folder.rmdir()


@dataclass
class _Outcome:
    """What the ranks said: rank 0's result, the run folder, the first failure of each kind."""

    result: Any = None
    run_dir: str = ""
    failure: str = ""  # a rank's own error
    death: str = ""  # a rank whose connection closed without a word
    consequence: str = ""  # what a rank met because another failed: SIGTERM, a peer gone in a collective
    said_goodbye: set[int] = field(default_factory=set)

    def explain(self, returncode: int | None, log: Path) -> str:
        cause = self.failure or self.death or self.consequence or f"torchrun ended with exit code {returncode}"
        resume = f"; resume with: main.py train --resume {self.run_dir}" if self.run_dir else ""
        return f"{cause}{resume} (torchrun's log: {log})"


class _Relay:
    """The caller's end of the connections to the ranks."""

    def __init__(self, listener: Listener, ranks: int):
        self.listener, self.ranks = listener, ranks
        self.connections: dict[Connection, int | None] = {}  # connection → rank (None until it says)
        self._accepted: list[Connection] = []  # handed over to ``connections`` by ``follow``
        self._closing: list[Connection] = []  # every connection, to close at the end
        self._lock = threading.Lock()
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._accepting.start()

    def _accept(self) -> None:
        for _ in range(self.ranks):
            try:
                connection = self.listener.accept()
            except (OSError, EOFError):  # the listener closed: the run ended before every rank called
                return
            with self._lock:
                self._accepted.append(connection)

    def follow(self, agent: subprocess.Popen, on_event: EventSink, should_stop: StopFlag) -> _Outcome:
        outcome, stop_sent = _Outcome(), False
        while True:
            with self._lock:
                for connection in self._accepted:
                    self.connections[connection] = None
                self._closing += self._accepted
                self._accepted = []
            if self.connections:
                ready = wait(list(self.connections), timeout=POLL_S)
            else:
                ready = []
                time.sleep(POLL_S)
            for connection in ready:
                self._receive(connection, outcome, on_event)
            if not stop_sent and should_stop():
                stop_sent = self._send_stop()
            if agent.poll() is not None and not ready:
                return outcome

    def _receive(self, connection: Connection, outcome: _Outcome, on_event: EventSink) -> None:
        rank = self.connections[connection]
        try:
            kind, *payload = connection.recv()
        except (EOFError, OSError):
            del self.connections[connection]
            if rank is not None and rank not in outcome.said_goodbye and not outcome.death:
                outcome.death = f"rank {rank} ended without a word (killed, or out of memory?)"
            return
        if kind == "hello":
            self.connections[connection] = payload[0]
        elif kind == "event":
            if isinstance(payload[0], RunStarted):
                outcome.run_dir = str(payload[0].run_dir)
            on_event(payload[0])
        elif kind == "result":
            outcome.result = payload[0]
            outcome.said_goodbye.add(rank)
        elif kind == "done":
            outcome.said_goodbye.add(rank)
        elif kind == "failed":
            line, consequence = payload
            outcome.said_goodbye.add(rank)
            if consequence:
                outcome.consequence = outcome.consequence or line
            else:
                outcome.failure = outcome.failure or line

    def _send_stop(self) -> bool:
        for connection, rank in self.connections.items():
            if rank == 0:
                connection.send(("stop",))
                return True
        return False

    def close(self) -> None:
        with self._lock:
            for connection in self._closing + self._accepted:
                connection.close()


class RankRelay:
    """A rank's end: events and the outcome to the caller; the caller's stop request."""

    def __init__(self, address: str, rank: int):
        host, port, key = address.rsplit(":", 2)
        self.rank = rank
        self.connection = Client((host, int(port)), authkey=bytes.fromhex(key))
        self.connection.send(("hello", rank))
        self._stop = False

    def event(self, event: Any) -> None:
        self.connection.send(("event", event))

    def send(self, kind: str, *payload: Any) -> None:
        self.connection.send((kind, *payload))

    def finish(self, result: Any) -> None:
        """Rank 0 hands over the run's result; the others say they are done."""
        if self.rank == 0:
            self.send("result", result)
        else:
            self.send("done")

    def stop_asked(self) -> bool:
        """Whether the caller asked the run to stop (read without waiting)."""
        while not self._stop and self.connection.poll():
            self._stop = self.connection.recv()[0] == "stop"
        return self._stop


def serve_rank(config_file: str | None, resume: str | None, command: str) -> int:
    """One rank of a run started by :func:`run_processes`: ``train`` on this rank's share, its
    outcome to the caller. The exit code: 0, or 1 after a failure (which the caller reports)."""
    from engine.trainer import train
    from engine.events import ignore_event
    from engine.plugin.config import saved_run_config

    rank = int(os.environ.get("RANK", "0"))
    relay = RankRelay(os.environ[RELAY], rank)
    try:
        config = saved_run_config({"run": _read(config_file)}) if config_file else None
        result = train(config, on_event=relay.event if rank == 0 else ignore_event, should_stop=relay.stop_asked,
                       resume=resume, command=command)
    except BaseException as error:  # noqa: BLE001 (every way a rank ends is reported)
        relay.send("failed", f"rank {rank}: {describe_failure(error)}", is_consequence(error))
        if not isinstance(error, UserError):
            traceback.print_exc()  # into torchrun's log
        return 1
    relay.finish(result)
    return 0


def _read(path: str) -> dict:
    import json

    return json.loads(Path(path).read_text())


def is_consequence(error: BaseException) -> bool:
    """Whether ``error`` is what a rank meets when another one failed: torchrun's SIGTERM, Ctrl-C,
    or a collective whose peer is gone (gloo: "Connection closed by peer … a remote worker crashing")."""
    if isinstance(error, (Terminated, KeyboardInterrupt)):
        return True
    text = str(error)
    return isinstance(error, RuntimeError) and any(sign in text for sign in PEER_GONE)


PEER_GONE = ("Connection closed by peer", "Connection reset by peer", "remote worker crashing", "NCCL communicator")


def describe_failure(error: BaseException) -> str:
    """One line: a user error's own words, else the exception's kind and first line."""
    if isinstance(error, Terminated):
        return "ended by SIGTERM (torchrun ends every rank when one fails)"
    if isinstance(error, KeyboardInterrupt):
        return "interrupted"
    if isinstance(error, UserError):
        return str(error)
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:300]}" if text else type(error).__name__
