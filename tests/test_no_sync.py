"""The training step never makes the host wait for the device (tests/sync_guard.py), and the loop's
per-epoch training metrics are the numbers the old per-batch bincount loop gave."""
from __future__ import annotations

import ast
import inspect
import math
import textwrap

import pytest
import torch

from data.tensors import augment_batch, normalize
from engine.batch import Batch
from engine.epoch_stats import EpochStats
from engine.methods import available_methods, build_method
from engine.config import OptimConfig, RunConfig
from engine.hooks import MaxNorm, make_hook
from engine.sam import SharpnessAware, first_pass_statistics
from engine.prediction import PredictionRule
from engine.stages import Stage
from models import create_model, spec_for
from tests.sync_guard import HostSync, allow_host_sync, forbid_host_sync

COUNTS = torch.tensor([40, 20, 10, 5, 3, 2])


def test_the_guard_catches_each_kind_of_sync_and_lets_device_work_through():
    x = torch.arange(6.0)
    for sync in (lambda: x.sum().item(), lambda: float(x.sum()), lambda: bool(x.sum() > 0), lambda: x.tolist(),
                 lambda: x.cpu(), lambda: torch.bincount(x.long()), lambda: x[x > 2],
                 lambda: x.nonzero(), lambda: torch.unique(x)):
        with forbid_host_sync(), pytest.raises(HostSync):
            sync()
    with forbid_host_sync():
        y = torch.where(x > 2, x, 0.0)[torch.tensor([0, 3, 4])]
        y.index_add_(0, torch.tensor([0, 0]), torch.ones(2))
    assert y.tolist() == [2.0, 3.0, 4.0]  # and the guard is gone afterwards


def _steps(method_name: str) -> None:
    """Two optimiser steps of every stage of the method (its own step and hooks, as the loop runs them)."""
    torch.manual_seed(0)
    method = build_method(method_name, COUNTS, None, 10)
    method.on_epoch_start(6)  # past any warm-up or curriculum start
    base = spec_for("resnet20", len(COUNTS))
    model = create_model(method.model_spec(base))
    if method.needs_teacher:  # distillation: a teacher of the same kind
        method.use_teacher(create_model(method.model_spec(base)), PredictionRule(method))
    run = RunConfig()
    run.method.teacher = "named.pt"
    if method.repair_only:  # the plug-in's stage: what the repair trains, on a trained model's frozen backbone
        method.prepare_repair(model)
        stages = [Stage("repair", OptimConfig(epochs=1), trains=method.repair_trains, batchnorm="frozen")] \
            if method.repair_trains else []  # τ-norm trains nothing
    else:
        stages = method.stages(run)
    for stage in stages:
        _stage_steps(method, model, stage)


def _stage_steps(method, model, stage, sam: bool = False, adaptive: bool = False) -> None:
    views = len(stage.views)  # PaCo trains on a query and a key view
    hooks = [make_hook(hook) for hook in stage.hooks]
    for hook in hooks:
        hook.on_stage_start(model, stage)
    step = stage.step or method.training_step
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=2e-4, foreach=True)
    perturbation = SharpnessAware(optimizer, rho=0.05, adaptive=adaptive) if sam else None
    images = torch.randint(0, 256, (8, 3, 16, 16), dtype=torch.uint8)
    labels = torch.tensor([0, 0, 1, 2, 2, 3, 4, 1])  # class 5 absent, as in most batches
    generator = torch.Generator().manual_seed(1)
    stats = EpochStats(len(COUNTS), "cpu")
    mean, std = (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)
    normalize(images, mean, std)  # the cached constants are made once, before the first step
    with forbid_host_sync():
        for _ in range(2):
            batch = [normalize(augment_batch(images, generator), mean, std) for _ in range(views)]
            loss, logits = step(model, Batch(batch, labels), stage)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if perturbation is not None:  # SAM: the second pass at w + ε, BatchNorm statistics kept
                perturbation.perturb()
                with first_pass_statistics(model):
                    again, _ = step(model, Batch(batch, labels), stage)
                    optimizer.zero_grad(set_to_none=True)
                    again.backward()
                perturbation.restore()
            optimizer.step()
            for hook in hooks:  # momentum encoders
                hook.after_step(model)
            stats.update(loss, logits, labels)
        for hook in hooks:
            hook.after_epoch(model)
    assert stats.samples == 16 and stats.finite()


@pytest.mark.parametrize("name", sorted(available_methods()))
def test_a_training_step_of_every_method_does_not_sync(name):
    _steps(name)


@pytest.mark.parametrize("every", ["step", "epoch"])
def test_the_max_norm_hook_does_not_sync(every):
    model = create_model(spec_for("resnet20", len(COUNTS)))
    stage = Stage("x", OptimConfig(epochs=1), hooks=(f"max_norm:0.1:{every}",))
    _stage_steps(build_method("ce", COUNTS, None, 10), model, stage)


@pytest.mark.parametrize("adaptive", [False, True])
def test_a_sam_step_does_not_sync(adaptive):
    model = create_model(spec_for("resnet20", len(COUNTS)))
    _stage_steps(build_method("ce", COUNTS, None, 10), model, Stage("x", OptimConfig(epochs=1)), sam=True,
                 adaptive=adaptive)


# --- the loop itself ---------------------------------------------------------------------------
SYNCING_METHODS = {"item", "tolist", "cpu", "numpy", "bincount", "nonzero", "unique", "masked_select", "argwhere",
                   "synchronize"}
SYNCING_BUILTINS = {"float", "int", "bool"}  # of a tensor: read its value on the host


