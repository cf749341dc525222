"""Time RIDE's pieces against a plain ResNet-32 step: ``python tools/measure_ride.py`` (docs/ride.md).

One CIFAR-100-sized batch (128 images, 32×32, 100 classes, the IF-100 class counts) per piece:
a training step (forward, loss, backward, Nesterov SGD step) of CE on a ResNet-32, of RIDE with 3
and with 6 experts, of RIDE + distillation (3 experts + a 6-expert teacher's forward), a router
step (batch 512, experts frozen), the two augmentations, and inference with every expert and
routed. Each number is the best of ``--repeats`` timings after one warm-up call.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data.augment import AUGMENTATIONS  # noqa: E402
from engine.batch import Batch  # noqa: E402
from engine.config import RunConfig  # noqa: E402
from engine.methods import build_method  # noqa: E402
from engine.prediction import PredictionRule  # noqa: E402
from models import create_model, spec_for  # noqa: E402

COUNTS = torch.tensor([max(1, int(500 * 0.01 ** (i / 99))) for i in range(100)])
BASE = spec_for("resnet32", 100)


def best_of(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def train_step(name: str, params: dict, batch: Batch, stage: str = "train"):
    method = build_method(name, COUNTS, params)
    model = create_model(method.model_spec(BASE)).train()
    if name == "ride_distill":
        teacher_method = build_method("ride_teacher", COUNTS)
        method.use_teacher(create_model(teacher_method.model_spec(BASE)), PredictionRule(teacher_method))
    run = RunConfig()
    run.method.teacher = "teacher.pt"  # only named: the teacher above is handed over directly
    chosen = next(s for s in method.stages(run) if s.name == stage)
    training_step = chosen.step or method.training_step
    if stage == "router":
        model.eval().requires_grad_(False)
        for module in model.parts()["router"]:
            module.requires_grad_(True)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01, momentum=0.9,
                                nesterov=True)

    def step() -> None:
        loss, _ = training_step(model, batch, chosen)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return step, model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    generator = torch.Generator().manual_seed(0)
    images = torch.randn(512, 3, 32, 32, generator=generator).contiguous(memory_format=torch.channels_last)
    labels = torch.randint(0, 100, (512,), generator=generator)
    batch = Batch([images[:128]], labels[:128])
    rows = {}
    for title, name, params in [("CE, ResNet-32", "ce", {}), ("RIDE, 3 experts", "ride", {"router_epochs": 0}),
                                ("RIDE teacher, 6 experts", "ride_teacher", {}),
                                ("RIDE + distillation (3 + teacher 6)", "ride_distill", {"router_epochs": 0})]:
        rows[f"train step: {title}"] = best_of(train_step(name, params, batch)[0], args.repeats)
    step, model = train_step("ride", {}, Batch([images], labels), stage="router")
    rows["router step (batch 512)"] = best_of(step, args.repeats)
    uint8 = torch.randint(0, 256, (128, 3, 32, 32), dtype=torch.uint8, generator=generator)
    for view in ("crop_flip", "crop_flip_rotate15"):
        rows[f"augment {view}"] = best_of(lambda view=view: AUGMENTATIONS[view](uint8, generator), 10)
    with torch.inference_mode():
        rows["inference, all 3 experts"] = best_of(lambda: model(images[:128]), args.repeats)
        for bias, label in ((-100.0, "expert 0 only"), (100.0, "router calls all 3")):
            model.expert_help_pred_fc.bias.fill_(bias)
            rows[f"inference, routed: {label}"] = best_of(lambda: model.routed(images[:128]), args.repeats)
    print(f"torch threads: {torch.get_num_threads()}; batch 128 unless noted; best of {args.repeats}")
    ce = rows["train step: CE, ResNet-32"]
    for title, seconds in rows.items():
        ratio = f"  ({seconds / ce:.2f}× CE step)" if title.startswith(("train", "router")) else ""
        print(f"{title:45s} {1000 * seconds:8.1f} ms{ratio}")


if __name__ == "__main__":
    main()
