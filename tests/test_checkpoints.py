"""Safe loading, key remapping, architecture inference, mismatch reports and atomic saving."""
from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from errors import UserError
from engine import checkpoints as ckpt_module
from engine.checkpoints import (FORMAT, Checkpoint, CheckpointError, CheckpointMismatch,
                                build_model_from_checkpoint, load_checkpoint,
                                load_weights_into, save_checkpoint)
from models import CIFAR_ARCHITECTURES, ModelSpec, NormedLinear, UnrecognisedWeights, build_model, head_modules_from_state
from models.resnet_cifar import infer_architecture

SHARED = [("CE.pt", "resnet32", 100), ("BSCE.pt", "resnet32", 100), ("balanced_resnet20.pt", "resnet20", 10)]


def raw_state(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, map_location="cpu", weights_only=True)


def images(seed: int = 0) -> torch.Tensor:
    return torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(seed))


# ----------------------------------------------------------------------- real checkpoints

@pytest.mark.parametrize("name, arch, classes", SHARED)
def test_shared_checkpoints_load_like_a_strict_load(shared_checkpoint, name, arch, classes):
    path = shared_checkpoint(name)
    checkpoint = load_checkpoint(path)
    assert checkpoint.source == "state_dict"
    assert checkpoint.meta == {"arch": arch, "num_classes": classes, "head": "linear", "logit_scale": 1.0,
                               "model": ModelSpec("cifar_resnet", arch, classes, "linear").to_dict()}
    assert checkpoint.spec == ModelSpec("cifar_resnet", arch, classes, "linear")
    assert any(arch in note for note in checkpoint.notes)
    model = build_model_from_checkpoint(checkpoint)
    reference = build_model(arch, classes)
    reference.load_state_dict(raw_state(path), strict=True)
    reference.eval()
    assert not model.training
    with torch.no_grad():
        assert torch.equal(model(images()).logits, reference(images()).logits)


# ----------------------------------------------------------------------------- remapping

def wrapped_variants(state: dict[str, torch.Tensor]) -> dict[str, object]:
    dataparallel_fc = {("module.module." + k).replace("module.module.linear.", "module.module.fc."): v
                       for k, v in state.items()}
    return {
        "dataparallel_fc": dataparallel_fc,
        "nested_state_dict": {"state_dict": state, "epoch": 3, "best_acc1": torch.tensor(41.2), "arch": "resnet32"},
        "nested_model_backbone": {"model": {("backbone." + k if not k.startswith("linear.") else
                                            k.replace("linear.", "classifier.")): v for k, v in state.items()},
                                  "optimizer": {"state": {}, "param_groups": []}},
        "nested_numpy_sibling": {"net": {"module." + k: v for k, v in state.items()},
                                 "best_acc1": np.float64(40.5), "history": np.arange(3)},
    }


@pytest.mark.parametrize("variant", ["dataparallel_fc", "nested_state_dict", "nested_model_backbone",
                                     "nested_numpy_sibling"])
def test_foreign_layouts_load_to_the_same_weights(shared_checkpoint, tmp_path, variant):
    original = raw_state(shared_checkpoint("CE.pt"))
    path = tmp_path / f"{variant}.pth"
    torch.save(wrapped_variants(original)[variant], path)
    checkpoint = load_checkpoint(path)
    assert list(checkpoint.state_dict) == list(original)
    for key, value in original.items():
        assert torch.equal(checkpoint.state_dict[key], value), key
    assert checkpoint.meta["arch"] == "resnet32" and checkpoint.meta["num_classes"] == 100
    build_model_from_checkpoint(checkpoint)  # strict


def test_notes_and_sources_describe_the_repairs(shared_checkpoint, tmp_path):
    variants = wrapped_variants(raw_state(shared_checkpoint("balanced_resnet20.pt")))
    for name in variants:
        torch.save(variants[name], tmp_path / f"{name}.pt")
    dataparallel = load_checkpoint(tmp_path / "dataparallel_fc.pt")
    assert dataparallel.source == "state_dict"
    assert any("'module.'" in note and "DataParallel" in note for note in dataparallel.notes)
    assert any("fc.* to linear.*" in note for note in dataparallel.notes)
    nested = load_checkpoint(tmp_path / "nested_state_dict.pt")
    assert nested.source == "nested:state_dict"
    assert any("epoch" in note and "best_acc1" in note for note in nested.notes)
    backbone = load_checkpoint(tmp_path / "nested_model_backbone.pt")
    assert backbone.source == "nested:model"
    assert any("'backbone.'" in note for note in backbone.notes)
    assert any("classifier.* to linear.*" in note for note in backbone.notes)
    assert load_checkpoint(tmp_path / "nested_numpy_sibling.pt").source == "nested:net"