def _syncing_calls(function) -> set[str]:
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute) and node.func.attr in SYNCING_METHODS:
                found.add("." + node.func.attr)
            elif isinstance(node.func, ast.Name) and node.func.id in SYNCING_BUILTINS | SYNCING_METHODS:
                found.add(node.func.id + "()")
    return found


def test_the_step_code_path_names_no_syncing_call():
    from data.sources import ResidentImages
    from engine.confusion_counts import ConfusionCounter
    from engine.loop import Loop
    from engine.methods.base import LossMethod
    from engine.methods.gml import GeometricMeanLoss

    from engine.methods.weight_balancing import class_balanced_softmax_bce

    for function in (Loop._step, Loop._forward_backward, Loop._make_batch, Loop._feature_batch,
                     ResidentImages.batches, EpochStats.update, ConfusionCounter.add, LossMethod.training_step,
                     GeometricMeanLoss.criterion, MaxNorm.after_step, MaxNorm.after_epoch, MaxNorm.project,
                     SharpnessAware.perturb, SharpnessAware.restore, first_pass_statistics,
                     class_balanced_softmax_bce):
        found = _syncing_calls(function)
        assert not found, f"{function.__qualname__} calls {sorted(found)}"


def _tiny_run(tmp_path, loss: str, monkeypatch, guard: bool, epochs: int = 1, optimizer: str = "sgd"):
    from engine.config import MethodConfig
    from engine.events import EpochEnd
    from engine.loop import Loop
    from engine.trainer import train
    from tests.test_trainer import tiny_config, tiny_dataset

    if guard:
        for name in ("_step", "_make_batch", "_feature_batch"):
            original = getattr(Loop, name)

            def guarded(self, *args, _original=original, **kwargs):
                with forbid_host_sync():
                    return _original(self, *args, **kwargs)
            monkeypatch.setattr(Loop, name, guarded)
        from data.sources import ResidentImages
        batches = ResidentImages.batches

        def guarded_batches(self, *args, **kwargs):  # each batch's gather and augmentation
            iterator = batches(self, *args, **kwargs)
            while True:
                with forbid_host_sync():
                    item = next(iterator, None)
                if item is None:
                    return
                yield item
        monkeypatch.setattr(ResidentImages, "batches", guarded_batches)
        import engine.loop
        draw = engine.loop.draw_beta

        def host_side_draw(*args, **kwargs):  # mixup's λ comes from a CPU generator: no device involved
            with allow_host_sync():
                return draw(*args, **kwargs)
        monkeypatch.setattr(engine.loop, "draw_beta", host_side_draw)
    config = tiny_config(tmp_path, epochs=epochs)
    config.method = MethodConfig(loss=loss)
    config.optim.optimizer = optimizer
    config.save_model = False
    events = []
    train(config, on_event=events.append, dataset=tiny_dataset(size=8))
    return [e for e in events if isinstance(e, EpochEnd)]


@pytest.mark.parametrize("loss, optimizer", [("gml", "sgd"), ("mislas", "sgd"), ("ce", "sam")])  # mislas: a mixup
def test_the_loops_step_and_batches_do_not_sync(tmp_path, monkeypatch, loss, optimizer):  # stage, then features
    epochs = _tiny_run(tmp_path, loss, monkeypatch, guard=True, optimizer=optimizer)
    assert epochs and all(math.isfinite(e.train.loss) for e in epochs)


def test_per_epoch_train_metrics_equal_the_old_bincount_computation(tmp_path, monkeypatch):
    from engine.metrics import compute_metrics, topk_hits

    seen = []
    update = EpochStats.update

    def recording(self, loss, logits, labels):
        if self.calibration is None:  # the training accumulator (evaluation's also sums calibration)
            seen.append((loss.detach().clone(), logits.detach().clone(), labels.clone()))
        update(self, loss, logits, labels)
    monkeypatch.setattr(EpochStats, "update", recording)
    [epoch] = _tiny_run(tmp_path, "ce", monkeypatch, guard=False)
    num_classes = 4
    confusion = torch.zeros(num_classes * num_classes, dtype=torch.int64)
    loss_sum, top5 = torch.zeros(()), torch.zeros((), dtype=torch.int64)
    for loss, logits, labels in seen:  # the loop before issue 14, written out
        loss_sum += loss * len(labels)
        confusion += torch.bincount(labels * num_classes + logits.argmax(1), minlength=num_classes ** 2)
        top5 += topk_hits(logits, labels)
    samples = sum(len(labels) for _, _, labels in seen)
    old = compute_metrics(confusion.reshape(num_classes, num_classes), torch.tensor([40, 20, 10, 5]),
                          loss=float(loss_sum) / samples, top5_correct=int(top5))
    assert samples == 75 and epoch.train.to_dict() == old.to_dict()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_on_a_gpu_the_step_passes_cudas_sync_debug_mode(tmp_path, monkeypatch):
    """Where a GPU is lent, CUDA itself reports every sync in the step (C++-level ones too)."""
    from engine.loop import Loop

    step = Loop._step

    def strict_step(self, *args, **kwargs):
        torch.cuda.set_sync_debug_mode("error")
        try:
            return step(self, *args, **kwargs)
        finally:
            torch.cuda.set_sync_debug_mode("default")
    monkeypatch.setattr(Loop, "_step", strict_step)
    epochs = _tiny_run(tmp_path, "gml", monkeypatch, guard=False)
    epochs += _tiny_run(tmp_path, "ce", monkeypatch, guard=False, optimizer="sam")  # SAM's two passes
    assert epochs and math.isfinite(epochs[-1].train.loss)
