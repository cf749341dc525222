"""``tune``: re-train only the heads of a pretrained model on the one loop, then ensemble old and new.

The plug-in of "No One Left Behind" (Du & Wu, CVPR 2023, arXiv 2303.03630) is a preset stage
list: one stage "re-train heads" (backbone and its BatchNorm statistics frozen, batches from
cached backbone features, the plug-in's own optimiser defaults in the "plugin" preset) run by
``engine.loop``, then the old / new / ensemble report. The old heads are copied before anything
else happens to the model and are never handed to an optimiser, so the "old" column and the
ensemble use exactly the heads that were loaded, scored by the loaded checkpoint's own prediction
rule: the "old" column is what ``eval`` reports for that checkpoint. Works on any model family:
its heads are what ``LTModel.heads()`` names. A loss that cannot re-train this classifier (its
declared capabilities, ``engine.methods.capability_error``) is refused before the data loads.

Every repair runs here the same way: the stage trains what the method declares
(``Method.repair_trains``: the heads; LWS's scales after ``prepare_repair`` added them), with
MaxNorm after its steps when ``plugin.max_norm`` asks; a repair that trains nothing (τ-norm) sets
the new classifier in ``fit_repair`` on the validation split instead (the dataset's own, else a
held-out share of each training class, :class:`Validation`; never the test split), which the
temperature search uses too.
"""
from __future__ import annotations

import time
from dataclasses import asdict, replace
from pathlib import Path

import torch

from data import load_dataset
from data.sources import ImageSource
from data.types import Dataset
from engine.checkpoints import Checkpoint, load_checkpoint
from engine.config import ConfigError, RunConfig
from engine.devices import describe_device
from engine.distributed.collectives import from_rank_zero
from engine.distributed.launch import run_processes, wants_processes
from engine.distributed.world import World, joined
from engine.evaluation import metrics_from_scores
from engine.events import EventSink, Message, Progress, RunStarted, RunStopped, StopFlag, ignore_event, never_stop
from engine.features import EVAL_DTYPE, CachedFeatures, extract_features
from engine.finite import OUTPUTS_NOT_FINITE
from engine.loop import Loop, RunPlan
from engine.methods import Method, build_method, capability_error, method_class
from engine.plugin.ensemble import search_temperatures
from engine.plugin.heads import copy_heads, fresh_heads
from engine.plugin.report import TuneResult, write_reports
from engine.precision import FP32, Precision
from engine.prediction import Ensemble, PredictionRule, ensemble_meta, load_for_prediction
from engine.runs import HISTORY_KEY, RunFolder
from engine.speed import use_threads
from engine.stages import Stage
from engine.trainer import announce_dataset, writing
from engine.workspace import check_run_folders
from models import LTModel, head_modules_from_state

STAGE_NAME = "re-train heads"


def tune(config: RunConfig, on_event: EventSink = ignore_event, should_stop: StopFlag = never_stop,
         dataset: Dataset | None = None, resume: str | Path | None = None, command: str = "") -> TuneResult:
    """Run the plug-in ("freeze features": ``config.model.pretrained`` is the model to repair) and
    write its run folder (or continue ``resume``, a plug-in run folder). Events: DatasetReady,
    Message, Progress (stage "features", "tune", "eval") and one EpochEnd per tuning epoch. The
    run folder is locked while it is written. Several processes (``config.nproc``) share every
    batch and the feature extraction, as in ``engine.trainer.train``; rank 0 writes and reports."""
    started = time.perf_counter()
    config.validate()
    if not config.plugin_run:
        raise ConfigError("freeze", "the plug-in re-trains the classifier of a frozen model: freeze features")
    if wants_processes(config):
        return run_processes(config, on_event, should_stop, resume=resume, command=command)
    if not method_class(config.method.loss).repair_trains and config.optim.epochs:
        on_event(Message(f"{method_class(config.method.loss).title} trains nothing: the {config.optim.epochs} "
                         "epoch(s) asked for are not used"))
        config = replace(config, optim=replace(config.optim, epochs=0))  # what the run does, as config.json says
    threads = use_threads(config.threads)  # fixed, never read from the load (engine.cpu_policy)
    with joined(config.device, config.collective_timeout) as (world, device):
        if not world.writer:
            on_event = ignore_event  # rank 0 reports
        elif resume is None:
            check_run_folders(config.runs_dir)  # before the dataset loads
        return _tune(config, world, device, threads, on_event, should_stop, dataset, resume, command, started)


