"""MiSLAS on the one loop: label-aware smoothing, the class-aware sampler, the two stages, shifted
BatchNorm, exact resume inside stage 2, official checkpoints, refusals. Tiny data, resnet20."""
from __future__ import annotations

import csv
import json
import math

import pytest
import torch

from data.samplers import class_aware_order
from engine.checkpoints import load_checkpoint
from engine.config import ConfigError, DataConfig, MethodConfig, ModelConfig, OptimConfig, RunConfig
from engine.events import EpochEnd, Progress
from engine.methods import build_method, method_class
from engine.methods.mislas import label_aware_smoothing_loss, smoothing_per_class
from engine.stages import Stage, check_stages
from engine.trainer import train
from models import build_model
from tests.test_trainer import COUNTS, tiny_dataset

HEAD, TAIL = 0.4, 0.1
SMOOTH_COUNTS = [500, 200, 50, 5]


def x_of(n: int) -> float:
    return (n - 5) / (500 - 5)


@pytest.mark.parametrize("shape, curve", [
    ("concave", lambda x: math.sin(math.pi * x / 2)),
    ("linear", lambda x: x),
    ("convex", lambda x: 1 + math.sin(1.5 * math.pi + math.pi * x / 2)),
    ("exp", lambda x: x ** 3),
])
def test_label_aware_smoothing_per_class_follows_each_shape(shape, curve):
    got = smoothing_per_class(torch.tensor(SMOOTH_COUNTS), HEAD, TAIL, shape, power=3)
    expected = [TAIL + (HEAD - TAIL) * curve(x_of(n)) for n in SMOOTH_COUNTS]
    assert got.tolist() == pytest.approx(expected, abs=1e-6)
    assert got[0] == pytest.approx(HEAD) and got[-1] == pytest.approx(TAIL)


def test_label_aware_smoothing_loss_spreads_epsilon_over_every_class():
    logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
    labels = torch.tensor([0, 2])
    epsilon = torch.tensor([0.4, 0.25, 0.1])
    rows = []
    for row, y in zip(logits.tolist(), labels.tolist()):
        log_z = math.log(sum(math.exp(v) for v in row))
        log_p = [v - log_z for v in row]
        e = epsilon[y].item()
        rows.append((1 - e) * -log_p[y] + e * sum(-v for v in log_p) / 3)
    got = label_aware_smoothing_loss(logits, labels, epsilon)
    assert got.item() == pytest.approx(sum(rows) / 2, rel=1e-6)


