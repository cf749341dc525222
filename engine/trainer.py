"""``train``: a run config (or a run folder to resume) → a run plan → the one loop (``engine.loop``).

The method decides the model (``Method.model_spec``) and the stages (``Method.stages``);
``method.stages`` picks some of the method's stages (e.g. MiSLAS stage 2 on a checkpoint).
``model.freeze`` "all" evaluates only; "features" is the GML plug-in (``engine.plugin.tune``:
its one "re-train heads" stage and the old / new / ensemble report), whichever front end asks,
and a plug-in run folder resumes there too. The plan loads what the method needs beyond the
data: a pretrained checkpoint (refused before the data loads when the method does not train
its model family) and a distillation teacher, handed to the method with ``Method.use_teacher``.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, replace
from pathlib import Path

import torch

from data import load_dataset
from errors import UserError
from data.types import Dataset
from engine.checkpoints import Checkpoint, is_trunk_file, load_checkpoint, load_trunk_into, load_weights_into
from engine.config import ConfigError, RunConfig
from engine.devices import describe_device
from engine.distributed.collectives import active, broadcast_object, from_rank_zero
from engine.distributed.launch import run_processes, wants_processes
from engine.distributed.replicated import sync_batchnorm
from engine.distributed.world import SOLO, World, joined
from engine.events import (DatasetReady, EpochEnd, EventSink, Message, RunResult, RunStarted, StopFlag, ignore_event,
                           never_stop)
from engine.finite import assert_finite
from engine.loop import Loop, RunPlan, TrainingDiverged  # noqa: F401 (TrainingDiverged is part of the API)
from engine.methods import Method, build_method, capability_error, method_class
from engine.plugin.config import saved_run_config
from engine.plugin.report import TuneResult
from engine.prediction import PredictionRule, load_for_prediction
from engine.precision import resolve as resolve_precision
from engine.run_card import write_run_card
from engine.runs import RunFolder
from engine.speed import use_threads
from engine.stages import Stage
from engine.workspace import check_run_folders
from engine.metrics import Metrics
from models import LTModel, create_model, families, family, spec_for


def train(config: RunConfig | None, on_event: EventSink = ignore_event, should_stop: StopFlag = never_stop,
          dataset: Dataset | None = None, resume: str | Path | None = None, command: str = "",
          nproc: int | None = None) -> RunResult | TuneResult:
    """Train one run and write its run folder; see ``engine.events`` for what it reports. Freeze
    features runs the plug-in and returns its ``TuneResult``.

    With ``resume`` (a run folder), ``config`` is ignored and may be None: the run continues
    with its own saved settings from its last checkpoint (on ``nproc`` processes when given,
    else on as many as it was started with). The run folder is locked while it is written
    (``command`` says by what, for the message a second writer gets).

    A run of several processes (``config.nproc``) asked for here starts them through torchrun
    and reports rank 0's events (``engine.distributed.launch``); inside each of them (or under a
    torchrun the user started) this trains the process's share, and rank 0 alone writes the
    run folder and reports.
    """
    run = RunFolder(resume) if resume else None
    if run is not None:
        check_resumable(run)
        config = saved_run_config(run.config())
        if config.plugin_run and run.config().get("kind") != "tune":
            raise UserError(f"{run.name} froze the features in a training run of an older version; start a new run "
                            "from its settings (freeze features now runs the plug-in)")
        config.nproc = nproc or config.nproc
    elif config is None:
        raise ValueError("train() needs a config or a run folder to resume")
    if wants_processes(config):
        config.validate()
        return run_processes(config, on_event, should_stop, resume=run.path if run else None, command=command)
    if config.plugin_run:
        from engine.plugin import tune

        return tune(config, on_event, should_stop, dataset, resume=run.path if run else None, command=command)
    config.validate()
    threads = use_threads(config.threads)  # fixed, never read from the load (engine.cpu_policy)
    pretrained = _pretrained(config) if config.model.pretrained and not resume else None  # before the data
    with joined(config.device, config.collective_timeout) as (world, device):
        if not world.writer:
            run, on_event = None, ignore_event  # rank 0 writes and reports
        elif run is None:
            check_run_folders(config.runs_dir)  # before the dataset loads
        return _train(config, world, device, threads, run, pretrained, on_event, should_stop, dataset,
                      resume is not None, command)


def _train(config: RunConfig, world: World, device: torch.device, threads: int, run: RunFolder | None,
           pretrained: Checkpoint | None, on_event: EventSink, should_stop: StopFlag, dataset: Dataset | None,
           resuming: bool, command: str) -> RunResult:
    """The run on this process: its share of every batch; the run folder when it is the writer."""
    on_event(Message(f"device: {describe_device(device)}" + (f", one of {world.describe()}" if world.distributed
                                                               else "")))
    dataset = dataset or load_dataset(config.data)
    announce_dataset(dataset, on_event)

    torch.manual_seed(config.seed)
    plan = plan_run(config, dataset, device, world, report=lambda text: on_event(Message(text)))
    # what this run uses, recorded in config.json and the run card: a rerun from them is the same run
    config = replace(config, threads=threads, precision=plan.precision.name,
                     fp32_layers=list(plan.precision.fp32_layers))
    on_event(Message(f"precision: {plan.precision.describe()}"))
    if world.distributed and config.sync_batchnorm:
        on_event(Message(sync_batchnorm(plan.model, device)))
    if world.distributed and config.compile:
        on_event(Message("torch.compile is not used in a run of several processes (DDP wraps the eager model)"))
    if world.writer and run is None:
        run = RunFolder.create(config.runs_dir, config.experiment or _default_label(config, dataset))
        run.write_json("config.json", {"kind": "train", "run": config.to_dict(), "processes": world.record()})
        run.write_dataset(dataset.name, dataset.class_names, dataset.class_counts.tolist(),
                          eval_split="val" if "val" in dataset.split_names() else "test")
    if run is not None:
        on_event(RunStarted(run.path))
    loop = Loop(plan, run)
    final_test: Metrics | None = None

    def card(stopped: bool) -> None:
        if run is not None:
            write_run_card(run, config, dataset, loop.best_epoch, loop.best, loop.last_test, stopped,
                           [stage.describe() for stage in plan.stages], loop.eval_split, final_test, world.size)

    with loop, writing(run, command, loop.restore if resuming else None, on_interrupt=lambda _: card(True)):
        if resuming and run is not None:
            if not (run.path / "dataset.json").exists():  # lost: the loaded dataset says it again
                run.write_dataset(dataset.name, dataset.class_names, dataset.class_counts.tolist(),
                                  eval_split=loop.eval_split)
            on_event(Message(f"resuming {run.name} after epoch {loop.epochs_done}"))
        elif pretrained is not None:
            for note in _load_pretrained(plan, pretrained, dataset.num_classes):
                on_event(Message(note))
        loop.log(f"start on {describe_device(device)}" + (f" × {world.describe()}" if world.distributed else "")
                 + f", {plan.precision.describe()}: {dataset.describe()}")
        if config.model.freeze == "all":
            stopped = _evaluate_only(loop, on_event)
        else:
            stopped = loop.run_stages(on_event, should_stop)
        if not stopped:
            final_test = _final_test(loop, on_event)
        card(stopped)
        if run is not None:
            run.mark_status("stopped" if stopped else "finished", epochs=loop.epochs_done)
    return RunResult(run.path if run else None, stopped, loop.epochs_done, loop.best_epoch, loop.best,
                     loop.last_test, final_test)


def plan_run(config: RunConfig, dataset: Dataset, device: torch.device, world: World = SOLO,
             report: Callable[[str], None] = lambda text: None) -> RunPlan:
    """The model, method, stages and precision ``config`` asks for (refused before anything trains);
    ``world`` is this process's place among the run's processes."""
    stages_total = config.optim.epochs
    method: Method = build_method(config.method.loss, dataset.class_counts, config.method.params, stages_total)
    method.check_fit(len(dataset.train_labels))
    method.to(device)
    spec = method.model_spec(spec_for(config.model.arch, dataset.num_classes))
    model = create_model(spec).to(device)
    stages = select_stages(method, config)
    if config.model.freeze == "last_block":
        parts = model.parts()
        trains = tuple(part for part in LAST_BLOCK_PARTS if part in parts)
        if "last_block" not in trains:
            raise ConfigError("freeze", f"a {model.spec.family} model has no last block to fine-tune alone")
        stages = [replace(stage, trains=trains) for stage in stages]
    if method.needs_teacher and config.method.teacher:
        method.use_teacher(*_teacher(config.method.teacher, device, dataset.num_classes))
    batch_size = stages[0].optim.batch_size if stages else config.optim.batch_size
    with torch.random.fork_rng(devices=[]):  # measuring kernels must not move the run's random state
        # rank 0 measures and decides, so every rank computes in the same precision
        precision = from_rank_zero(lambda: resolve_precision(config.precision, config.fp32_layers, model, device,
                                                             batch_size, dataset.image_size, report))
    return RunPlan("train", dataset, device, model, method, stages, config.seed, dataset.mean, dataset.std,
                   train_rule=config.method.train_rule, reweight_beta=config.method.reweight_beta,
                   drw_epoch=config.method.drw_epoch,
                   best_metric=config.best_metric, recall_floor=config.recall_floor, save_model=config.save_model,
                   precision=precision, compile=config.compile, world=world,
                   meta={"data": {**asdict(config.data), "seed": config.seed}})


def select_stages(method: Method, config: RunConfig) -> list[Stage]:
    """The stages of ``method`` that ``config`` runs (``method.stages`` picks some)."""
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
    return stages


def planned_stages(config: RunConfig) -> list[Stage]:
    """The stages a run of ``config`` trains, without its data (the app's plan line, the run
    browser's epochs): none for an evaluation (``freeze`` "all"). Raises UserError as a run would."""
    if config.model.freeze == "all":
        return []
    method = build_method(config.method.loss, torch.ones(2), config.method.params, config.optim.epochs)
    return select_stages(method, config)


# what ``freeze = "last_block"`` trains, of the parts a model has (PaCo's paco_fp16_places.py: every
# convolution frozen but those of layer4's last block; BatchNorm, projection and classifier train)
LAST_BLOCK_PARTS = ("last_block", "trunk_batchnorm", "projection", "heads")


def check_resumable(run: RunFolder) -> None:
    """Refuse, in one line, a folder that is not a run, or a run that has nothing left to train."""
    if not run.is_run():
        raise UserError(f"{run.path} is not a run folder (it has no config.json)")
    if run.is_finished():
        raise UserError(f"{run.name} is finished ({len(run.history())} epochs); nothing to resume. To train longer, "
                        "start a new run from its settings")


def announce_dataset(dataset: Dataset, on_event: EventSink) -> None:
    """Report the loaded data: the event the app's views start from, its summary, skipped files."""
    on_event(DatasetReady(dataset.name, dataset.class_names, dataset.class_counts.tolist()))
    on_event(Message(dataset.describe()))
    if dataset.skipped_files:
        listing = "; ".join(f"{path} ({reason})" for path, reason in dataset.skipped_files[:20])
        more = f" and {len(dataset.skipped_files) - 20} more" if len(dataset.skipped_files) > 20 else ""
        on_event(Message(f"skipped {len(dataset.skipped_files)} unreadable file(s): {listing}{more}", "warning"))


def _default_label(config: RunConfig, dataset: Dataset) -> str:
    rule = config.method.train_rule
    return f"{dataset.name}-{config.method.loss}" + (f"-{rule}" if rule != "none" else "")


def _pretrained(config: RunConfig) -> Checkpoint:
    """The checkpoint a run starts from, refused in one line when the method does not train its
    family (a plain trunk file, such as torchvision's ImageNet weights, also starts a method whose
    family wraps such a trunk: PaCo's encoders)."""
    checkpoint = load_checkpoint(config.model.pretrained)
    spec, method = checkpoint.spec, method_class(config.method.loss)
    why = capability_error(method, family=spec.family) if spec else None
    takes_trunk = why and family(spec.family).trunk_prefixes == ("",) and \
        any(family(name).trunk_prefixes for name in method.families if name in families())
    if why and not takes_trunk:
        raise ConfigError("pretrained", f"{checkpoint.name}: {why}")
    return checkpoint


def _teacher(path: str, device: torch.device, num_classes: int) -> tuple[LTModel, PredictionRule]:
    """The distillation teacher (eval mode, frozen) and its own prediction rule."""
    teacher, rule = load_for_prediction(load_checkpoint(path), device=device)
    if teacher.num_classes != num_classes:
        raise UserError(f"the teacher {path} has {teacher.num_classes} classes, the data has {num_classes}")
    return teacher, rule


def _load_pretrained(plan: RunPlan, checkpoint: Checkpoint, num_classes: int) -> list[str]:
    """Start from a checkpoint's weights; a head the method adds (MiSLAS's LWS) starts fresh."""
    path = checkpoint.path
    assert_finite(checkpoint.state_dict, checkpoint.name)
    model = plan.model
    if is_trunk_file(checkpoint, model):  # torchvision's ImageNet weights under another head or wrapper
        return [f"pretrained weights from {path}", *checkpoint.notes, load_trunk_into(model, checkpoint)]
    new_heads = [name for name in model.heads() if not any(k.startswith(f"{name}.") for k in checkpoint.state_dict)]
    if new_heads and len(new_heads) < len(model.heads()):
        fresh = {k: v for k, v in model.state_dict().items() if k.split(".", 1)[0] in new_heads}
        checkpoint.state_dict = {**checkpoint.state_dict, **fresh}
        checkpoint.notes.append(f"{', '.join(new_heads)} start fresh (the checkpoint has none)")
    optional = model.optional_prefixes  # e.g. RIDE's router on a checkpoint without one
    fresh = {k: v for k, v in model.state_dict().items()
             if k.startswith(optional) and k not in checkpoint.state_dict} if optional else {}
    if fresh:
        checkpoint.state_dict = {**checkpoint.state_dict, **fresh}
        names = sorted({k.split(".", 1)[0] for k in fresh})
        checkpoint.notes.append(f"{', '.join(names)} start fresh (the checkpoint has none)")
    load_weights_into(model, checkpoint, num_classes=num_classes)
    return [f"pretrained weights from {path}", *checkpoint.notes]


@contextlib.contextmanager
def writing(run: RunFolder | None, command: str, restore: Callable[[Checkpoint], None] | None,
            on_interrupt: Callable[[int], None] | None = None) -> Iterator[None]:
    """The block that writes a run: the writer (rank 0, ``run``) holds the folder's lock
    (``RunFolder.writing``); the other ranks (``run`` None) hold nothing. With ``restore`` (a
    resumed run) the writer recovers ``last.pt`` and restores from it before it changes anything
    in the folder, and every other rank restores from the same checkpoint, handed on by rank 0."""
    recovered: list[Checkpoint] = []

    def restore_writer(checkpoint: Checkpoint) -> None:
        restore(checkpoint)
        recovered.append(checkpoint)

    held = run.writing(command, on_interrupt=on_interrupt, resume=restore_writer if restore else None) \
        if run is not None else contextlib.nullcontext()
    with held:
        if restore is not None and active():
            checkpoint = broadcast_object(recovered[0] if recovered else None)
            if not recovered:
                restore(checkpoint)
        yield


def _final_test(loop: Loop, on_event: EventSink) -> Metrics | None:
    """With a validation split: best.pt (chosen on it) measured once on the test split, reported
    and written to ``test_report.json`` (by rank 0); None without a validation split."""
    test = loop.final_test()
    run = loop.run
    if test is None or run is None:
        return test
    chosen = f"best.pt, epoch {loop.best_epoch}" if run.checkpoint("best") else "the last epoch"
    run.write_test_report(test, chosen, loop.plan.best_metric)
    on_event(Message(f"test split ({chosen}, chosen on the validation split by {loop.plan.best_metric}): "
                     f"acc {100 * test.top1:.2f}, HM {100 * test.hm:.2f}, GM {100 * test.gm:.2f}, "
                     f"LR {100 * test.lowest_recall:.2f}"))
    return test


def _evaluate_only(loop: Loop, on_event: EventSink) -> bool:
    """"Freeze all parameters": measure the pretrained model on both splits, train nothing."""
    train_metrics = loop.evaluate_split(loop.train)
    test_metrics = loop.evaluate_test()
    loop.track_best(test_metrics)
    if loop.run is not None:
        loop.run.append_epoch(0, 0.0, 0.0, train_metrics, test_metrics, stage=0)
    on_event(EpochEnd(0, 0, 0.0, train_metrics, test_metrics, 0.0, True))
    return False


__all__ = ["Stage", "TrainingDiverged", "announce_dataset", "plan_run", "planned_stages", "select_stages", "train"]
