"""Runs on the large benchmarks' layouts (tiny generated trees), their presets, and metrics at 1,000 classes."""
from __future__ import annotations

import json
from dataclasses import asdict

import pytest
import torch

from cli import main
from data.sources import ResidentImages
from engine.config import DataConfig, ModelConfig, OptimConfig, RunConfig
from engine.confusion_counts import DENSE_LIMIT, ConfusionCounter
from engine.evaluation import metrics_from_logits
from engine.presets import preset, presets
from engine.runs import RunFolder
from engine.trainer import train
from tests.datagen import write_inat_json, write_lt_lists


@pytest.fixture(scope="module")
def imagenet_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("imagenet_lt")
    return root, write_lt_lists(root, "imagenet_lt")


def streamed_config(tmp_path, root, dataset="imagenet_lt", epochs=1, **optim) -> RunConfig:
    return RunConfig(data=DataConfig(dataset=dataset, root=str(root), imbalance_type="none", image_size=32,
                                     loader_workers=0),
                     model=ModelConfig(arch="resnet10"),
                     optim=OptimConfig(epochs=epochs, batch_size=32, lr=0.05, warmup_epochs=0, **optim),
                     runs_dir=str(tmp_path / "runs"), device="cpu")


@pytest.mark.parametrize("dataset", ["imagenet_lt", "inat2018"])
def test_one_resnet10_epoch_at_64px_reports_the_lists_counts(tmp_path, capsys, dataset):
    lists = (write_lt_lists if dataset == "imagenet_lt" else write_inat_json)(tmp_path / "data")
    code = main(["train", "--dataset", dataset, "--data-root", str(tmp_path / "data"), "--arch", "resnet10",
                 "--image-size", "64", "--epochs", "1", "--batch-size", "32", "--loader-workers", "0",
                 "--runs-dir", str(tmp_path / "runs"), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    held_out = f"{len(lists['val'])} val images, {len(lists['test'])} test images" if dataset == "imagenet_lt" \
        else f"{len(lists['val'])} test images"  # iNaturalist's val list is its test split
    assert f"12 classes, {len(lists['train'])} train images" in out and held_out in out
    run = next((tmp_path / "runs").iterdir())
    meta = json.loads((run / "dataset.json").read_text())
    assert sum(meta["class_counts"]) == len(lists["train"]) and len(meta["class_names"]) == 12
    assert meta["eval_split"] == ("val" if dataset == "imagenet_lt" else "test")
    assert (run / "test_report.json").is_file() == (dataset == "imagenet_lt")
    assert ("best.pt (test)" in out) == (dataset == "imagenet_lt")


def test_the_validation_split_picks_best_pt_and_the_test_split_is_measured_once_with_it(tmp_path, imagenet_root):
    from engine.evaluate_checkpoint import evaluate_checkpoint

    root, _ = imagenet_root
    config = streamed_config(tmp_path, root, epochs=2)
    result = train(config)
    run = RunFolder(result.run_dir)
    report = json.loads((run.path / "test_report.json").read_text())
    assert report["chosen_on"] == "val" and report["model"] == f"best.pt, epoch {result.best_epoch}"
    again, _ = evaluate_checkpoint(run.checkpoint("best"), config.data, device="cpu")
    assert report["test_top1"] == pytest.approx(again.top1) and result.test.top1 == pytest.approx(again.top1)
    assert result.final is not None and "| metric (val, %)" in run.card() and "test, best.pt" in run.card()


def test_the_plugin_streams_a_large_datasets_features_in_fp16(tmp_path, imagenet_root, monkeypatch):
    from engine import features
    from engine.plugin import plugin_config, tune

    root, _ = imagenet_root
    trained = train(streamed_config(tmp_path, root))
    cached = []
    extract = features.extract_features

    def recording(*args, **kwargs):
        cached.append(extract(*args, **kwargs))
        return cached[-1]
    monkeypatch.setattr("engine.loop.extract_features", recording)
    data = DataConfig(dataset="imagenet_lt", root=str(root), imbalance_type="none", image_size=32, loader_workers=0)
    result = tune(plugin_config({"pretrained": str(trained.run_dir / "checkpoints" / "best.pt"), "data": asdict(data),
                                 "epochs": 1, "batch_size": 32, "feature_passes": 1, "device": "cpu",
                                 "runs_dir": str(tmp_path / "tuned")}))
    assert cached and all(bool(c.present.all()) for c in cached)
    held_out, *training = cached  # the training passes in fp16; the split predictions are scored from in fp32
    assert held_out.features.dtype == torch.float32 and all(c.features.dtype == torch.float16 for c in training)
    assert {"old", "new", "ensemble"} <= set(result.reports)


def test_a_streamed_checkpoint_predicts_files_through_its_evaluation_view(tmp_path, imagenet_root):
    from data.stream import RESIZE_CROP, eval_view
    from data.images import load_rgb
    from engine.inference import Predictor

    root, lists = imagenet_root
    result = train(streamed_config(tmp_path, root))
    predictor = Predictor.from_checkpoint(result.run_dir / "checkpoints" / "best.pt", device="cpu")
    assert predictor.eval_view == RESIZE_CROP and predictor.image_size == 32
    path = root / lists["test"][0][0]
    [prediction] = predictor.predict_paths([path], topk=1)
    expected = predictor.predict_tensor(eval_view(load_rgb(path), 32)[None])
    assert prediction.topk[0][1] == pytest.approx(float(expected.max()))


def test_cifar_and_the_demo_keep_their_device_resident_path(tmp_path, monkeypatch):
    import torch.utils.data

    def no_loader(*args, **kwargs):
        raise AssertionError("a DataLoader on the resident path")
    monkeypatch.setattr(torch.utils.data, "DataLoader", no_loader)
    monkeypatch.setattr("data.stream.DataLoader", no_loader)
    from engine.loop import Loop

    sources = []
    init = Loop.__init__

    def recording(self, *args, **kwargs):
        init(self, *args, **kwargs)
        sources.append((self.train, self.held_out))
    monkeypatch.setattr(Loop, "__init__", recording)
    config = preset("demo")
    config.optim.epochs, config.optim.warmup_epochs, config.runs_dir = 1, 0, str(tmp_path)
    train(config)
    assert all(isinstance(source, ResidentImages) for source in sources[0])


def test_thousand_class_metrics_keep_exact_counts_without_a_dense_matrix():
    classes, samples = 1000, 6000
    generator = torch.Generator().manual_seed(0)
    labels = torch.randint(0, classes, (samples,), generator=generator)
    logits = torch.randn(samples, classes, generator=generator)
    logits[torch.arange(samples), labels] += 3.0  # mostly right, some confusions
    counter = ConfusionCounter(classes, "cpu")
    assert classes > DENSE_LIMIT and counter._flat is None  # no C×C buffer is ever allocated
    metrics = metrics_from_logits(logits, labels, torch.arange(classes) + 1)
    assert metrics.confusion is None
    predictions = logits.argmax(1)
    dense = torch.bincount(labels * classes + predictions, minlength=classes * classes).reshape(classes, classes)
    recall = dense.diagonal().double() / dense.sum(1).double()
    assert metrics.per_class_recall == pytest.approx(torch.where(dense.sum(1) > 0, recall, torch.nan).tolist(),
                                                     nan_ok=True)
    assert metrics.top1 == pytest.approx(float((predictions == labels).double().mean()))
    off = dense.clone()
    off.fill_diagonal_(0)
    top = off.flatten().topk(5)
    assert [count for _, _, count in metrics.confused_pairs[:5]] == top.values.tolist()
    true, predicted, count = metrics.confused_pairs[0]
    assert dense[true, predicted] == count and true != predicted


def test_above_the_limit_a_run_writes_the_confused_pairs(tmp_path):
    run = RunFolder.create(tmp_path, "pairs")
    run.write_dataset("big", [f"c{i}" for i in range(600)], [1] * 600)
    run.write_confused_pairs("last", [(3, 7, 12), (5, 1, 4)])
    assert run.confused_pairs("last") == [(3, 7, 12), (5, 1, 4)]
    assert (run.path / "confused_pairs_last.csv").read_text().splitlines()[1] == "3,7,12,c3,c7"


def test_every_large_recipe_cites_its_source_and_published_top1_and_validates():
    large = {name: (item, preset(name)) for name, item in presets().items() if item.published}
    assert {config.data.dataset for _, config in large.values()} == {"imagenet_lt", "inat2018", "places_lt"}
    for method in ("ce", "bsce", "ldam", "mislas", "ride", "paco"):
        assert {c.data.dataset for _, c in large.values() if c.method.loss == method} >= {"imagenet_lt", "inat2018"}
    assert len(large) == 13
    for name, (recipe, config) in large.items():
        assert recipe.source and recipe.published and name.startswith(config.data.dataset)
        if config.model.freeze == "last_block":
            assert "pretrained" in recipe.note  # Places-LT's protocol starts from the user's ImageNet weights
            continue
        config.validate()
        assert config.data.image_size == 224 and config.data.imbalance_type == "none"
    ride = preset("imagenet_lt-ride")
    assert ride.optim.decay_epochs() == [60, 80] and ride.method.drw_epoch == 80
    assert ride.optim.nesterov and ride.method.params["top_choices"] == 50


def test_places_protocol_fine_tunes_only_the_last_block_of_torchvision_weights(tmp_path):
    from torchvision.models.resnet import BasicBlock, ResNet

    root = tmp_path / "places"
    write_lt_lists(root, "places_lt")
    weights = tmp_path / "resnet10-imagenet.pth"
    net = ResNet(BasicBlock, [1, 1, 1, 1])
    torch.save(net.state_dict(), weights)
    config = preset("places_lt-paco")
    config.data = DataConfig(dataset="places_lt", root=str(root), imbalance_type="none", image_size=32, loader_workers=0)
    config.model.arch, config.model.pretrained = "resnet10", str(weights)
    config.method.params["queue_size"] = 64
    config.optim.epochs, config.optim.batch_size, config.optim.warmup_epochs = 1, 32, 0
    config.runs_dir, config.device = str(tmp_path / "runs"), "cpu"
    result = train(config)
    state = torch.load(result.run_dir / "checkpoints" / "last.pt", weights_only=True)["state_dict"]
    original = net.state_dict()
    for encoder in ("encoder_q", "encoder_k"):
        assert torch.equal(state[f"{encoder}.layer1.0.conv1.weight"], original["layer1.0.conv1.weight"])
    assert not torch.equal(state["encoder_q.layer4.0.conv2.weight"], original["layer4.0.conv2.weight"])
    assert not torch.equal(state["encoder_q.layer1.0.bn1.weight"], original["layer1.0.bn1.weight"])


def test_a_run_leaves_out_an_undecodable_image_and_says_so_once(tmp_path):
    from engine.events import Message

    root = tmp_path / "data"
    lists = write_lt_lists(root, "imagenet_lt")
    (root / lists["train"][0][0]).write_bytes(b"\xff\xd8\xff broken")
    events = []
    result = train(streamed_config(tmp_path, root, epochs=2), on_event=events.append)
    warnings = [e.text for e in events if isinstance(e, Message) and e.level == "warning"]
    assert result.epochs_done == 2 and len(warnings) == 1
    assert "left out 1 image(s)" in warnings[0] and lists["train"][0][0] in warnings[0]
