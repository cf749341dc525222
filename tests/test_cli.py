"""The headless CLI end to end: train, eval and predict on real on-disk formats and real checkpoints."""
from __future__ import annotations

import json
from collections import OrderedDict

import numpy as np
import pytest
import torch
from PIL import Image

from data.cifar import CIFAR_MEAN, CIFAR_STD, CIFAR100_CLASSES
from cli import main
from engine.config import ConfigError
from models import build_model
from tests.datagen import write_cifar


def test_train_demo_prints_the_table_and_writes_a_run(tmp_path, capsys):
    code = main(["train", "--preset", "demo", "--epochs", "1", "--warmup-epochs", "0",
                 "--runs-dir", str(tmp_path), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    for row in ("Acc (%)", "HM (%)", "GM (%)", "LR (%)", "zero-recall"):
        assert row in out
    run = next(tmp_path.iterdir())
    assert (run / "checkpoints" / "best.pt").is_file()
    assert json.loads((run / "config.json").read_text())["run"]["optim"]["epochs"] == 1


def test_an_absurd_hyperparameter_is_one_clear_line_and_exit_2(tmp_path, capsys):
    code = main(["train", "--preset", "demo", "--lr", "-1", "--runs-dir", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.count("\n") == 0 and "lr" in err and "-1" in err
    assert not any(tmp_path.iterdir())


def test_missing_cifar_says_which_folder_to_fill(tmp_path, capsys, monkeypatch, shared_checkpoint):
    import torchvision.datasets

    def offline(*args, **kwargs):
        raise OSError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torchvision.datasets, "CIFAR100", offline)
    code = main(["eval", "--checkpoint", str(shared_checkpoint("CE.pt")), "--dataset", "cifar100", "--data-root", str(tmp_path / "empty")])
    err = capsys.readouterr().err
    assert code == 2
    assert "cifar-100-python" in err and str(tmp_path / "empty") in err


def _reference_recalls(checkpoint, root):
    """Independent evaluation: plain strict load, the real test batch read with numpy, a loop."""
    import pickle

    with open(root / "test", "rb") as handle:
        raw = pickle.load(handle, encoding="bytes")
    images = torch.from_numpy(np.asarray(raw[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
    labels = torch.tensor(raw[b"fine_labels"])
    model = build_model("resnet32", 100)
    model.load_state_dict(torch.load(checkpoint, map_location="cpu", weights_only=True))
    model.eval()
    x = (images.float() / 255 - torch.tensor(CIFAR_MEAN)[:, None, None]) / torch.tensor(CIFAR_STD)[:, None, None]
    with torch.no_grad():
        predictions = model(x).logits.argmax(1)
    return [float((predictions[labels == c] == c).float().mean()) for c in range(100)]


def test_eval_of_a_foreign_checkpoint_on_generated_cifar100(tmp_path, capsys, shared_checkpoint):
    checkpoint = shared_checkpoint("CE.pt")
    root = write_cifar(tmp_path / "data", "cifar100", train_per_class=3, test_per_class=2)
    code = main(["eval", "--checkpoint", str(checkpoint), "--dataset", "cifar100", "--data-root", str(root),
                 "--imbalance", "3", "--device", "cpu", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["class_names"] == list(CIFAR100_CLASSES)
    expected = _reference_recalls(checkpoint, root)
    np.testing.assert_allclose(report["per_class_recall"], expected)
    assert report["top1"] == pytest.approx(np.mean(expected))


def test_predict_needs_no_key_edits_for_dataparallel_and_fc_checkpoints(tmp_path, capsys, shared_checkpoint):
    checkpoint = shared_checkpoint("CE.pt")
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    foreign = OrderedDict((f"module.{k.replace('linear.', 'fc.')}", v) for k, v in state.items())
    foreign_path = tmp_path / "foreign.pth"
    torch.save(foreign, foreign_path)
    image = tmp_path / "picture.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 30, 3), dtype=np.uint8)).save(image)

    outputs = []
    for path in (checkpoint, foreign_path):
        assert main(["predict", str(image), "--checkpoint", str(path), "--dataset", "cifar100", "--json"]) == 0
        outputs.append(json.loads(capsys.readouterr().out))
    assert outputs[0] == outputs[1]
    top = outputs[0][0]["topk"]
    assert len(top) == 5 and top[0]["label"] in CIFAR100_CLASSES
    assert all(a["probability"] >= b["probability"] for a, b in zip(top, top[1:]))


def test_train_on_an_image_folder_keeps_it_uncut_and_lists_bad_files(tmp_path, capsys):
    from tests.datagen import write_image_folder

    root = write_image_folder(tmp_path / "pets", {"cat": 9, "dog": 6, "owl": 3}, split=True, test_per_class=2)
    (root / "train" / "cat" / "broken.png").write_bytes(b"not a png")
    code = main(["train", "--dataset", "folder", "--data-root", str(root), "--arch", "resnet20",
                 "--epochs", "1", "--warmup-epochs", "0",
                 "--batch-size", "8", "--image-size", "16", "--runs-dir", str(tmp_path / "runs"), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    run = next((tmp_path / "runs").iterdir())
    dataset = json.loads((run / "dataset.json").read_text())
    assert dataset["class_names"] == ["cat", "dog", "owl"] and dataset["class_counts"] == [9, 6, 3]
    assert "broken.png" in out


def test_tune_and_eval_default_to_the_data_the_checkpoint_was_trained_on(tmp_path, capsys):
    assert main(["train", "--preset", "demo", "--epochs", "1", "--warmup-epochs", "0",
                 "--runs-dir", str(tmp_path / "a"), "--quiet"]) == 0
    trained = next((tmp_path / "a").iterdir())
    checkpoint = str(trained / "checkpoints" / "last.pt")
    assert main(["tune", "--checkpoint", checkpoint, "--epochs", "1", "--runs-dir", str(tmp_path / "b"), "--quiet"]) == 0
    tuned = next((tmp_path / "b").iterdir())
    assert json.loads((tuned / "dataset.json").read_text()) == json.loads((trained / "dataset.json").read_text())
    capsys.readouterr()
    assert main(["eval", "--checkpoint", checkpoint, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["dataset"] == "demo"


def test_every_optimiser_and_stage_setting_has_a_flag(tmp_path, capsys):
    from cli.train import add_parser, config_from_args

    parser = __import__("argparse").ArgumentParser()
    add_parser(parser.add_subparsers())
    args = parser.parse_args(["train", "--preset", "demo-mislas", "--decay-factors", "0.1", "0.01", "--nesterov",
                              "--optimizer", "sgd", "--best-metric", "test_gm", "--precision", "fp32", "--reweight-beta", "0.99",
                              "--holdout-fraction", "0.3", "--stages", "mixup"])
    config = config_from_args(args)
    assert config.optim.decay_factors == (0.1, 0.01) and config.optim.nesterov and config.precision == "fp32"
    assert (config.best_metric, config.method.reweight_beta, config.data.holdout_fraction) == ("test_gm", 0.99, 0.3)
    assert config.method.stages == ["mixup"]
    code = main(["train", "--preset", "demo-mislas", "--stages", "classifier", "--runs-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "pretrained" in err


def test_the_large_benchmarks_settings_are_generated_flags_and_the_imbalance_type_follows_the_dataset(capsys):
    from cli.train import add_parser, config_from_args

    parser = __import__("argparse").ArgumentParser()
    add_parser(parser.add_subparsers())

    def config(*flags):
        return config_from_args(parser.parse_args(["train", *flags]))

    large = config("--preset", "imagenet_lt-ride", "--color-jitter", "0.2", "--loader-workers", "2", "--drw-epoch",
                   "90", "--image-size", "0")
    assert (large.data.color_jitter, large.data.loader_workers, large.method.drw_epoch) == (0.2, 2, 90)
    assert large.data.image_size == 224  # 0: the dataset's own side, resolved by validate()
    assert config("--dataset", "imagenet_lt").data.imbalance_type == "none"  # the official lists as they are
    assert config("--dataset", "cifar10").data.imbalance_type == "exp"
    assert config("--dataset", "folder", "--data-root", ".", "--imbalance-type", "step").data.imbalance_type == "step"
    capsys.readouterr()
    short = config("--preset", "cifar100-ce", "--epochs", "3")  # the preset warms up for 5 epochs
    assert short.optim.warmup_epochs == 2 and "warm-up 5 → 2 epochs" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="warmup_epochs"):  # asked for explicitly, it is refused
        config("--preset", "cifar100-ce", "--epochs", "3", "--warmup-epochs", "3")
    with pytest.raises(ConfigError, match="color_jitter"):
        config("--dataset", "cifar100", "--color-jitter", "0.4")


def test_the_flags_are_generated_from_the_config_and_loss_help_lists_every_method(capsys):
    from engine.config import RunConfig
    from engine.knobs import settings
    from engine.methods import available_methods

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert all(item.flag in text for item in settings(RunConfig) if item.knob.flag != "")
    listed = text.split(" method: ", 1)[1].split("--loss LOSS", 1)[1].split("One of:", 1)[1].split(".", 1)[0]
    assert [name.strip() for name in listed.split(",")] == list(available_methods())  # ride, paco … included


def test_tune_loss_help_lists_the_methods_that_can_re_train_a_classifier(capsys):
    from engine.methods import repair_methods

    with pytest.raises(SystemExit):
        main(["tune", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    listed = text.split("--loss LOSS", 2)[2].split("One of:", 1)[1].split(".", 1)[0]
    assert [name.strip() for name in listed.split(",")] == list(repair_methods())
    assert "gml" in listed and "mislas" not in listed and "ride_distill" not in listed


def test_freeze_features_is_the_plugin_from_train_and_from_tune(tmp_path, capsys):
    """One stage list for "freeze features": `train --freeze features` runs the same plug-in as `tune`."""
    assert main(["train", "--preset", "demo", "--epochs", "1", "--warmup-epochs", "0", "--image-size", "8",
                 "--runs-dir", str(tmp_path / "base"), "--quiet"]) == 0
    checkpoint = str(next((tmp_path / "base").iterdir()) / "checkpoints" / "last.pt")
    same = ["--dataset", "demo", "--imbalance", "10", "--image-size", "8", "--epochs", "1", "--feature-passes", "1",
            "--device", "cpu", "--quiet", "--recall-floor", "0"]
    assert main(["tune", "--checkpoint", checkpoint, *same, "--runs-dir", str(tmp_path / "tune")]) == 0
    assert main(["train", "--preset", "plugin", "--freeze", "features", "--pretrained", checkpoint, *same,
                 "--runs-dir", str(tmp_path / "train")]) == 0
    out = capsys.readouterr().out
    assert out.count("ensemble temperatures: t1 = 1 (new), t2 = 1 (old)") == 2
    reports = []
    for folder in ("tune", "train"):
        run = next((tmp_path / folder).iterdir())
        saved = json.loads((run / "config.json").read_text())
        assert saved["kind"] == "tune" and saved["run"]["recall_floor"] == 0.0
        reports.append(json.loads((run / "report.json").read_text())["columns"])
    assert list(reports[0]) == ["old", "new", "ensemble"]
    assert reports[0] == reports[1]  # the same stage, the same numbers
