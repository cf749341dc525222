"""The CPU threads a run uses (fixed for a machine) and whether OpenMP spin-waits (from the load).

Must stay importable before torch (OpenMP reads ``OMP_WAIT_POLICY`` when the library loads), so
this module imports nothing heavy.

**Threads are fixed** (issue 21): the thread count changes the order of floating-point sums in
the convolutions, so it changes a run's numbers (the demo gave HM 66.69 with 2 threads and 76.96
with 1). A run uses ``RunConfig.threads`` (``--threads N``); 0 means :func:`default_threads`, the
user's ``OMP_NUM_THREADS`` if exported, else one thread per usable CPU, never a count read from
the load. The count actually used is written into ``config.json`` and the run card.

**The wait policy follows the load**, since it changes speed and never results. Measured on the
project's 2-core machine (``tools/measure_threads.py``, docs/benchmarks.md): with other jobs
keeping the load at 5–10, OpenMP's default spin-waiting with 2 threads took 84 s wall and 31 s
of CPU for a job that took 23 s wall and 11 s of CPU with ``PASSIVE`` waiting; on an idle machine
spinning is ~13 % faster. Being wrong towards ``PASSIVE`` costs at most that 13 %, being wrong
towards spinning costs 4×, so the CLI spins only when the CPUs are idle right now:

- the busy CPUs are sampled from ``/proc/stat`` over 50 ms (what runs *now*, not the 1-minute
  load average, which still counts this program's own previous run); elsewhere the 1-minute
  load average stands in;
- fewer than half a CPU busy → OpenMP's default (spin); otherwise ``OMP_WAIT_POLICY=PASSIVE``.

A wait policy the user exported is never changed. The decision is left in ``LTS_CPU_POLICY``.
"""
from __future__ import annotations

import os
import time
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass

IDLE_BELOW = 0.5  # busy CPUs under this count as an idle machine
SAMPLE_SECONDS = 0.05


@dataclass(frozen=True)
class CpuPolicy:
    wait_policy: str | None  # None: OpenMP's default (spin for a while, then sleep)
    reason: str


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def default_threads(environ: Mapping[str, str] = os.environ) -> int:
    """The thread count of a run that does not set one: ``OMP_NUM_THREADS`` when the user exported
    a whole number, else the usable CPUs. The same on a machine whatever its load."""
    try:
        exported = int(environ.get("OMP_NUM_THREADS", ""))
    except ValueError:
        exported = 0
    return exported if exported > 0 else usable_cpus()


def _proc_stat() -> tuple[int, int] | None:
    """(busy, total) jiffies of all CPUs since boot, or None where /proc/stat is missing."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = [int(v) for v in stat.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def busy_cpus(cpus: int, sample_seconds: float = SAMPLE_SECONDS) -> float:
    """CPUs kept busy by other programs right now (this one is idle while it samples)."""
    first = _proc_stat()
    if first is not None:
        time.sleep(sample_seconds)
        second = _proc_stat()
        if second is not None and second[1] > first[1]:
            return cpus * (second[0] - first[0]) / (second[1] - first[1])
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0.0


def choose(cpus: int, busy: float) -> CpuPolicy:
    """The wait policy for ``cpus`` usable CPUs of which ``busy`` are used by others."""
    if busy < IDLE_BELOW:
        return CpuPolicy(None, f"idle ({busy:.1f} of {cpus} CPUs busy): spin-wait")
    return CpuPolicy("PASSIVE", f"busy ({busy:.1f} of {cpus} CPUs busy): passive wait")


def apply_cli_policy(environ: MutableMapping[str, str] = os.environ) -> CpuPolicy:
    """Choose and set ``OMP_WAIT_POLICY`` unless the user set it. Never touches the thread count."""
    if "OMP_WAIT_POLICY" in environ:
        policy = CpuPolicy(environ["OMP_WAIT_POLICY"], "set by the user")
    else:
        cpus = usable_cpus()
        policy = choose(cpus, busy_cpus(cpus))
        if policy.wait_policy is not None:
            environ["OMP_WAIT_POLICY"] = policy.wait_policy
    environ["LTS_CPU_POLICY"] = policy.reason
    return policy


def busy_neighbour(started) -> None:
    """Keep one CPU busy until terminated (a process target of ``engine.precision_probe``; light to
    import, so a spawned neighbour is spinning within a fraction of a second)."""
    started.put(os.getpid())
    while True:
        pass
