"""The one training loop: every stage of every run (training, the GML plug-in, MiSLAS, …).

Its shape follows LDAM-DRW's ``train.py`` (github.com/kaidic/LDAM-DRW): per epoch set the
learning rate, let the method and the train rule react to the epoch, train on the long-tailed
split, evaluate on the held-out split with the method's prediction rule, commit the epoch.
What differs between methods lives in the method (``engine/methods``) and in the stage
(``engine/stages``): what trains, what BatchNorm does, where batches come from, which views,
the stage's own step, train rule and step hooks (``engine/hooks``).

The images come from a source per split (``data.sources``): resident uint8 tensors on the device
(CIFAR, the demo: augmented there per batch) or a streamed file list (the large benchmarks:
decoded and augmented by worker processes, copied in pinned memory). Both give uint8 views;
normalisation, mixup and the step are the same. The held-out split evaluated every epoch (and
whose ``best_metric`` picks ``best.pt``) is the validation split when the dataset has one, else
the test split; with a validation split the test split is measured once, at the end, with
``best.pt`` (:meth:`Loop.final_test`).

A :class:`RunPlan` says what to run; ``train`` (``engine.trainer``) and ``tune``
(``engine.plugin``) build one. :class:`Loop` runs it, saves one checkpoint per epoch with the
stage it is in, and resumes inside any stage.
"""
from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch

from data.augment import draw_beta, mixup
from errors import UserError
from data.samplers import SAMPLERS, shard_order
from data.sources import ImageSource
from data.tensors import normalize
from data.types import Dataset
from engine.batch import Batch
from engine.checkpoints import Checkpoint, load_checkpoint, load_weights_into
from engine.confusion import ConfusionRecord
from engine.config import OptimConfig
from engine.distributed.collectives import broadcast_object, broadcast_state, gather_rows, sum_over_ranks
from engine.distributed.replicated import ReplicatedModel
from engine.distributed.world import SOLO, World, rank_seed
from engine.epoch_stats import EpochStats
from engine.evaluation import evaluate, metrics_from_scores
from engine.events import EpochEnd, EventSink, Message, Progress, RunStopped, StopFlag
from engine.features import CACHE_DTYPE, EVAL_DTYPE, CachedFeatures, FeatureBank, extract_features
from engine.finite import NonFiniteError, assert_finite
from engine.fold import folded_copy
from engine.hooks import StepHook, make_hook
from engine.methods import Method
from engine.metrics import RECALL_FLOOR, Metrics
from engine.precision import Precision, autocast
from engine.prediction import PredictionRule
from engine.rules import TrainRule
from engine.runs import RunFolder, epoch_rows
from engine.sam import SharpnessAware, first_pass_statistics
from engine.schedule import learning_rate
from engine.speed import FoldedEvaluation, compile_mode, configure_backends, sgd_options, training_model
from engine.stages import ALL, Stage, check_stages
from models import LTModel

FINITE_CHECK_EVERY = 20  # batches between loss checks (each check synchronises the GPU)
EXPLODED_LOSS = 1e4  # a mean training loss above this has diverged (cross-entropy at chance is log C ≈ 4.6 for 100)


class TrainingDiverged(UserError):
    """The loss became NaN or infinite."""


def make_optimizer(optim: OptimConfig, groups: list[dict[str, Any]],
                   device: torch.device = torch.device("cpu")) -> torch.optim.Optimizer:
    """SGD (momentum, optional Nesterov; fused where PyTorch has it, ``engine.speed``) or Adam
    over the method's parameter groups. SAM's base optimiser is SGD (``engine.sam``)."""
    if optim.optimizer == "adam":
        return torch.optim.Adam(groups, lr=optim.lr, weight_decay=optim.weight_decay)
    return torch.optim.SGD(groups, lr=optim.lr, momentum=optim.momentum, weight_decay=optim.weight_decay,
                           nesterov=optim.nesterov, **sgd_options(device))


