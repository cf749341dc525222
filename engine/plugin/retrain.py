"""``tune``: re-train only the classifier of a pretrained model, then ensemble old and new.

The plug-in of "No One Left Behind" (Du & Wu, CVPR 2023, arXiv 2303.03630): freeze the feature
extractor of any pretrained model (weights and BatchNorm statistics), re-train its classifier
with the Geometric Mean Loss (or any registered loss) on the long-tailed training set, and
optionally predict with ``½·[softmax(z_new/t1) + softmax(z_old/t2)]``. The old classifier is
copied before anything else happens to the model and is never handed to an optimiser, so the
"old" column and the ensemble use exactly the classifier that was loaded.

Because the backbone is frozen, its features are computed once (``cache_features``) and the
classifier trains on them; every report (old, new, ensemble, each epoch's test metrics) reuses
the cached test features.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from data import load_dataset
from data.samplers import SAMPLERS
from data.types import LTDataset
from engine.checkpoints import Checkpoint, build_model_from_checkpoint, load_checkpoint, save_checkpoint
from engine.config import ConfigError
from engine.devices import describe_device, pick_device
from engine.evaluation import metrics_from_logits
from engine.events import (DatasetReady, EpochEnd, Event, EventSink, Message, Progress, RunStopped, StopFlag,
                           ignore_event, never_stop)
from engine.methods import Method, build_method
from engine.metrics import Metrics, compute_metrics, topk_hits
from engine.plugin.config import TuneConfig
from engine.plugin.ensemble import TemperatureChoice, ensemble_probabilities, search_temperatures
from engine.plugin.features import FeatureBank, LiveFeatures, extract_features
from engine.plugin.heads import LinearHead, freeze_backbone, head_adapter
from engine.plugin.report import write_reports
from engine.runs import RunFolder
from engine.trainer import TrainingDiverged


@dataclass
class TuneResult:
    run_dir: Path | None
    stopped: bool
    reports: dict[str, Metrics]  # "old", and "new" / "ensemble" when they exist
    class_names: list[str]
    class_counts: list[int]
    t1: float
    t2: float
    epochs_done: int = 0
    search: TemperatureChoice | None = None  # the validation scores of the searched pair
    seconds: dict[str, float] = field(default_factory=dict)  # "features", "tune", "total"


def tune(config: TuneConfig, on_event: EventSink = ignore_event, should_stop: StopFlag = never_stop,
         dataset: LTDataset | None = None) -> TuneResult:
    """Run the plug-in and write its run folder. Events: DatasetReady, Message, Progress
    (stage "features", "tune", "eval") and one EpochEnd per tuning epoch."""
    started = time.perf_counter()
    config.validate()
    log = _Log(on_event)
    device = pick_device(config.device)
    log(Message(f"device: {describe_device(device)}"))
    checkpoint = load_checkpoint(config.checkpoint)
    for note in checkpoint.notes:
        log(Message(f"{checkpoint.name}: {note}"))
    dataset = dataset or load_dataset(config.data, seed=config.seed)
    on_event(DatasetReady(dataset.name, dataset.class_names, dataset.class_counts.tolist()))
    log(Message(dataset.describe()))
    saved_names = checkpoint.meta.get("class_names")
    if saved_names and list(saved_names) != list(dataset.class_names):
        log(Message(f"{checkpoint.name} was trained on classes {', '.join(map(str, saved_names[:5]))}…, not on "
                    f"{dataset.name}'s {', '.join(dataset.class_names[:5])}…; its old classifier's columns mean "
                    "other classes", level="warning"))
    session = _Session(config, checkpoint, dataset, device)
    run = RunFolder.create(config.runs_dir, config.experiment or f"{dataset.name}-tune-{config.loss}")
    run.write_json("config.json", {"kind": "tune", "tune": config.to_dict(), "checkpoint": checkpoint.describe()})
    run.write_dataset(dataset.name, dataset.class_names, dataset.class_counts.tolist())
    log.attach(run)
    log(Message(f"tuning {checkpoint.name} ({checkpoint.describe()}) with {session.method.title}"))
    stopped = False
    try:
        session.prepare_features(log, should_stop)
        session.fit(run, log, should_stop)
    except RunStopped:
        stopped = True
        log(Message(f"stopped by the user after {session.epochs_done} tuning epoch(s)"))
    result = session.finish(run, log, stopped)
    result.seconds["total"] = time.perf_counter() - started
    write_reports(run, config, dataset, checkpoint, result)
    return result


class _Log:
    """Forwards events; keeps Message lines for the run's log.txt (buffered until the folder exists)."""

    def __init__(self, on_event: EventSink):
        self.on_event, self.run, self.pending = on_event, None, []

    def attach(self, run: RunFolder) -> None:
        self.run = run
        for text in self.pending:
            run.log(text)

    def __call__(self, event: Event) -> None:
        if isinstance(event, Message) and self.run:
            self.run.log(event.text)
        elif isinstance(event, Message):
            self.pending.append(event.text)
        self.on_event(event)