def _tune(config: RunConfig, world: World, device: torch.device, threads: int, on_event: EventSink,
          should_stop: StopFlag, dataset: Dataset | None, resume: str | Path | None, command: str,
          started: float) -> TuneResult:
    on_event(Message(f"device: {describe_device(device)}" + (f", one of {world.describe()}" if world.distributed
                                                               else "")))
    checkpoint = load_checkpoint(config.model.pretrained)
    _check_loss_can_repair(config, checkpoint)  # before the data loads
    for note in checkpoint.notes:
        on_event(Message(f"{checkpoint.name}: {note}"))
    dataset = dataset or load_dataset(config.data)
    announce_dataset(dataset, on_event)
    _warn_other_classes(checkpoint, dataset, on_event)
    arch = None if checkpoint.spec else config.model.arch  # the file's own, when it says
    model, old_rule = load_for_prediction(checkpoint, arch=arch, num_classes=dataset.num_classes, device=device)
    if config.precision == FP32:  # else the precision the checkpoint was evaluated in, where the device has it
        Precision().apply(model)
    precision = Precision.of(model)
    config = replace(config, threads=threads, precision=precision.name, fp32_layers=list(precision.fp32_layers))
    old_heads, old_state = copy_heads(model), model.head_state()  # first, before anything can change them
    train_index, val_index = _split(dataset, config)
    tuning_counts = torch.bincount(dataset.train_labels[train_index], minlength=dataset.num_classes)
    method = build_method(config.method.loss, tuning_counts, config.method.params, max(1, config.optim.epochs))
    method.to(device)
    method.check_fit(len(train_index))
    _match_scales(method, model, old_rule.method.logit_scale)
    method.prepare_repair(model)
    if config.plugin.init == "fresh" and resume is None:
        model.install_heads(fresh_heads(model, config.seed))
    plan = RunPlan("tune", dataset, device, model, method, plugin_stages(config), config.seed,
                   tuple(checkpoint.meta.get("mean") or dataset.mean), tuple(checkpoint.meta.get("std") or dataset.std),
                   train_rule=config.method.train_rule, reweight_beta=config.method.reweight_beta,
                   best_metric=config.best_metric, recall_floor=config.recall_floor, save_model=config.save_model,
                   precision=precision, train_index=train_index, world=world,
                   meta={"tuned_from": config.model.pretrained, "data": {**asdict(config.data), "seed": config.seed}},
                   heads={"old": old_state})
    run = None
    if world.writer and resume is None:
        run = RunFolder.create(config.runs_dir, config.experiment or f"{dataset.name}-tune-{config.method.loss}")
        run.write_json("config.json", {"kind": "tune", "run": config.to_dict(), "checkpoint": checkpoint.describe(),
                                       "processes": world.record()})
        run.write_dataset(dataset.name, dataset.class_names, dataset.class_counts.tolist())
    elif world.writer:
        run = RunFolder(resume)
    if run is not None:
        on_event(RunStarted(run.path))
    loop = Loop(plan, run)

    def restore(last: Checkpoint) -> None:
        nonlocal old_heads
        old_heads = head_modules_from_state(model, last.heads["old"])
        loop.restore(last)

    with loop, writing(run, command, restore if resume is not None else None):
        on_event(Message(f"tuning {checkpoint.name} ({checkpoint.describe()}) with {method.title}"))
        loop.log(f"tuning {checkpoint.name} ({checkpoint.describe()}) with {method.title}")
        try:
            stopped = loop.run_stages(on_event, should_stop)
        except RunStopped:
            stopped = True
        resume_state = None
        if stopped:
            on_event(Message(f"stopped by the user after {loop.epochs_done} tuning epoch(s)"))
            resume_state = _back_to_last_epoch(model, run)
        validation = Validation(loop, val_index)
        choice = None if stopped or method.repair_trains else _fit(loop, old_heads, validation, on_event)
        result = _report(config, loop, Ensemble(old_heads, old_rule, config.plugin.t1, config.plugin.t2), validation,
                         stopped, choice, on_event, resume_state)
        for column, metrics in result.reports.items():
            if not metrics.are_numbers():
                on_event(Message(OUTPUTS_NOT_FINITE.format(bad=metrics.non_finite, total=len(dataset.test_labels),
                                                           what=f"the {column} column's metrics (n/a)"), "warning"))
        result.seconds["total"] = time.perf_counter() - started
        if run is not None:
            write_reports(run, config, dataset, checkpoint, result)
            run.mark_status("stopped" if stopped else "finished", epochs=loop.epochs_done)
    return result


