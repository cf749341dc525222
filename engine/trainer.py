"""``train``: a run config (or a run folder to resume) → a run plan → the one loop (``engine.loop``).

The method decides the model (``Method.model_spec``) and the stages (``Method.stages``);
``model.freeze`` turns the run into a head-only stage ("features") or an evaluation ("all");
``method.stages`` picks some of the method's stages (e.g. MiSLAS stage 2 on a checkpoint).
A run folder of the GML plug-in resumes through ``engine.plugin.tune``.
"""
from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path

import torch

from data import load_dataset
from errors import UserError
from data.types import LTDataset
from engine.checkpoints import Checkpoint, load_checkpoint, load_weights_into
from engine.config import ConfigError, RunConfig
from engine.devices import describe_device, pick_device
from engine.events import (DatasetReady, EpochEnd, EventSink, Message, RunResult, StopFlag, ignore_event,
                           never_stop)
from engine.finite import assert_finite
from engine.loop import Loop, RunPlan, TrainingDiverged  # noqa: F401 (TrainingDiverged is part of the API)
from engine.methods import Method, build_method
from engine.run_card import write_run_card
from engine.runs import RunFolder
from engine.stages import Stage
from engine.workspace import check_run_folders
from models import ModelSpec, create_model


def train(config: RunConfig | None, on_event: EventSink = ignore_event, should_stop: StopFlag = never_stop,
          dataset: LTDataset | None = None, resume: str | Path | None = None, command: str = "") -> RunResult:
    """Train one run and write its run folder; see ``engine.events`` for what it reports.

    With ``resume`` (a run folder), ``config`` is ignored and may be None: the run continues
    with its own saved settings from its last checkpoint. The run folder is locked while it is
    written (``command`` says by what, for the message a second writer gets).
    """
    run = RunFolder(resume) if resume else None
    if run is not None:
        if not run.is_run():
            raise UserError(f"{run.path} is not a run folder (it has no config.json)")
        saved = run.config()
        if saved.get("kind") == "tune":
            from engine.plugin import TuneConfig, tune

            result = tune(TuneConfig.from_dict(saved["tune"]), on_event, should_stop, dataset, resume=run.path,
                          command=command)
            return RunResult(result.run_dir, result.stopped, result.epochs_done)
        config = RunConfig.from_dict(saved["run"])
    elif config is None:
        raise ValueError("train() needs a config or a run folder to resume")
    config.validate()
    if config.workers:
        torch.set_num_threads(config.workers)
    if run is None:
        check_run_folders(config.runs_dir)  # before the dataset loads
    device = pick_device(config.device)
    on_event(Message(f"device: {describe_device(device)}"))
    dataset = dataset or load_dataset(config.data)
    announce_dataset(dataset, on_event)

    torch.manual_seed(config.seed)
    plan = plan_run(config, dataset, device)
    if run is None:
        run = RunFolder.create(config.runs_dir, config.experiment or _default_label(config, dataset))
        run.write_json("config.json", {"kind": "train", "run": config.to_dict()})
        run.write_dataset(dataset.name, dataset.class_names, dataset.class_counts.tolist())
    loop = Loop(plan, run)

    def card(stopped: bool) -> None:
        write_run_card(run, config, dataset, loop.best_epoch, loop.best, loop.last_test, stopped,
                       [stage.describe() for stage in plan.stages])

    with run.writing(command, on_interrupt=lambda _: card(True)):
        if resume:
            loop.restore(_last_checkpoint(run))
            on_event(Message(f"resuming {run.name} after epoch {loop.epochs_done}"))
        elif config.model.pretrained:
            for note in _load_pretrained(plan, config.model.pretrained, dataset.num_classes):
                on_event(Message(note))
        run.log(f"start on {describe_device(device)}: {dataset.describe()}")
        if config.model.freeze == "all":
            stopped = _evaluate_only(loop, run, on_event)
        else:
            stopped = loop.run_stages(on_event, should_stop)
        card(stopped)
        run.mark_status("stopped" if stopped else "finished", epochs=loop.epochs_done)
    return RunResult(run.path, stopped, loop.epochs_done, loop.best_epoch, loop.best, loop.last_test)


def plan_run(config: RunConfig, dataset: LTDataset, device: torch.device) -> RunPlan:
    """The model, method and stages ``config`` asks for (refused before anything trains)."""
    stages_total = config.optim.epochs
    method: Method = build_method(config.method.loss, dataset.class_counts, config.method.params, stages_total)
    method.to(device)
    spec = method.model_spec(ModelSpec("cifar_resnet", config.model.arch, dataset.num_classes))
    model = create_model(spec).to(device)
    stages = select_stages(method, config)
    return RunPlan("train", dataset, device, model, method, stages, config.seed, dataset.mean, dataset.std,
                   train_rule=config.method.train_rule, reweight_beta=config.method.reweight_beta,
                   best_metric=config.best_metric, recall_floor=config.recall_floor, save_model=config.save_model,
                   amp=config.amp,
                   compile=config.compile,
                   meta={"data": {**asdict(config.data), "seed": config.seed}})