class _Session:
    """The frozen model, the two classifiers, the cached features and the tuning state."""

    def __init__(self, config: TuneConfig, checkpoint: Checkpoint, dataset: LTDataset, device: torch.device):
        self.config, self.dataset, self.device = config, dataset, device
        self.counts = dataset.class_counts
        self.model = build_model_from_checkpoint(checkpoint, arch=config.arch or None,
                                                 num_classes=dataset.num_classes).to(device)
        freeze_backbone(self.model)
        self.kind = checkpoint.meta.get("head", "linear")
        self.adapter: LinearHead = head_adapter(self.model, self.kind)
        self.old_head = self.adapter.copy().requires_grad_(False)  # first, before anything can change it
        self.old_scale = float(checkpoint.meta.get("logit_scale", 1.0))
        self.mean = tuple(checkpoint.meta.get("mean") or dataset.mean)
        self.std = tuple(checkpoint.meta.get("std") or dataset.std)
        self.train_index, self.val_index = _split(dataset.train_labels, config, self.counts)
        self.train_labels = dataset.train_labels[self.train_index].to(device)
        tuning_counts = torch.bincount(self.train_labels.cpu(), minlength=dataset.num_classes)
        self.method: Method = build_method(config.loss, tuning_counts, config.loss_params, max(1, config.epochs)).to(device)
        self.train_scale, self.eval_scale = self._scales()
        self.new_head = (self.adapter.copy() if config.init == "old" else self.adapter.fresh(config.seed)).train()
        self.optimizer = _optimizer(config, self.new_head.parameters())
        self.order_generator = torch.Generator().manual_seed(config.seed)
        self.augment_generator = torch.Generator(device=device).manual_seed(config.seed + 1)
        self.epochs_done = 0
        self.good_state = {k: v.clone() for k, v in self.new_head.state_dict().items()}
        self.test_features = self.val_features = self.source = None
        self.seconds = {"features": 0.0, "tune": 0.0}

    def _scales(self) -> tuple[float, float]:
        """(scale fed to the loss, scale of the new head's logits at evaluation)."""
        if self.method.head == self.kind:
            return 1.0, float(self.method.logit_scale)
        if self.method.head == "cosine":
            raise ConfigError("loss", f"{self.method.title} trains a cosine classifier, but this model's classifier "
                              "is a plain linear one; choose a loss for plain classifiers, such as gml")
        # A plain-logit loss on cosine outputs in [-1, 1]: use the model's own scale (LDAM: s = 30).
        return self.old_scale, self.old_scale

    # --- features ---------------------------------------------------------------------------
    def prepare_features(self, log: _Log, should_stop: StopFlag) -> None:
        config, dataset, device = self.config, self.dataset, self.device
        started = time.perf_counter()
        train_images = dataset.train_images.to(device)
        augment = self.augment_generator if config.data.augment else None
        passes = (config.feature_passes if augment else 1) if config.cache_features and config.epochs else 0
        jobs = [("test split", dataset.test_images.to(device), None)]
        if len(self.val_index):
            jobs.append(("validation split", train_images[self.val_index.to(device)], None))
        tuning_images = train_images[self.train_index.to(device)]
        jobs += [(f"training pass {p + 1}", tuning_images, augment) for p in range(passes)]
        outputs = []
        for number, (what, images, generator) in enumerate(jobs, start=1):
            def on_batch(batch: int, batches: int, number: int = number) -> None:
                if should_stop():
                    raise RunStopped
                log(Progress(number, len(jobs), batch, batches, stage="features"))
            outputs.append(extract_features(self.model, images, self.mean, self.std, generator, on_batch))
        self.test_features = outputs[0]
        self.val_features = outputs[1] if len(self.val_index) else None
        if passes:
            self.source = FeatureBank(outputs[-passes:])
        else:
            self.source = LiveFeatures(self.model, tuning_images, self.mean, self.std, augment)
        self.seconds["features"] = time.perf_counter() - started
        cached = f"{passes} cached training pass(es)" if passes else "training features computed per batch"
        log(Message(f"frozen-backbone features in {self.seconds['features']:.1f}s ({cached})"))

    # --- training ---------------------------------------------------------------------------
    def fit(self, run: RunFolder, log: _Log, should_stop: StopFlag) -> None:
        config = self.config
        for epoch in range(config.epochs):
            started = time.perf_counter()
            lr = _learning_rate(config, epoch)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            self.method.on_epoch_start(epoch)
            train_metrics = self._train_epoch(epoch, log, should_stop)
            test_metrics = metrics_from_logits(self.new_logits(self.test_features), self.dataset.test_labels, self.counts)
            self.epochs_done = epoch + 1
            self.good_state = {k: v.clone() for k, v in self.new_head.state_dict().items()}
            seconds = time.perf_counter() - started
            self.seconds["tune"] += seconds
            run.append_epoch(self.epochs_done, lr, seconds, train_metrics, test_metrics)
            log(EpochEnd(self.epochs_done, config.epochs, lr, train_metrics, test_metrics, seconds))

    def _train_epoch(self, epoch: int, log: _Log, should_stop: StopFlag) -> Metrics:
        config, num_classes = self.config, self.dataset.num_classes
        order = SAMPLERS[config.sampler](self.train_labels.cpu(), self.order_generator).to(self.device)
        batches = (len(order) + config.batch_size - 1) // config.batch_size
        confusion = torch.zeros(num_classes * num_classes, dtype=torch.int64, device=self.device)
        loss_sum = torch.zeros((), device=self.device)
        top5 = torch.zeros((), dtype=torch.int64, device=self.device)
        self.new_head.train()
        for batch in range(batches):
            if should_stop():
                raise RunStopped
            index = order[batch * config.batch_size:(batch + 1) * config.batch_size]
            features, labels = self.source.batch(index, epoch), self.train_labels[index]
            logits = self.train_scale * self.new_head(features)
            loss = self.method.criterion(logits, labels, features)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            logits = logits.detach()
            loss_sum += loss.detach() * len(index)
            confusion += torch.bincount(labels * num_classes + logits.argmax(1), minlength=num_classes ** 2)
            top5 += topk_hits(logits, labels)
            log(Progress(epoch + 1, config.epochs, batch + 1, batches, stage="tune"))
        if not torch.isfinite(loss_sum):
            raise TrainingDiverged(f"the loss became NaN/inf in tuning epoch {epoch + 1}; lower the learning rate "
                                   f"(now {config.lr}) or choose another loss")
        return compute_metrics(confusion.reshape(num_classes, num_classes), self.counts,
                               loss=float(loss_sum) / len(order), top5_correct=int(top5))

    # --- logits -----------------------------------------------------------------------------
    @torch.no_grad()
    def new_logits(self, features: torch.Tensor) -> torch.Tensor:
        return self.eval_scale * self.new_head(features)

    @torch.no_grad()
    def old_logits(self, features: torch.Tensor) -> torch.Tensor:
        return self.old_scale * self.old_head(features)

    # --- the end: temperatures, reports, checkpoint ----------------------------------------
    def finish(self, run: RunFolder, log: _Log, stopped: bool) -> TuneResult:
        config, dataset = self.config, self.dataset
        result = TuneResult(run.path, stopped, {}, list(dataset.class_names), dataset.class_counts.tolist(),
                            config.t1, config.t2, self.epochs_done, seconds=self.seconds)
        if self.test_features is None:
            return result
        log(Progress(1, 1, 1, 1, stage="eval"))
        labels = dataset.test_labels
        old_logits = self.old_logits(self.test_features)
        result.reports["old"] = metrics_from_logits(old_logits, labels, self.counts)
        if not self.epochs_done:
            return result
        self.new_head.load_state_dict(self.good_state)
        self.new_head.eval()
        new_logits = self.new_logits(self.test_features)
        result.reports["new"] = metrics_from_logits(new_logits, labels, self.counts)
        if config.ensemble:
            if config.search_temperatures:
                result.search = search_temperatures(self.new_logits(self.val_features),
                                                    self.old_logits(self.val_features),
                                                    dataset.train_labels[self.val_index])
                result.t1, result.t2 = result.search.t1, result.search.t2
                log(Message(f"temperature search on {len(self.val_index)} held-out training images: t1 = "
                            f"{result.t1:g}, t2 = {result.t2:g} (validation HM {100 * result.search.hm:.2f}, "
                            f"{result.search.zero_recall} zero-recall classes)"))
            probabilities = ensemble_probabilities(new_logits, old_logits, result.t1, result.t2)
            result.reports["ensemble"] = metrics_from_logits(probabilities.clamp_min(1e-12).log(), labels, self.counts)
        if config.save_model:
            self._save(run, result)
        return result

    def _save(self, run: RunFolder, result: TuneResult) -> None:
        config, dataset = self.config, self.dataset
        self.adapter.install(self.new_head)
        meta = {
            "arch": self.model.arch, "head": self.kind, "num_classes": dataset.num_classes,
            "class_names": list(dataset.class_names), "dataset": dataset.name, "image_size": dataset.image_size,
            "mean": list(self.mean), "std": list(self.std), "method": self.method.name,
            "logit_scale": self.eval_scale, "epoch": self.epochs_done, "tuned_from": str(config.checkpoint),
            "metrics": result.reports["new"].summary("test_"),
        }
        if config.ensemble:
            meta["ensemble"] = {"t1": result.t1, "t2": result.t2, "old_logit_scale": self.old_scale,
                                "searched": result.search is not None}
        save_checkpoint(run.path / "checkpoints" / "last.pt", self.model.state_dict(), meta,
                        heads={"old": self.old_head.state_dict()})


