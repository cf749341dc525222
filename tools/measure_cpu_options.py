"""Measure the speed options the training loop could default to, on this machine.

ResNet-32, batch 128, CIFAR-sized inputs, channels-last (the models' layout). Each comparison
interleaves its variants in short blocks (``--steps`` steps each) for ``--rounds`` rounds and
reports the median time per step of every variant and the median of the per-round ratios, so
a busy neighbour hits both sides alike. Sections (``--only``, comma-separated):

- ``bf16``: fp32 vs bf16 autocast vs the precision policy (bf16 with the heads and the
  convolutions this machine measured slow in bf16 kept in fp32, ``engine.precision``), a training
  step and a BN-folded inference forward;
- ``sgd``: ``torch.optim.SGD`` default vs ``foreach=True`` vs ``fused=True`` (the whole step);
- ``compile``: ``torch.compile`` of the model for the training step and of the folded eval
  model (compile time = the first call, then steady state vs eager).

Usage: ``python tools/measure_cpu_options.py [--only bf16,sgd,compile] [--steps 3] [--rounds 5]``
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from engine.fold import folded_copy  # noqa: E402
from models import build_model  # noqa: E402

BATCH, CLASSES = 128, 100


def batch(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    images = torch.randn(BATCH, 3, 32, 32, generator=generator).contiguous(memory_format=torch.channels_last)
    return images, torch.randint(0, CLASSES, (BATCH,), generator=generator)


def train_step(model, optimizer, images, labels, dtype: torch.dtype | None) -> Callable[[], None]:
    def step() -> None:
        with torch.autocast("cpu", dtype=dtype or torch.float32, enabled=dtype is not None):
            loss = F.cross_entropy(model(images).logits, labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return step


def eval_step(model, images, dtype: torch.dtype | None) -> Callable[[], None]:
    @torch.inference_mode()
    def step() -> None:
        with torch.autocast("cpu", dtype=dtype or torch.float32, enabled=dtype is not None):
            model(images).logits.float()
    return step


def interleave(variants: dict[str, Callable[[], None]], steps: int, rounds: int) -> dict[str, list[float]]:
    """Seconds per step of every variant, one block of ``steps`` per variant per round."""
    for fn in variants.values():  # warm-up block, not timed
        fn()
    times: dict[str, list[float]] = {name: [] for name in variants}
    for round_ in range(rounds):
        names = list(variants) if round_ % 2 == 0 else list(reversed(variants))
        for name in names:
            started = time.perf_counter()
            for _ in range(steps):
                variants[name]()
            times[name].append((time.perf_counter() - started) / steps)
    return times


def report(title: str, times: dict[str, list[float]], per_second: int = BATCH) -> None:
    names = list(times)
    reference = names[0]
    print(f"\n{title}  (load {os.getloadavg()[0]:.2f}, {torch.get_num_threads()} threads)")
    for name in names:
        ratios = [r / t for r, t in zip(times[reference], times[name])]
        print(f"  {name:28} {1000 * statistics.median(times[name]):8.1f} ms/step "
              f"{per_second / statistics.median(times[name]):8.0f} img/s   "
              f"speed vs {reference}: median {statistics.median(ratios):.2f}x "
              f"(min {min(ratios):.2f}, max {max(ratios):.2f})")


def fresh(seed: int = 0):
    torch.manual_seed(seed)
    return build_model("resnet32", CLASSES)


def measure_bf16(steps: int, rounds: int) -> None:
    from engine.precision import BF16, resolve

    images, labels = batch()
    policy = resolve(BF16, None, fresh(), torch.device("cpu"), BATCH, 32, report=print)
    print(f"policy: {policy.describe()}")
    models = {"fp32": fresh(), "bf16": fresh(), "bf16 policy": policy.apply(fresh())}
    dtypes = {"fp32": None, "bf16": torch.bfloat16, "bf16 policy": torch.bfloat16}
    train = {name: train_step(m, torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, weight_decay=2e-4),
                              images, labels, dtypes[name])
             for name, m in models.items()}
    report("training step, fp32 vs bf16 autocast vs the policy", interleave(train, steps, rounds))
    folded = folded_copy(fresh())
    folded_policy = folded_copy(policy.apply(fresh()))
    infer = {"fp32": eval_step(folded, images, None), "bf16": eval_step(folded, images, torch.bfloat16),
             "bf16 policy": eval_step(folded_policy, images, torch.bfloat16)}
    report("inference forward (BN-folded), fp32 vs bf16 autocast vs the policy", interleave(infer, steps * 3, rounds))


def measure_sgd(steps: int, rounds: int) -> None:
    images, labels = batch()
    variants = {}
    for name, options in (("default", {}), ("foreach", {"foreach": True}), ("fused", {"fused": True})):
        model = fresh()
        try:
            optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=2e-4, **options)
            train_step(model, optimizer, images, labels, None)()
        except (RuntimeError, ValueError) as error:
            print(f"SGD {name}: not available here ({error})")
            continue
        variants[name] = train_step(model, optimizer, images, labels, None)
    report("training step, SGD variants", interleave(variants, steps, rounds))
    # the optimiser step alone: ResNet-32 has ~0.47 M parameters in ~100 tensors
    opt_only = {}
    for name, options in (("default", {}), ("foreach", {"foreach": True}), ("fused", {"fused": True})):
        model = fresh()
        for p in model.parameters():
            p.grad = torch.randn_like(p)
        try:
            optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=2e-4, **options)
            optimizer.step()
        except (RuntimeError, ValueError):
            continue
        opt_only[name] = optimizer.step
    report("optimizer.step() alone, SGD variants", interleave(opt_only, 50, rounds), per_second=1)


def measure_compile(steps: int, rounds: int) -> None:
    images, labels = batch()
    eager, compiled_model = fresh(), fresh()
    opt_e = torch.optim.SGD(eager.parameters(), lr=0.1, momentum=0.9, weight_decay=2e-4)
    opt_c = torch.optim.SGD(compiled_model.parameters(), lr=0.1, momentum=0.9, weight_decay=2e-4)
    compiled = torch.compile(compiled_model)
    step_c = train_step(compiled, opt_c, images, labels, None)
    started = time.perf_counter()
    step_c()
    print(f"\ntorch.compile training step: first call (compile) {time.perf_counter() - started:.1f} s")
    report("training step, eager vs torch.compile(model)",
           interleave({"eager": train_step(eager, opt_e, images, labels, None), "compiled": step_c}, steps, rounds))
    folded = folded_copy(fresh())
    folded_compiled = torch.compile(folded_copy(fresh()))
    step_fc = eval_step(folded_compiled, images, None)
    started = time.perf_counter()
    step_fc()
    print(f"\ntorch.compile eval forward: first call (compile) {time.perf_counter() - started:.1f} s")
    report("inference forward (BN-folded), eager vs torch.compile",
           interleave({"eager": eval_step(folded, images, None), "compiled": step_fc}, steps * 3, rounds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="bf16,sgd,compile")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, {torch.get_num_threads()} threads, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}, "
          f"oneDNN bf16: {torch.backends.mkldnn.is_available()}")
    for name in args.only.split(","):
        {"bf16": measure_bf16, "sgd": measure_sgd, "compile": measure_compile}[name.strip()](args.steps, args.rounds)


if __name__ == "__main__":
    main()
