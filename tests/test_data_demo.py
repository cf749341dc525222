"""The bundled digits demo and the ``load_dataset`` entry point."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from data import default_datasets_dir, load_dataset
from data.demo import DIGITS_FILE, load_demo
from data.errors import DatasetError

# Per-class counts of scikit-learn's load_digits, as its documentation lists them.
DIGITS_PER_CLASS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_bundled_file_is_the_uci_digits():
    with np.load(DIGITS_FILE, allow_pickle=False) as archive:
        images, labels = archive["images"], archive["labels"]
        assert "CC BY 4.0" in str(archive["source"])
    assert images.shape == (1797, 8, 8) and images.dtype == np.uint8
    assert images.min() == 0 and images.max() == 16
    assert np.bincount(labels).tolist() == DIGITS_PER_CLASS
    assert DIGITS_FILE.stat().st_size < 100_000


def test_demo_splits_balanced_test_and_long_tailed_train():
    dataset = load_demo("exp", 10, image_size=32, seed=0)
    assert dataset.name == "demo" and dataset.class_names == [str(d) for d in range(10)]
    assert dataset.test_labels.bincount().tolist() == [40] * 10
    pool = [n - 40 for n in DIGITS_PER_CLASS]
    expected = [min(pool[i], int(max(pool) * 0.1 ** (i / 9))) for i in range(10)]
    assert dataset.class_counts.tolist() == expected == [138, 110, 85, 66, 51, 39, 30, 23, 18, 14]
    for images in (dataset.train_images, dataset.test_images):
        assert images.dtype == torch.uint8 and images.shape[1:] == (3, 32, 32)
        assert torch.equal(images[:, 0], images[:, 1]) and torch.equal(images[:, 0], images[:, 2])
    values = dataset.train_images.to(torch.float64) / 255
    assert np.allclose(dataset.mean, values.mean(dim=(0, 2, 3)).numpy())
    assert np.allclose(dataset.std, values.std(dim=(0, 2, 3), unbiased=False).numpy())


def test_demo_pixels_are_the_scans_scaled_to_255():
    with np.load(DIGITS_FILE, allow_pickle=False) as archive:
        scans = archive["images"]
    scaled = {np.rint(scan * (255 / 16)).astype(np.uint8).tobytes() for scan in scans}
    dataset = load_demo("none", 1, image_size=8, seed=0)
    assert all(img[0].numpy().tobytes() in scaled for img in dataset.train_images)
    assert all(img[0].numpy().tobytes() in scaled for img in dataset.test_images)
    assert len(dataset.train_labels) == 1797 - 400


def test_test_split_is_fixed_and_train_cut_follows_the_seed():
    first, second = load_demo("exp", 20, seed=0), load_demo("exp", 20, seed=1)
    assert torch.equal(first.test_images, second.test_images)
    assert first.class_counts.tolist() == second.class_counts.tolist()
    assert not torch.equal(first.train_images, second.train_images)
    assert torch.equal(first.train_images, load_demo("exp", 20, seed=0).train_images)


def test_demo_labels_match_their_images():
    """A nearest-class-mean classifier must do far better than chance (10 %)."""
    dataset = load_demo("exp", 100, seed=0)
    train, labels = dataset.train_images.flatten(1).float(), dataset.train_labels
    centroids = torch.stack([train[labels == c].mean(0) for c in range(10)])
    predicted = torch.cdist(dataset.test_images.flatten(1).float(), centroids).argmin(1)
    assert (predicted == dataset.test_labels).float().mean() > 0.6


def test_load_dataset_dispatches_demo_and_rejects_unknown_names(workspace):
    cfg = SimpleNamespace(dataset="demo", root="", imbalance_type="step", imbalance_ratio=10.0,
                          image_size=16, holdout_fraction=0.2)
    dataset = load_dataset(cfg, seed=0)
    assert dataset.image_size == 16 and dataset.class_counts.tolist() == [138, 142, 137, 143, 141] + [14] * 5
    with pytest.raises(DatasetError, match="demo, cifar10, cifar100, folder, imagenet_lt"):
        load_dataset(SimpleNamespace(**(vars(cfg) | {"dataset": "imagenet"})), seed=0)
    assert default_datasets_dir() == workspace / "datasets"


def test_the_long_tail_cut_follows_cut_seed_not_the_training_seed(workspace):
    from engine.config import DataConfig

    cfg = DataConfig(dataset="demo", imbalance_type="exp", imbalance_ratio=10.0, image_size=8)
    assert cfg.cut_seed == 0  # the published repos' np.random.seed(0)
    first = load_dataset(cfg, seed=123)
    again = load_dataset(cfg, seed=7)  # another training seed: the same images
    assert torch.equal(first.train_images, again.train_images)
    assert torch.equal(first.train_images, load_dataset(cfg).train_images)
    assert torch.equal(first.train_images, load_demo("exp", 10.0, 8, seed=0).train_images)
    other = load_dataset(DataConfig(dataset="demo", imbalance_type="exp", imbalance_ratio=10.0, image_size=8,
                                    cut_seed=1), seed=123)
    assert first.class_counts.tolist() == other.class_counts.tolist()  # same counts …
    assert not torch.equal(first.train_images, other.train_images)  # … of other images
