"""The GML plug-in: GML itself, the frozen backbone, the untouched old classifier, the ensemble,
the temperature search, the run folder, a foreign CIFAR-100 checkpoint and the CLI.

Every model here is a resnet20 (or the shared ResNet-32 CE.pt) on tiny generated data, so each
test runs in seconds on a CPU.
"""
from __future__ import annotations

import csv
import json
import math

import pytest
import torch

from data.tensors import normalize
from data.types import LTDataset
from engine.checkpoints import build_model_from_checkpoint, load_checkpoint, save_checkpoint
from cli import main as cli_main
from engine.config import ConfigError, RunConfig
from engine.events import DatasetReady, EpochEnd, Message, Progress
from engine.methods import build_method
from engine.plugin import plugin_config, search_temperatures, tune
from engine.plugin.config import saved_run_config
from engine.prediction import ensemble_probabilities
from models import build_model, head_modules_from_state

COUNTS = [80, 40, 20, 10, 5, 3]
COLOURS = [[200, 60, 60], [60, 200, 60], [60, 60, 200], [200, 200, 60], [200, 60, 200], [60, 200, 200]]


# ------------------------------------------------------------------------------ helpers

def toy_dataset(spread: float = 0.4, size: int = 8, test_per_class: int = 20) -> LTDataset:
    """Six long-tailed colour classes (80 … 3 images) pulled towards grey by ``spread`` and drowned
    in pixel noise, so that the classes overlap and a CE classifier favours the head classes."""
    colours = torch.tensor(COLOURS, dtype=torch.float32)
    grey = torch.full((3,), 130.0)

    def split(counts, seed):
        generator = torch.Generator().manual_seed(seed)
        labels = torch.cat([torch.full((n,), c) for c, n in enumerate(counts)])
        centre = grey + spread * (colours[labels] - grey)
        pixels = centre[:, :, None, None] + 60 * torch.randn(len(labels), 3, size, size, generator=generator)
        return pixels.clamp(0, 255).round().to(torch.uint8), labels

    train_x, train_y = split(COUNTS, 0)
    test_x, test_y = split([test_per_class] * len(COUNTS), 1)
    return LTDataset("toy", [f"class{c}" for c in range(len(COUNTS))], train_x, train_y, test_x, test_y,
                     (0.5, 0.5, 0.5), (0.25, 0.25, 0.25))


def backbone_checkpoint(path, dataset: LTDataset, random_statistics: bool = False):
    """A resnet20 whose BatchNorm statistics are calibrated on the training images (so its random
    features carry the colours), or set at random (so that any change to them shows)."""
    torch.manual_seed(0)
    model = build_model("resnet20", dataset.num_classes)
    if random_statistics:
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.num_batches_tracked.fill_(7)
    else:
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.momentum = None  # a cumulative average over one pass
        model.train()
        with torch.no_grad():
            model(normalize(dataset.train_images, dataset.mean, dataset.std))
    save_checkpoint(path, model.state_dict(), {"arch": "resnet20", "head": "linear",
                                               "num_classes": dataset.num_classes})
    return path


def config(tmp_path, checkpoint, **fields) -> RunConfig:
    """The plug-in preset with these settings (by field name), on the generated data."""
    fields = {"epochs": 3, "batch_size": 32, "feature_passes": 2, "device": "cpu", "data": {"dataset": "demo"},
              **fields}
    return plugin_config({"pretrained": str(checkpoint), "runs_dir": str(tmp_path / "runs"), **fields})


def recalls_by_hand(predictions: torch.Tensor, labels: torch.Tensor, num_classes: int) -> list[float]:
    return [float((predictions[labels == c] == c).float().mean()) for c in range(num_classes)]


def harmonic_mean_by_hand(recalls: list[float]) -> float:
    return 0.0 if min(recalls) == 0 else len(recalls) / sum(1 / r for r in recalls)


# ------------------------------------------------------------------------------ GML

