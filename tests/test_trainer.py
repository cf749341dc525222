"""The training loop on a tiny generated long-tailed problem: events, run folder, resume, stop, NaN, freezing."""
from __future__ import annotations

import csv
import json

import pytest
import torch

from data.types import LTDataset
from engine.checkpoints import load_checkpoint, save_checkpoint
from engine.config import DataConfig, MethodConfig, ModelConfig, OptimConfig, RunConfig
from engine.events import DatasetReady, EpochEnd, Progress
from engine.trainer import TrainingDiverged, train

COUNTS = [40, 20, 10, 5]


def tiny_dataset(size: int = 12) -> LTDataset:
    """Four classes told apart by which colour channel is bright, long-tailed 40/20/10/5."""
    generator = torch.Generator().manual_seed(0)

    def make(counts):
        labels = torch.cat([torch.full((n,), c) for c, n in enumerate(counts)])
        images = torch.randint(0, 60, (len(labels), 3, size, size), generator=generator, dtype=torch.uint8)
        for channel in range(3):
            images[labels == channel, channel] += 150
        images[labels == 3] += 100
        return images, labels

    train_x, train_y = make(COUNTS)
    test_x, test_y = make([6] * 4)
    return LTDataset("tiny", ["red", "green", "blue", "grey"], train_x, train_y, test_x, test_y,
                     (0.3, 0.3, 0.3), (0.3, 0.3, 0.3))


def tiny_config(tmp_path, epochs: int = 2, **optim) -> RunConfig:
    return RunConfig(data=DataConfig(dataset="demo"), model=ModelConfig(arch="resnet20"),
                     optim=OptimConfig(epochs=epochs, batch_size=16, lr=0.05, warmup_epochs=0, **optim),
                     runs_dir=str(tmp_path / "runs"), experiment="tiny")


def test_a_run_reports_every_batch_and_epoch_and_writes_its_folder(tmp_path):
    events = []
    result = train(tiny_config(tmp_path), on_event=events.append, dataset=tiny_dataset())

    assert isinstance(events[0], DatasetReady) or any(isinstance(e, DatasetReady) for e in events)
    ready = next(e for e in events if isinstance(e, DatasetReady))
    assert ready.class_counts == COUNTS
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    assert [e.epoch for e in epochs] == [1, 2]
    progress = [e for e in events if isinstance(e, Progress)]
    assert len(progress) == 2 * 5  # 75 images in batches of 16
    assert all(len(e.test.per_class_recall) == 4 for e in epochs)

    run = result.run_dir
    for name in ("config.json", "dataset.json", "metrics.csv", "per_class.csv", "log.txt", "README.md",
                 "checkpoints/last.pt", "checkpoints/best.pt"):
        assert (run / name).is_file(), name
    rows = list(csv.DictReader(open(run / "metrics.csv")))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert float(rows[1]["test_top1"]) == pytest.approx(epochs[1].test.top1)
    checkpoint = load_checkpoint(run / "checkpoints" / "last.pt")
    assert checkpoint.meta["arch"] == "resnet20" and checkpoint.meta["class_names"] == ["red", "green", "blue", "grey"]
    card = (run / "README.md").read_text()
    assert "Resume with" in card
    best = result.best_epoch
    assert f"| metric (test, %) | last epoch (2) | best epoch ({best}, by hm) |" in card  # both, labelled
    assert f"| Acc | {100 * epochs[1].test.top1:.2f} |" in card  # the last epoch first: what the app reports


def test_resume_reproduces_the_uninterrupted_run(tmp_path):
    dataset = tiny_dataset()
    straight = []
    train(tiny_config(tmp_path, epochs=3), on_event=straight.append, dataset=dataset)

    first = []
    batches_seen = []

    def stop_in_second_epoch() -> bool:
        return sum(isinstance(e, EpochEnd) for e in first) == 1 and len(batches_seen) > 0

    def record(event):
        first.append(event)
        if isinstance(event, Progress) and event.epoch == 2:
            batches_seen.append(event)

    stopped = train(tiny_config(tmp_path, epochs=3), on_event=record, should_stop=stop_in_second_epoch, dataset=dataset)
    assert stopped.stopped and stopped.epochs_done == 1

    resumed = []
    result = train(None, on_event=resumed.append, dataset=dataset, resume=stopped.run_dir)
    assert result.epochs_done == 3
    expected = [e for e in straight if isinstance(e, EpochEnd)]
    got = [e for e in first + resumed if isinstance(e, EpochEnd)]
    assert [e.epoch for e in got] == [1, 2, 3]
    for a, b in zip(expected, got):
        assert a.train.loss == b.train.loss and a.test.per_class_recall == b.test.per_class_recall
    rows = list(csv.DictReader(open(result.run_dir / "metrics.csv")))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]