def plugin_stages(config: RunConfig) -> list[Stage]:
    """What "freeze features" runs: one stage that trains what the repair declares (the heads; LWS's
    scales) on a frozen model, with MaxNorm when ``plugin.max_norm`` asks (none with 0 epochs, or
    for a repair that trains nothing: the old model is only evaluated, or τ-norm chooses τ)."""
    trains = method_class(config.method.loss).repair_trains
    if config.optim.epochs == 0 or not trains:
        return []
    views = ("crop_flip",) if config.data.augment else ("none",)
    source = "features" if config.plugin.cache_features else "images"
    hooks = (f"max_norm:{config.plugin.max_norm:g}:{config.plugin.max_norm_every}",) if config.plugin.max_norm else ()
    return [Stage(STAGE_NAME, config.optim, trains=trains, batchnorm="frozen", source=source,
                  sampler=config.plugin.sampler, views=views, feature_passes=config.plugin.feature_passes,
                  hooks=hooks)]


def _check_loss_can_repair(config: RunConfig, checkpoint: Checkpoint) -> None:
    """Refuse, in one line, a loss that cannot re-train this checkpoint's classifier (its family and
    head) on this source; that it can re-train a classifier at all, ``RunConfig.problems`` checked."""
    spec = checkpoint.spec
    source = "features" if config.plugin.cache_features else "images"
    why = capability_error(method_class(config.method.loss), repair=True, source=source,
                           family=spec.family if spec else None, head=spec.head if spec else None)
    if why:
        raise ConfigError("loss", why)


def _match_scales(method: Method, model: LTModel, old_scale: float) -> None:
    """A plain-logit loss on a cosine head trains and predicts at the model's own scale (LDAM's s)."""
    if model.spec.head == "cosine" and method.head != "cosine":
        method.train_scale = method.logit_scale = old_scale


def _warn_other_classes(checkpoint: Checkpoint, dataset: Dataset, on_event: EventSink) -> None:
    saved_names = checkpoint.meta.get("class_names")
    if saved_names and list(saved_names) != list(dataset.class_names):
        on_event(Message(f"{checkpoint.name} was trained on classes {', '.join(map(str, saved_names[:5]))}…, not "
                         f"on {dataset.name}'s {', '.join(dataset.class_names[:5])}…; its old classifier's columns "
                         "mean other classes", level="warning"))


def _back_to_last_epoch(model: LTModel, run: RunFolder | None) -> dict | None:
    """A stop mid-epoch leaves half-trained heads: report the last finished epoch's instead (rank 0
    reads it, every rank takes it). Returns that epoch's resume state (what a resumed run continues
    from), None before the first epoch."""
    def last_epoch() -> tuple[dict, dict] | None:
        last = run.checkpoint("last")
        if last is None:
            return None
        checkpoint = load_checkpoint(last)
        return checkpoint.state_dict, {key: value for key, value in checkpoint.extra.items() if key != HISTORY_KEY}

    saved = from_rank_zero(last_epoch)
    if saved is None:
        return None
    model.load_state_dict(saved[0])
    return saved[1]


