"""RIDE end to end on tiny data: every stage trains and resumes exactly, the teacher distils, the
router trains alone on a checkpoint, the GML plug-in re-trains every expert, and the official
checkpoint predicts and evaluates from the CLI with and without its router."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from engine.checkpoints import load_checkpoint
from cli import main
from engine.config import ConfigError, DataConfig, MethodConfig, ModelConfig, OptimConfig, RunConfig
from engine.events import EpochEnd, Message, Progress
from engine.inference import Predictor
from engine.methods import build_method
from engine.methods.ride_losses import distillation_term, ride_loss
from engine.plugin import plugin_config, tune
from engine.prediction import PredictionRule
from engine.trainer import train
from models import ModelSpec, create_model
from tests.datagen import write_cifar
from tests.test_trainer import COUNTS, tiny_dataset


def ride_config(tmp_path, loss: str = "ride", epochs: int = 1, router_epochs: int = 1, teacher: str = "",
                **method) -> RunConfig:
    params = {"router_epochs": router_epochs, "router_batch_size": 40}
    return RunConfig(data=DataConfig(dataset="demo"), model=ModelConfig(arch="resnet20"),
                     method=MethodConfig(loss=loss, train_rule="drw", params=params, teacher=teacher, **method),
                     optim=OptimConfig(epochs=epochs, batch_size=40, lr=0.05, warmup_epochs=0, nesterov=True,
                                       weight_decay=5e-4),
                     runs_dir=str(tmp_path / "runs"), experiment=loss)


def epoch_ends(events):
    return [e for e in events if isinstance(e, EpochEnd)]


def assert_resumes_exactly(config: RunConfig, stop_epoch: int) -> list[EpochEnd]:
    """Run straight; run again, stop after the first batch of ``stop_epoch``, resume; same epochs."""
    dataset = tiny_dataset()
    straight = []
    train(config, on_event=straight.append, dataset=dataset)
    first = []

    def stop() -> bool:
        return any(isinstance(e, Progress) and e.epoch == stop_epoch for e in first)

    stopped = train(config, on_event=first.append, should_stop=stop, dataset=dataset)
    assert stopped.stopped and stopped.epochs_done == stop_epoch - 1
    resumed = []
    train(None, on_event=resumed.append, dataset=dataset, resume=stopped.run_dir)
    expected, got = epoch_ends(straight), epoch_ends(first + resumed)
    assert [e.epoch for e in got] == [e.epoch for e in expected]
    for a, b in zip(expected, got):
        assert (a.stage, a.train.loss, a.test.per_class_recall) == (b.stage, b.train.loss, b.test.per_class_recall)
        assert a.test.experts_per_image == b.test.experts_per_image
    return expected


@pytest.fixture(scope="module")
def teacher(tmp_path_factory) -> str:
    """A (2-expert) teacher trained for one epoch."""
    tmp = tmp_path_factory.mktemp("teacher")
    config = ride_config(tmp, loss="ride_teacher", router_epochs=0)
    config.method.params["experts"] = 2  # fewer than the official 6: a fast test
    result = train(config, dataset=tiny_dataset())
    return str(result.run_dir / "checkpoints" / "last.pt")


def test_ride_trains_its_experts_then_the_router_and_resumes_inside_the_router_stage(tmp_path):
    epochs = assert_resumes_exactly(ride_config(tmp_path), stop_epoch=2)
    assert [e.stage for e in epochs] == ["train", "router"]
    assert epochs[0].test.experts_per_image is None  # the router is not used before it has trained
    assert 1.0 <= epochs[1].test.experts_per_image <= 3.0


def test_a_checkpoint_whose_router_has_not_trained_predicts_with_every_expert(tmp_path):
    dataset = tiny_dataset()
    result = train(ride_config(tmp_path, stages=["train"]), dataset=dataset)
    checkpoint = load_checkpoint(result.run_dir / "checkpoints" / "last.pt")
    assert checkpoint.spec.options["router"] and not checkpoint.state_dict["router_trained"]
    assert checkpoint.method_state == {}  # routing is the model's mode, not the method's state
    predictor = Predictor(checkpoint, device="cpu")
    predictor.predict_tensor(dataset.test_images)
    assert predictor.last_experts is None  # no routing by an untrained router


def test_distillation_trains_from_the_teacher_and_resumes_exactly(tmp_path, teacher):
    spec = load_checkpoint(teacher).spec
    assert spec.family == "multi_expert" and spec.options["experts"] == 2 and not spec.options["router"]
    assert_resumes_exactly(ride_config(tmp_path, loss="ride_distill", epochs=2, router_epochs=0, teacher=teacher),
                           stop_epoch=2)


def test_distillation_without_a_teacher_is_one_clear_config_error(tmp_path):
    with pytest.raises(ConfigError) as error:
        train(ride_config(tmp_path, loss="ride_distill"), dataset=tiny_dataset())
    assert error.value.field_name == "teacher"


def test_distillation_step_is_e_times_ride_plus_the_teacher_term():
    counts = torch.tensor(COUNTS)
    method = build_method("ride_distill", counts, {"router_epochs": 0})
    student = create_model(method.model_spec(ModelSpec(arch="resnet20", num_classes=4))).train()
    teacher_method = build_method("ride_teacher", counts)
    method.use_teacher(create_model(teacher_method.model_spec(ModelSpec(arch="resnet20", num_classes=4))),
                       PredictionRule(teacher_method))
    images, labels = torch.randn(6, 3, 12, 12), torch.tensor([0, 1, 2, 3, 0, 1])
    from engine.batch import Batch

    torch.manual_seed(0)
    run = RunConfig()
    run.method.teacher = "named.pt"
    [stage] = method.stages(run)
    loss, _ = method.training_step(student, Batch([images], labels), stage)
    torch.manual_seed(0)
    output = student(images)
    with torch.no_grad():
        teacher_logits = method.teacher.train()(images).logits  # official: teacher BN in train mode
    expected = 3 * (ride_loss(output.expert_logits, labels, method.margins, 30.0, None, 1.0, -0.45)
                    + distillation_term(output.logits, teacher_logits, 1.5))
    torch.testing.assert_close(loss, expected)


def test_the_router_trains_alone_on_a_checkpoint_without_one(tmp_path):
    dataset = tiny_dataset()
    base = train(ride_config(tmp_path, router_epochs=0), dataset=dataset)
    path = base.run_dir / "checkpoints" / "last.pt"
    original = load_checkpoint(path).state_dict
    assert not any(key.startswith("expert_help_pred") for key in original)
    config = ride_config(tmp_path, stages=["router"])
    config.model.pretrained = str(path)
    events = []
    result = train(config, on_event=events.append, dataset=dataset)
    assert any("start fresh" in e.text for e in events if isinstance(e, Message))
    assert [e.stage for e in epoch_ends(events)] == ["router"]
    tuned = load_checkpoint(result.run_dir / "checkpoints" / "last.pt").state_dict
    for key, value in original.items():  # experts, classifiers and BatchNorm statistics untouched
        assert torch.equal(tuned[key], value), key
    assert any(key.startswith("expert_help_pred_fc") for key in tuned)


def test_router_alone_needs_a_checkpoint(tmp_path):
    with pytest.raises(ConfigError) as error:
        train(ride_config(tmp_path, stages=["router"]), dataset=tiny_dataset())
    assert error.value.field_name == "pretrained"


def test_gml_plug_in_retrains_every_expert_head_and_reports_old_new_ensemble(tmp_path, teacher):
    original = load_checkpoint(teacher).state_dict
    result = tune(plugin_config({"pretrained": teacher, "epochs": 1, "batch_size": 25, "feature_passes": 1,
                                 "device": "cpu", "runs_dir": str(tmp_path / "runs")}), dataset=tiny_dataset())
    assert list(result.reports) == ["old", "new", "ensemble"]
    tuned = load_checkpoint(result.run_dir / "checkpoints" / "last.pt")
    for e in range(2):
        assert not torch.equal(tuned.state_dict[f"linears.{e}.weight"], original[f"linears.{e}.weight"])
        assert torch.equal(tuned.heads["old"][f"linears.{e}.weight"], original[f"linears.{e}.weight"])
    assert all(torch.equal(tuned.state_dict[k], v) for k, v in original.items() if not k.startswith("linears."))


def test_cli_trains_the_teacher_distils_and_routes_on_the_demo(tmp_path, capsys):
    small = ["--epochs", "1", "--warmup-epochs", "0", "--image-size", "8", "--imbalance", "100", "--batch-size", "128",
             "--quiet"]

    def run(*args: str) -> str:
        runs = tmp_path / args[args.index("--experiment") + 1]
        assert main(["train", "--preset", "demo-ride", *args, *small, "--runs-dir", str(runs)]) == 0
        return str(next(runs.iterdir()) / "checkpoints" / "last.pt")

    teacher = run("--loss", "ride_teacher", "--param", "experts=2", "--experiment", "teacher")
    student = run("--loss", "ride_distill", "--teacher", teacher, "--param", "router_epochs=0",
                  "--experiment", "student")
    capsys.readouterr()
    routed = run("--stages", "router", "--pretrained", student, "--param", "router_epochs=1", "--experiment", "router")
    out = capsys.readouterr().out
    assert "experts/image" in out
    meta = load_checkpoint(routed).meta
    assert meta["method"] == "ride" and meta["model"]["options"]["router"] and meta["stage"] == "router"


def test_the_cifar100_preset_trains_on_generated_cifar_layout_data(tmp_path, capsys):
    root = write_cifar(tmp_path / "data", "cifar10", train_per_class=8, test_per_class=2)
    code = main(["train", "--preset", "cifar100-ride", "--dataset", "cifar10", "--data-root", str(root),
                 "--imbalance", "4", "--arch", "resnet20", "--image-size", "8", "--epochs", "1", "--warmup-epochs", "0",
                 "--batch-size", "32",
                 "--param", "router_epochs=1", "--param", "router_batch_size=32", "--runs-dir", str(tmp_path / "runs"),
                 "--quiet"])
    out = capsys.readouterr().out
    assert code == 0 and "stage 1/2: train" in out and "stage 2/2: router" in out
    config = json.loads((next((tmp_path / "runs").iterdir()) / "config.json").read_text())["run"]
    assert config["optim"]["nesterov"] and config["optim"]["weight_decay"] == 5e-4
    assert config["method"]["train_rule"] == "drw"


# ----------------------------------------------------------------------------- the official checkpoint

def test_official_checkpoint_predicts_from_the_cli_with_and_without_the_router(tmp_path, capsys,
                                                                               shared_checkpoint):
    path = str(shared_checkpoint("ride_ea_epoch5.pth"))
    rng = np.random.default_rng(0)
    images = []
    for i in range(6):
        images.append(tmp_path / f"{i}.png")
        Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(images[-1])
    outputs = {}
    for flags in ([], ["--no-router"]):
        assert main(["predict", *map(str, images), "--checkpoint", path, "--dataset", "cifar100", "--json",
                     *flags]) == 0
        outputs[bool(flags)] = json.loads(capsys.readouterr().out)
    routed, full = outputs[False], outputs[True]
    assert all(1 <= p["experts"] <= 3 for p in routed) and all("experts" not in p for p in full)
    for a, b in zip(routed, full):  # images that used all three experts get the same answer both ways
        if a["experts"] == 3:
            assert a["topk"][0]["label"] == b["topk"][0]["label"]
            assert a["topk"][0]["probability"] == pytest.approx(b["topk"][0]["probability"], rel=1e-4)
    assert main(["predict", str(images[0]), "--checkpoint", path, "--dataset", "cifar100"]) == 0
    assert "expert" in capsys.readouterr().out


def test_official_checkpoint_evaluates_from_the_cli_with_and_without_the_router(tmp_path, capsys,
                                                                                shared_checkpoint):
    path = str(shared_checkpoint("ride_ea_epoch5.pth"))
    root = write_cifar(tmp_path / "data", "cifar100", train_per_class=3, test_per_class=1)
    reports = {}
    for flags in ([], ["--no-router"]):
        assert main(["eval", "--checkpoint", path, "--dataset", "cifar100", "--data-root", str(root),
                     "--imbalance", "3", "--device", "cpu", "--json", *flags]) == 0
        reports[bool(flags)] = json.loads(capsys.readouterr().out)
    assert 1.0 <= reports[False]["experts_per_image"] < 3.0
    assert reports[True]["experts_per_image"] is None
    assert len(reports[True]["per_class_recall"]) == 100


def test_eval_and_the_plugins_old_column_agree_on_the_official_checkpoint(tmp_path, capsys, shared_checkpoint):
    """One prediction path: ``eval`` and ``tune``'s "old" column score the routed official model alike
    (before, the old column averaged every expert: NLL 13.66 against eval's 14.88)."""
    path = str(shared_checkpoint("ride_ea_epoch5.pth"))
    root = write_cifar(tmp_path / "data", "cifar100", train_per_class=3, test_per_class=2)
    data = ["--dataset", "cifar100", "--data-root", str(root), "--imbalance", "3", "--device", "cpu"]
    assert main(["eval", "--checkpoint", path, *data, "--json"]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    runs = tmp_path / "runs"
    assert main(["tune", "--checkpoint", path, *data, "--epochs", "0", "--no-save", "--quiet",
                 "--runs-dir", str(runs)]) == 0
    old = json.loads((next(runs.iterdir()) / "report.json").read_text())["columns"]["old"]
    assert 1.0 <= evaluated["experts_per_image"] < 3.0
    for key in ("nll", "ece", "top1", "experts_per_image"):
        assert old[key] == pytest.approx(evaluated[key], rel=1e-5, abs=1e-7), key
    assert old["per_class_recall"] == evaluated["per_class_recall"]
