"""The classifier repairs beside GML, against their official definitions written out by hand:
τ-norm's formula on the earlier project's CE.pt and its choice of τ on a validation split (never
the test split), LWS training only its scales, cRT's sampler drawing the official 4 images per
class, weight balancing's class-balanced loss and MaxNorm's radius, SAM's two-pass update, and the
repairs' own plug-in presets in ``main.py tune``.

(Every repair also passes tests/test_method_contract.py, which finds them in the registry.)
"""
from __future__ import annotations

import copy
import json
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cli import main as cli_main
from data.samplers import CLASS_AWARE_RUN, class_aware_order
from data.sources import ResidentImages
from data.tensors import normalize
from engine.batch import Batch
from engine.checkpoints import load_checkpoint, save_checkpoint
from engine.config import ConfigError, OptimConfig
from engine.epoch_stats import EpochStats
from engine.hooks import MaxNorm
from engine.loop import Loop, make_optimizer
from engine.methods import build_method
from engine.methods.decoupling import tau_normalised
from engine.metrics import ValidationScore
from engine.plugin import plugin_config, tune
from engine.plugin.run import _split
from engine.presets import plugin_preset, preset
from engine.sam import SharpnessAware
from engine.stages import Stage
from models import build_model
from tests.test_plugin import backbone_checkpoint, toy_dataset

REPAIRS = ("crt", "lws", "tau_norm", "wb")


def repair_config(tmp_path, checkpoint, loss: str, **fields):
    """The repair's own plug-in preset on the toy data, with ``fields`` (by field name) over it."""
    fields = {"epochs": 2, "batch_size": 32, "feature_passes": 1, "device": "cpu", "data": {"dataset": "demo"},
              **fields}
    return plugin_config({"pretrained": str(checkpoint), "runs_dir": str(tmp_path / "runs"), **fields},
                         preset(plugin_preset(loss)))


# ------------------------------------------------------------------------------ τ-norm

def test_tau_norm_is_its_formula_on_the_earlier_projects_ce_checkpoint(tmp_path, shared_checkpoint):
    """W̃_c = W_c / ‖W_c‖^τ and logits x·W̃ᵀ without the bias, for τ = 0, 0.5, 1, 2, on CE.pt's
    ResNet-32 classifier (tau_norm.py's pnorm and dotproduct_similarity)."""
    from tests.datagen import write_cifar

    ce_path = shared_checkpoint("CE.pt")
    raw = torch.load(ce_path, map_location="cpu", weights_only=True)
    weight, bias = raw["linear.weight"].double(), raw["linear.bias"].double()
    features = torch.rand(12, weight.shape[1], generator=torch.Generator().manual_seed(0))
    model = load_checkpoint(ce_path)
    from engine.prediction import load_for_prediction
    loaded, _rule = load_for_prediction(model)
    for tau in (0.0, 0.5, 1.0, 2.0):
        method = build_method("tau_norm", torch.ones(100), {"tau_min": tau, "tau_max": tau, "tau_steps": 1})
        repaired = copy.deepcopy(loaded)
        labels = torch.arange(12)
        chosen = method.fit_repair(repaired, features, labels)
        assert chosen["tau"] == tau and [row["tau"] for row in chosen["grid"]] == [tau]
        by_hand = features.double() @ (weight / weight.norm(dim=1, keepdim=True) ** tau).T  # no bias
        got = method.scores(repaired.predict_features(features)).double()
        torch.testing.assert_close(got, by_hand, rtol=1e-5, atol=1e-5)
        assert not torch.equal(repaired.linear.weight, loaded.linear.weight) or tau == 0.0
        assert float(repaired.linear.bias.detach().abs().max()) == 0.0
    old_logits = features.double() @ weight.T + bias
    assert not torch.allclose(by_hand if tau == 0 else features.double() @ weight.T, old_logits)  # the bias is gone

    # the whole plug-in on CIFAR-100-layout data: τ from the official grid, chosen on held-out training images
    write_cifar(tmp_path / "data", "cifar100", train_per_class=6, test_per_class=2)
    config = plugin_config({"pretrained": str(ce_path), "device": "cpu", "runs_dir": str(tmp_path / "runs"),
                            "data": {"dataset": "cifar100", "root": str(tmp_path / "data"), "imbalance_ratio": 6}},
                           preset(plugin_preset("tau_norm")))
    result = tune(config)
    assert [row["tau"] for row in result.choice["grid"]] == pytest.approx([t / 10 for t in range(21)])
    tau = result.choice["tau"]
    tuned = load_checkpoint(result.run_dir / "checkpoints" / "last.pt")
    torch.testing.assert_close(tuned.state_dict["linear.weight"].double(),
                               weight / weight.norm(dim=1, keepdim=True) ** tau, rtol=1e-6, atol=1e-7)
    assert float(tuned.state_dict["linear.bias"].abs().max()) == 0.0
    assert torch.equal(tuned.heads["old"]["linear.bias"], raw["linear.bias"])  # the ensemble keeps the old one
    assert tuned.meta["repair"]["tau"] == tau and result.epochs_done == 0