def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    from engine.methods.ce import CrossEntropy

    original = CrossEntropy.criterion

    def poisoned(self, logits, labels, features):
        loss = original(self, logits, labels, features)
        return loss * float("nan") if self.epoch == 1 else loss

    monkeypatch.setattr(CrossEntropy, "criterion", poisoned)
    with pytest.raises(TrainingDiverged, match="epoch 2.*epoch 1 is kept"):
        train(tiny_config(tmp_path, epochs=3), dataset=tiny_dataset())
    run = next((tmp_path / "runs").iterdir())
    checkpoint = load_checkpoint(run / "checkpoints" / "last.pt")
    assert checkpoint.extra["epochs_done"] == 1
    assert all(torch.isfinite(v).all() for v in checkpoint.state_dict.values() if v.is_floating_point())


def test_an_exploding_loss_stops_the_run_marks_it_diverged_and_keeps_only_finite_checkpoints(tmp_path, monkeypatch):
    """A loss that grows to 1e5 (finite) is divergence, not success (lr 10 on the demo reached 5e13)."""
    from engine.methods.ce import CrossEntropy

    original = CrossEntropy.criterion

    def exploding(self, logits, labels, features):
        loss = original(self, logits, labels, features)
        return loss * 1e5 if self.epoch == 1 else loss

    monkeypatch.setattr(CrossEntropy, "criterion", exploding)
    with pytest.raises(TrainingDiverged, match="exploded to .*epoch 2.*epoch 1 is kept"):
        train(tiny_config(tmp_path, epochs=3), dataset=tiny_dataset())
    run = next((tmp_path / "runs").iterdir())
    assert json.loads((run / "status.json").read_text())["state"] == "diverged"
    assert [int(r["epoch"]) for r in csv.DictReader(open(run / "metrics.csv"))] == [1]


def test_freezing_features_trains_only_the_classifier(tmp_path):
    dataset = tiny_dataset()
    base = train(tiny_config(tmp_path, epochs=1), dataset=dataset)
    pretrained = base.run_dir / "checkpoints" / "last.pt"
    before = load_checkpoint(pretrained).state_dict

    config = tiny_config(tmp_path, epochs=2)
    config.model = ModelConfig(arch="resnet20", pretrained=str(pretrained), freeze="features")
    config.method = MethodConfig(loss="bsce")
    result = train(config, dataset=dataset)
    after = load_checkpoint(result.run_dir / "checkpoints" / "last.pt").state_dict
    for key, value in before.items():
        if key.startswith("linear."):
            assert not torch.equal(value, after[key]), key
        else:
            assert torch.equal(value, after[key]), f"{key} changed although the backbone is frozen"


def test_freezing_all_only_evaluates_the_pretrained_model(tmp_path):
    dataset = tiny_dataset()
    base = train(tiny_config(tmp_path, epochs=1), dataset=dataset)
    config = tiny_config(tmp_path)
    config.model = ModelConfig(arch="resnet20", pretrained=str(base.run_dir / "checkpoints" / "last.pt"), freeze="all")
    events = []
    result = train(config, on_event=events.append, dataset=dataset)
    assert not any(isinstance(e, Progress) for e in events)
    assert result.final.per_class_recall == base.final.per_class_recall


def test_a_pretrained_checkpoint_of_the_wrong_shape_is_refused_clearly(tmp_path):
    from models import build_model

    path = tmp_path / "ten_classes.pt"
    save_checkpoint(path, build_model("resnet20", 10).state_dict(), {"arch": "resnet20", "head": "linear", "num_classes": 10})
    config = tiny_config(tmp_path)
    config.model = ModelConfig(arch="resnet20", pretrained=str(path))
    with pytest.raises(Exception, match="10"):
        train(config, dataset=tiny_dataset())