def test_gml_equals_the_formula_written_out():
    torch.manual_seed(1)
    counts = torch.tensor([50.0, 20.0, 5.0, 2.0])
    logits = torch.randn(7, 4) * 3
    logits[0] = torch.tensor([40.0, 0.0, 0.0, 0.0])  # its p̃ of class 2 is below 1e-5: clamped
    labels = torch.tensor([2, 0, 0, 1, 2, 2, 1])  # class 3 absent: skipped
    loss = build_method("gml", counts).criterion(logits, labels, torch.zeros(7, 64))

    per_class = {}
    for row, label in zip(logits.tolist(), labels.tolist()):
        adjusted = [math.exp(z + math.log(n)) for z, n in zip(row, counts.tolist())]
        p = adjusted[label] / sum(adjusted)
        per_class.setdefault(label, []).append(min(max(p, 1e-5), 1.0))
    expected = sum(-math.log(sum(ps) / len(ps)) for ps in per_class.values()) / len(per_class)
    assert sorted(per_class) == [0, 1, 2]
    assert float(loss) == pytest.approx(expected, rel=1e-5)


# ------------------------------------------------------------------------------ ensemble and search

def test_ensemble_is_the_mean_of_the_two_tempered_softmaxes():
    new, old = torch.tensor([[2.0, 0.0, -1.0]]), torch.tensor([[0.0, 1.0, 0.0]])
    probabilities = ensemble_probabilities(new, old, t1=2.0, t2=0.5)
    e_new = [math.exp(z / 2.0) for z in (2.0, 0.0, -1.0)]
    e_old = [math.exp(z / 0.5) for z in (0.0, 1.0, 0.0)]
    expected = [0.5 * (a / sum(e_new) + b / sum(e_old)) for a, b in zip(e_new, e_old)]
    assert probabilities[0].tolist() == pytest.approx(expected, rel=1e-6)
    assert float(probabilities.sum()) == pytest.approx(1.0)


def test_search_finds_the_only_pair_that_recalls_every_class():
    # Two classes: the ensemble says class 1 iff d_new/t1 + d_old/t2 > 0 (d = z_1 − z_0).
    # The class-1 sample (d_new = −3, d_old = +1) is right only when t1/t2 > 3: on the grid
    # (0.5, 1, 2) that is (t1, t2) = (2, 0.5) alone; the class-0 sample is right everywhere.
    new = torch.tensor([[0.0, -3.0], [0.0, -1.0]])
    old = torch.tensor([[0.0, 1.0], [0.0, -1.0]])
    choice = search_temperatures(new, old, torch.tensor([1, 0]), grid=(0.5, 1.0, 2.0))
    assert (choice.t1, choice.t2) == (2.0, 0.5)
    assert choice.hm == 1.0 and choice.zero_recall == 0


def test_search_returns_the_grid_maximum_of_hm_computed_independently():
    generator = torch.Generator().manual_seed(3)
    labels = torch.arange(5).repeat(12)
    signal = torch.nn.functional.one_hot(labels, 5).float()
    new = 2.0 * signal + torch.randn(60, 5, generator=generator) * 1.5 + torch.tensor([0, 0, 0, 0, 1.0])
    old = 3.0 * signal + torch.randn(60, 5, generator=generator) * 2.0 + torch.tensor([2.0, 1.0, 0, 0, 0])
    grid = (0.5, 1.0, 2.0, 4.0)
    scores = {}
    for t1 in grid:
        for t2 in grid:
            mix = [[0.5 * (a + b) for a, b in zip(torch.softmax(n / t1, 0).tolist(), torch.softmax(o / t2, 0).tolist())]
                   for n, o in zip(new, old)]
            predictions = torch.tensor([row.index(max(row)) for row in mix])
            scores[(t1, t2)] = harmonic_mean_by_hand(recalls_by_hand(predictions, labels, 5))
    best = max(scores.values())
    winners = [pair for pair, score in scores.items() if score == best]
    assert best > 0 and len(winners) == 1
    choice = search_temperatures(new, old, labels, grid=grid)
    assert (choice.t1, choice.t2) == winners[0]
    assert choice.hm == pytest.approx(best)


# ------------------------------------------------------------------------------ frozen backbone, old head

@pytest.mark.parametrize("cache_features", [True, False])
def test_backbone_weights_and_batchnorm_statistics_stay_bit_for_bit(tmp_path, cache_features):
    dataset = toy_dataset()
    path = backbone_checkpoint(tmp_path / "base.pt", dataset, random_statistics=True)
    original = load_checkpoint(path).state_dict
    result = tune(config(tmp_path, path, cache_features=cache_features), dataset=dataset)

    tuned = load_checkpoint(result.run_dir / "checkpoints" / "last.pt")
    backbone = [key for key in original if not key.startswith("linear.")]
    assert any(key.endswith("running_var") for key in backbone)
    for key in backbone:
        assert torch.equal(tuned.state_dict[key], original[key]), key
    assert not torch.equal(tuned.state_dict["linear.weight"], original["linear.weight"])  # the head did train
    for key in ("weight", "bias"):
        assert torch.equal(tuned.heads["old"][f"linear.{key}"], original[f"linear.{key}"])