def test_tau_is_chosen_on_held_out_training_images_never_on_test(tmp_path):
    dataset = toy_dataset()
    checkpoint = _trained_head(tmp_path, dataset)
    events = []
    result = tune(repair_config(tmp_path, checkpoint, "tau_norm", epochs=5), on_event=events.append,
                  dataset=dataset)
    assert any("trains nothing: the 5 epoch(s) asked for are not used" in getattr(e, "text", "") for e in events)
    config = json.loads((result.run_dir / "config.json").read_text())
    assert config["run"]["optim"]["epochs"] == 0  # what the run did
    # by hand: every τ of the grid scored on the held-out images _split chose (never a test image)
    _, val_index = _split(dataset, repair_config(tmp_path, checkpoint, "tau_norm"))
    assert len(val_index) > 0 and "held-out 0.1 of each training class" in result.validation
    model = build_model("resnet20", dataset.num_classes)
    model.load_state_dict(load_checkpoint(checkpoint).state_dict)
    model.eval()
    with torch.no_grad():
        features = model.features(normalize(dataset.train_images[val_index], dataset.mean, dataset.std))
        scores = {}
        for tau in [t / 10 for t in range(21)]:
            logits = features @ tau_normalised(model.linear.weight, tau).T
            scores[tau] = ValidationScore.of(logits, dataset.train_labels[val_index])
    best = max(scores, key=lambda t: (*scores[t].key(), -t))
    assert result.choice["tau"] == pytest.approx(best)
    assert result.choice["validation"]["hm"] == pytest.approx(scores[best].hm)
    report = json.loads((result.run_dir / "report.json").read_text())
    assert report["repair"]["tau"] == result.choice["tau"] and "held-out" in report["validation"]


def test_a_dataset_with_a_validation_split_chooses_tau_there(tmp_path):
    class WithVal(type(toy_dataset())):
        def split_names(self):
            return ("train", "val", "test")

        def images(self, split):
            if split == "val":  # a balanced validation split, other images than the test split's
                return ResidentImages(self.val_images, self.val_labels)
            return super().images(split)

    toy = toy_dataset()
    extra = toy_dataset(test_per_class=10)
    dataset = WithVal(**{k: getattr(toy, k) for k in ("name", "class_names", "train_images", "train_labels",
                                                     "test_images", "test_labels", "mean", "std")})
    dataset.val_images, dataset.val_labels = extra.test_images[::2], extra.test_labels[::2]
    checkpoint = _trained_head(tmp_path, toy)
    config = repair_config(tmp_path, checkpoint, "tau_norm")
    train_index, val_index = _split(dataset, config)
    assert len(train_index) == len(dataset.train_labels) and len(val_index) == 0  # nothing held out of training
    events = []
    result = tune(config, on_event=events.append, dataset=dataset)
    assert result.validation == "the dataset's validation split"
    assert any(f"chosen on {len(dataset.val_labels)} validation images" in getattr(e, "text", "") for e in events)