def test_prefix_not_stripped_when_it_does_not_lead_to_our_keys(tmp_path):
    state = {"model.something.weight": torch.zeros(2), "conv1.weight": torch.zeros(16, 3, 3, 3)}
    torch.save(state, tmp_path / "odd.pt")
    assert set(load_checkpoint(tmp_path / "odd.pt").state_dict) == set(state)


def test_missing_batchnorm_counters_are_added(shared_checkpoint, tmp_path):
    old_style = {k: v for k, v in raw_state(shared_checkpoint("balanced_resnet20.pt")).items()
                 if not k.endswith("num_batches_tracked")}
    torch.save(old_style, tmp_path / "old.pt")
    checkpoint = load_checkpoint(tmp_path / "old.pt")
    assert any("num_batches_tracked" in note for note in checkpoint.notes)
    build_model_from_checkpoint(checkpoint)


# ------------------------------------------------------------------------------ inference

@pytest.mark.parametrize("arch", CIFAR_ARCHITECTURES)
@pytest.mark.parametrize("head", ["linear", "cosine"])
def test_architecture_inferred_from_shapes(arch, head):
    state = build_model(arch, 13, head=head).state_dict()
    assert infer_architecture(state) == (arch, 13, head)


def test_cosine_checkpoint_gets_ldams_scale(tmp_path):
    torch.save(build_model("resnet20", 6, head="cosine").state_dict(), tmp_path / "ldam.pt")
    checkpoint = load_checkpoint(tmp_path / "ldam.pt")
    assert checkpoint.meta["head"] == "cosine" and checkpoint.meta["logit_scale"] == 30.0
    assert isinstance(build_model_from_checkpoint(checkpoint).linear, NormedLinear)


@pytest.mark.parametrize("state, words", [
    ({"conv1.weight": torch.zeros(64, 3, 7, 7), "layer1.0.conv1.weight": torch.zeros(1),
      "layer4.0.conv1.weight": torch.zeros(1), "fc.weight": torch.zeros(10, 512)}, "ImageNet"),
    ({"encoder.weight": torch.zeros(3)}, "does not look like a CIFAR ResNet"),
    ({"conv1.weight": torch.zeros(16, 3, 3, 3), "layer1.0.a": torch.zeros(1), "layer1.1.a": torch.zeros(1),
      "layer2.0.a": torch.zeros(1), "layer3.0.a": torch.zeros(1)}, "2, 1 and 1 blocks"),
])
def test_inference_explains_what_it_cannot_infer(state, words):
    with pytest.raises(UnrecognisedWeights, match=words):
        infer_architecture(state)


def test_checkpoint_without_inferable_arch_needs_a_choice(tmp_path):
    torch.save({"encoder.weight": torch.zeros(3)}, tmp_path / "mystery.pt")
    checkpoint = load_checkpoint(tmp_path / "mystery.pt")
    assert "arch" not in checkpoint.meta
    assert any("could not infer" in note for note in checkpoint.notes)
    with pytest.raises(CheckpointError, match="choose the architecture"):
        build_model_from_checkpoint(checkpoint)


# ------------------------------------------------------------------------------ mismatch

def test_mismatch_report_lists_keys_shapes_and_a_hint(shared_checkpoint):
    checkpoint = load_checkpoint(shared_checkpoint("CE.pt"))
    with pytest.raises(CheckpointMismatch) as caught:
        build_model_from_checkpoint(checkpoint, arch="resnet20", num_classes=10)
    error = caught.value
    assert isinstance(error, UserError) and "\n" not in str(error)  # the message is one line …
    assert str(error).startswith("CE.pt does not fit a resnet20, 10 classes, linear head: 72 unexpected key(s)")
    text = error.details  # … and the details list every difference
    assert text.startswith("CE.pt does not fit a resnet20, 10 classes, linear head")
    assert "unexpected keys (72):" in text and "layer1.3.conv1.weight" in text
    assert "… and 64 more" in text  # 72 listed as 8 + a count
    assert "linear.weight: [100, 64] vs [10, 64]" in text and "linear.bias: [100] vs [10]" in text
    assert "this checkpoint has 100 classes but you chose a 10-class dataset" in text
    assert "this checkpoint is a resnet32 but resnet20 was chosen" in text
    assert "missing keys" not in text
    assert len(error.unexpected) == 72 and error.missing == []
    assert ("linear.weight", (100, 64), (10, 64)) in error.shape_mismatches


def test_mismatch_report_lists_missing_keys_and_head_kind(shared_checkpoint):
    checkpoint = load_checkpoint(shared_checkpoint("balanced_resnet20.pt"))
    model = build_model("resnet32", 10, head="cosine")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(CheckpointMismatch) as caught:
        load_weights_into(model, checkpoint)
    text = caught.value.details
    assert "missing keys (72):" in text and "layer1.3.conv1.weight" in text
    assert "unexpected keys (1):\n    linear.bias" in text
    assert "linear.weight: [10, 64] vs [64, 10]" in text
    assert "linear classifier but the model was built with a cosine one" in text
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # untouched


