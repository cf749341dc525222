"""How many CPU threads the CLI uses and whether OpenMP spin-waits, chosen from the machine's load.

Must run before torch is imported (OpenMP reads ``OMP_WAIT_POLICY`` when the library loads), so
this module imports nothing heavy. Measured on the project's 2-core machine
(``tools/measure_threads.py``, docs/benchmarks.md): with other jobs keeping the load at 5–10,
the default spin-waiting with 2 threads took 84 s wall and 31 s of CPU for a job that took
18–23 s wall and 10–11 s of CPU with ``PASSIVE`` waiting; on an idle machine spinning is ~13 %
faster. Being wrong towards ``PASSIVE`` costs at most that 13 %, being wrong towards spinning
costs 4×, so the CLI spins only when the CPUs are idle right now:

- the busy CPUs are sampled from ``/proc/stat`` over 50 ms (what runs *now*, not the 1-minute
  load average, which still counts this program's own previous run); elsewhere the 1-minute
  load average stands in;
- fewer than half a CPU busy → the defaults (spin, one thread per CPU);
- otherwise ``OMP_WAIT_POLICY=PASSIVE`` and one thread per CPU left free (at least one).

Variables the user set are never changed. The decision is left in ``LTS_CPU_POLICY`` for reports.
"""
from __future__ import annotations

import os
import time
from collections.abc import MutableMapping
from dataclasses import dataclass

IDLE_BELOW = 0.5  # busy CPUs under this count as an idle machine
SAMPLE_SECONDS = 0.05


@dataclass(frozen=True)
class CpuPolicy:
    wait_policy: str | None  # None: OpenMP's default (spin for a while, then sleep)
    threads: int | None  # None: torch's default (one per CPU)
    reason: str


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


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
    """The policy for ``cpus`` usable CPUs of which ``busy`` are used by others."""
    if busy < IDLE_BELOW:
        return CpuPolicy(None, None, f"idle ({busy:.1f} of {cpus} CPUs busy): spin-wait, {cpus} threads")
    threads = max(1, min(cpus, round(cpus - busy)))
    return CpuPolicy("PASSIVE", threads, f"busy ({busy:.1f} of {cpus} CPUs busy): passive wait, {threads} thread(s)")


def apply_cli_policy(environ: MutableMapping[str, str] = os.environ) -> CpuPolicy:
    """Choose and set ``OMP_WAIT_POLICY`` / ``OMP_NUM_THREADS`` unless the user set them."""
    if "OMP_WAIT_POLICY" in environ and "OMP_NUM_THREADS" in environ:
        policy = CpuPolicy(environ["OMP_WAIT_POLICY"], None, "set by the user")
    else:
        cpus = usable_cpus()
        policy = choose(cpus, busy_cpus(cpus))
        if policy.wait_policy is not None:
            environ.setdefault("OMP_WAIT_POLICY", policy.wait_policy)
        if policy.threads is not None:
            environ.setdefault("OMP_NUM_THREADS", str(policy.threads))
    environ["LTS_CPU_POLICY"] = policy.reason
    return policy