def test_a_fresh_new_classifier_leaves_the_old_one_and_its_report_untouched(tmp_path):
    # The earlier project's ensemble copied the "old" classifier after re-initialising it.
    dataset = toy_dataset()
    path = backbone_checkpoint(tmp_path / "base.pt", dataset)
    original = load_checkpoint(path)
    result = tune(config(tmp_path, path, init="fresh", ensemble=True), dataset=dataset)

    tuned = load_checkpoint(result.run_dir / "checkpoints" / "last.pt")
    for key in ("weight", "bias"):
        assert torch.equal(tuned.heads["old"][f"linear.{key}"], original.state_dict[f"linear.{key}"])
    model = build_model_from_checkpoint(original)
    with torch.no_grad():
        predictions = model(normalize(dataset.test_images, dataset.mean, dataset.std)).logits.argmax(1)
    expected = recalls_by_hand(predictions, dataset.test_labels, dataset.num_classes)
    assert result.reports["old"].per_class_recall == pytest.approx(expected)


def test_the_saved_checkpoint_reproduces_the_reported_new_and_ensemble_columns(tmp_path):
    dataset = toy_dataset()
    path = backbone_checkpoint(tmp_path / "base.pt", dataset)
    result = tune(config(tmp_path, path, t1=0.5, t2=2.0), dataset=dataset)

    saved = load_checkpoint(result.run_dir / "checkpoints" / "last.pt")
    assert saved.meta["ensemble"]["t1"] == 0.5 and saved.meta["ensemble"]["t2"] == 2.0
    model = build_model_from_checkpoint(saved)
    old_head = head_modules_from_state(model, saved.heads["old"])["linear"]
    with torch.no_grad():
        features = model.features(normalize(dataset.test_images, dataset.mean, dataset.std))
        new_logits = saved.meta["logit_scale"] * model.linear(features)
        old_logits = saved.meta["ensemble"]["old_logit_scale"] * old_head(features)
    mix = [[0.5 * (math.exp(a / 0.5) / sum(math.exp(x / 0.5) for x in n) + math.exp(b / 2.0) / sum(math.exp(x / 2.0) for x in o))
            for a, b in zip(n, o)] for n, o in zip(new_logits.tolist(), old_logits.tolist())]
    ensemble_predictions = torch.tensor([row.index(max(row)) for row in mix])
    labels, classes = dataset.test_labels, dataset.num_classes
    assert result.reports["new"].per_class_recall == pytest.approx(recalls_by_hand(new_logits.argmax(1), labels, classes))
    assert result.reports["ensemble"].per_class_recall == pytest.approx(
        recalls_by_hand(ensemble_predictions, labels, classes))


# ------------------------------------------------------------------------------ behaviour

def test_gml_retraining_lifts_the_classes_a_ce_model_left_behind(tmp_path):
    dataset = toy_dataset()
    backbone = backbone_checkpoint(tmp_path / "backbone.pt", dataset)
    ce = tune(config(tmp_path, backbone, loss="ce", init="fresh", epochs=30, lr=0.1, ensemble=False,
                     data={"dataset": "demo", "augment": False}), dataset=dataset)
    ce_model = ce.run_dir / "checkpoints" / "last.pt"

    result = tune(config(tmp_path, ce_model, epochs=10, data={"dataset": "demo", "augment": False}),
                  dataset=dataset)
    old, new = result.reports["old"], result.reports["new"]
    assert old.few < 0.1 and old.lowest_recall <= 0.05  # the CE model leaves its tail behind
    assert new.hm > old.hm + 0.1  # measured: 13.2 → 32.6
    assert new.lowest_recall > old.lowest_recall + 0.1  # 5 → 20
    assert new.few > old.few + 0.15  # 8.3 → 31.7


# ------------------------------------------------------------------------------ run folder and events

