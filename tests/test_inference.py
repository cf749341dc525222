"""Image files → top-k predictions: real image formats, per-file errors, class names, ensemble."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from data.cifar import CIFAR100_CLASSES, CIFAR_MEAN, CIFAR_STD
from errors import UserError
from data.images import load_rgb, to_uint8_tensor
from engine.checkpoints import CheckpointMismatch, save_checkpoint
from engine.inference import Prediction, Predictor, expand_paths
from models import build_model

GOOD = ("a_rgb.png", "b_grey.jpg", "c_rgba.png", "d_16bit.png")


@pytest.fixture
def image_folder(tmp_path) -> Path:
    """Real files: RGB PNG, greyscale JPEG, RGBA PNG, 16-bit PNG, a corrupt PNG, a text file."""
    folder = tmp_path / "drop"
    (folder / "sub").mkdir(parents=True)
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (40, 30, 3), dtype=np.uint8), "RGB").save(folder / "a_rgb.png")
    Image.fromarray(rng.integers(0, 256, (32, 32), dtype=np.uint8), "L").save(folder / "b_grey.jpg", quality=90)
    Image.fromarray(rng.integers(0, 256, (20, 20, 4), dtype=np.uint8), "RGBA").save(folder / "c_rgba.png")
    Image.fromarray(rng.integers(0, 65536, (32, 32), dtype=np.uint16)).save(folder / "d_16bit.png")
    assert Image.open(folder / "d_16bit.png").mode.startswith("I")
    (folder / "e_corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 20)
    (folder / "f_notes.txt").write_text("not an image")
    Image.new("RGB", (8, 8), (200, 10, 10)).save(folder / "sub" / "g_red.bmp")
    (folder / ".hidden.png").write_bytes(b"")
    return folder


def softmax(row: list[float]) -> list[float]:
    peak = max(row)
    exps = [math.exp(v - peak) for v in row]
    return [e / sum(exps) for e in exps]


def normalised(path: Path, size: int, mean, std) -> torch.Tensor:
    pixels = to_uint8_tensor(load_rgb(path), size).float() / 255
    return ((pixels - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(3, 1, 1))[None]


def test_expand_paths_turns_folders_into_sorted_images(image_folder):
    expanded = expand_paths([image_folder / "f_notes.txt", image_folder, image_folder / "a_rgb.png"])
    names = [p.relative_to(image_folder).as_posix() for p in expanded]
    assert names == ["f_notes.txt", "a_rgb.png", "b_grey.jpg", "c_rgba.png", "d_16bit.png", "e_corrupt.png",
                     "sub/g_red.bmp"]
    empty = image_folder / "empty"
    empty.mkdir()
    assert expand_paths([empty]) == []


def test_predict_paths_with_a_real_checkpoint(shared_checkpoint, image_folder):
    path = shared_checkpoint("CE.pt")
    predictor = Predictor.from_checkpoint(path, dataset="cifar100", device="cpu", batch_size=3)
    assert predictor.class_names == list(CIFAR100_CLASSES) and predictor.image_size == 32
    files = [image_folder / name for name in ("a_rgb.png", "e_corrupt.png", "b_grey.jpg", "f_notes.txt",
                                              "c_rgba.png", "d_16bit.png", "missing.png")]
    predictions = predictor.predict_paths(files, topk=5)
    assert [p.path for p in predictions] == files
    errors = {p.path.name: p.error for p in predictions if p.error}
    assert set(errors) == {"e_corrupt.png", "f_notes.txt", "missing.png"}
    for name, message in errors.items():
        assert name in message
    reference = build_model("resnet32", 100)
    reference.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    reference.eval()
    for prediction in predictions:
        if prediction.error:
            assert prediction.topk == []
            continue
        labels = [label for label, _ in prediction.topk]
        probabilities = [p for _, p in prediction.topk]
        assert len(prediction.topk) == 5 and all(label in CIFAR100_CLASSES for label in labels)
        assert probabilities == sorted(probabilities, reverse=True)
        with torch.no_grad():
            logits = reference(normalised(prediction.path, 32, CIFAR_MEAN, CIFAR_STD)).logits[0].tolist()
        expected = softmax(logits)
        assert sum(expected) == pytest.approx(1.0)
        best = sorted(range(100), key=lambda c: -expected[c])[:5]
        assert labels == [CIFAR100_CLASSES[c] for c in best]
        assert probabilities == pytest.approx([expected[c] for c in best], abs=1e-5)


def test_predict_tensor_gives_distributions(shared_checkpoint):
    predictor = Predictor.from_checkpoint(shared_checkpoint("BSCE.pt"), device="cpu")
    batch = torch.randint(0, 256, (5, 3, 32, 32), dtype=torch.uint8)
    probabilities = predictor.predict_tensor(batch)
    assert probabilities.shape == (5, 100) and probabilities.dtype == torch.float32
    torch.testing.assert_close(probabilities.sum(dim=1), torch.ones(5))
    assert predictor.class_names[:2] == ["class 0", "class 1"]  # no dataset named, no meta names


def test_class_names_must_match_the_classifier(shared_checkpoint):
    with pytest.raises(CheckpointMismatch, match="100 classes but you chose a 10-class dataset"):
        Predictor.from_checkpoint(shared_checkpoint("CE.pt"), dataset="cifar10", device="cpu")
    with pytest.raises(UserError, match="no built-in class names for the dataset 'imagenet'"):
        Predictor.from_checkpoint(shared_checkpoint("CE.pt"), dataset="imagenet", device="cpu")


def write_checkpoint(path: Path, meta: dict, head: str = "linear", old: torch.nn.Module | None = None,
                     seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    model = build_model("resnet20", 3, head=head).eval()
    with torch.no_grad():
        for module in model.modules():  # non-trivial BN statistics, so normalisation errors would show
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.2, 0.2)
                module.running_var.uniform_(0.5, 1.5)
        if head == "linear":
            model.linear.weight.mul_(0.005)  # logits of order 1: softmax far from one-hot, scales matter
    base = {"arch": "resnet20", "head": head, "num_classes": 3, "class_names": ["cat", "dog", "eel"]}
    old_head = {f"linear.{key}": value for key, value in old.state_dict().items()} if old else None
    save_checkpoint(path, model.state_dict(), {**base, **meta}, heads={"old": old_head} if old else None)
    return model


def test_meta_normalisation_size_and_logit_scale(tmp_path, image_folder):
    mean, std = [0.3, 0.5, 0.7], [0.1, 0.2, 0.3]
    model = write_checkpoint(tmp_path / "cos.pt", {"mean": mean, "std": std, "image_size": 16, "logit_scale": 30.0},
                             head="cosine")
    predictor = Predictor.from_checkpoint(tmp_path / "cos.pt", device="cpu")
    [prediction] = predictor.predict_paths([image_folder / "a_rgb.png"], topk=10)
    with torch.no_grad():
        features = model.features(normalised(image_folder / "a_rgb.png", 16, mean, std))[0]
    weight = model.linear.weight.detach()
    cosines = [float(features @ weight[:, c] / (features.norm() * weight[:, c].norm())) for c in range(3)]
    expected = softmax([30.0 * c for c in cosines])
    assert min(expected) > 1e-4
    assert len(prediction.topk) == 3  # top-k capped at the class count
    assert dict(prediction.topk) == pytest.approx(dict(zip(["cat", "dog", "eel"], expected)), abs=1e-5)


def test_ensemble_arithmetic(tmp_path, image_folder):
    torch.manual_seed(5)
    old = torch.nn.Linear(64, 3)
    with torch.no_grad():
        old.weight.mul_(0.05)
    t1, t2, scale, old_scale = 0.5, 2.0, 1.5, 3.0
    meta = {"ensemble": {"t1": t1, "t2": t2, "old_logit_scale": old_scale}, "logit_scale": scale}
    model = write_checkpoint(tmp_path / "ens.pt", meta, old=old)
    predictor = Predictor.from_checkpoint(tmp_path / "ens.pt", device="cpu")
    assert (predictor.rule.ensemble.t1, predictor.rule.ensemble.t2) == (t1, t2)
    files = [image_folder / name for name in GOOD]
    batch = torch.stack([to_uint8_tensor(load_rgb(f), 32) for f in files])
    probabilities = predictor.predict_tensor(batch)
    for row, file in enumerate(files):
        with torch.no_grad():
            features = model.features(normalised(file, 32, CIFAR_MEAN, CIFAR_STD))[0]
            z_new = (scale * (model.linear.weight @ features + model.linear.bias)).tolist()
            z_old = (old_scale * (old.weight @ features + old.bias)).tolist()
        new = softmax([z / t1 for z in z_new])
        old_p = softmax([z / t2 for z in z_old])
        expected = [0.5 * (a + b) for a, b in zip(new, old_p)]
        assert min(new + old_p) > 1e-3  # neither softmax saturated, so every term is checked
        assert probabilities[row].tolist() == pytest.approx(expected, abs=1e-5)
    assert float(probabilities.sum()) == pytest.approx(len(files), abs=1e-5)


def test_without_ensemble_meta_the_old_head_is_ignored(tmp_path, image_folder):
    write_checkpoint(tmp_path / "plain.pt", {}, old=torch.nn.Linear(64, 3))
    predictor = Predictor.from_checkpoint(tmp_path / "plain.pt", device="cpu")
    assert predictor.rule.ensemble is None
    [prediction] = predictor.predict_paths([image_folder / "b_grey.jpg"], topk=1)
    assert isinstance(prediction, Prediction) and prediction.error is None and len(prediction.topk) == 1
