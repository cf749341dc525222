"""The training loop. It knows no method by name: the method supplies model, loss and logits.

The loop follows LDAM-DRW's ``train.py`` (github.com/kaidic/LDAM-DRW) in shape: per epoch set the
learning rate, let the method and the train rule react to the epoch, train on the long-tailed
split, evaluate on the balanced test split, keep the best checkpoint. Data never leaves the
device as anything but uint8 tensors; augmentation runs per batch there.
"""
from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

import torch

from data import load_dataset
from data.errors import UserError
from data.samplers import SAMPLERS
from data.tensors import augment_batch, normalize
from data.types import LTDataset
from engine.checkpoints import load_checkpoint, load_weights_into, save_checkpoint
from engine.config import RunConfig
from engine.devices import describe_device, pick_device
from engine.evaluation import evaluate
from engine.events import (DatasetReady, EpochEnd, EventSink, Message, Progress, RunResult, StopFlag,
                           ignore_event, never_stop)
from engine.methods import Method, build_method
from engine.metrics import Metrics, compute_metrics, topk_hits
from engine.rules import TrainRule
from engine.run_card import write_run_card
from engine.runs import RunFolder
from engine.schedule import learning_rate

FINITE_CHECK_EVERY = 20  # batches between loss checks (each check synchronises the GPU)


class TrainingDiverged(UserError):
    """The loss became NaN or infinite."""


def train(config: RunConfig | None, on_event: EventSink = ignore_event, should_stop: StopFlag = never_stop,
          dataset: LTDataset | None = None, resume: str | Path | None = None) -> RunResult:
    """Train one run and write its run folder; see ``engine.events`` for what it reports.

    With ``resume`` (a run folder), ``config`` is ignored and may be None: the run continues
    with its own saved settings from its last checkpoint.
    """
    run = RunFolder(resume) if resume else None
    if run is not None:
        if not run.is_run():
            raise UserError(f"{run.path} is not a run folder (it has no config.json)")
        config = RunConfig.from_dict(run.config()["run"])
    elif config is None:
        raise ValueError("train() needs a config or a run folder to resume")
    config.validate()
    device = pick_device(config.device)
    on_event(Message(f"device: {describe_device(device)}"))
    dataset = dataset or load_dataset(config.data, seed=config.seed)
    on_event(DatasetReady(dataset.name, dataset.class_names, dataset.class_counts.tolist()))
    on_event(Message(dataset.describe()))
    if dataset.skipped_files:
        listing = "; ".join(f"{path} ({reason})" for path, reason in dataset.skipped_files[:20])
        more = f" and {len(dataset.skipped_files) - 20} more" if len(dataset.skipped_files) > 20 else ""
        on_event(Message(f"skipped {len(dataset.skipped_files)} unreadable file(s): {listing}{more}", "warning"))

    torch.manual_seed(config.seed)
    session = _Session(config, dataset, device)
    if run is None:
        run = RunFolder.create(config.runs_dir, config.experiment or _default_label(config, dataset))
        run.write_json("config.json", {"kind": "train", "run": config.to_dict()})
        run.write_dataset(dataset.name, dataset.class_names, dataset.class_counts.tolist())
        if config.model.pretrained:
            notes = session.load_pretrained(config.model.pretrained)
            for note in notes:
                on_event(Message(note))
    else:
        session.restore(run)
        run.truncate_history(session.epochs_done)
        on_event(Message(f"resuming {run.name} after epoch {session.epochs_done}"))
    run.log(f"start on {describe_device(device)}: {dataset.describe()}")

    stopped = False
    if config.model.freeze == "all":
        session.evaluate_only(run, on_event)
    else:
        stopped = session.fit(run, on_event, should_stop)
    write_run_card(run, config, dataset, session.best_epoch, session.best, session.last_test, stopped)
    return RunResult(run.path, stopped, session.epochs_done, session.best_epoch, session.best, session.last_test)


def _default_label(config: RunConfig, dataset: LTDataset) -> str:
    rule = config.method.train_rule
    return f"{dataset.name}-{config.method.loss}" + (f"-{rule}" if rule != "none" else "")