def test_events_and_run_folder(tmp_path):
    dataset = toy_dataset()
    path = backbone_checkpoint(tmp_path / "base.pt", dataset)
    events = []
    result = tune(config(tmp_path, path, search_temperatures=True), on_event=events.append, dataset=dataset)

    assert any(isinstance(e, DatasetReady) and e.class_counts == COUNTS for e in events)
    assert {e.stage for e in events if isinstance(e, Progress)} == {"features", "tune", "eval"}
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    assert [e.epoch for e in epochs] == [1, 2, 3] and epochs[0].lr == pytest.approx(0.02)
    assert epochs[-1].test.per_class_recall == result.reports["new"].per_class_recall

    run = result.run_dir
    for name in ("config.json", "dataset.json", "metrics.csv", "per_class.csv", "report.json", "report.csv",
                 "log.txt", "README.md", "checkpoints/last.pt"):
        assert (run / name).is_file(), name
    saved_config = json.loads((run / "config.json").read_text())
    assert saved_config["kind"] == "tune" and saved_run_config(saved_config).plugin.search_temperatures
    assert [int(r["epoch"]) for r in csv.DictReader(open(run / "metrics.csv"))] == [1, 2, 3]
    report = json.loads((run / "report.json").read_text())
    assert list(report["columns"]) == ["old", "new", "ensemble"]
    assert (report["t1"], report["t2"]) == (result.t1, result.t2) and report["temperatures"] == "search"
    assert report["columns"]["ensemble"]["hm"] == pytest.approx(result.reports["ensemble"].hm)
    rows = list(csv.DictReader(open(run / "report.csv")))
    assert len(rows) == 6 and rows[5]["group"] == "few" and rows[5]["train_count"] == "3"
    assert float(rows[5]["new"]) == pytest.approx(result.reports["new"].per_class_recall[5])
    card = (run / "README.md").read_text()
    assert "| HM |" in card and "Worst" in card
    # per class round(0.1·n), at least one image and never the last: 8 + 4 + 2 + 1 + 1 + 1
    assert any(isinstance(e, Message) and "on 17 validation images" in e.text for e in events)


def test_zero_epochs_only_evaluates_the_old_model(tmp_path):
    dataset = toy_dataset()
    path = backbone_checkpoint(tmp_path / "base.pt", dataset)
    events = []
    result = tune(config(tmp_path, path, epochs=0), on_event=events.append, dataset=dataset)
    assert list(result.reports) == ["old"] and result.epochs_done == 0
    assert not any(isinstance(e, EpochEnd) for e in events)
    assert not (result.run_dir / "checkpoints" / "last.pt").exists()
    assert list(json.loads((result.run_dir / "report.json").read_text())["columns"]) == ["old"]


def test_stopping_keeps_the_last_complete_epoch(tmp_path):
    dataset = toy_dataset()
    path = backbone_checkpoint(tmp_path / "base.pt", dataset)
    events = []
    stop = lambda: sum(isinstance(e, EpochEnd) for e in events) == 1 and isinstance(events[-1], Progress) \
        and events[-1].stage == "tune" and events[-1].epoch == 2
    result = tune(config(tmp_path, path, epochs=3), on_event=events.append, should_stop=stop, dataset=dataset)
    assert result.stopped and result.epochs_done == 1
    first_epoch = next(e for e in events if isinstance(e, EpochEnd))
    assert result.reports["new"].per_class_recall == first_epoch.test.per_class_recall
    assert load_checkpoint(result.run_dir / "checkpoints" / "last.pt").meta["epoch"] == 1


# ------------------------------------------------------------------------------ heads and losses

def test_a_cosine_model_is_tuned_with_its_logit_scale_and_ldam_needs_a_cosine_head(tmp_path):
    dataset = toy_dataset()
    torch.manual_seed(0)
    cosine = build_model("resnet20", 6, head="cosine")
    save_checkpoint(tmp_path / "cos.pt", cosine.state_dict(),
                    {"arch": "resnet20", "head": "cosine", "num_classes": 6, "logit_scale": 30.0})
    result = tune(config(tmp_path, tmp_path / "cos.pt"), dataset=dataset)
    saved = load_checkpoint(result.run_dir / "checkpoints" / "last.pt")
    assert saved.meta["head"] == "cosine" and saved.meta["logit_scale"] == 30.0
    assert saved.meta["ensemble"]["old_logit_scale"] == 30.0

    linear = backbone_checkpoint(tmp_path / "linear.pt", dataset)
    with pytest.raises(ConfigError) as error:
        tune(config(tmp_path, linear, loss="ldam"), dataset=dataset)
    assert error.value.field_name == "loss" and "cosine" in str(error.value)