def select_stages(method: Method, config: RunConfig) -> list[Stage]:
    """The stages of ``method`` that ``config`` runs (``method.stages`` picks some; freezing the
    features turns each into a head-only stage)."""
    stages = method.stages(config)
    if config.method.stages:
        known = [stage.name for stage in stages]
        unknown = [name for name in config.method.stages if name not in known]
        if unknown:
            raise ConfigError("method.stages", f"{method.title} has no stage {unknown[0]!r} (it has: {', '.join(known)})")
        if stages[0].name not in config.method.stages and not config.model.pretrained:
            raise ConfigError("pretrained", f"running {method.title} from its stage {config.method.stages[0]!r} "
                              "needs a pretrained checkpoint to start from")
        stages = [stage for stage in stages if stage.name in config.method.stages]
    if config.model.freeze == "features":
        stages = [replace(stage, trains=("heads",), batchnorm="frozen", source="images") for stage in stages]
    return stages


def planned_stages(config: RunConfig) -> list[Stage]:
    """The stages a run of ``config`` trains, without its data (the app's plan line, the run
    browser's epochs): none for an evaluation (``freeze`` "all"). Raises UserError as a run would."""
    if config.model.freeze == "all":
        return []
    method = build_method(config.method.loss, torch.ones(2), config.method.params, config.optim.epochs)
    return select_stages(method, config)


def announce_dataset(dataset: LTDataset, on_event: EventSink) -> None:
    """Report the loaded data: the event the app's views start from, its summary, skipped files."""
    on_event(DatasetReady(dataset.name, dataset.class_names, dataset.class_counts.tolist()))
    on_event(Message(dataset.describe()))
    if dataset.skipped_files:
        listing = "; ".join(f"{path} ({reason})" for path, reason in dataset.skipped_files[:20])
        more = f" and {len(dataset.skipped_files) - 20} more" if len(dataset.skipped_files) > 20 else ""
        on_event(Message(f"skipped {len(dataset.skipped_files)} unreadable file(s): {listing}{more}", "warning"))


def _default_label(config: RunConfig, dataset: LTDataset) -> str:
    rule = config.method.train_rule
    return f"{dataset.name}-{config.method.loss}" + (f"-{rule}" if rule != "none" else "")


def _load_pretrained(plan: RunPlan, path: str, num_classes: int) -> list[str]:
    """Start from a checkpoint's weights; a head the method adds (MiSLAS's LWS) starts fresh."""
    checkpoint = load_checkpoint(path)
    assert_finite(checkpoint.state_dict, checkpoint.name)
    model = plan.model
    new_heads = [name for name in model.heads() if not any(k.startswith(f"{name}.") for k in checkpoint.state_dict)]
    if new_heads and len(new_heads) < len(model.heads()):
        fresh = {k: v for k, v in model.state_dict().items() if k.split(".", 1)[0] in new_heads}
        checkpoint.state_dict = {**checkpoint.state_dict, **fresh}
        checkpoint.notes.append(f"{', '.join(new_heads)} start fresh (the checkpoint has none)")
    optional = getattr(model, "optional_prefixes", ())  # e.g. RIDE's router on a checkpoint without one
    fresh = {k: v for k, v in model.state_dict().items()
             if k.startswith(optional) and k not in checkpoint.state_dict} if optional else {}
    if fresh:
        checkpoint.state_dict = {**checkpoint.state_dict, **fresh}
        names = sorted({k.split(".", 1)[0] for k in fresh})
        checkpoint.notes.append(f"{', '.join(names)} start fresh (the checkpoint has none)")
    load_weights_into(model, checkpoint, num_classes=num_classes)
    return [f"pretrained weights from {path}", *checkpoint.notes]


def _last_checkpoint(run: RunFolder) -> Checkpoint:
    """The committed ``last.pt`` of a run, after ``RunFolder.recover`` made history and files agree."""
    checkpoint = run.recover()
    if checkpoint is None:
        raise UserError(f"{run.path} has no checkpoints/last.pt to resume from (was 'save model' off?)")
    assert_finite(checkpoint.state_dict, checkpoint.name)
    return checkpoint


def _evaluate_only(loop: Loop, run: RunFolder, on_event: EventSink) -> bool:
    """"Freeze all parameters": measure the pretrained model on both splits, train nothing."""
    train_metrics = loop.evaluate_split(loop.train_images, loop.train_labels)
    test_metrics = loop.evaluate_test()
    loop.track_best(test_metrics)
    run.append_epoch(0, 0.0, 0.0, train_metrics, test_metrics, stage=0)
    on_event(EpochEnd(0, 0, 0.0, train_metrics, test_metrics, 0.0, True))
    return False


__all__ = ["Stage", "TrainingDiverged", "announce_dataset", "plan_run", "planned_stages", "select_stages", "train"]
