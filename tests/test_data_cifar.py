"""CIFAR reading, the restricted unpickler, download errors and LDAM-DRW's long-tailed cut."""
from __future__ import annotations

import pickle
import pickletools
from pathlib import Path
from types import SimpleNamespace
from urllib.error import URLError

import numpy as np
import pytest
import torch
import torchvision

from data import default_datasets_dir, load_dataset
from data.cifar import (
    CIFAR10_CLASSES, CIFAR100_CLASSES, CIFAR_MEAN, CIFAR_STD, imbalance_factor, load_cifar,
    long_tail_counts, long_tail_indices, read_pickle,
)
from data.errors import DatasetError
from errors import UserError
from tests.datagen import CIFAR100_SUPERCLASSES, write_cifar


def ldam_reference(data: np.ndarray, targets: list[int], cls_num: int, imb_type: str, imb_factor: float,
                   rand_number: int) -> tuple[np.ndarray, list[int]]:
    """IMBALANCECIFAR10.__init__ of kaidic/LDAM-DRW, restated: counts, global seed, per-class shuffle."""
    np.random.seed(rand_number)
    img_max = int(len(data) / cls_num * 1.0)
    if imb_type == "exp":
        nums = [int(img_max * (imb_factor ** (i / (cls_num - 1.0)))) for i in range(cls_num)]
    elif imb_type == "step":
        nums = [int(img_max)] * (cls_num // 2) + [int(img_max * imb_factor)] * (cls_num // 2)
    else:
        nums = [int(img_max)] * cls_num
    targets_np = np.array(targets, dtype=np.int64)
    new_data, new_targets = [], []
    for the_class, the_img_num in zip(np.unique(targets_np), nums):
        idx = np.where(targets_np == the_class)[0]
        np.random.shuffle(idx)
        new_data.append(data[idx[:the_img_num], ...])
        new_targets.extend([the_class] * the_img_num)
    return np.vstack(new_data), new_targets


@pytest.fixture
def torchvision_reads_any_md5(monkeypatch):
    """Let torchvision's own CIFAR reader open generated files (their checksums differ)."""
    monkeypatch.setattr(torchvision.datasets.cifar, "check_integrity", lambda *args, **kwargs: True)


def test_class_names_are_the_real_ones():
    assert CIFAR10_CLASSES == ("airplane", "automobile", "bird", "cat", "deer",
                               "dog", "frog", "horse", "ship", "truck")
    assert len(CIFAR100_CLASSES) == 100 and list(CIFAR100_CLASSES) == sorted(CIFAR100_CLASSES)
    assert sorted(f for fines in CIFAR100_SUPERCLASSES.values() for f in fines) == list(CIFAR100_CLASSES)
    assert (CIFAR100_CLASSES[0], CIFAR100_CLASSES[46], CIFAR100_CLASSES[99]) == ("apple", "man", "worm")
    assert CIFAR_MEAN == (0.4914, 0.4822, 0.4465) and CIFAR_STD == (0.2023, 0.1994, 0.2010)


@pytest.mark.parametrize("ratio, ldam_factor", [(100, 0.01), (50, 0.02), (20, 0.05), (10, 0.1), (200, 0.005)])
def test_ratio_converts_to_ldam_factor_exactly(ratio, ldam_factor):
    assert imbalance_factor(ratio) == ldam_factor  # the same float, not merely close
    assert imbalance_factor(float(ratio)) == ldam_factor
    for cls_num, img_max in ((10, 5000), (100, 500)):
        expected = [int(img_max * ldam_factor ** (i / (cls_num - 1.0))) for i in range(cls_num)]
        assert long_tail_counts(img_max, cls_num, "exp", ratio) == expected


def test_counts_match_published_cifar_lt_sizes():
    cifar10 = long_tail_counts(5000, 10, "exp", 100)
    assert cifar10 == [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]  # CIFAR-10-LT, 12,406 images
    assert sum(long_tail_counts(500, 100, "exp", 100)) == 10847  # CIFAR-100-LT
    assert sum(long_tail_counts(5000, 10, "exp", 10)) == 20431  # CIFAR-10-LT ρ = 10
    assert long_tail_counts(5000, 10, "step", 100) == [5000] * 5 + [50] * 5
    assert long_tail_counts(500, 100, "none", 100) == [500] * 100
    assert long_tail_counts(100, 5, "step", 10) == [100, 100, 10, 10, 10]  # odd: the tail half is larger


@pytest.mark.parametrize("imb_type", ["exp", "step", "none"])
@pytest.mark.parametrize("seed", [0, 1, 1234])
def test_selection_equals_ldam_reference_on_synthetic_targets(imb_type, seed):
    rng = np.random.default_rng(99)
    targets = rng.permutation(np.repeat(np.arange(10), 300))
    data = np.arange(len(targets))[:, None]  # an image's identity is its position
    ref_data, ref_targets = ldam_reference(data, targets.tolist(), 10, imb_type, 0.02, seed)

    keep = long_tail_indices(targets, long_tail_counts(300, 10, imb_type, 50), seed)
    np.testing.assert_array_equal(data[keep], ref_data)
    np.testing.assert_array_equal(targets[keep], ref_targets)


@pytest.mark.parametrize("name, cls_num", [("cifar10", 10), ("cifar100", 100)])
def test_load_cifar_selects_ldam_images(tmp_path, torchvision_reads_any_md5, name, cls_num):
    per_class = 60 if cls_num == 10 else 12
    write_cifar(tmp_path, name, train_per_class=per_class, test_per_class=3, seed=4)
    base = torchvision.datasets.CIFAR10 if name == "cifar10" else torchvision.datasets.CIFAR100
    tv_train = base(str(tmp_path), train=True, download=False)  # LDAM-DRW's parent class reads the files
    tv_test = base(str(tmp_path), train=False, download=False)
    ref_data, ref_targets = ldam_reference(tv_train.data, tv_train.targets, cls_num, "exp", 0.1, 3)

    dataset = load_cifar(name, tmp_path, "exp", 10, seed=3)

    assert dataset.name == name and dataset.class_names == tv_train.classes
    np.testing.assert_array_equal(dataset.train_images.permute(0, 2, 3, 1).numpy(), ref_data)
    np.testing.assert_array_equal(dataset.train_labels.numpy(), ref_targets)
    np.testing.assert_array_equal(dataset.test_images.permute(0, 2, 3, 1).numpy(), tv_test.data)
    np.testing.assert_array_equal(dataset.test_labels.numpy(), tv_test.targets)
    assert dataset.train_images.dtype == torch.uint8 and dataset.train_labels.dtype == torch.int64
    assert dataset.test_labels.bincount().tolist() == [3] * cls_num
    assert (dataset.mean, dataset.std) == (CIFAR_MEAN, CIFAR_STD)


def test_numpy_global_rng_is_restored(tmp_path):
    write_cifar(tmp_path, "cifar10", train_per_class=20, test_per_class=2)
    np.random.seed(2024)
    expected = np.random.random(3)
    np.random.seed(2024)
    load_cifar("cifar10", tmp_path, "exp", 10, seed=7)
    np.testing.assert_array_equal(np.random.random(3), expected)


def test_generated_files_have_the_real_pickle_layout(tmp_path):
    folder = write_cifar(tmp_path, "cifar10", train_per_class=7, test_per_class=2)
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["batches.meta", "test_batch"] + [f"data_batch_{i}" for i in range(1, 6)])
    raw = (folder / "data_batch_1").read_bytes()
    opcodes = {op.name: arg for op, arg, _ in pickletools.genops(raw)}
    assert opcodes["PROTO"] == 2 and "BINUNICODE" not in opcodes and "SHORT_BINUNICODE" not in opcodes
    globals_used = {arg for op, arg, _ in pickletools.genops(raw) if op.name == "GLOBAL"}
    assert globals_used == {"numpy.core.multiarray _reconstruct", "numpy ndarray", "numpy dtype"}
    with open(folder / "data_batch_1", "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    assert set(batch) == {b"batch_label", b"labels", b"data", b"filenames"}
    assert batch[b"data"].dtype == np.uint8 and batch[b"data"].shape == (14, 3072)
    with open(folder / "batches.meta", "rb") as f:
        assert pickle.load(f, encoding="bytes")[b"label_names"][0] == b"airplane"

    folder100 = write_cifar(tmp_path, "cifar100", train_per_class=2, test_per_class=1)
    with open(folder100 / "train", "rb") as f:
        train = pickle.load(f, encoding="bytes")
    assert set(train) == {b"filenames", b"batch_label", b"fine_labels", b"coarse_labels", b"data"}
    with open(folder100 / "meta", "rb") as f:
        coarse_names = pickle.load(f, encoding="bytes")[b"coarse_label_names"]
    beaver = CIFAR100_CLASSES.index("beaver")
    assert coarse_names[train[b"coarse_labels"][train[b"fine_labels"].index(beaver)]] == b"aquatic_mammals"


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_restricted_unpickler_reads_numpy_pickles_of_every_protocol(tmp_path, protocol):
    content = {b"data": np.arange(3072 * 2, dtype=np.uint8).reshape(2, 3072) % 251, b"labels": [1, 2]}
    path = tmp_path / "batch"
    path.write_bytes(pickle.dumps(content, protocol=protocol))
    loaded = read_pickle(path)
    np.testing.assert_array_equal(loaded[b"data"], content[b"data"])
    assert loaded[b"labels"] == [1, 2]


class _Payload:
    def __init__(self, target: Path):
        self.target = target

    def __reduce__(self):
        import os
        return os.mkdir, (str(self.target),)


def test_a_malicious_dataset_file_cannot_run_code(tmp_path):
    folder = write_cifar(tmp_path, "cifar10", train_per_class=10, test_per_class=1)
    victim = tmp_path / "pwned"
    (folder / "data_batch_2").write_bytes(pickle.dumps({b"data": _Payload(victim)}, protocol=2))
    with pytest.raises(DatasetError, match=r"data_batch_2.*(posix|os|nt)\.mkdir"):
        load_cifar("cifar10", tmp_path, "none", 1)
    assert not victim.exists()


def test_root_may_be_the_dataset_folder_itself(tmp_path):
    folder = write_cifar(tmp_path, "cifar100", train_per_class=4, test_per_class=1)
    dataset = load_cifar("cifar100", folder, "step", 2, seed=0, image_size=16)
    assert dataset.train_images.shape == (50 * 4 + 50 * 2, 3, 16, 16)
    assert dataset.class_names == list(CIFAR100_CLASSES)


def test_failed_download_gives_one_clear_message(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", offline)
    with pytest.raises(DatasetError) as caught:
        load_cifar("cifar10", tmp_path / "data")
    message = str(caught.value)
    for part in ("CIFAR-10", "cifar-10-batches-py", str(tmp_path / "data"),
                 "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz", "Name or service not known"):
        assert part in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_download_goes_through_torchvision_then_our_reader(tmp_path, monkeypatch):
    calls = []

    def fake_cifar100(root, train, download):
        calls.append((root, train, download))
        write_cifar(Path(root), "cifar100", train_per_class=3, test_per_class=1)

    monkeypatch.setattr(torchvision.datasets, "CIFAR100", fake_cifar100)
    dataset = load_cifar("cifar100", tmp_path / "fresh", "none", 1)
    assert calls == [(str(tmp_path / "fresh"), True, True)]
    assert len(dataset.train_labels) == 300 and len(dataset.test_labels) == 100


def test_incomplete_folder_names_the_missing_files(tmp_path):
    folder = write_cifar(tmp_path, "cifar10", train_per_class=5, test_per_class=1)
    (folder / "data_batch_3").unlink()
    with pytest.raises(DatasetError, match="data_batch_3 missing"):
        load_cifar("cifar10", tmp_path)


def test_a_ratio_that_empties_a_class_is_refused(tmp_path):
    write_cifar(tmp_path, "cifar10", train_per_class=20, test_per_class=1)
    with pytest.raises(UserError, match="at most 20"):
        load_cifar("cifar10", tmp_path, "exp", 100)
    with pytest.raises(UserError, match="at least 1"):
        imbalance_factor(0.5)


def test_load_dataset_uses_the_workspace_datasets_folder(workspace):
    assert default_datasets_dir() == workspace / "datasets"
    write_cifar(workspace / "datasets", "cifar10", train_per_class=30, test_per_class=2)
    cfg = SimpleNamespace(dataset="cifar10", root="", imbalance_type="exp", imbalance_ratio=10.0,
                          image_size=32, holdout_fraction=0.2)
    dataset = load_dataset(cfg, seed=0)
    assert dataset.class_counts.tolist() == long_tail_counts(30, 10, "exp", 10)
