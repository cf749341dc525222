"""The method contract: every registered method, found through the registry, passes the same checks.

A method added by following docs/adding-a-method.md is tested here without a line of its own.
A method that trains models (all but the ``repair_only`` ones):

- its stages train (each shortened to one epoch, two when there is one stage; small batches) and
  every stage moves the parts it says it trains;
- its state survives ``state_dict`` / ``load_state_dict`` and a checkpoint;
- a run stopped in its last epoch and resumed equals the uninterrupted run;
- every consumer of predictions agrees on its checkpoint: the loop's own evaluation, ``eval``,
  ``predict`` and the plug-in's "old" column (the checkpoint's rule on cached features);
- its declared capabilities hold: what it declares it can do runs (a classifier repair on
  cached features), and what it declares it cannot is refused in one line before any data loads.

A ``repair_only`` method (cRT, LWS, τ-norm, WB: it repairs a trained model's classifier in the
plug-in, from its own plug-in preset) on a trained CE model:

- the plug-in run changes what the method declares it trains (``repair_trains``; the heads for a
  repair that trains nothing but sets them, τ-norm) and nothing else;
- a run stopped in its last epoch and resumed equals the uninterrupted run;
- every consumer of predictions agrees on the repaired checkpoint (``eval``, ``predict``, the
  plug-in's "old" column on it, the report's ensemble column), and its method state survives;
- training it alone is refused in one line before any data loads.
"""
from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from engine.checkpoints import load_checkpoint, save_checkpoint
from engine.config import ConfigError, DataConfig, MethodConfig, ModelConfig, OptimConfig, RunConfig
from engine.evaluate_checkpoint import evaluate_checkpoint
from engine.events import EpochEnd, Progress
from engine.inference import Predictor
from engine.loop import Loop, RunPlan
from engine.methods import available_methods, build_method
from engine.methods.base import ANY_FAMILY
from engine.evaluation import metrics_from_logits
from engine.plugin import plugin_config, tune
from engine.presets import plugin_preset, preset
from engine.runs import RunFolder
from engine.stages import SOURCES, Stage, check_stages
from engine.trainer import plan_run, train
from models import create_model, spec_for
from tests.test_trainer import tiny_dataset

METHODS = sorted(available_methods())
TRAINERS = [name for name in METHODS if not available_methods()[name].repair_only]
REPAIRS = [name for name in METHODS if available_methods()[name].repair_only]
DATASET = tiny_dataset()
DEVICE = torch.device("cpu")
BATCH = 32


def contract_config(tmp_path, name: str, teacher: str = "") -> RunConfig:
    return RunConfig(data=DataConfig(dataset="demo"), model=ModelConfig(arch="resnet20"),
                     method=MethodConfig(loss=name, teacher=teacher),
                     optim=OptimConfig(epochs=2, batch_size=BATCH, lr=0.05, warmup_epochs=0),
                     runs_dir=str(tmp_path / "runs"), experiment=name)


def teacher_for(name: str, tmp_path) -> str:
    """A method that distils gets a teacher: an untrained model of its own kind, saved as ours."""
    if not available_methods()[name].needs_teacher:
        return ""
    method = build_method(name, DATASET.class_counts)
    spec = method.model_spec(spec_for("resnet20", DATASET.num_classes))
    path = tmp_path / "teacher.pt"
    torch.manual_seed(1)
    save_checkpoint(path, create_model(spec).state_dict(), {"model": spec.to_dict()})
    return str(path)


def contract_plan(config: RunConfig) -> RunPlan:
    """The method's own plan, every stage shortened (one epoch, two when alone; batches of 32)."""
    torch.manual_seed(config.seed)
    plan = plan_run(config, DATASET, DEVICE)
    epochs = 2 if len(plan.stages) == 1 else 1
    plan.stages = [replace(stage, optim=replace(stage.optim, epochs=epochs, warmup_epochs=0,
                                                 batch_size=min(stage.optim.batch_size, BATCH)))
                   for stage in plan.stages]
    return plan


