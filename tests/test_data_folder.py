"""Image decoding (data/images.py) and user image folders (data/folder.py)."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

from data import load_dataset
from data.errors import DatasetError
from errors import UserError
from data.folder import load_image_folder
from data.images import ImageLoadError, load_rgb, to_uint8_tensor
from tests.datagen import write_image_folder


def expected_holdout(n: int, fraction: float) -> int:
    if n < 2:
        return 0
    return min(n - 1, max(1, int(np.floor(n * fraction + 0.5))))


# ---------------------------------------------------------------- decoding


def pixels(image: Image.Image) -> np.ndarray:
    assert image.mode == "RGB"
    return np.asarray(image)


def test_sixteen_bit_grey_scales_to_eight_bit(tmp_path):
    wide = np.array([[0, 257 * 100, 65535, 32896, 65280, 128]], dtype=np.uint16)
    Image.fromarray(wide).save(tmp_path / "deep.png")
    assert Image.open(tmp_path / "deep.png").mode in ("I;16", "I")
    rgb = pixels(load_rgb(tmp_path / "deep.png"))
    assert rgb[0, :, 0].tolist() == [0, 100, 255, 128, 254, 0]  # round(v / 257): full range onto 0..255
    assert (rgb == rgb[..., :1]).all()


def test_transparency_is_composited_on_white(tmp_path):
    rgba = np.array([[[255, 0, 0, 0], [0, 0, 255, 255], [0, 0, 0, 128]]], dtype=np.uint8)
    Image.fromarray(rgba).save(tmp_path / "alpha.png")
    rgb = pixels(load_rgb(tmp_path / "alpha.png")).astype(int)
    assert rgb[0, 0].tolist() == [255, 255, 255]
    assert rgb[0, 1].tolist() == [0, 0, 255]
    grey = 255 * (1 - 128 / 255)  # black at alpha 128 over white
    assert np.abs(rgb[0, 2] - grey).max() <= 1

    palette = Image.fromarray(np.array([[0, 1]], dtype=np.uint8), "L").convert("P")
    palette.putpalette([10, 20, 30, 40, 50, 60] + [0] * 762)
    palette.info["transparency"] = 0
    palette.save(tmp_path / "palette.png", transparency=0)
    assert pixels(load_rgb(tmp_path / "palette.png")).tolist() == [[[255, 255, 255], [40, 50, 60]]]


def test_grey_and_cmyk_become_rgb(tmp_path):
    Image.fromarray(np.array([[7, 200]], dtype=np.uint8)).save(tmp_path / "grey.bmp")
    assert pixels(load_rgb(tmp_path / "grey.bmp")).tolist() == [[[7, 7, 7], [200, 200, 200]]]
    Image.new("CMYK", (4, 4), (0, 0, 0, 0)).save(tmp_path / "cmyk.jpg")
    assert pixels(load_rgb(tmp_path / "cmyk.jpg")).min() >= 250  # no ink is white
    Image.fromarray(np.array([[0.0, 0.25, 1.0]], dtype=np.float32)).save(tmp_path / "float.tif")
    assert pixels(load_rgb(tmp_path / "float.tif"))[0, :, 0].tolist() == [0, 64, 255]  # 0..1 floats


@pytest.mark.parametrize("content", [b"", b"this is a text file", b"\x89PNG\r\n\x1a\n\x00\x00garbage"])
def test_unreadable_files_raise_a_user_error_naming_the_file(tmp_path, content):
    path = tmp_path / "broken.png"
    path.write_bytes(content)
    with pytest.raises(ImageLoadError, match="broken.png") as caught:
        load_rgb(path)
    assert isinstance(caught.value, UserError)


def test_truncated_image_is_an_error(tmp_path):
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(tmp_path / "a.png")
    data = (tmp_path / "a.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageLoadError, match="cut.png: .*truncated"):
        load_rgb(tmp_path / "cut.png")


def test_to_uint8_tensor_resizes_with_antialiasing():
    checker = ((np.indices((64, 48)).sum(axis=0) % 2) * 255).astype(np.uint8)
    tensor = to_uint8_tensor(Image.fromarray(checker).convert("RGB"), 8)
    assert tensor.shape == (3, 8, 8) and tensor.dtype == torch.uint8
    assert (tensor.int() - 127).abs().max() <= 3  # averaged, not sampled (which gives 0 or 255)


# ---------------------------------------------------------------- folders


def test_holdout_split_is_per_class_and_fixed(tmp_path):
    counts = {"ant": 10, "bee": 6, "cat": 1, "dog": 2}
    root = write_image_folder(tmp_path / "pets", counts)
    dataset = load_image_folder(root, image_size=24, holdout_fraction=0.2, seed=0)

    assert dataset.name == "pets" and dataset.class_names == ["ant", "bee", "cat", "dog"]
    test_counts = [expected_holdout(n, 0.2) for n in counts.values()]
    assert test_counts == [2, 1, 0, 1]
    assert dataset.test_labels.bincount(minlength=4).tolist() == test_counts
    assert dataset.class_counts.tolist() == [n - t for n, t in zip(counts.values(), test_counts)]
    assert dataset.train_images.shape[1:] == (3, 24, 24) and dataset.train_images.dtype == torch.uint8
    assert dataset.skipped_files == []

    # Every file lands in exactly one split, decoded as load_rgb + to_uint8_tensor would.
    files = sorted(p for p in root.rglob("*") if p.is_file())
    direct = {to_uint8_tensor(load_rgb(p), 24).numpy().tobytes() for p in files}
    loaded = [img.numpy().tobytes() for img in torch.cat([dataset.train_images, dataset.test_images])]
    assert len(loaded) == len(files) and set(loaded) == direct

    # The hold-out does not move with the run seed.
    other = load_image_folder(root, image_size=24, holdout_fraction=0.2, seed=5)
    assert torch.equal(other.test_images, dataset.test_images)


def test_train_and_test_sub_folders_are_used_as_they_are(tmp_path):
    root = write_image_folder(tmp_path / "split", [5, 4, 3], split=True, test_per_class=2)
    dataset = load_image_folder(root, image_size=16)
    assert dataset.class_names == ["class_00", "class_01", "class_02"]
    assert dataset.class_counts.tolist() == [5, 4, 3]
    assert dataset.test_labels.bincount().tolist() == [2, 2, 2]


def test_unreadable_files_are_skipped_and_listed(tmp_path):
    root = write_image_folder(tmp_path / "messy", {"a": 4, "b": 4})
    (root / "a" / "empty.png").write_bytes(b"")
    (root / "b" / "notes.jpg").write_text("not an image")
    good = (root / "a" / "a_000.png").read_bytes()
    (root / "b" / "cut.png").write_bytes(good[: len(good) // 2])
    (root / "b" / "readme.txt").write_text("ignored: not an image suffix")

    dataset = load_image_folder(root, image_size=8, holdout_fraction=0.25)
    skipped = dict(dataset.skipped_files)
    assert sorted(skipped) == sorted(str(root / p) for p in ("a/empty.png", "b/notes.jpg", "b/cut.png"))
    assert "cut.png" in skipped[str(root / "b" / "cut.png")]
    assert len(dataset.train_labels) + len(dataset.test_labels) == 8


def test_folder_is_cut_to_a_long_tail_with_the_cifar_rule(tmp_path):
    root = write_image_folder(tmp_path / "lt", [20, 20, 20, 20], formats=("png",))
    dataset = load_image_folder(root, image_size=8, holdout_fraction=0.2, imbalance_type="exp",
                                imbalance_ratio=10, seed=3)
    n_max = 20 - expected_holdout(20, 0.2)
    assert dataset.class_counts.tolist() == [int(n_max * 0.1 ** (i / 3)) for i in range(4)] == [16, 7, 3, 1]
    assert dataset.test_labels.bincount().tolist() == [4, 4, 4, 4]


def test_mean_and_std_come_from_the_train_images(tmp_path):
    root = write_image_folder(tmp_path / "stats", [6, 6], formats=("png", "jpg"))
    dataset = load_image_folder(root, image_size=12)
    values = dataset.train_images.to(torch.float64) / 255
    mean = values.mean(dim=(0, 2, 3))
    std = ((values - mean[None, :, None, None]) ** 2).mean(dim=(0, 2, 3)).sqrt()
    assert np.allclose(dataset.mean, mean.numpy(), atol=1e-12)
    assert np.allclose(dataset.std, std.numpy(), atol=1e-12)


@pytest.mark.parametrize("make, message", [
    (lambda root: None, "does not exist"),
    (lambda root: root.mkdir(), "at least two class sub-folders"),
    (lambda root: (root / "only").mkdir(parents=True), "only 'only'"),
])
def test_bad_folders_get_a_message_naming_the_folder_and_layout(tmp_path, make, message):
    root = tmp_path / "mine"
    make(root)
    with pytest.raises(DatasetError, match=message) as caught:
        load_image_folder(root)
    assert str(root) in str(caught.value) and "sub-folder per class" in str(caught.value)


def test_a_class_without_readable_images_is_named(tmp_path):
    root = write_image_folder(tmp_path / "f", {"good": 3})
    (root / "bad").mkdir()
    (root / "bad" / "x.png").write_bytes(b"broken")
    with pytest.raises(DatasetError, match="class bad"):
        load_image_folder(root)


def test_test_folder_classes_must_exist_in_train(tmp_path):
    root = write_image_folder(tmp_path / "s", [3, 3], split=True)
    write_image_folder(root / "test", {"stranger": 1})
    with pytest.raises(DatasetError, match="stranger"):
        load_image_folder(root)


def test_load_dataset_dispatches_folders(tmp_path):
    root = write_image_folder(tmp_path / "pets", {"cat": 5, "dog": 5}, formats=("png",))
    cfg = SimpleNamespace(dataset="folder", root=str(root), imbalance_type="step", imbalance_ratio=4.0,
                          image_size=10, holdout_fraction=0.2)
    dataset = load_dataset(cfg, seed=1)
    assert dataset.class_counts.tolist() == [4, 1] and dataset.image_size == 10
    with pytest.raises(DatasetError, match="Choose the image folder"):
        load_dataset(SimpleNamespace(**(vars(cfg) | {"root": ""})), seed=1)


def test_generated_folders_mix_formats_and_modes(tmp_path):
    root = write_image_folder(tmp_path / "mix", {"x": 20})
    seen = {(p.suffix, Image.open(p).mode) for p in Path(root, "x").iterdir()}
    assert {".png", ".jpg", ".bmp", ".webp"} == {suffix for suffix, _ in seen}
    assert {"RGB", "L", "RGBA", "P"} <= {mode for _, mode in seen}
    assert {"I;16", "I"} & {mode for _, mode in seen}