def test_load_weights_into_names_the_chosen_dataset(shared_checkpoint):
    checkpoint = load_checkpoint(shared_checkpoint("CE.pt"))
    with pytest.raises(CheckpointMismatch, match="100 classes but you chose a 10-class dataset"):
        load_weights_into(build_model("resnet32", 10), checkpoint, num_classes=10)
    model = build_model("resnet32", 100)
    load_weights_into(model, checkpoint)
    assert torch.equal(model.linear.bias, raw_state(shared_checkpoint("CE.pt"))["linear.bias"])


# ------------------------------------------------------------------------- refused files

class WritesMarker:
    """Unpickling this would run ``os.system`` (or ``open``) and create the marker file."""

    def __init__(self, marker: Path, how: str = "system"):
        self.marker, self.how = marker, how

    def __reduce__(self):
        if self.how == "system":
            return os.system, (f"touch '{self.marker}'",)
        return open, (str(self.marker), "w")


@pytest.mark.parametrize("writer", ["torch_zip", "torch_legacy", "pickle_protocol_2", "pickle_protocol_5"])
@pytest.mark.parametrize("how", ["system", "open"])
def test_executable_pickles_are_refused_without_running(tmp_path, writer, how):
    marker = tmp_path / "PWNED"
    payload = {"state_dict": {"conv1.weight": torch.zeros(1)}, "trap": WritesMarker(marker, how)}
    path = tmp_path / "evil.pt"
    if writer == "torch_zip":
        torch.save(payload, path)
    elif writer == "torch_legacy":
        torch.save(payload, path, _use_new_zipfile_serialization=False)
    else:
        path.write_bytes(pickle.dumps(payload, protocol=int(writer[-1])))
    with pytest.raises(CheckpointError, match="contains executable code") as caught:
        load_checkpoint(path)
    assert "was not loaded" in str(caught.value) and "evil.pt" in str(caught.value)
    assert not marker.exists()


def test_whole_pickled_model_is_refused(tmp_path):
    torch.save(build_model("resnet20", 3), tmp_path / "whole.pt")
    with pytest.raises(CheckpointError, match=r"executable code \(.*CifarResNet"):
        load_checkpoint(tmp_path / "whole.pt")