class Validation:
    """The split the plug-in's choices are made on (τ-norm's τ, the ensemble's temperatures): the
    dataset's validation split when it has one, else the training images ``_split`` held out of
    the tuning; never the test split. Its features are extracted once, on first use."""

    def __init__(self, loop: Loop, val_index: torch.Tensor):
        self.loop, self.val_index = loop, val_index
        self.has_split = "val" in loop.plan.dataset.split_names()
        self._cached: tuple[torch.Tensor, torch.Tensor] | None = None

    def describe(self, config: RunConfig) -> str:
        if self.has_split:
            return "the dataset's validation split"
        return f"a held-out {config.plugin.validation_fraction:g} of each training class ({len(self.val_index)} images)"

    def features(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self._cached is None:
            dataset = self.loop.plan.dataset
            source = dataset.images("val") if self.has_split else dataset.images("train").subset(self.val_index)
            self._cached = _present(_features(self.loop, source))
        return self._cached


def _fit(loop: Loop, old_heads: dict, validation: Validation, on_event: EventSink) -> dict:
    """A repair that trains nothing (τ-norm) sets the new classifier from the old one on the
    validation split; returns what it chose."""
    import copy

    model = loop.model
    model.install_heads({name: copy.deepcopy(head) for name, head in old_heads.items()})  # from the old, resumed or not
    model.eval()
    features, labels = validation.features()
    choice = loop.method.fit_repair(model, features, labels)
    described = ", ".join(f"{key} = {value:g}" for key, value in choice.items() if isinstance(value, float))
    on_event(Message(f"{loop.method.title}: {described} chosen on {len(labels)} validation images"))
    loop.log(f"{loop.method.name}: {described} chosen on {len(labels)} validation images")
    return choice


def _report(config: RunConfig, loop: Loop, ensemble: Ensemble, validation: Validation, stopped: bool,
            choice: dict | None, on_event: EventSink, resume_state: dict | None = None) -> TuneResult:
    """Old / new / ensemble on the test split (and the temperature search), and the final checkpoint
    (``resume_state``: its resume state when the run was stopped mid-epoch)."""
    dataset, model, method = loop.plan.dataset, loop.model, loop.method
    result = TuneResult(loop.run.path if loop.run else None, stopped, {}, list(dataset.class_names),
                        dataset.class_counts.tolist(), ensemble.t1, ensemble.t2, loop.epochs_done,
                        seconds=dict(loop.seconds), choice=choice, validation=validation.describe(config),
                        precision=loop.plan.precision.describe())
    on_event(Progress(1, 1, 1, 1, stage="eval"))
    model.eval()
    cached = loop.held_out_features if loop.eval_split == "test" else None
    features, labels = _present(cached if cached is not None else _features(loop, dataset.images("test")))
    counts, floor = dataset.class_counts, config.recall_floor
    with torch.no_grad():
        result.reports["old"] = metrics_from_scores(ensemble.old_scores(model, features), labels, counts,
                                                    recall_floor=floor)
        if not loop.epochs_done and choice is None:
            return result
        new_rule = PredictionRule(method)
        result.reports["new"] = metrics_from_scores(new_rule.from_features(model, features), labels, counts,
                                                    recall_floor=floor)
        if config.plugin.ensemble:
            if config.plugin.search_temperatures:
                val, val_labels = validation.features()
                result.search = search_temperatures(new_rule.from_features(model, val).values,
                                                    ensemble.old_scores(model, val).values, val_labels)
                ensemble.t1, ensemble.t2 = result.t1, result.t2 = result.search.t1, result.search.t2
                on_event(Message(f"temperature search on {len(val_labels)} validation images: t1 = {result.t1:g}, "
                                 f"t2 = {result.t2:g} (validation HM {100 * result.search.hm:.2f}, "
                                 f"{result.search.zero_recall} zero-recall classes)"))
            rule = PredictionRule(method, ensemble)
            result.reports["ensemble"] = metrics_from_scores(rule.from_features(model, features), labels, counts,
                                                             recall_floor=floor)
    if config.save_model:
        meta = {"metrics": result.reports["new"].summary("test_"), "repair": choice or {}}
        if config.plugin.ensemble:
            meta["ensemble"] = ensemble_meta(ensemble, searched=result.search is not None)
        loop.update_last(meta, resume_state)
    return result


def _features(loop: Loop, source: ImageSource) -> CachedFeatures:
    """Features the report scores (float32: the checkpoint's own predictions, exactly)."""
    return extract_features(loop.model, source.to(loop.device), loop.plan.mean, loop.plan.std, dtype=EVAL_DTYPE)


def _present(cached: CachedFeatures) -> tuple[torch.Tensor, torch.Tensor]:
    """The float32 features and labels of the images that could be read."""
    return cached.features[cached.present].float(), cached.labels[cached.present]


def _split(dataset: Dataset, config: RunConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """(tuning indices, validation indices) of the training split. Images are held out only when a
    choice needs a validation split (the temperature search, a repair that trains nothing such as
    τ-norm) and the dataset has none of its own: per class round(fraction · n_c), at least one,
    never the class's last image."""
    labels, counts = dataset.train_labels, dataset.class_counts
    everything = torch.arange(len(labels))
    chooses = config.plugin.search_temperatures or not method_class(config.method.loss).repair_trains
    if not chooses or "val" in dataset.split_names():
        return everything, everything[:0]
    generator = torch.Generator().manual_seed(config.seed + 2)
    labels = labels.cpu()
    held_out = []
    for c, n in enumerate(counts.tolist()):
        if n < 2:
            continue
        members = torch.nonzero(labels == c).flatten()
        take = min(n - 1, max(1, round(config.plugin.validation_fraction * n)))
        held_out.append(members[torch.randperm(n, generator=generator)[:take]])
    val = torch.sort(torch.cat(held_out)).values if held_out else everything[:0]
    keep = torch.ones(len(labels), dtype=torch.bool)
    keep[val] = False
    return everything[keep], val