def test_class_aware_sampler_takes_four_of_a_class_per_visit():
    labels = torch.tensor([0] * 30 + [1] * 7 + [2] * 2)
    order = class_aware_order(labels, torch.Generator().manual_seed(3))
    assert len(order) == len(labels)
    runs = labels[order][: len(order) // 4 * 4].reshape(-1, 4)
    assert all(len(set(run.tolist())) == 1 for run in runs)  # 4 in a row from one class
    first_cycle = runs[:3, 0].tolist()
    assert sorted(first_cycle) == [0, 1, 2]  # every class once before any repeats
    assert labels[order].bincount(minlength=3).tolist()[2] > 2  # the tail class is drawn far beyond its share


def tiny_mislas(tmp_path, epochs: int = 2, stage2_epochs: int = 2, shift_bn: float = 1.0, **method) -> RunConfig:
    params = {"stage2_epochs": stage2_epochs, "shift_bn": shift_bn, **method}
    return RunConfig(data=DataConfig(dataset="demo"), model=ModelConfig(arch="resnet20"),
                     method=MethodConfig(loss="mislas", params=params),
                     optim=OptimConfig(epochs=epochs, batch_size=16, lr=0.05, warmup_epochs=0,
                                       decay_factors=(0.1, 0.01)),
                     runs_dir=str(tmp_path / "runs"), experiment="mislas")


def test_mislas_stages_are_the_official_recipe(tmp_path):
    config = tiny_mislas(tmp_path)
    method = build_method("mislas", torch.tensor(COUNTS), config.method.params)
    first, second = method.stages(config)
    assert (first.name, first.trains, first.mixup_alpha, first.batchnorm) == ("mixup", ("backbone", "classifier"), 1.0, "train")
    assert first.optim is config.optim
    assert (second.name, second.trains, second.batchnorm, second.sampler) == (
        "classifier", ("classifier", "lws"), "reestimate", "class_aware")
    assert (second.optim.epochs, second.optim.lr, second.optim.schedule, second.optim.warmup_epochs) == (2, 0.1, "cosine", 0)
    assert second.lr_factors == {"classifier": 0.2} and second.optim.weight_decay == config.optim.weight_decay
    # stage 2 carries its own step and rule; stage 1 is the method's own step under the run's rule
    assert second.step == method.smoothing_step and second.train_rule == "none"
    assert first.step is None and first.train_rule is None
    model = build_model("resnet20", 4, head="lws")
    model.requires_grad_(False)
    for part in second.trains:
        for module in model.parts()[part]:
            module.requires_grad_(True)
    groups = method.param_groups(model, second)
    by_factor = {g["lr_factor"]: {id(p) for p in g["params"]} for g in groups}
    assert by_factor[0.2] == {id(p) for p in model.linear.parameters()}
    assert by_factor[1.0] == {id(model.lws.learned_norm)}


@pytest.mark.parametrize("shift_bn", [1.0, 0.0])
def test_both_stages_train_and_stage_two_shifts_only_batchnorm_statistics(tmp_path, shift_bn):
    dataset = tiny_dataset()
    stage1_only = train(_only_first_stage(tiny_mislas(tmp_path / "a", shift_bn=shift_bn)), dataset=dataset)
    events = []
    both = train(tiny_mislas(tmp_path / "b", shift_bn=shift_bn), on_event=events.append, dataset=dataset)
    assert [e.stage for e in events if isinstance(e, EpochEnd)] == ["mixup", "mixup", "classifier", "classifier"]
    rows = list(csv.DictReader(open(both.run_dir / "metrics.csv")))
    assert [(int(r["epoch"]), int(r["stage"])) for r in rows] == [(1, 1), (2, 1), (3, 2), (4, 2)]
    before = load_checkpoint(stage1_only.run_dir / "checkpoints" / "last.pt").state_dict
    after = load_checkpoint(both.run_dir / "checkpoints" / "last.pt").state_dict
    for key, value in before.items():
        if key.startswith(("linear.", "lws.")):
            assert not torch.equal(after[key], value), key  # the classifier and LWS trained
        elif "running_" in key or "num_batches" in key:
            assert torch.equal(after[key], value) != bool(shift_bn), key  # statistics shift only with shift_bn
        else:
            assert torch.equal(after[key], value), key  # every backbone weight, BN affine included, is frozen


def _only_first_stage(config: RunConfig) -> RunConfig:
    config.method.stages = ["mixup"]
    return config


def test_a_run_stopped_in_stage_two_resumes_to_the_uninterrupted_metrics(tmp_path):
    dataset = tiny_dataset()
    straight = []
    train(tiny_mislas(tmp_path / "a", epochs=1, stage2_epochs=3), on_event=straight.append, dataset=dataset)
    first, seen = [], []

    def stop_in_stage_two() -> bool:
        return sum(isinstance(e, EpochEnd) for e in first) == 2 and len(seen) > 0

    def record(event):
        first.append(event)
        if isinstance(event, Progress) and event.epoch == 3:
            seen.append(event)

    stopped = train(tiny_mislas(tmp_path / "b", epochs=1, stage2_epochs=3), on_event=record,
                    should_stop=stop_in_stage_two, dataset=dataset)
    assert stopped.stopped and stopped.epochs_done == 2
    resumed = []
    result = train(None, on_event=resumed.append, dataset=dataset, resume=stopped.run_dir)
    expected = [e for e in straight if isinstance(e, EpochEnd)]
    got = [e for e in first + resumed if isinstance(e, EpochEnd)]
    assert [e.epoch for e in got] == [1, 2, 3, 4] and result.epochs_done == 4
    for a, b in zip(expected, got):
        assert a.train.loss == b.train.loss and a.test.per_class_recall == b.test.per_class_recall


def test_stage_two_alone_needs_a_pretrained_checkpoint_and_adds_a_fresh_lws(tmp_path):
    dataset = tiny_dataset()
    config = tiny_mislas(tmp_path)
    config.method.stages = ["classifier"]
    with pytest.raises(ConfigError, match="pretrained"):
        train(config, dataset=dataset)
    base = train(RunConfig(data=DataConfig(dataset="demo"), model=ModelConfig(arch="resnet20"),
                           optim=OptimConfig(epochs=1, batch_size=16, warmup_epochs=0),
                           runs_dir=str(tmp_path / "runs"), experiment="ce"), dataset=dataset)
    config.model.pretrained = str(base.run_dir / "checkpoints" / "last.pt")
    events = []
    result = train(config, on_event=events.append, dataset=dataset)
    assert [e.stage for e in events if isinstance(e, EpochEnd)] == ["classifier", "classifier"]
    assert any("lws start fresh" in getattr(e, "text", "") for e in events)
    tuned = load_checkpoint(result.run_dir / "checkpoints" / "last.pt")
    assert tuned.spec.head == "lws" and tuned.meta["method"] == "mislas"


def test_stage_lists_that_cannot_run_are_refused_by_stage_and_field():
    model = build_model("resnet20", 4)
    ce, mislas = method_class("ce"), method_class("mislas")
    no_batchnorm = build_model("resnet20", 4)
    for module in list(no_batchnorm.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, torch.nn.BatchNorm2d):
                setattr(module, name, torch.nn.Identity())
    optim = OptimConfig(epochs=1, warmup_epochs=0)
    with pytest.raises(ConfigError, match="stage 'x': trains"):
        check_stages([Stage("x", optim, trains=("router",))], model, ce)
    with pytest.raises(ConfigError, match="stage 'x': batchnorm"):
        check_stages([Stage("x", optim, trains=("heads",), batchnorm="reestimate")], no_batchnorm, ce)
    with pytest.raises(ConfigError, match="stage 'x': source"):
        check_stages([Stage("x", optim, source="features")], model, ce)
    with pytest.raises(ConfigError, match="stage 'x': views"):
        check_stages([Stage("x", optim, views=("autoaugment-9000",))], model, ce)
    with pytest.raises(ConfigError, match="stage 'x': train_rule"):
        check_stages([Stage("x", optim, train_rule="sometimes")], model, ce)
    with pytest.raises(ConfigError, match="unknown step hook 'max_nrom'"):
        check_stages([Stage("x", optim, hooks=("max_nrom:0.1",))], model, ce)
    # the method's declared capabilities: MiSLAS takes no cached features, RIDE no plain ResNet
    head_stage = Stage("x", optim, trains=("heads",), batchnorm="frozen", source="features")
    check_stages([head_stage], model, ce)
    with pytest.raises(ConfigError, match="stage 'x': source: MiSLAS .* does not train on cached features"):
        check_stages([head_stage], model, mislas)
    with pytest.raises(ConfigError, match="does not train a cifar_resnet model"):
        check_stages([Stage("x", optim)], model, method_class("ride"))


# ------------------------------------------------------------------------------ checkpoints from MiSLAS

def write_official_mislas(path, source_state: dict[str, torch.Tensor], scales: torch.Tensor):
    """A file in the official layout of MiSLAS's train_stage2.py: DataParallel backbone, a Classifier
    whose layer is ``fc``, and the LWS module, saved as separate state dicts beside the epoch."""
    backbone = {f"module.{k}": v for k, v in source_state.items() if not k.startswith("linear.")}
    classifier = {f"module.fc.{k.removeprefix('linear.')}": v for k, v in source_state.items() if k.startswith("linear.")}
    torch.save({"epoch": 10, "state_dict_model": backbone, "state_dict_classifier": classifier,
                "state_dict_lws_model": {"module.learned_norm": scales}, "best_acc1": torch.tensor(47.0)}, path)


def test_an_official_mislas_stage_two_file_loads_with_its_lws_and_predicts_lws_of_the_classifier(tmp_path,
                                                                                               shared_checkpoint):
    from engine.prediction import load_for_prediction

    state = torch.load(shared_checkpoint("CE.pt"), map_location="cpu", weights_only=True)
    scales = torch.linspace(0.5, 2.0, 100)[None, :]
    write_official_mislas(tmp_path / "mislas_stage2.pth.tar", state, scales)
    checkpoint = load_checkpoint(tmp_path / "mislas_stage2.pth.tar")
    assert checkpoint.spec.head == "lws" and checkpoint.spec.num_classes == 100
    model, rule = load_for_prediction(checkpoint)
    reference = build_model("resnet32", 100)
    reference.load_state_dict(state)
    reference.eval()
    x = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(rule(model, x).values, reference(x).logits * scales, rtol=1e-4, atol=1e-4)


def test_seed_style_mislas_checkpoint_evaluates_and_takes_the_gml_plugin(tmp_path, capsys, shared_checkpoint):
    """The seed's MISLAS_* stage-2 files are plain CIFAR ResNet-32 state dicts: eval and the plug-in
    take them like any foreign file, and eval and predict agree on the tuned ensemble."""
    from cli import main
    from tests.datagen import write_cifar

    plain = tmp_path / "MISLAS_cifar100_imb100_stage2.pt"
    torch.save(torch.load(shared_checkpoint("CE.pt"), map_location="cpu", weights_only=True), plain)
    root = write_cifar(tmp_path / "data", "cifar100", train_per_class=3, test_per_class=1)
    data = ["--dataset", "cifar100", "--data-root", str(root), "--imbalance", "3", "--device", "cpu"]
    assert main(["eval", "--checkpoint", str(plain), *data, "--json"]) == 0
    assert "top1" in capsys.readouterr().out
    assert main(["tune", "--checkpoint", str(plain), *data, "--epochs", "1", "--feature-passes", "1",
                 "--runs-dir", str(tmp_path / "runs"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "ensemble" in out and "new" in out
    tuned = next((tmp_path / "runs").iterdir()) / "checkpoints" / "last.pt"
    assert main(["eval", "--checkpoint", str(tuned), *data, "--json"]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    images = _test_images(root, tmp_path / "png")
    assert main(["predict", *map(str, images), "--checkpoint", str(tuned), "--json", "--topk", "1"]) == 0
    predicted = json.loads(capsys.readouterr().out)
    labels = [path.stem.split("-")[0] for path in images]
    top1 = sum(row["topk"][0]["label"] == label for row, label in zip(predicted, labels)) / len(labels)
    assert top1 == pytest.approx(evaluated["top1"])


def _test_images(root, folder):
    """The generated CIFAR-100 test batch as PNG files named ``<class>-<index>.png``."""
    import pickle

    from PIL import Image

    from data.cifar import CIFAR100_CLASSES

    with open(root / "test", "rb") as handle:
        raw = pickle.load(handle, encoding="bytes")
    folder.mkdir()
    paths = []
    for index, (row, label) in enumerate(zip(raw[b"data"], raw[b"fine_labels"])):
        path = folder / f"{CIFAR100_CLASSES[label]}-{index}.png"
        Image.fromarray(row.reshape(3, 32, 32).transpose(1, 2, 0)).save(path)
        paths.append(path)
    return paths


def test_mislas_trains_both_stages_from_the_cli_on_generated_cifar(tmp_path, capsys):
    from cli import main
    from tests.datagen import write_cifar

    root = write_cifar(tmp_path / "data", "cifar10", train_per_class=12, test_per_class=2)
    code = main(["train", "--preset", "cifar100-mislas", "--dataset", "cifar10", "--data-root", str(root),
                 "--imbalance", "4", "--arch", "resnet20", "--epochs", "1", "--warmup-epochs", "0",
                 "--batch-size", "16",
                 "--param", "stage2_epochs=1", "--runs-dir", str(tmp_path / "runs"), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    assert "stage 1/2: mixup" in out and "stage 2/2: classifier" in out
    run = next((tmp_path / "runs").iterdir())
    assert [int(r["stage"]) for r in csv.DictReader(open(run / "metrics.csv"))] == [1, 2]
    assert "**Stage 2:** classifier" in (run / "README.md").read_text()


def test_tune_with_mislas_is_refused_in_one_line_before_any_data_is_read(tmp_path, capsys):
    """MiSLAS declares it cannot re-train a classifier on its own (its stage 2 needs stage 1's model)."""
    from cli import main
    from engine.checkpoints import save_checkpoint

    checkpoint = save_checkpoint(tmp_path / "ce.pt", build_model("resnet20", 100).state_dict(),
                                 {"arch": "resnet20", "head": "linear", "num_classes": 100})
    code = main(["tune", "--loss", "mislas", "--checkpoint", str(checkpoint), "--dataset", "cifar100",
                 "--data-root", str(tmp_path / "no-data-here"), "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "loss: MiSLAS" in err and "cannot re-train a classifier on its own" in err
