"""What tests/test_distributed.py runs on several CPU processes (gloo), and on one for comparison.

``python tests/ddp_scenarios.py OUT`` is one rank (RANK / WORLD_SIZE / MASTER_ADDR / MASTER_PORT in
its environment, as torchrun sets them; :func:`launch` starts them): it joins the process group
through the engine's own ``engine.distributed.world.joined``, runs every scenario and saves what
it saw to ``OUT/rank<r>.pt``. The test process runs the same scenarios without a process group
(one process) for the reference. One launch serves every test: starting processes costs seconds.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from data.types import LTDataset  # noqa: E402
from engine.batch import Batch  # noqa: E402
from engine.config import DataConfig, MethodConfig, ModelConfig, OptimConfig, RunConfig  # noqa: E402
from engine.distributed.replicated import ReplicatedModel  # noqa: E402
from engine.distributed.world import World, joined  # noqa: E402
from engine.events import EpochEnd, never_stop  # noqa: E402
from engine.features import extract_features  # noqa: E402
from engine.loop import Loop, RunPlan  # noqa: E402
from engine.methods import available_methods, build_method  # noqa: E402
from engine.stages import Stage  # noqa: E402
from engine.trainer import plan_run  # noqa: E402
from models import LTModel, ModelOutput, ModelSpec, create_model, spec_for  # noqa: E402

CPU = torch.device("cpu")
GLOBAL_BATCH = 13  # odd: the two ranks' shares differ (7 and 6), and 75 images leave a last batch of 10
# a per-sample mean, two losses of batch statistics (gathered), and SAM's two passes per step
SHARED_RUNS = {"ce": ("ce", "sgd"), "gml": ("gml", "sgd"), "lade": ("lade", "sgd"), "ce-sam": ("ce", "sam")}
CONTRACT_PARAMS = {"mislas": {"stage2_epochs": 1.0}, "ride": {"router_epochs": 1.0, "router_batch_size": 16.0},
                   "paco": {"queue_size": 64.0}}


def dataset(size: int = 12) -> LTDataset:
    """Four classes told apart by colour, 40/20/10/5 training images (tests/test_trainer.py's)."""
    from tests.test_trainer import tiny_dataset

    return tiny_dataset(size)


class BatchNormFree(LTModel):
    """A convolution, a ReLU, average pooling and a linear head: no batch statistics, so a step on
    two shares of a batch is the step on the whole batch."""

    def __init__(self, num_classes: int):
        super().__init__()
        self.spec = ModelSpec("test_plain", "plain", num_classes, "linear")
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Linear(8, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return F.adaptive_avg_pool2d(F.relu(self.conv(x)), 1).flatten(1)

    def classify(self, features: torch.Tensor, heads=None) -> ModelOutput:
        return ModelOutput(logits=(heads or self.heads())["fc"](features), features=features)

    def heads(self) -> dict[str, nn.Module]:
        return {"fc": self.fc}

    def parts(self) -> dict[str, list[nn.Module]]:
        return {"backbone": [self.conv], "heads": [self.fc]}


def shared_batch_run(name: str, world: World) -> dict:
    """Three epochs of the loss and optimiser ``SHARED_RUNS[name]`` on the BN-free model at global
    batch 13, augmentation off."""
    loss, optimizer = SHARED_RUNS[name]
    data = dataset()
    torch.manual_seed(0)
    model = BatchNormFree(data.num_classes)
    method = build_method(loss, data.class_counts, {}, 3)
    stage = Stage("train", OptimConfig(epochs=3, batch_size=GLOBAL_BATCH, lr=0.05, warmup_epochs=0,
                                       optimizer=optimizer), views=("none",))
    plan = RunPlan("train", data, CPU, model, method, [stage], 0, data.mean, data.std, save_model=False, world=world)
    ends: list[EpochEnd] = []
    with Loop(plan, None) as loop:
        loop.run_stages(lambda event: ends.append(event) if isinstance(event, EpochEnd) else None, never_stop)
    return {"state": {k: v.clone() for k, v in model.state_dict().items()},
            "train_loss": [end.train.loss for end in ends],
            "train_support": [torch.tensor(end.train.confusion).sum(1) for end in ends],
            "test_matrix": [torch.tensor(end.test.confusion) for end in ends]}


def paco_queue(world: World) -> dict:
    """One PaCo step on four images per rank: the queue after it, and this rank's keys."""
    data = dataset()
    torch.manual_seed(0)
    method = build_method("paco", data.class_counts, {"queue_size": 32.0}, 1)
    model = create_model(method.model_spec(spec_for("resnet20", data.num_classes)))
    images = data.images("train").images[8 * world.rank:8 * world.rank + 4].float() / 255
    labels = data.train_labels[8 * world.rank:8 * world.rank + 4]
    stage = method.stages(RunConfig())[0]
    step_model = ReplicatedModel(model, CPU) if world.distributed else model
    model.train()
    keys = model.keys(images)
    loss, _ = method.training_step(step_model, Batch([images, images], labels), stage)
    loss.backward()
    return {"keys": keys, "labels": labels, "queue": model.queue.clone(), "queue_labels": model.queue_labels.clone(),
            "pointer": int(model.queue_ptr)}


def features(world: World) -> dict:
    """The trunk features of the held-out split (each rank extracts its share; all gather)."""
    data = dataset()
    torch.manual_seed(0)
    model = create_model(spec_for("resnet20", data.num_classes)).eval()
    cached = extract_features(model, data.images("test"), data.mean, data.std)
    return {"features": cached.features.float(), "present": cached.present}


def contract(world: World) -> dict:
    """Every method (but distillation, which needs a teacher file) through its own stages on the
    tiny data: the optimiser's momentum after the last step, per method (DDP made it the same on
    every rank if every gradient went through it)."""
    data = dataset()
    momenta = {}
    for name in sorted(available_methods()):
        if available_methods()[name].needs_teacher or available_methods()[name].repair_only:
            continue  # repair-only methods train in the plug-in (its features: test_feature_extraction_…)
        config = RunConfig(data=DataConfig(dataset="demo"), model=ModelConfig(arch="resnet20"),
                           method=MethodConfig(loss=name, params=CONTRACT_PARAMS.get(name, {})),
                           optim=OptimConfig(epochs=1, batch_size=16, lr=0.05, warmup_epochs=0))
        torch.manual_seed(0)
        plan = replace(plan_run(config, data, CPU), save_model=False, world=world)
        plan.stages = [replace(stage, optim=replace(stage.optim, batch_size=16)) for stage in plan.stages]
        with Loop(plan, None) as loop:
            loop.run_stages(lambda _event: None, never_stop)
            buffers = [state["momentum_buffer"] for state in loop.optimizer.state.values()]
        momenta[name] = torch.cat([buffer.flatten() for buffer in buffers])
        if name == "paco":  # its momentum encoder, updated on every rank without a collective
            momenta["paco key encoder"] = torch.cat([p.detach().flatten() for p in plan.model.encoder_k.parameters()])
    return momenta


def run_all(world: World) -> dict:
    return {"shared": {name: shared_batch_run(name, world) for name in SHARED_RUNS},
            "paco": paco_queue(world), "features": features(world), "contract": contract(world)}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launch(out: Path, ranks: int = 2, timeout: float = 600) -> list[dict]:
    """Run :func:`run_all` on ``ranks`` processes (gloo); what each rank saw, in rank order."""
    port = free_port()
    processes = []
    for rank in range(ranks):
        env = {**os.environ, "RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": str(ranks),
               "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "OMP_NUM_THREADS": "1"}
        processes.append(subprocess.Popen([sys.executable, __file__, str(out)], env=env, cwd=ROOT,
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outputs = [process.communicate(timeout=timeout)[0] for process in processes]
    for rank, (process, output) in enumerate(zip(processes, outputs)):
        assert process.returncode == 0, f"rank {rank} failed:\n{output[-3000:]}"
    return [torch.load(out / f"rank{rank}.pt", weights_only=True) for rank in range(ranks)]


if __name__ == "__main__":
    torch.set_num_threads(1)
    with joined("cpu", timeout_s=120) as (world, _device):
        results = run_all(world)
    torch.save(results, Path(sys.argv[1]) / f"rank{world.rank}.pt")