def test_files_that_are_not_checkpoints(tmp_path, shared_checkpoint):
    (tmp_path / "notes.pt").write_text("these are my notes\n")
    Image.new("RGB", (4, 4)).save(tmp_path / "picture.pt", format="PNG")
    data = shared_checkpoint("CE.pt").read_bytes()
    (tmp_path / "truncated.pt").write_bytes(data[: len(data) // 2])
    (tmp_path / "empty.pt").write_bytes(b"")
    with zipfile.ZipFile(tmp_path / "archive.pt", "w") as archive:
        archive.writestr("readme.txt", "not torch")
    torch.save([torch.zeros(2)], tmp_path / "list.pt")
    torch.save({"epoch": 3, "lr": 0.1}, tmp_path / "nothing.pt")
    expected = {
        "notes.pt": "notes.pt is a text file, not a PyTorch checkpoint",
        "picture.pt": "picture.pt is a PNG image, not a PyTorch checkpoint",
        "truncated.pt": "truncated.pt is damaged or incomplete",
        "empty.pt": "empty.pt is empty, not a PyTorch checkpoint",
        "archive.pt": "archive.pt is damaged or incomplete",
        "list.pt": "list.pt holds a list, not model weights",
        "nothing.pt": "nothing.pt holds no model weights (its top-level entries are: epoch, lr)",
    }
    for name, message in expected.items():
        with pytest.raises(CheckpointError) as caught:
            load_checkpoint(tmp_path / name)
        assert str(caught.value).startswith(message), str(caught.value)
    with pytest.raises(CheckpointError, match="no such checkpoint file"):
        load_checkpoint(tmp_path / "absent.pt")
    with pytest.raises(CheckpointError, match="is a folder"):
        load_checkpoint(tmp_path)


# ------------------------------------------------------------------------------- saving

def full_meta(**changes) -> dict:
    meta = {"arch": "resnet20", "head": "linear", "num_classes": 4, "class_names": ["a", "b", "c", "d"],
            "dataset": "demo", "mean": [0.5, 0.4, 0.3], "std": [0.2, 0.2, 0.2], "image_size": 32,
            "method": "gml", "logit_scale": 1.0, "metrics": {"test_hm": 0.5, "test_top1": np.float32(0.75)},
            "ensemble": {"t1": 1.5, "t2": 0.5}}
    return {**meta, **changes}


def test_round_trip_of_our_format(tmp_path):
    model = build_model("resnet20", 4)
    old = torch.nn.Linear(64, 4)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(images()).logits.sum().backward()
    optimizer.step()
    extra = {"optimizer": optimizer.state_dict(), "epochs_done": 7, "generator": torch.Generator().get_state(),
             "numpy_rng": np.random.RandomState(3).get_state(), "best": {"epoch": None}}
    path = save_checkpoint(tmp_path / "runs" / "best.pt", model.state_dict(), full_meta(),
                           heads={"old": old.state_dict()}, extra=extra)
    assert path == tmp_path / "runs" / "best.pt"
    raw = torch.load(path, map_location="cpu", weights_only=True)  # plain data only
    assert raw["format"] == FORMAT == "long-tail-studio/3"
    checkpoint = load_checkpoint(path)
    assert checkpoint.source == "long-tail-studio" and checkpoint.notes == []
    assert checkpoint.meta == {**full_meta(), "metrics": {"test_hm": 0.5, "test_top1": 0.75},
                               "model": ModelSpec("cifar_resnet", "resnet20", 4, "linear").to_dict()}
    assert type(checkpoint.meta["metrics"]["test_top1"]) is float
    assert all(torch.equal(checkpoint.state_dict[k], v) for k, v in model.state_dict().items())
    assert torch.equal(checkpoint.heads["old"]["weight"], old.weight.detach())
    assert torch.equal(checkpoint.heads["old"]["bias"], old.bias.detach())
    assert checkpoint.extra["epochs_done"] == 7 and checkpoint.extra["best"] == {"epoch": None}
    assert torch.equal(checkpoint.extra["numpy_rng"][1], torch.from_numpy(extra["numpy_rng"][1]))
    restored = torch.optim.SGD(build_model_from_checkpoint(checkpoint).parameters(), lr=0.1, momentum=0.9)
    restored.load_state_dict(checkpoint.extra["optimizer"])
    assert torch.equal(restored.state_dict()["state"][0]["momentum_buffer"],
                       optimizer.state_dict()["state"][0]["momentum_buffer"])
    assert checkpoint.describe() == "resnet20, 4 classes, linear head, gml, demo, ensemble"


def test_atomic_save_leaves_only_the_target(tmp_path):
    model = build_model("resnet20", 4)
    save_checkpoint(tmp_path / "last.pt", model.state_dict(), full_meta())
    save_checkpoint(tmp_path / "last.pt", model.state_dict(), full_meta(method="ce"))  # replaces
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]
    assert load_checkpoint(tmp_path / "last.pt").meta["method"] == "ce"


def test_failed_save_keeps_the_previous_file_and_no_temp(tmp_path, monkeypatch):
    model = build_model("resnet20", 4)
    target = save_checkpoint(tmp_path / "last.pt", model.state_dict(), full_meta())
    before = target.read_bytes()

    def disk_full(obj, file):
        file.write(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ckpt_module.torch, "save", disk_full)
    with pytest.raises(OSError, match="No space"):
        save_checkpoint(target, model.state_dict(), full_meta(method="ce"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]
    assert target.read_bytes() == before


def test_save_refuses_what_weights_only_cannot_load(tmp_path):
    state = build_model("resnet20", 4).state_dict()
    with pytest.raises(ValueError, match="model spec"):
        save_checkpoint(tmp_path / "a.pt", state, {"head": "linear", "num_classes": 4})
    with pytest.raises(TypeError, match=r"extra\.scheduler"):
        save_checkpoint(tmp_path / "b.pt", state, full_meta(), extra={"scheduler": object()})
    assert list(tmp_path.iterdir()) == []


def test_newer_format_is_refused(tmp_path):
    torch.save({"format": "long-tail-studio/9", "state_dict": {}, "meta": {}}, tmp_path / "future.pt")
    with pytest.raises(CheckpointError, match="another version of Long-Tail Studio"):
        load_checkpoint(tmp_path / "future.pt")


@pytest.mark.parametrize("head", ["linear", "cosine", "lws"])
def test_saved_heads_rebuild_as_the_models_heads(head):
    model = build_model("resnet20", 5, head=head)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_()
    rebuilt = head_modules_from_state(build_model("resnet20", 5, head=head), model.head_state())
    x = torch.randn(3, 64)
    torch.testing.assert_close(model.classify(x, heads=rebuilt).logits, model.classify(x).logits)
    assert not any(p.requires_grad for module in rebuilt.values() for p in module.parameters())


def test_checkpoint_describe_without_meta():
    assert Checkpoint(state_dict={}, meta={}).describe() == "unknown architecture"