@dataclass
class RunPlan:
    """What one run is. ``train_rule`` applies to every stage that names none of its own;
    ``train_index`` limits training to part of the split (the plug-in's held-out search); ``meta``
    and ``heads`` go into every checkpoint beside the loop's own. ``world`` is this process's place
    in a run of several (each trains on its share of every global batch; rank 0 writes)."""

    kind: str  # "train" or "tune": what config.json holds
    dataset: Dataset
    device: torch.device
    model: LTModel
    method: Method
    stages: list[Stage]
    seed: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    train_rule: str = "none"
    reweight_beta: float = 0.9999
    drw_epoch: int = 0  # 1-based epoch DRW starts after (0: the stage's first learning-rate decay)
    best_metric: str = "test_hm"
    recall_floor: float = RECALL_FLOOR  # HM / GM / LR floor (the paper's 1e-3; 0 = unfloored)
    save_model: bool = True
    precision: Precision = field(default_factory=Precision)  # engine.precision: fp32, or bf16 with fp32 layers
    compile: bool = False  # torch.compile the model for the training step (engine.speed)
    train_index: torch.Tensor | None = None
    world: World = SOLO  # this process's rank among the run's processes (engine.distributed)
    meta: dict[str, Any] = field(default_factory=dict)
    heads: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict)