def run(plan: RunPlan, folder: RunFolder, stop_in_epoch: int | None = None,
        resume: bool = False) -> tuple[Loop, list[EpochEnd]]:
    """Run a plan's stages in ``folder`` (continuing its last.pt when ``resume``), stopping after
    the first batch of ``stop_in_epoch`` when given."""
    events: list = []
    loop = Loop(plan, folder)

    def stop() -> bool:
        return stop_in_epoch is not None and any(isinstance(e, Progress) and e.epoch == stop_in_epoch for e in events)

    with folder.writing("contract test"):
        if resume:
            loop.restore(folder.recover())
        loop.run_stages(events.append, stop)
    return loop, [e for e in events if isinstance(e, EpochEnd)]


class Trained:
    """One straight run of a method: its plan, loop, epochs, run folder and weights per stage."""

    def __init__(self, name: str, tmp_path):
        self.name, self.tmp_path = name, tmp_path
        self.config = contract_config(tmp_path, name, teacher_for(name, tmp_path))
        self.plan = contract_plan(self.config)
        self.folder = RunFolder.create(self.config.runs_dir, name)
        self.initial = {k: v.clone() for k, v in self.plan.model.state_dict().items()}
        self.loop, self.epochs = run(self.plan, self.folder)
        self.last = self.folder.path / "checkpoints" / "last.pt"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Each method trained once, on first use, for all the checks that read a finished run."""
    cache: dict[str, Trained] = {}

    def get(name: str) -> Trained:
        if name not in cache:
            cache[name] = Trained(name, tmp_path_factory.mktemp(name))
        return cache[name]
    return get


# ------------------------------------------------------------------------------ training
@pytest.mark.parametrize("name", TRAINERS)
def test_every_stage_trains_what_it_says_and_stays_finite(name, trained):
    result = trained(name)
    stages = result.plan.stages
    assert [e.stage for e in result.epochs] == [s.name for s in stages for _ in range(s.epochs)]
    assert all(math.isfinite(e.train.loss) and math.isfinite(e.test.nll) for e in result.epochs)
    final = result.plan.model.state_dict()
    parts = result.plan.model.parts()
    for stage in stages:
        trained_modules = [result.plan.model] if "all" in stage.trains else \
            [module for part in stage.trains for module in parts[part]]
        names = {id(p) for module in trained_modules for p in module.parameters()}
        moved = [key for key, p in result.plan.model.named_parameters()
                 if id(p) in names and not torch.equal(final[key], result.initial[key])]
        assert moved, f"stage {stage.name!r} of {name} trained none of {stage.trains}"


@pytest.mark.parametrize("name", TRAINERS)
def test_the_method_state_survives_state_dict_and_the_checkpoint(name, trained):
    result = trained(name)
    method = result.plan.method
    state = method.state_dict()
    fresh = build_method(name, DATASET.class_counts, method.params, method.total_epochs)
    fresh.load_state_dict(state)
    assert _plain(fresh.state_dict()) == _plain(state)
    checkpoint = load_checkpoint(result.last)
    assert _plain(checkpoint.method_state) == _plain(state)
    assert checkpoint.meta["method"] == name and checkpoint.meta["method_params"] == dict(method.params)
    assert len(checkpoint.extra["hooks"]) == len(result.plan.stages[-1].hooks)  # the last stage's hook states


def _plain(state) -> object:
    """Tensors as lists, so states compare with ``==``."""
    if isinstance(state, torch.Tensor):
        return state.tolist()
    if isinstance(state, dict):
        return {key: _plain(value) for key, value in state.items()}
    if isinstance(state, (list, tuple)):
        return [_plain(value) for value in state]
    return state


@pytest.mark.parametrize("name", TRAINERS)
def test_a_run_stopped_in_its_last_epoch_resumes_to_the_same_numbers(name, trained, tmp_path):
    straight = trained(name)
    config = replace(straight.config, runs_dir=str(tmp_path / "runs"))
    folder = RunFolder.create(config.runs_dir, name)
    last_epoch = len(straight.epochs)
    _, first = run(contract_plan(config), folder, stop_in_epoch=last_epoch)
    assert len(first) == last_epoch - 1
    _, resumed = run(contract_plan(config), RunFolder(folder.path), resume=True)
    for a, b in zip(straight.epochs, first + resumed, strict=True):
        assert (a.stage, a.train.loss, a.test.nll, a.test.per_class_recall, a.test.experts_per_image) == \
               (b.stage, b.train.loss, b.test.nll, b.test.per_class_recall, b.test.experts_per_image)


# ---------------------------------------------------------------------------- prediction
@pytest.mark.parametrize("name", TRAINERS)
def test_every_consumer_predicts_the_checkpoint_alike(name, trained, tmp_path):
    """The loop's evaluation, ``eval``, ``predict`` and the plug-in's "old" column (cached features)."""
    result = trained(name)
    during = result.epochs[-1].test  # the loop's evaluation of the weights last.pt holds
    evaluated, _ = evaluate_checkpoint(result.last, DataConfig(dataset="demo"), device="cpu", dataset=DATASET)
    predictor = Predictor(load_checkpoint(result.last), device="cpu")
    probabilities = predictor.predict_tensor(DATASET.test_images)
    labels = DATASET.test_labels
    plugin = tune(plugin_config({"pretrained": str(result.last), "epochs": 0, "device": "cpu", "save_model": False,
                                 "runs_dir": str(tmp_path / "runs")}), dataset=DATASET).reports["old"]
    for metrics in (during, plugin):
        assert metrics.nll == pytest.approx(evaluated.nll, rel=1e-4, abs=1e-6)
        assert metrics.ece == pytest.approx(evaluated.ece, rel=1e-4, abs=1e-6)
        assert metrics.per_class_recall == evaluated.per_class_recall
        assert metrics.experts_per_image == pytest.approx(evaluated.experts_per_image)
    tiny = torch.finfo(probabilities.dtype).tiny  # softmax(log p) = p
    predicted = metrics_from_logits(probabilities.clamp_min(tiny).log(), labels, DATASET.class_counts)
    assert predicted.ece == pytest.approx(evaluated.ece, rel=1e-4, abs=1e-6)
    if bool((probabilities[torch.arange(len(labels)), labels] > 0).all()):  # none underflowed to 0 in float32
        assert predicted.nll == pytest.approx(evaluated.nll, rel=1e-4, abs=1e-6)
    recalls = [float((probabilities.argmax(1)[labels == c] == c).float().mean()) for c in range(DATASET.num_classes)]
    assert recalls == pytest.approx(evaluated.per_class_recall)
    experts = None if predictor.last_experts is None else float(predictor.last_experts.double().mean())
    assert experts == pytest.approx(evaluated.experts_per_image)


# -------------------------------------------------------------------------- capabilities
@pytest.mark.parametrize("name", METHODS)
def test_what_the_method_declares_it_can_do_runs(name, trained, tmp_path):
    """A repair (``repairs_classifier``) re-trains the classifier on cached features and reports old /
    new / ensemble; a method that only declares ``"features"`` among its sources trains a head stage on them."""
    cls = available_methods()[name]
    result = trained("ce" if cls.repair_only else name)
    if cls.repairs_classifier:
        tuned = tune(plugin_config({"pretrained": str(result.last), "loss": name, "epochs": 1, "batch_size": BATCH,
                                    "feature_passes": 1, "device": "cpu", "runs_dir": str(tmp_path / "runs")},
                                   preset(plugin_preset(name))), dataset=DATASET)
        assert list(tuned.reports) == ["old", "new", "ensemble"]
        assert all(math.isfinite(m.nll) for m in tuned.reports.values())
    elif "features" in cls.sources:
        plan = contract_plan(result.config)
        plan.stages = [Stage("heads", replace(plan.stages[0].optim, epochs=1), trains=("heads",),
                             batchnorm="frozen", source="features", views=("none",))]
        _, epochs = run(plan, RunFolder.create(str(tmp_path / "runs"), name))
        assert len(epochs) == 1 and math.isfinite(epochs[0].train.loss)
    else:
        pytest.skip(f"{name} declares neither a classifier repair nor cached features")


@pytest.mark.parametrize("name", METHODS)
def test_what_the_method_declares_it_cannot_do_is_refused_before_the_data_loads(name, tmp_path, monkeypatch):
    cls = available_methods()[name]
    import engine.plugin.run
    import engine.trainer

    def no_data(*args, **kwargs):
        raise AssertionError("the data was read before the refusal")
    monkeypatch.setattr(engine.plugin.run, "load_dataset", no_data)
    monkeypatch.setattr(engine.trainer, "load_dataset", no_data)
    refused = 0
    other = _model_of_another_family(cls)
    if other is not None:  # a pretrained checkpoint of a family it does not train
        path = tmp_path / "other.pt"
        save_checkpoint(path, create_model(other).state_dict(), {"model": other.to_dict()})
        config = contract_config(tmp_path, name)
        config.model.pretrained = str(path)
        with pytest.raises(ConfigError, match="does not train a"):
            if cls.repair_only:  # repairing that checkpoint's classifier
                tune(plugin_config({"pretrained": str(path), "loss": name}, preset(plugin_preset(name))))
            else:
                train(config)
        refused += 1
    if not cls.repairs_classifier:  # the plug-in: refused when the config is checked (RunConfig.problems)
        with pytest.raises(ConfigError, match="loss: .*cannot re-train a classifier"):
            tune(plugin_config({"pretrained": __file__, "loss": name}))
        refused += 1
    if cls.repair_only:  # training a model with it alone
        with pytest.raises(ConfigError, match="loss: .*re-trains the classifier of a trained model"):
            train(contract_config(tmp_path, name))
        refused += 1
    model = create_model(build_method(name, DATASET.class_counts).model_spec(spec_for("resnet20", 4)))
    for source in SOURCES:
        if source not in cls.sources:  # a stage on a batch source its steps do not take
            stage = Stage("x", OptimConfig(epochs=1, warmup_epochs=0), trains=("heads",), batchnorm="frozen",
                          source=source)
            with pytest.raises(ConfigError, match=f"stage 'x': source: .*does not train on"):
                check_stages([stage], model, cls)
            refused += 1
    if not refused:
        assert cls.repairs_classifier and set(cls.sources) == set(SOURCES) and ANY_FAMILY in cls.families


def _model_of_another_family(cls):
    """The spec of a model of a family ``cls`` does not train (a plain one, or another method's), or None."""
    if ANY_FAMILY in cls.families:
        return None
    base = spec_for("resnet20", DATASET.num_classes)
    specs = [base] + [build_method(other, DATASET.class_counts).model_spec(base) for other in METHODS]
    return next((spec for spec in specs if spec.family not in cls.families), None)


# ------------------------------------------------------------------------------- repairs
class Repaired:
    """One plug-in run of a repair-only method on the trained CE model, from the repair's own preset."""

    def __init__(self, name: str, base: Trained, tmp_path):
        self.name, self.base = name, base
        self.config = repair_config(name, base.last, tmp_path)
        self.events: list = []
        self.result = tune(self.config, on_event=self.events.append, dataset=DATASET)
        self.last = self.result.run_dir / "checkpoints" / "last.pt"


def repair_config(name: str, base, tmp_path) -> RunConfig:
    return plugin_config({"pretrained": str(base), "epochs": 2, "batch_size": BATCH, "feature_passes": 1,
                          "device": "cpu", "runs_dir": str(tmp_path / "runs")}, preset(plugin_preset(name)))


@pytest.fixture(scope="module")
def repaired(trained, tmp_path_factory):
    cache: dict[str, Repaired] = {}

    def get(name: str) -> Repaired:
        if name not in cache:
            cache[name] = Repaired(name, trained("ce"), tmp_path_factory.mktemp(f"repair-{name}"))
        return cache[name]
    return get


@pytest.mark.parametrize("name", REPAIRS)
def test_a_repair_changes_what_it_declares_and_nothing_else(name, repaired):
    result = repaired(name)
    cls = available_methods()[name]
    before = load_checkpoint(result.base.last).state_dict
    after = load_checkpoint(result.last)
    model = create_model(after.spec)
    parts = model.parts()
    declared = {id(p) for part in (cls.repair_trains or ("heads",)) for module in parts[part]
                for p in module.parameters()}
    declared_keys = {key for key, p in model.named_parameters() if id(p) in declared}
    assert declared_keys
    changed = {key for key in after.state_dict if key not in before or not torch.equal(after.state_dict[key],
                                                                                      before[key])}
    assert changed & declared_keys, f"{name} changed none of {sorted(declared_keys)}"
    assert changed <= declared_keys, f"{name} changed {sorted(changed - declared_keys)}"
    assert result.result.epochs_done == (2 if cls.repair_trains else 0)
    assert list(result.result.reports) == ["old", "new", "ensemble"]
    assert all(math.isfinite(m.nll) for m in result.result.reports.values())


@pytest.mark.parametrize("name", [name for name in REPAIRS if available_methods()[name].repair_trains])
def test_a_repair_run_stopped_in_its_last_epoch_resumes_to_the_same_numbers(name, repaired, tmp_path):
    straight = repaired(name)
    config = repair_config(name, straight.base.last, tmp_path)
    events: list = []
    stopped = tune(config, on_event=events.append, dataset=DATASET,
                   should_stop=lambda: any(isinstance(e, Progress) and e.stage == "tune" and e.epoch == 2
                                           for e in events))
    assert stopped.stopped and stopped.epochs_done == 1
    resumed = tune(repair_config(name, straight.base.last, tmp_path), dataset=DATASET, resume=stopped.run_dir)
    assert not resumed.stopped and resumed.epochs_done == 2
    for column in ("new", "ensemble"):
        a, b = straight.result.reports[column], resumed.reports[column]
        assert (a.per_class_recall, a.nll) == (b.per_class_recall, b.nll), column


@pytest.mark.parametrize("name", REPAIRS)
def test_every_consumer_predicts_the_repaired_checkpoint_alike(name, repaired, tmp_path):
    result = repaired(name)
    checkpoint = load_checkpoint(result.last)
    assert checkpoint.meta["method"] == name and checkpoint.meta["method_params"] == dict(result.config.method.params
                                                                                          or checkpoint.meta["method_params"])
    fresh = build_method(name, DATASET.class_counts, checkpoint.meta["method_params"])
    fresh.load_state_dict(checkpoint.method_state)
    reported = result.result.reports["ensemble"]  # the repaired checkpoint predicts with the ensemble
    evaluated, _ = evaluate_checkpoint(result.last, DataConfig(dataset="demo"), device="cpu", dataset=DATASET)
    again = tune(plugin_config({"pretrained": str(result.last), "epochs": 0, "device": "cpu", "save_model": False,
                                "runs_dir": str(tmp_path / "runs")}), dataset=DATASET).reports["old"]
    probabilities = Predictor(checkpoint, device="cpu").predict_tensor(DATASET.test_images)
    recalls = [float((probabilities.argmax(1)[DATASET.test_labels == c] == c).float().mean())
               for c in range(DATASET.num_classes)]
    for metrics in (evaluated, again):
        assert metrics.per_class_recall == reported.per_class_recall
        assert metrics.nll == pytest.approx(reported.nll, rel=1e-4, abs=1e-6)
    assert recalls == pytest.approx(reported.per_class_recall)
