"""Measure OpenMP's wait policy and thread count for the CLI on this (shared) machine.

Runs the same small training job (``--steps`` ResNet-32 steps of batch 128 in a fresh process)
under each setting, the settings interleaved for ``--rounds`` rounds, and reports per setting the
median wall time and the CPU time it burned (user + sys of the child), with the load average.
A setting that spins burns CPU the neighbours wanted; on a busy machine it can also be slower.

Usage: ``python tools/measure_threads.py [--steps 6] [--rounds 3]``
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

JOB = """
import torch, time
from torch.nn import functional as F
from models import build_model
torch.manual_seed(0)
model = build_model("resnet32", 100)
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
x = torch.randn(128, 3, 32, 32).contiguous(memory_format=torch.channels_last)
y = torch.randint(0, 100, (128,))
def step():
    loss = F.cross_entropy(model(x), y); opt.zero_grad(); loss.backward(); opt.step()
step()
for _ in range({steps}):
    step()
"""

SETTINGS = {
    "spin, all threads": {},
    "PASSIVE, all threads": {"OMP_WAIT_POLICY": "PASSIVE"},
    "PASSIVE, 1 thread": {"OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": "1"},
    "spin, 1 thread": {"OMP_NUM_THREADS": "1"},
}


def run_once(env_changes: dict[str, str], steps: int) -> tuple[float, float]:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS")}
    env.update(env_changes)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", JOB.format(steps=steps)], env=env, check=True,
                   cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    loads = [os.getloadavg()[0]]
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in SETTINGS}
    for round_ in range(args.rounds):
        names = list(SETTINGS) if round_ % 2 == 0 else list(reversed(SETTINGS))
        for name in names:
            results[name].append(run_once(SETTINGS[name], args.steps))
            loads.append(os.getloadavg()[0])
    print(f"{os.cpu_count()} CPUs; load average (1 min) during the runs: {min(loads):.2f}-{max(loads):.2f}")
    for name, runs in results.items():
        print(f"  {name:22} wall {statistics.median(w for w, _ in runs):6.2f} s   "
              f"CPU {statistics.median(c for _, c in runs):6.2f} s   (runs: "
              + ", ".join(f"{w:.1f}/{c:.1f}" for w, c in runs) + ")")


if __name__ == "__main__":
    main()