def test_a_checkpoint_trained_on_other_classes_is_tuned_with_a_warning(tmp_path):
    dataset = toy_dataset()
    save_checkpoint(tmp_path / "other.pt", build_model("resnet20", 6).state_dict(),
                    {"arch": "resnet20", "head": "linear", "num_classes": 6, "class_names": list("abcdef")})
    events = []
    tune(config(tmp_path, tmp_path / "other.pt", epochs=1), on_event=events.append, dataset=dataset)
    warnings = [e.text for e in events if isinstance(e, Message) and e.level == "warning"]
    assert len(warnings) == 1 and "a, b, c" in warnings[0] and "class0" in warnings[0]


def test_config_validation_names_the_field_and_round_trips(tmp_path):
    checkpoint = tmp_path / "x.pt"
    checkpoint.write_bytes(b"")
    good = plugin_config({"pretrained": str(checkpoint), "loss": "bsce", "t1": 0.5, "search_temperatures": True})
    assert RunConfig.from_json(good.validate().to_json()) == good
    for fields, name in [({"init": "zeros"}, "init"), ({"loss": "nope"}, "loss"), ({"t2": 0.0}, "t2"),
                         ({"epochs": -1}, "epochs"), ({"pretrained": ""}, "pretrained"),
                         ({"sampler": "weird"}, "sampler"),
                         ({"ensemble": False, "search_temperatures": True}, "search_temperatures")]:
        with pytest.raises(ConfigError) as error:
            plugin_config({"pretrained": str(checkpoint), **fields}).validate()
        assert error.value.field_name == name
    with pytest.raises(ConfigError) as error:
        plugin_config({"pretrained": str(checkpoint), "temperature": 2})
    assert error.value.field_name == "temperature"


# ------------------------------------------------------------------------------ a foreign checkpoint

def test_the_earlier_projects_ce_checkpoint_on_cifar100_layout_data(tmp_path, shared_checkpoint):
    from tests.datagen import write_cifar

    write_cifar(tmp_path / "data", "cifar100", train_per_class=6, test_per_class=2)
    ce_path = shared_checkpoint("CE.pt")
    tuning = plugin_config({"pretrained": str(ce_path), "epochs": 1, "feature_passes": 1, "device": "cpu",
                            "data": {"dataset": "cifar100", "root": str(tmp_path / "data"), "imbalance_ratio": 6},
                            "runs_dir": str(tmp_path / "runs")})
    result = tune(tuning)

    assert list(result.reports) == ["old", "new", "ensemble"] and len(result.class_counts) == 100
    assert all(len(m.per_class_recall) == 100 for m in result.reports.values())
    rows = list(csv.DictReader(open(result.run_dir / "report.csv")))
    assert len(rows) == 100 and rows[0]["name"] == "apple"
    tuned = load_checkpoint(result.run_dir / "checkpoints" / "last.pt")
    original = load_checkpoint(ce_path)
    assert tuned.meta["arch"] == "resnet32" and tuned.meta["num_classes"] == 100
    assert torch.equal(tuned.heads["old"]["linear.weight"], original.state_dict["linear.weight"])
    assert torch.equal(tuned.state_dict["layer3.4.bn2.running_var"], original.state_dict["layer3.4.bn2.running_var"])


# ------------------------------------------------------------------------------ command line