class Loop:
    """Runs a plan's stages: model, method, optimiser, generators, the best score so far."""

    def __init__(self, plan: RunPlan, run: RunFolder):
        self.plan, self.run = plan, run  # ``run`` is None on every rank but the writer
        self.model, self.method, self.device, self.world = plan.model, plan.method, plan.device, plan.world
        if plan.stages:
            check_stages(plan.stages, self.model, self.method)
        self.rule = PredictionRule(self.method)  # how the run's evaluations predict
        dataset = plan.dataset
        train = dataset.images("train")
        if plan.train_index is not None:
            train = train.subset(plan.train_index)
        self.train: ImageSource = train.to(self.device)
        self.train_labels = self.train.labels
        self.eval_split = "val" if "val" in dataset.split_names() else "test"
        self.held_out: ImageSource = dataset.images(self.eval_split).to(self.device)
        self.counts = dataset.class_counts
        self.order_generator = torch.Generator().manual_seed(plan.seed)
        self.mix_generator = torch.Generator().manual_seed(plan.seed + 3)
        # each rank augments its own images from its own stream (rank 0's is the one-process stream)
        self.augment_generator = torch.Generator(device=self.device).manual_seed(rank_seed(plan.seed + 1,
                                                                                           self.world.rank))
        plan.precision.apply(self.model)
        configure_backends(self.device)
        # what training_step calls: the model, or compiled (on CUDA: forward and backward in CUDA graphs);
        # with several processes the model under DDP, wrapped again at each stage start
        # (engine.distributed.replicated)
        compiled = plan.compile and not self.world.distributed
        self.step_model = training_model(self.model, compiled, report=self.log, device=self.device)
        self.graphs = compiled and compile_mode(self.device) is not None
        self.fold = FoldedEvaluation(self.device, self.log) if self.graphs else folded_copy
        self.total_epochs = sum(stage.epochs for stage in plan.stages)
        self.epochs_done = 0  # across stages
        self.stage_index, self.stage_epochs_done = 0, 0
        self.best_epoch: int | None = None
        self.best: dict = {}
        self.last_test: Metrics | None = None
        self.optimizer: torch.optim.Optimizer | None = None
        self.hooks: list[StepHook] = []  # the running stage's step hooks
        self.sam: SharpnessAware | None = None  # the running stage's SAM perturbation (optimizer "sam")
        self.bank: FeatureBank | None = None
        self.held_out_features: CachedFeatures | None = None
        self._pending_optimizer_state: dict | None = None
        self._pending_hook_states: list[dict] | None = None
        self.seconds: dict[str, float] = {"features": 0.0, "train": 0.0}
        self._reported_skips: set[tuple[str, str]] = set()
        self.confusions = ConfusionRecord()

    # --- the loop --------------------------------------------------------------------------
    def run_stages(self, on_event: EventSink, should_stop: StopFlag) -> bool:
        """Train every remaining epoch of every stage. Returns True when stopped early. However the
        session ends, the confusion matrices of its last and best epochs are written."""
        try:
            while self.stage_index < len(self.plan.stages):
                stage = self.plan.stages[self.stage_index]
                if self.stage_epochs_done < stage.epochs:
                    if self._run_stage(stage, on_event, should_stop):
                        return True
                self.stage_index, self.stage_epochs_done = self.stage_index + 1, 0
            return False
        finally:
            if self.run is not None:
                with contextlib.suppress(UserError):  # a full disk is reported by what failed first
                    self.confusions.write(self.run)

    def _run_stage(self, stage: Stage, on_event: EventSink, should_stop: StopFlag) -> bool:
        self._start_stage(stage, on_event, should_stop)
        rule = TrainRule(self.plan.train_rule if stage.train_rule is None else stage.train_rule, self.counts,
                         self.plan.reweight_beta,
                         drw_epoch=self.plan.drw_epoch or (stage.optim.decay_epochs() or [stage.epochs])[0])
        for epoch in range(self.stage_epochs_done, stage.epochs):
            started = time.perf_counter()
            lr = learning_rate(stage.optim, epoch)
            for group in self.optimizer.param_groups:
                group["lr"] = lr * group["lr_factor"]
            self.method.on_epoch_start(epoch)
            rule.apply(self.method, epoch)
            sampler = stage.sampler if stage.sampler != "instance" else rule.sampler(epoch)
            train_metrics = self._train_epoch(stage, epoch, sampler, on_event, should_stop)
            if train_metrics is None:
                on_event(Message(f"stopped during epoch {self.epochs_done + 1}; the checkpoint of epoch "
                                 f"{self.epochs_done} is kept"))
                self.log(f"stopped during epoch {self.epochs_done + 1}")
                return True
            broadcast_state(self.model)  # every rank evaluates (and rank 0 saves) rank 0's weights and buffers
            test_metrics = self.evaluate_test(stage)
            self.epochs_done += 1
            self.stage_epochs_done = epoch + 1
            is_best = self.track_best(test_metrics)
            seconds = time.perf_counter() - started
            self.seconds["train"] += seconds
            self._commit_epoch(stage, lr, seconds, train_metrics, test_metrics, is_best)
            self.confusions.update(test_metrics, self.epochs_done, is_best)
            self.log(f"epoch {self.epochs_done} ({stage.name}): test acc {test_metrics.top1:.4f} "
                     f"HM {test_metrics.hm:.4f} GM {test_metrics.gm:.4f} LR {test_metrics.lowest_recall:.4f}"
                     + (f" experts/image {test_metrics.experts_per_image:.2f}"
                        if test_metrics.experts_per_image is not None else ""))
            on_event(EpochEnd(self.epochs_done, self.total_epochs, lr, train_metrics, test_metrics, seconds,
                              is_best, stage=stage.name, stage_name=self.stage_label(stage), split=self.eval_split))
            self._report_skipped(on_event)
        return False

    def stage_label(self, stage: Stage) -> str:
        """The stage's place and name, "2/2 classifier", when the run has several; else ""."""
        count = len(self.plan.stages)
        return f"{self.stage_index + 1}/{count} {stage.name}" if count > 1 else ""

    def _report_skipped(self, on_event: EventSink) -> None:
        """Files a streamed source could not decode this epoch: left out, named once."""
        skipped = [item for source in (self.train, self.held_out) for item in source.skipped]
        new = [item for item in dict.fromkeys(skipped) if item not in self._reported_skips]
        if new:
            self._reported_skips.update(new)
            listing = "; ".join(f"{path} ({reason})" for path, reason in new[:5])
            more = f" and {len(new) - 5} more" if len(new) > 5 else ""
            on_event(Message(f"left out {len(new)} image(s) that could not be decoded: {listing}{more}", "warning"))
            self.log(f"left out undecodable images: {listing}{more}")

    def log(self, text: str) -> None:
        """A line in the run's log (written by rank 0 alone)."""
        if self.run is not None:
            self.run.log(text)

    def _start_stage(self, stage: Stage, on_event: EventSink, should_stop: StopFlag) -> None:
        """Freeze and unfreeze for the stage, start its hooks, build its optimiser, cache features if it asks."""
        trains_all = ALL in stage.trains
        self.model.requires_grad_(trains_all)
        if not trains_all:
            parts = self.model.parts()
            for part in stage.trains:
                for module in parts[part]:
                    module.requires_grad_(True)
        self.method.on_stage_start(stage, self.model)
        if self.world.distributed:
            self.step_model = ReplicatedModel(self.model, self.device)  # after the stage set what trains
        self.hooks = [make_hook(hook) for hook in stage.hooks]
        for hook in self.hooks:
            hook.on_stage_start(self.model, stage)
        self.optimizer = make_optimizer(stage.optim, self.method.param_groups(self.model, stage), self.device)
        self.sam = SharpnessAware(self.optimizer, stage.optim.sam_rho, stage.optim.sam_adaptive) \
            if stage.optim.optimizer == "sam" else None
        if self._pending_optimizer_state is not None:
            self.optimizer.load_state_dict(self._pending_optimizer_state)
            self._pending_optimizer_state = None
        if self._pending_hook_states is not None:
            for hook, state in zip(self.hooks, self._pending_hook_states):
                hook.load_state_dict(state)
            self._pending_hook_states = None
        self.bank = self.held_out_features = None
        if stage.source == "features":
            self._cache_features(stage, on_event, should_stop)
        on_event(Message(f"stage {self.stage_index + 1}/{len(self.plan.stages)}: {stage.describe()}"))

    def _cache_features(self, stage: Stage, on_event: EventSink, should_stop: StopFlag) -> None:
        started = time.perf_counter()
        self.model.eval()
        augmented = [view for view in stage.views if view != "none"]
        passes = stage.feature_passes if augmented else 1
        jobs = [(self.held_out, "none", EVAL_DTYPE)] + \
            [(self.train, augmented[0] if augmented else "none", CACHE_DTYPE)] * passes
        # Its own generator per stage (and rank), so a run resumed inside the stage caches the same passes.
        generator = torch.Generator(device=self.device).manual_seed(
            rank_seed(self.plan.seed + 100 + self.stage_index, self.world.rank))
        outputs = []
        for number, (source, view, dtype) in enumerate(jobs, start=1):
            def on_batch(batch: int, batches: int, number: int = number) -> None:
                if should_stop() and not self.world.distributed:  # ranks stop together, at a training check
                    raise RunStopped
                on_event(Progress(number, len(jobs), batch, batches, stage="features"))
            outputs.append(extract_features(self.model, source, self.plan.mean, self.plan.std, view,
                                            generator, on_batch, dtype=dtype))
        self.held_out_features, self.bank = outputs[0], FeatureBank(outputs[1:])
        self.seconds["features"] += time.perf_counter() - started
        on_event(Message(f"frozen-backbone features in {time.perf_counter() - started:.1f}s "
                         f"({passes} cached training pass(es))"))

    def _set_mode(self, stage: Stage) -> None:
        """BatchNorm as the stage says: train mode, frozen (eval), or re-estimated (train mode, frozen weights)."""
        self.model.train(stage.batchnorm != "frozen")

    def _batches(self, stage: Stage, order: torch.Tensor, sizes: list[int], epoch: int) -> Iterator[Batch]:
        """The epoch's batches (of ``sizes``) in ``order``: from cached features, or from the training
        source's uint8 views."""
        if stage.source == "features":
            for index in order.split(sizes):
                yield self._feature_batch(index, epoch)
            return
        for views, labels, index in self.train.batches(order, sizes, stage.views, self.augment_generator):
            yield self._make_batch(stage, views, labels, index)

    def _feature_batch(self, index: torch.Tensor, epoch: int) -> Batch:
        index = self.bank.present(index)
        return Batch([], self.train_labels[index], features=self.bank.batch(index, epoch), index=index)

    def _make_batch(self, stage: Stage, views: list[torch.Tensor], labels: torch.Tensor, index: torch.Tensor) -> Batch:
        """Normalised views of one batch; the first one mixed when the stage mixes."""
        views = [normalize(view, self.plan.mean, self.plan.std) for view in views]
        targets = None
        if stage.mixup_alpha > 0:
            lam = draw_beta(stage.mixup_alpha, self.mix_generator)
            views[0], targets = mixup(views[0], labels, self.model.num_classes, lam, self.augment_generator)
        return Batch(views, labels, targets=targets, index=index)

    def _train_epoch(self, stage: Stage, epoch: int, sampler: str, on_event: EventSink,
                     should_stop: StopFlag) -> Metrics | None:
        """One pass over the training split; running metrics, or None when asked to stop.

        The epoch's order is drawn whole on every rank and each trains on its share of every global
        batch (``shard_order``; with one process, the whole batch). The metrics accumulate on the
        device and are read once, after the last batch (summed over the ranks first); the loss is
        checked every ``FINITE_CHECK_EVERY`` batches (the only waits on the device; with several
        processes the ranks also agree there on a stop asked of any of them)."""
        self._set_mode(stage)
        order = SAMPLERS[sampler](self.train_labels.cpu(), self.order_generator)
        shard = shard_order(order, stage.optim.batch_size, self.world.rank, self.world.size)
        batches = len(shard.sizes)
        stats = EpochStats(self.model.num_classes, self.device)
        stop_asked = False
        steps = zip(self._batches(stage, shard.order.to(self.device), shard.sizes, epoch), shard.weights)
        for number, (batch, weight) in enumerate(steps, start=1):
            stop_asked = stop_asked or should_stop()
            if stop_asked and not self.world.distributed:
                return None
            self._step(stage, batch, stats, weight)
            if number % FINITE_CHECK_EVERY == 0 or number == batches:
                if self._check(stats, stop_asked):
                    return None
            on_event(Progress(self.epochs_done + 1, self.total_epochs, number, batches, stage=self.plan.kind,
                              stage_name=self.stage_label(stage)))
        stats.sum_over_ranks()
        for hook in self.hooks:
            hook.after_epoch(self.model)
        return stats.read(self.counts, self.plan.recall_floor)

    def _step(self, stage: Stage, batch: Batch, stats: EpochStats, weight: float = 1.0) -> None:
        """One optimiser step on one batch: the stage's own step or the method's (twice with SAM:
        at w, then at w + ε with BatchNorm's running statistics left as the first pass set them),
        then the stage's hooks. The running train metrics are the first pass's (at w). Nothing here
        waits for the device (tests/test_no_sync.py).

        With several processes DDP averages the ranks' gradients; a rank whose share of the global
        batch b is b_r weighs its (mean) loss by ``weight`` = W·b_r/b, so the average is the global
        batch's mean whatever the shares (``data.samplers.shard_order``). The weights sum to W, so a
        loss computed identically on every rank from gathered rows (GML, LADE) stays exact too
        (``engine.distributed.collectives.gather_rows_with_grad``). Both SAM passes go through DDP:
        ε follows the global batch's gradient, as with one process on the whole batch."""
        loss, logits = self._forward_backward(stage, batch, weight)
        stats.update(loss, logits, batch.labels)  # before a second pass reuses a compiled graph's outputs
        if self.sam is not None:
            self.sam.perturb()
            with first_pass_statistics(self.model):
                self._forward_backward(stage, batch, weight)
            self.sam.restore()
        self.optimizer.step()
        for hook in self.hooks:
            hook.after_step(self.model)

    def _forward_backward(self, stage: Stage, batch: Batch, weight: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """The step's loss and logits on ``batch``, the gradients of ``weight`` × loss in ``.grad``
        (the old ones cleared)."""
        step = stage.step or self.method.training_step
        if self.graphs:
            torch.compiler.cudagraph_mark_step_begin()  # the previous step's graph outputs are done with
        with autocast(self.model):
            loss, logits = step(self.step_model, batch, stage)
        self.optimizer.zero_grad(set_to_none=True)
        (loss * weight if weight != 1.0 else loss).backward()
        return loss, logits

    def _check(self, stats: EpochStats, stop_asked: bool) -> bool:
        """Check the mean loss so far (of every rank); True when a rank was asked to stop."""
        if not self.world.distributed:
            self._check_finite(stats.mean_loss())
            return False
        totals = sum_over_ranks(torch.stack([stats.loss_sum.double(), torch.tensor(float(stats.samples),
                                             dtype=torch.float64, device=self.device),
                                             torch.tensor(float(stop_asked), dtype=torch.float64, device=self.device)]))
        self._check_finite(totals[0] / totals[1].clamp_min(1))
        return bool(totals[2] > 0)

    def _check_finite(self, mean_loss: torch.Tensor) -> None:
        """Stop a run whose loss is NaN/inf or has exploded; the last good epoch's checkpoint stays."""
        value = float(mean_loss)
        if math.isfinite(value) and abs(value) <= EXPLODED_LOSS:
            return
        done = self.epochs_done
        what = "became NaN/inf" if not math.isfinite(value) else f"exploded to {value:.3g}"
        kept = f"the checkpoint of epoch {done} is kept" if done else "no epoch finished"
        if self.run is not None:
            self.run.mark_status("diverged", epochs=done)
        raise TrainingDiverged(
            f"the loss {what} in epoch {done + 1}; {kept}. Lower the learning rate "
            f"(now {self.plan.stages[self.stage_index].optim.lr}) or check the method's hyperparameters.")

    # --- evaluation --------------------------------------------------------------------------
    def evaluate_test(self, stage: Stage | None = None) -> Metrics:
        """Held-out metrics (``eval_split``) by the method's prediction rule (from cached features in
        a feature stage)."""
        cached = self.held_out_features
        if stage is not None and stage.source == "features" and cached is not None:
            with torch.no_grad():
                self.model.eval()
                scores = self.rule.from_features(self.model, cached.features[cached.present].float())
            self.last_test = metrics_from_scores(scores, cached.labels[cached.present], self.counts,
                                                 self.plan.recall_floor)
        else:
            self.last_test = self.evaluate_split(self.held_out)
        return self.last_test

    def evaluate_split(self, source: ImageSource) -> Metrics:
        return evaluate(self.model, self.rule, source, self.plan.mean, self.plan.std, self.counts,
                        self.plan.recall_floor, fold=self.fold)

    def final_test(self) -> Metrics | None:
        """With a validation split: the test split's metrics of ``best.pt`` (the epoch the validation
        metric chose), measured once; None when the per-epoch split already is the test split."""
        if self.eval_split == "test":
            return None
        best = self.run.checkpoint("best") if self.run is not None and self.plan.save_model else None
        chosen = broadcast_object(best is not None)  # rank 0 reads best.pt and hands its weights on
        current = {key: value.clone() for key, value in self.model.state_dict().items()} if chosen else None
        if best is not None:
            self.model.load_state_dict(load_checkpoint(best).state_dict)
        if chosen:
            broadcast_state(self.model)
        test = self.plan.dataset.images("test").to(self.device)
        try:
            return self.evaluate_split(test)
        finally:
            if current is not None:
                self.model.load_state_dict(current)

    def close(self) -> None:
        """End what the data sources hold (a streamed dataset's worker processes)."""
        self.plan.dataset.close()

    def __enter__(self) -> Loop:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def track_best(self, test: Metrics) -> bool:
        key = self.plan.best_metric.removeprefix("test_")
        score = getattr(test, "lowest_recall" if key == "lr" else key)
        if not math.isfinite(score) or (self.best and score <= self.best[self.plan.best_metric]):
            return False  # outputs that were not numbers are never the best
        self.best_epoch = self.epochs_done
        self.best = {**test.summary("test_"), "test_lr": test.lowest_recall, "epoch": self.epochs_done}
        return True

    # --- checkpoints -------------------------------------------------------------------------
    def meta(self) -> dict[str, Any]:
        dataset, spec = self.plan.dataset, self.model.spec
        stages = self.plan.stages
        stage = stages[min(self.stage_index, len(stages) - 1)].name if stages else ""
        return {
            "model": spec.to_dict(), "arch": spec.arch, "head": spec.head, "num_classes": spec.num_classes,
            "class_names": list(dataset.class_names), "dataset": dataset.name, "image_size": dataset.image_size,
            "eval_view": dataset.eval_view,
            "class_counts": dataset.class_counts.tolist(), "mean": list(self.plan.mean), "std": list(self.plan.std),
            "method": self.method.name, "method_params": dict(self.method.params),
            "logit_scale": float(self.method.logit_scale), "epoch": self.epochs_done, "stage": stage,
            "precision": self.plan.precision.to_meta(),
            "metrics": self.last_test.summary("test_") if self.last_test else {},
            **self.plan.meta,
        }

    def _commit_epoch(self, stage: Stage, lr: float, seconds: float, train: Metrics, test: Metrics,
                      is_best: bool) -> None:
        """The epoch as one unit: CSV rows, last.pt with the resume state and best.pt when it improved
        (``RunFolder.commit_epoch``; non-finite weights are refused and the run marked diverged),
        written by rank 0. The confusion matrix is not written here but when the session ends
        (``ConfusionRecord``)."""
        extra = self.resume_state() if self.plan.save_model else None  # on every rank: it gathers their streams
        if self.run is None:
            return
        rows = epoch_rows(self.epochs_done, lr, seconds, train, test, stage=self.stage_index + 1)
        if not self.plan.save_model:
            self.run.commit_epoch(*rows)
        else:
            try:
                self.run.commit_epoch(*rows, state_dict=self.model.state_dict(), meta=self.meta(),
                                      heads=self.plan.heads, extra=extra,
                                      method_state=self.method.state_dict(), is_best=is_best)
            except NonFiniteError:
                self.run.mark_status("diverged", epochs=self.epochs_done - 1)
                raise

    def resume_state(self) -> dict[str, Any]:
        """What ``restore`` continues from. Every rank calls it: the augmentation streams of all
        ranks are gathered (``augment_ranks``, with the ``world_size`` they belong to); the order
        and mixup streams are the same on every rank."""
        augment = self.augment_generator.get_state()
        return {
            "optimizer": self.optimizer.state_dict() if self.optimizer else None,
            "hooks": [hook.state_dict() for hook in self.hooks],
            "epochs_done": self.epochs_done, "stage_index": self.stage_index,
            "stage_epochs_done": self.stage_epochs_done, "best_epoch": self.best_epoch, "best": self.best,
            "world_size": self.world.size,
            "rng": {"torch": torch.get_rng_state(), "order": self.order_generator.get_state(),
                    "mix": self.mix_generator.get_state(), "augment": augment,
                    "augment_ranks": list(gather_rows(augment[None]))},
        }

    def update_last(self, meta: dict[str, Any], resume_state: dict[str, Any] | None = None) -> None:
        """Rewrite last.pt with extra meta after the last epoch (the plug-in's ensemble), history kept;
        ``resume_state``: the one last.pt had (a run stopped mid-epoch, whose optimiser and generators
        moved on since; the same on every rank), else the loop's own. Every rank calls it, rank 0 writes."""
        extra = resume_state or self.resume_state()
        if self.run is not None:
            self.run.update_last(self.model.state_dict(), {**self.meta(), **meta}, heads=self.plan.heads,
                                 extra=extra, method_state=self.method.state_dict())

    def restore(self, checkpoint: Checkpoint) -> None:
        """Continue from a ``last.pt`` written by :meth:`_commit_epoch` with its resume state (every
        rank from the same one). Weights that do not fit the model (``CheckpointMismatch``) or hold
        NaN/inf (``NonFiniteError``) are refused before the model changes; ``RunFolder.recover``
        calls this before it touches the run folder. On as many processes as it was saved from,
        each rank continues its own augmentation stream; on another number, rank 0 continues the
        saved rank 0's and the others start fresh ones (the global order and mixup streams continue
        either way)."""
        assert_finite(checkpoint.state_dict, checkpoint.name)
        load_weights_into(self.model, checkpoint)
        self.method.load_state_dict(checkpoint.method_state)
        extra = checkpoint.extra
        self.epochs_done = int(extra["epochs_done"])
        self.stage_index = int(extra.get("stage_index", 0))
        self.stage_epochs_done = int(extra.get("stage_epochs_done", self.epochs_done))
        self.best_epoch, self.best = extra["best_epoch"], dict(extra["best"])
        stage_unfinished = self.stage_index < len(self.plan.stages) and \
            self.stage_epochs_done < self.plan.stages[self.stage_index].epochs
        self._pending_optimizer_state = extra.get("optimizer") if stage_unfinished else None
        self._pending_hook_states = extra.get("hooks") if stage_unfinished else None
        rng = extra["rng"]
        torch.set_rng_state(rng["torch"])
        self.order_generator.set_state(rng["order"])
        streams, saved_size = rng.get("augment_ranks"), extra.get("world_size", 1)
        if streams and saved_size == self.world.size:
            self.augment_generator.set_state(streams[self.world.rank])
        elif self.world.rank == 0:
            self.augment_generator.set_state(rng["augment"])
        else:
            self.augment_generator.manual_seed(rank_seed(self.plan.seed + 1 + self.epochs_done, self.world.rank))
        if saved_size != self.world.size:
            fresh = "; ranks 1 and up draw their augmentation afresh" if self.world.distributed else ""
            self.log(f"resumed on {self.world.size} process(es) after {saved_size}: the global batch and its "
                     f"order continue{fresh}")
        if "mix" in rng:
            self.mix_generator.set_state(rng["mix"])