def _trained_head(tmp_path, dataset):
    """A checkpoint whose classifier was trained (CE, a few epochs) on the toy data's frozen features."""
    backbone = backbone_checkpoint(tmp_path / "backbone.pt", dataset)
    result = tune(plugin_config({"pretrained": str(backbone), "loss": "ce", "epochs": 6, "lr": 0.5, "batch_size": 32,
                                 "feature_passes": 1, "ensemble": False, "device": "cpu",
                                 "data": {"dataset": "demo"}, "runs_dir": str(tmp_path / "base")}), dataset=dataset)
    path = tmp_path / "trained.pt"
    last = load_checkpoint(result.run_dir / "checkpoints" / "last.pt")
    save_checkpoint(path, last.state_dict, {"arch": "resnet20", "head": "linear", "num_classes": dataset.num_classes,
                                            "class_counts": dataset.class_counts.tolist()})
    return path


# ------------------------------------------------------------------------------ LWS

def test_lws_trains_only_the_scales_and_scales_the_whole_logit(tmp_path):
    dataset = toy_dataset()
    checkpoint = _trained_head(tmp_path, dataset)
    seen = {}
    from engine.methods.decoupling import WeightScaling
    step = WeightScaling.training_step

    def recording(self, model, batch, stage):
        seen.setdefault("grads", {name: p.requires_grad for name, p in model.named_parameters()})
        return step(self, model, batch, stage)
    WeightScaling.training_step = recording
    try:
        result = tune(repair_config(tmp_path, checkpoint, "lws", lr=0.01), dataset=dataset)  # the toy's logits are large
    finally:
        WeightScaling.training_step = step
    assert {name for name, trains in seen["grads"].items() if trains} == {"lws.learned_norm"}
    old, new = load_checkpoint(checkpoint), load_checkpoint(result.run_dir / "checkpoints" / "last.pt")
    assert new.spec.head == "lws" and set(new.state_dict) == set(old.state_dict) | {"lws.learned_norm"}
    for key, value in old.state_dict.items():
        assert torch.equal(new.state_dict[key], value), key  # W, b and the backbone bit for bit
    scales = new.state_dict["lws.learned_norm"]
    assert not torch.equal(scales, torch.ones_like(scales))
    model = build_model("resnet20", dataset.num_classes, head="lws")
    model.load_state_dict(new.state_dict)
    x = torch.randn(5, 64)
    torch.testing.assert_close(model.classify(x).logits, scales * (x @ old.state_dict["linear.weight"].T
                                                                   + old.state_dict["linear.bias"]))


def test_lws_and_tau_norm_keep_the_old_classifier_so_a_fresh_one_is_refused(tmp_path):
    dataset = toy_dataset()
    checkpoint = backbone_checkpoint(tmp_path / "b.pt", dataset)
    for loss in ("lws", "tau_norm"):
        with pytest.raises(ConfigError, match="init: .*keeps the old classifier"):
            tune(repair_config(tmp_path, checkpoint, loss, init="fresh"), dataset=dataset)


# ------------------------------------------------------------------------------ cRT