def test_cli_prints_the_three_columns_and_reports_user_errors_in_one_line(tmp_path, capsys):
    checkpoint = tmp_path / "demo.pt"
    save_checkpoint(checkpoint, build_model("resnet20", 10).state_dict(),
                    {"arch": "resnet20", "head": "linear", "num_classes": 10})
    code = cli_main(["tune", "--checkpoint", str(checkpoint), "--dataset", "demo", "--imbalance", "10",
                     "--epochs", "1", "--feature-passes", "1", "--device", "cpu", "--quiet",
                     "--runs-dir", str(tmp_path / "runs"), "--t1", "2"])
    out = capsys.readouterr().out
    assert code == 0
    header = next(line for line in out.splitlines() if "old" in line and "ensemble" in line)
    assert header.split() == ["old", "new", "ensemble"]
    assert "t1 = 2 (new), t2 = 1 (old)" in out and "run folder:" in out

    code = cli_main(["tune", "--checkpoint", str(tmp_path / "missing.pt"), "--dataset", "demo", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and "missing.pt" in err and len(err.strip().splitlines()) == 1
    code = cli_main(["tune", "--checkpoint", str(checkpoint), "--search-temperatures", "--t2", "3"])
    assert code == 2 and "--search-temperatures" in capsys.readouterr().err

    six_classes = tmp_path / "six.pt"
    save_checkpoint(six_classes, build_model("resnet20", 6).state_dict(), {"arch": "resnet20", "head": "linear",
                                                                          "num_classes": 6})
    code = cli_main(["tune", "--checkpoint", str(six_classes), "--dataset", "demo", "--imbalance", "10", "--quiet",
                     "--runs-dir", str(tmp_path / "refused")])
    assert code == 2 and "6 classes" in capsys.readouterr().err
    assert not (tmp_path / "refused").exists()  # refused before a run folder was made


# ------------------------------------------------------------------------------ one config schema

def test_the_plugin_reports_with_the_users_recall_floor(tmp_path):
    dataset = toy_dataset()
    path = backbone_checkpoint(tmp_path / "base.pt", dataset)
    unfloored = tune(config(tmp_path, path, epochs=1, recall_floor=0.0, search_temperatures=True), dataset=dataset)
    assert {m.recall_floor for m in unfloored.reports.values()} == {0.0}
    for metrics in unfloored.reports.values():  # HM by hand from the unfloored recalls
        assert metrics.hm == pytest.approx(harmonic_mean_by_hand(metrics.per_class_recall))
    assert "unfloored" in (unfloored.run_dir / "README.md").read_text()
    floored = tune(config(tmp_path, path, epochs=1, recall_floor=0.05), dataset=dataset)
    assert floored.reports["old"].lowest_recall >= 0.05 and floored.reports["old"].recall_floor == 0.05


# config.json of a plug-in run as the plug-in wrote it before its settings were a run config
OLD_FORMAT = {"kind": "tune", "tune": {
    "checkpoint": "X", "data": {"dataset": "demo", "root": "", "imbalance_type": "exp", "imbalance_ratio": 100.0,
                                "image_size": 32, "holdout_fraction": 0.2, "augment": True, "cut_seed": 0},
    "loss": "gml", "loss_params": {}, "epochs": 3, "batch_size": 32, "lr": 0.02, "momentum": 0.9,
    "weight_decay": 0.0002, "optimizer": "sgd", "schedule": "cosine", "sampler": "instance", "train_rule": "none",
    "init": "old", "ensemble": True, "t1": 1.5, "t2": 1.0, "search_temperatures": False, "validation_fraction": 0.1,
    "cache_features": True, "feature_passes": 2, "arch": "", "seed": 0, "device": "cpu", "runs_dir": "",
    "experiment": "", "save_model": True}}


def test_a_plugin_run_folder_of_the_old_format_opens_and_resumes(tmp_path):
    from engine.run_index import summarize
    from engine.trainer import train

    dataset = toy_dataset()
    path = backbone_checkpoint(tmp_path / "base.pt", dataset)
    events = []
    stop = lambda: sum(isinstance(e, EpochEnd) for e in events) == 1
    stopped = tune(config(tmp_path, path, t1=1.5), on_event=events.append, should_stop=stop, dataset=dataset)
    assert stopped.stopped and stopped.epochs_done == 1
    old = json.loads(json.dumps(OLD_FORMAT))
    old["tune"]["checkpoint"], old["tune"]["runs_dir"] = str(path), str(tmp_path / "runs")
    (stopped.run_dir / "config.json").write_text(json.dumps(old))

    opened = saved_run_config(old)
    assert opened.plugin_run and opened.model.pretrained == str(path) and opened.plugin.t1 == 1.5
    assert (opened.optim.epochs, opened.optim.warmup_epochs, opened.optim.schedule) == (3, 0, "cosine")
    summary = summarize(stopped.run_dir)
    assert (summary.method, summary.epochs_planned) == ("plug-in gml", 3)

    resumed = train(None, resume=stopped.run_dir, dataset=dataset)
    assert not resumed.stopped and resumed.epochs_done == 3 and resumed.t1 == 1.5
    assert [int(r["epoch"]) for r in csv.DictReader(open(stopped.run_dir / "metrics.csv"))] == [1, 2, 3]