class _Session:
    """Everything one run holds: model, method, optimiser, generators and the best score so far."""

    def __init__(self, config: RunConfig, dataset: LTDataset, device: torch.device):
        self.config, self.dataset, self.device = config, dataset, device
        counts = dataset.class_counts
        self.counts = counts
        self.method: Method = build_method(config.method.loss, counts, config.method.params,
                                           config.optim.epochs).to(device)
        self.model = self.method.build_model(config.model.arch, dataset.num_classes).to(device)
        self.rule = TrainRule(config.method.train_rule, counts, config.method.reweight_beta,
                              drw_epoch=config.optim.decay_epochs()[0])
        self.train_images = dataset.train_images.to(device)
        self.train_labels = dataset.train_labels.to(device)
        self.test_images = dataset.test_images.to(device)
        self.test_labels = dataset.test_labels.to(device)
        self.order_generator = torch.Generator().manual_seed(config.seed)
        self.augment_generator = torch.Generator(device=device).manual_seed(config.seed + 1)
        self.autocast_dtype = torch.bfloat16 if (config.amp and device.type == "cuda"
                                                 and torch.cuda.is_bf16_supported()) else None
        self.optimizer = self._make_optimizer()
        self.epochs_done = 0
        self.best_epoch: int | None = None
        self.best: dict = {}
        self.last_test: Metrics | None = None

    def _make_optimizer(self) -> torch.optim.Optimizer:
        optim = self.config.optim
        if self.config.model.freeze == "features":
            for name, parameter in self.model.named_parameters():
                parameter.requires_grad_(name.startswith("linear."))
        trainable = [p for p in self.model.parameters() if p.requires_grad]
        return torch.optim.SGD(trainable, lr=optim.lr, momentum=optim.momentum, weight_decay=optim.weight_decay)

    def load_pretrained(self, path: str) -> list[str]:
        checkpoint = load_checkpoint(path)
        load_weights_into(self.model, checkpoint, num_classes=self.dataset.num_classes)
        return [f"pretrained weights from {path}", *checkpoint.notes]

    # --- the loop --------------------------------------------------------------------------
    def fit(self, run: RunFolder, on_event: EventSink, should_stop: StopFlag) -> bool:
        """Train the remaining epochs. Returns True when stopped early."""
        optim = self.config.optim
        for epoch in range(self.epochs_done, optim.epochs):
            started = time.perf_counter()
            lr = learning_rate(optim, epoch)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            self.method.on_epoch_start(epoch)
            self.rule.apply(self.method, epoch)
            train_metrics = self._train_epoch(epoch, on_event, should_stop)
            if train_metrics is None:
                on_event(Message(f"stopped during epoch {epoch + 1}; the checkpoint of epoch {self.epochs_done} is kept"))
                run.log(f"stopped during epoch {epoch + 1}")
                return True
            test_metrics = self._evaluate()
            self.epochs_done = epoch + 1
            is_best = self._track_best(test_metrics)
            self._save(run, is_best)
            run.append_epoch(self.epochs_done, lr, time.perf_counter() - started, train_metrics, test_metrics)
            event = EpochEnd(self.epochs_done, optim.epochs, lr, train_metrics, test_metrics,
                             time.perf_counter() - started, is_best)
            run.log(f"epoch {event.epoch}: test acc {test_metrics.top1:.4f} HM {test_metrics.hm:.4f} "
                    f"GM {test_metrics.gm:.4f} LR {test_metrics.lowest_recall:.4f}")
            on_event(event)
        return False

    def _train_epoch(self, epoch: int, on_event: EventSink, should_stop: StopFlag) -> Metrics | None:
        """One pass over the training split; running metrics, or None when asked to stop."""
        self._set_train_mode()
        order = SAMPLERS[self.rule.sampler(epoch)](self.train_labels.cpu(), self.order_generator).to(self.device)
        batch_size, num_classes = self.config.optim.batch_size, self.dataset.num_classes
        batches = (len(order) + batch_size - 1) // batch_size
        confusion = torch.zeros(num_classes * num_classes, dtype=torch.int64, device=self.device)
        loss_sum = torch.zeros((), device=self.device)
        top5 = torch.zeros((), dtype=torch.int64, device=self.device)
        for batch in range(batches):
            if should_stop():
                return None
            index = order[batch * batch_size:(batch + 1) * batch_size]
            images = self.train_images[index]
            if self.config.data.augment:
                images = augment_batch(images, self.augment_generator)
            images = normalize(images, self.dataset.mean, self.dataset.std)
            labels = self.train_labels[index]
            with torch.autocast(self.device.type, dtype=self.autocast_dtype or torch.float32,
                                enabled=self.autocast_dtype is not None):
                loss, logits = self.method.loss(self.model, images, labels)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            loss_sum += loss.detach() * len(index)
            confusion += torch.bincount(labels * num_classes + logits.detach().argmax(1), minlength=num_classes ** 2)
            top5 += topk_hits(logits.detach(), labels)
            if (batch + 1) % FINITE_CHECK_EVERY == 0 or batch + 1 == batches:
                self._check_finite(loss_sum, epoch)
            on_event(Progress(epoch + 1, self.config.optim.epochs, batch + 1, batches))
        return compute_metrics(confusion.reshape(num_classes, num_classes), self.counts,
                               loss=float(loss_sum) / len(order), top5_correct=int(top5))

    def _check_finite(self, loss_sum: torch.Tensor, epoch: int) -> None:
        if not torch.isfinite(loss_sum):
            kept = f"the checkpoint of epoch {self.epochs_done} is kept" if self.epochs_done else "no epoch finished"
            raise TrainingDiverged(
                f"the loss became NaN/inf in epoch {epoch + 1}; {kept}. Lower the learning rate "
                f"(now {self.config.optim.lr}) or check the method's hyperparameters.")

    def _set_train_mode(self) -> None:
        """Train mode, except a frozen backbone keeps its BatchNorm statistics."""
        if self.config.model.freeze == "features":
            self.model.eval()
            self.model.linear.train()
        else:
            self.model.train()

    def _evaluate(self) -> Metrics:
        self.last_test = evaluate(self.model, self.method.logits, self.test_images,
                                  self.test_labels, self.dataset.mean, self.dataset.std, self.counts)
        return self.last_test

    def evaluate_only(self, run: RunFolder, on_event: EventSink) -> None:
        """"Freeze all parameters": measure the pretrained model on both splits, train nothing."""
        train_metrics = evaluate(self.model, self.method.logits, self.train_images,
                                 self.train_labels, self.dataset.mean, self.dataset.std, self.counts)
        test_metrics = self._evaluate()
        self._track_best(test_metrics)
        run.append_epoch(0, 0.0, 0.0, train_metrics, test_metrics)
        on_event(EpochEnd(0, 0, 0.0, train_metrics, test_metrics, 0.0, True))

    def _track_best(self, test: Metrics) -> bool:
        key = self.config.best_metric.removeprefix("test_")
        score = getattr(test, "lowest_recall" if key == "lr" else key)
        if self.best and score <= self.best[self.config.best_metric]:
            return False
        self.best_epoch = self.epochs_done
        self.best = {**test.summary("test_"), "test_lr": test.lowest_recall, "epoch": self.epochs_done}
        return True

    # --- checkpoints -----------------------------------------------------------------------
    def meta(self) -> dict:
        dataset = self.dataset
        return {
            "arch": self.config.model.arch, "head": self.method.head, "num_classes": dataset.num_classes,
            "class_names": list(dataset.class_names), "dataset": dataset.name, "image_size": dataset.image_size,
            "mean": list(dataset.mean), "std": list(dataset.std), "method": self.method.name,
            "logit_scale": float(self.method.logit_scale), "epoch": self.epochs_done,
            "data": {**asdict(self.config.data), "seed": self.config.seed},  # so tune/eval can default to it
            "metrics": {k: v for k, v in (self.last_test.summary("test_") if self.last_test else {}).items()},
        }

    def _save(self, run: RunFolder, is_best: bool) -> None:
        if not self.config.save_model:
            return
        extra = {
            "optimizer": self.optimizer.state_dict(), "epochs_done": self.epochs_done,
            "best_epoch": self.best_epoch, "best": self.best,
            "rng": {"torch": torch.get_rng_state(), "order": self.order_generator.get_state(),
                    "augment": self.augment_generator.get_state()},
        }
        last = run.path / "checkpoints" / "last.pt"
        save_checkpoint(last, self.model.state_dict(), self.meta(), extra=extra)
        if is_best:
            save_checkpoint(run.path / "checkpoints" / "best.pt", self.model.state_dict(), self.meta())

    def restore(self, run: RunFolder) -> None:
        path = run.checkpoint("last")
        if path is None:
            raise UserError(f"{run.path} has no checkpoints/last.pt to resume from (was 'save model' off?)")
        checkpoint = load_checkpoint(path)
        self.model.load_state_dict(checkpoint.state_dict)
        extra = checkpoint.extra
        self.optimizer.load_state_dict(extra["optimizer"])
        self.epochs_done = int(extra["epochs_done"])
        self.best_epoch, self.best = extra["best_epoch"], dict(extra["best"])
        torch.set_rng_state(extra["rng"]["torch"])
        self.order_generator.set_state(extra["rng"]["order"])
        self.augment_generator.set_state(extra["rng"]["augment"])