def test_crt_draws_four_images_of_one_class_per_draw_and_the_classes_in_cycles():
    """The official ClassAwareSampler with num_samples_cls = 4 (cls_crt.yaml): consecutive runs of 4
    are one class each; the classes come in a permutation that restarts every C runs."""
    labels = torch.cat([torch.full((n,), c) for c, n in enumerate([50, 20, 7, 3, 1])])
    order = class_aware_order(labels, torch.Generator().manual_seed(3))
    assert CLASS_AWARE_RUN == 4 and len(order) == len(labels)
    runs = labels[order][: len(order) // 4 * 4].reshape(-1, 4)
    assert bool((runs == runs[:, :1]).all())
    classes = runs[:, 0].tolist()
    for start in range(0, len(classes) - 4, 5):
        assert sorted(classes[start:start + 5]) == [0, 1, 2, 3, 4]
    by_class = {c: order[labels[order] == c].tolist() for c in range(5)}
    assert len(set(by_class[0])) == len(by_class[0])  # within a class's cycle no image repeats before all came


def test_crt_starts_from_a_fresh_classifier_and_samples_class_aware(tmp_path):
    dataset = toy_dataset()
    checkpoint = _trained_head(tmp_path, dataset)
    config = repair_config(tmp_path, checkpoint, "crt", lr=1e-7)  # barely moves: the start shows
    assert (config.plugin.init, config.plugin.sampler, config.optim.lr, config.optim.weight_decay) == \
        ("fresh", "class_aware", 1e-7, 5e-4)
    result = tune(config, dataset=dataset)
    new = load_checkpoint(result.run_dir / "checkpoints" / "last.pt").state_dict
    old = load_checkpoint(checkpoint).state_dict
    fresh = nn.Linear(64, dataset.num_classes)
    assert not torch.allclose(new["linear.weight"], old["linear.weight"], atol=1e-3)
    assert float(new["linear.weight"].abs().max()) <= float(fresh.weight.detach().abs().max()) * 1.01  # PyTorch's init bound
    assert "class_aware sampling" in (result.run_dir / "README.md").read_text()


# ------------------------------------------------------------------------------ weight balancing

def test_wb_loss_is_the_official_class_balanced_softmax_bce_without_a_focal_term():
    torch.manual_seed(2)
    counts = torch.tensor([400.0, 120.0, 30.0, 6.0])
    logits, labels = torch.randn(9, 4) * 4, torch.tensor([0, 1, 2, 3, 3, 2, 1, 0, 0])
    beta = 0.9999
    weights = (1 - beta) / (1 - beta ** counts.double())
    weights = weights / weights.sum() * 4
    one_hot = F.one_hot(labels, 4).float()
    official = F.binary_cross_entropy(logits.softmax(1), one_hot, weight=weights[labels].float()[:, None].expand(-1, 4))
    method = build_method("wb", counts)
    assert float(method.criterion(logits, labels, torch.zeros(9, 64))) == pytest.approx(float(official), rel=1e-6)
    assert method.params == {"beta": 0.9999}  # no γ: the official "softmax" branch never reads it


def test_wb_preset_and_max_norm_radius_from_the_stage_one_norms(tmp_path):
    dataset = toy_dataset()
    checkpoint = _trained_head(tmp_path, dataset)
    config = repair_config(tmp_path, checkpoint, "wb")
    assert (config.optim.lr, config.optim.weight_decay, config.plugin.max_norm, config.plugin.max_norm_every) == \
        (0.01, 0.1, 0.1, "step")
    norms = load_checkpoint(checkpoint).state_dict["linear.weight"].norm(dim=1)
    radius = float(norms.min() + 0.1 * (norms.max() - norms.min()))
    result = tune(config, dataset=dataset)
    new = load_checkpoint(result.run_dir / "checkpoints" / "last.pt").state_dict["linear.weight"].norm(dim=1)
    assert float(new.max()) <= radius * (1 + 1e-6)


def test_max_norm_keeps_every_class_inside_the_radius_of_the_weights_it_started_from():
    model = build_model("resnet20", 6)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        model.linear.weight.copy_(torch.randn(6, 64, generator=generator) * torch.arange(1, 7)[:, None])
    start = model.linear.weight.detach().norm(dim=1)
    radius = start.min() + 0.1 * (start.max() - start.min())
    for every in ("step", "epoch"):
        hook, stage = MaxNorm(0.1, every), Stage("x", OptimConfig(epochs=1))
        trial = copy.deepcopy(model)
        hook.on_stage_start(trial, stage)
        with torch.no_grad():  # a step that makes every row larger before the first projection
            trial.linear.weight.mul_(1.5)
        assert float(hook.caps[0]) == pytest.approx(float(radius))  # the radius of the weights it started from
        for _ in range(3):
            before = trial.linear.weight.detach().clone()
            hook.after_step(trial)
            if every == "epoch":
                assert torch.equal(trial.linear.weight, before)  # not yet: the official code projects per epoch
                hook.after_epoch(trial)
            norms = before.norm(dim=1)
            after = trial.linear.weight.detach()
            assert float(after.norm(dim=1).max()) <= float(radius) * (1 + 1e-6)
            inside = norms <= radius
            assert torch.equal(after[inside], before[inside])  # a projection: rows inside stay bit for bit
            torch.testing.assert_close(after[~inside], before[~inside] * (radius / norms[~inside])[:, None])
            with torch.no_grad():
                trial.linear.weight.add_(torch.randn(6, 64, generator=generator))


def test_max_norm_is_offered_to_gml_too(tmp_path):
    dataset = toy_dataset()
    checkpoint = _trained_head(tmp_path, dataset)
    result = tune(repair_config(tmp_path, checkpoint, "gml", max_norm=0.2, max_norm_every="epoch"), dataset=dataset)
    assert "MaxNorm 0.2 per epoch" in (result.run_dir / "README.md").read_text()
    norms = load_checkpoint(checkpoint).state_dict["linear.weight"].norm(dim=1)
    new = load_checkpoint(result.run_dir / "checkpoints" / "last.pt").state_dict["linear.weight"].norm(dim=1)
    assert float(new.max()) <= float(norms.min() + 0.2 * (norms.max() - norms.min())) * (1 + 1e-6)


# ------------------------------------------------------------------------------ SAM

class _Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(4)
        self.hidden, self.norm, self.out = nn.Linear(3, 5), nn.BatchNorm1d(5), nn.Linear(5, 2)
        self.frozen = nn.Linear(2, 2)
        self.frozen.requires_grad_(False)

    def forward(self, x):
        return self.out(torch.tanh(self.norm(self.hidden(x))))


def _loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(model(x), y)


def _one_step(rho: float, adaptive: bool, lr: float = 0.1, wd: float = 0.01):
    """One step of the loop's own ``_step`` with the SAM optimiser on a tiny model."""
    model = _Tiny().train()
    x, y = torch.randn(8, 3, generator=torch.Generator().manual_seed(1)), torch.tensor([0, 1] * 4)
    optim = OptimConfig(epochs=1, lr=lr, momentum=0.0, weight_decay=wd, optimizer="sam", sam_rho=rho,
                        sam_adaptive=adaptive, warmup_epochs=0)
    loop = Loop.__new__(Loop)
    loop.model = loop.step_model = model
    loop.device, loop.graphs, loop.hooks = torch.device("cpu"), False, []
    loop.optimizer = make_optimizer(optim, [{"params": [p for p in model.parameters() if p.requires_grad],
                                             "lr_factor": 1.0}])
    loop.sam = SharpnessAware(loop.optimizer, rho, adaptive)

    def step(m, batch, s):
        logits = m(batch.features)
        return F.cross_entropy(logits, batch.labels), logits
    stage = Stage("x", optim, step=step)
    before = copy.deepcopy(model)
    loop._step(stage, Batch([], y, features=x), EpochStats(2, "cpu"))
    return before, model, x, y


@pytest.mark.parametrize("adaptive", [False, True])
def test_sam_is_the_two_pass_formula(adaptive):
    rho, lr, wd = 0.3, 0.1, 0.01
    before, after, x, y = _one_step(rho, adaptive, lr, wd)
    trained = [name for name, p in before.named_parameters() if p.requires_grad]
    # by hand: g = ∇L(w); ε = ρ·T²g/‖Tg‖ (T = |w| adaptive, else 1); g' = ∇L(w + ε); w' = w − lr·(g' + wd·w)
    w = {name: p.detach().clone() for name, p in before.named_parameters()}
    start = copy.deepcopy(before)
    loss = _loss(start, x, y)
    grads = dict(zip(trained, torch.autograd.grad(loss, [dict(start.named_parameters())[n] for n in trained])))
    size = {n: (w[n].abs() if adaptive else torch.ones_like(w[n])) for n in trained}
    norm = torch.sqrt(sum(((size[n] * grads[n]) ** 2).sum() for n in trained))
    moved = copy.deepcopy(before)
    with torch.no_grad():
        for n in trained:
            dict(moved.named_parameters())[n].add_(rho * size[n] ** 2 * grads[n] / (norm + 1e-12))
    second = _loss(moved, x, y)
    sharp = dict(zip(trained, torch.autograd.grad(second, [dict(moved.named_parameters())[n] for n in trained])))
    for name, p in after.named_parameters():
        expected = w[name] - lr * (sharp[name] + wd * w[name]) if name in trained else w[name]
        torch.testing.assert_close(p.detach(), expected, rtol=1e-5, atol=1e-6, msg=name)
    # BatchNorm's running statistics: the first pass's only (as after one forward at w)
    reference = copy.deepcopy(before)
    reference(x)
    assert torch.equal(after.norm.running_mean, reference.norm.running_mean)
    assert torch.equal(after.norm.running_var, reference.norm.running_var)


def test_sam_is_refused_for_a_method_whose_step_changes_its_state():
    config = preset("cifar100-paco")
    config.optim.optimizer = "sam"
    assert [(e.field_name, "SAM" in e.message) for e in config.problems()] == [("optimizer", True)]
    config = preset("demo")
    config.optim.optimizer, config.optim.sam_rho = "sam", 0.8
    assert config.validate().optim.sam_rho == 0.8


def test_a_run_trains_with_sam_from_the_command_line(tmp_path, capsys):
    code = cli_main(["train", "--preset", "demo", "--epochs", "1", "--optimizer", "sam", "--sam-rho", "0.5",
                     "--device", "cpu", "--quiet", "--runs-dir", str(tmp_path / "runs"), "--imbalance", "10"])
    assert code == 0
    [run] = list((tmp_path / "runs").iterdir())
    saved = json.loads((run / "config.json").read_text())["run"]["optim"]
    assert (saved["optimizer"], saved["sam_rho"], saved["sam_adaptive"]) == ("sam", 0.5, False)


# ------------------------------------------------------------------------------ presets and the command line

def test_each_repair_starts_from_its_own_plugin_preset():
    expected = {"gml": ("plugin", 10, 0.02), "crt": ("plugin-crt", 10, 0.2), "lws": ("plugin-lws", 5, 0.2),
                "tau_norm": ("plugin-tau_norm", 0, 0.02), "wb": ("plugin-wb", 10, 0.01)}
    for loss, (name, epochs, lr) in expected.items():
        config = preset(plugin_preset(loss))
        assert (plugin_preset(loss), config.method.loss, config.optim.epochs, config.optim.lr) == \
            (name, loss, epochs, lr)
    assert plugin_preset("ce") == "plugin"  # a loss without its own preset: the GML plug-in's settings


@pytest.mark.parametrize("loss", REPAIRS)
def test_tune_prints_the_old_new_table_for_every_repair(tmp_path, capsys, loss):
    checkpoint = tmp_path / "demo.pt"
    save_checkpoint(checkpoint, build_model("resnet20", 10).state_dict(),
                    {"arch": "resnet20", "head": "linear", "num_classes": 10})
    code = cli_main(["tune", "--checkpoint", str(checkpoint), "--dataset", "demo", "--imbalance", "10", "--loss", loss,
                     "--epochs", "2", "--feature-passes", "1", "--device", "cpu", "--quiet",
                     "--runs-dir", str(tmp_path / "runs")])
    out = capsys.readouterr().out
    assert code == 0
    header = next(line for line in out.splitlines() if "old" in line and "new" in line)
    assert header.split() == ["old", "new", "ensemble"]
    config = json.loads(next((tmp_path / "runs").iterdir()).joinpath("config.json").read_text())["run"]
    own = preset(plugin_preset(loss))
    assert (config["optim"]["lr"], config["plugin"]["sampler"]) == (own.optim.lr, own.plugin.sampler)
    if loss == "tau_norm":
        assert "tau = " in out and config["optim"]["epochs"] == 0
    assert math.isfinite(load_checkpoint(next((tmp_path / "runs").iterdir()) / "checkpoints" / "last.pt")
                         .meta["metrics"]["test_hm"])