def _split(labels: torch.Tensor, config: TuneConfig, counts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(tuning indices, validation indices) of the training split. Only the temperature search holds
    images out: per class round(fraction · n_c), at least one, never the class's last image."""
    everything = torch.arange(len(labels))
    if not config.search_temperatures:
        return everything, everything[:0]
    generator = torch.Generator().manual_seed(config.seed + 2)
    labels = labels.cpu()
    held_out = []
    for c, n in enumerate(counts.tolist()):
        if n < 2:
            continue
        members = torch.nonzero(labels == c).flatten()
        take = min(n - 1, max(1, round(config.validation_fraction * n)))
        held_out.append(members[torch.randperm(n, generator=generator)[:take]])
    val = torch.sort(torch.cat(held_out)).values if held_out else everything[:0]
    keep = torch.ones(len(labels), dtype=torch.bool)
    keep[val] = False
    return everything[keep], val


def _optimizer(config: TuneConfig, parameters) -> torch.optim.Optimizer:
    if config.optimizer == "adam":
        return torch.optim.Adam(parameters, lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.SGD(parameters, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)


def _learning_rate(config: TuneConfig, epoch: int) -> float:
    """MiSLAS stage 2's cosine: lr·½(1 + cos(π·e/E)) for 0-based epoch e, or constant."""
    if config.schedule == "constant":
        return config.lr
    return config.lr * 0.5 * (1 + math.cos(math.pi * epoch / config.epochs))
