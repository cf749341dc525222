"""The large benchmarks' layouts read as they are, and the streamed pipeline (tiny generated JPEG trees)."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from data import dataset_names, load_dataset
from data.errors import DatasetError
from data.sources import ResidentImages, StreamedImages
from data.stream import eval_size
from data.types import StreamedDataset
from tests.datagen import long_tail_counts, write_image_folder, write_inat_json, write_lt_lists

ROOT = Path(__file__).resolve().parent.parent


def data_config(dataset: str, root: Path, **changes) -> SimpleNamespace:
    values = dict(dataset=dataset, root=str(root), imbalance_type="none", imbalance_ratio=1.0, image_size=32,
                  holdout_fraction=0.2, cut_seed=0, color_jitter=0.0, loader_workers=0)
    return SimpleNamespace(**(values | changes))


def counts_of(entries: list[tuple[str, int]], classes: int) -> list[int]:
    return np.bincount([label for _, label in entries], minlength=classes).tolist()


@pytest.mark.parametrize("kind", ["imagenet_lt", "places_lt", "inat2018", "image_list"])
def test_each_list_layout_gives_the_lists_class_and_image_counts(tmp_path, kind):
    lists = write_lt_lists(tmp_path, kind)
    dataset = load_dataset(data_config(kind, tmp_path))
    assert isinstance(dataset, StreamedDataset) and dataset.num_classes == 12
    assert dataset.class_counts.tolist() == counts_of(lists["train"], 12) == long_tail_counts(12, 24, 2)
    held_out = {"val": "test"} if kind == "inat2018" else {"val": "val", "test": "test"}  # iNat's val is its test split
    for written, split in held_out.items():
        assert len(dataset.splits[split]) == len(lists[written])
    assert dataset.split_names() == (("train", "test") if kind == "inat2018" else ("train", "val", "test"))
    assert f"12 classes, {len(lists['train'])} train images" in dataset.describe()
    assert not dataset.skipped_files


def test_class_names_come_from_the_folders_the_lists_name(tmp_path):
    write_lt_lists(tmp_path / "inet", "imagenet_lt")
    write_lt_lists(tmp_path / "places", "places_lt")
    assert load_dataset(data_config("imagenet_lt", tmp_path / "inet")).class_names[:2] == ["n01440764", "n01440765"]
    assert load_dataset(data_config("places_lt", tmp_path / "places")).class_names[:2] == ["a/place_00", "b/place_01"]


def test_inaturalist_coco_json_gives_the_same_counts_and_the_category_names(tmp_path):
    lists = write_inat_json(tmp_path)
    dataset = load_dataset(data_config("inat2018", tmp_path))
    assert dataset.class_counts.tolist() == counts_of(lists["train"], 12)
    assert len(dataset.splits["test"]) == len(lists["val"]) and dataset.class_names[0] == "Species 0"


def test_a_class_folder_tree_streams_with_its_val_and_test_splits(tmp_path):
    write_image_folder(tmp_path, [9, 5, 3], split=True, formats=("jpg",), test_per_class=2)
    shutil.copytree(tmp_path / "test", tmp_path / "val")
    dataset = load_dataset(data_config("image_tree", tmp_path))
    assert dataset.class_names == ["class_00", "class_01", "class_02"]
    assert dataset.class_counts.tolist() == [9, 5, 3] and len(dataset.splits["val"]) == len(dataset.splits["test"]) == 6


def test_every_kind_is_registered():
    assert {"demo", "cifar10", "cifar100", "folder", "imagenet_lt", "places_lt", "inat2018", "image_list",
            "image_tree"} == set(dataset_names())


def test_a_missing_list_is_one_line_naming_the_file_and_where_it_was_expected(tmp_path):
    write_lt_lists(tmp_path, "imagenet_lt")
    (tmp_path / "ImageNet_LT_test.txt").unlink()
    with pytest.raises(DatasetError) as error:
        load_dataset(data_config("imagenet_lt", tmp_path))
    message = str(error.value)
    assert "\n" not in message and "ImageNet_LT_test.txt not found" in message
    assert str(tmp_path / "ImageNet_LT_test.txt") in message


def test_a_root_holding_none_of_the_images_says_where_the_first_was_expected(tmp_path):
    write_lt_lists(tmp_path / "real", "imagenet_lt")
    (tmp_path / "lists").mkdir()
    for name in ("train", "val", "test"):
        shutil.copy(tmp_path / "real" / f"ImageNet_LT_{name}.txt", tmp_path / "lists")
    with pytest.raises(DatasetError, match="none of the .* images .* exists; the first was expected at"):
        load_dataset(data_config("imagenet_lt", tmp_path / "lists"))


def test_missing_files_are_skipped_and_listed(tmp_path):
    lists = write_lt_lists(tmp_path, "image_list")
    gone = tmp_path / lists["train"][0][0]
    gone.unlink()
    dataset = load_dataset(data_config("image_list", tmp_path))
    assert len(dataset.splits["train"]) == len(lists["train"]) - 1
    assert dataset.skipped_files == [(str(gone), "file not found")]


def test_an_undecodable_file_is_dropped_from_its_batch_and_reported(tmp_path):
    lists = write_lt_lists(tmp_path, "image_list")
    (tmp_path / lists["test"][0][0]).write_bytes(b"not a jpeg at all")
    source = load_dataset(data_config("image_list", tmp_path)).images("test")
    seen = sum(len(labels) for _, labels in source.plain_batches(8))
    assert seen == len(lists["test"]) - 1
    assert [path for path, _ in source.skipped] == [str(tmp_path / lists["test"][0][0])]


def test_streamed_views_are_uint8_at_the_chosen_size_and_reproducible(tmp_path):
    write_lt_lists(tmp_path, "imagenet_lt")
    dataset = load_dataset(data_config("imagenet_lt", tmp_path, image_size=40, color_jitter=0.4))
    source = dataset.images("train")
    views = ("crop_flip", "paco_query", "paco_key", "none")

    def first_batch(seed: int):
        order = torch.arange(len(source))
        return next(source.batches(order, 8, views, torch.Generator().manual_seed(seed)))

    (images, labels, index), (again, _, _) = first_batch(0), first_batch(0)
    assert all(v.dtype == torch.uint8 and v.shape == (8, 3, 40, 40) for v in images)
    assert all(torch.equal(a, b) for a, b in zip(images, again))
    assert not torch.equal(images[0], first_batch(1)[0][0])
    assert torch.equal(labels, torch.from_numpy(dataset.splits["train"].labels[:8])) and index.tolist() == list(range(8))
    assert eval_size(224) == 256 and eval_size(40) == 46


def test_class_balanced_and_class_aware_samplers_drive_streamed_batches(tmp_path):
    from data.samplers import SAMPLERS

    write_lt_lists(tmp_path, "imagenet_lt")
    source = load_dataset(data_config("imagenet_lt", tmp_path)).images("train")
    generator = torch.Generator().manual_seed(0)
    for name in ("class_balanced", "class_aware"):
        order = SAMPLERS[name](source.labels, generator)
        labels = torch.cat([y for _, y, _ in source.batches(order, 32, ("crop_flip",), generator)])
        assert torch.equal(labels, source.labels[order])  # the sampler's images, in its order
        assert torch.bincount(labels, minlength=12).min() > 0  # the tail is drawn


def test_cifar_and_the_demo_stay_resident(tmp_path):
    demo = load_dataset(data_config("demo", "", imbalance_type="exp", imbalance_ratio=10.0))
    assert isinstance(demo.images("train"), ResidentImages) and demo.eval_view == "resize"


RSS_PROBE = textwrap.dedent("""
    import resource, sys
    sys.path.insert(0, sys.argv[1])
    import torch
    from types import SimpleNamespace
    from data import load_dataset

    def peak_kib(pid):
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])

    def one_epoch(root):
        cfg = SimpleNamespace(dataset="image_list", root=root, imbalance_type="none", imbalance_ratio=1.0,
                              image_size=32, holdout_fraction=0.2, cut_seed=0, color_jitter=0.0, loader_workers=1)
        dataset = load_dataset(cfg)
        train, test = dataset.images("train"), dataset.images("test")
        generator = torch.Generator().manual_seed(0)
        seen = 0
        for views, labels, _ in train.batches(torch.randperm(len(train), generator=generator), 16,
                                              ("crop_flip",), generator):
            seen += len(labels)
        seen += sum(len(labels) for _, labels in test.plain_batches(16))
        worker = peak_kib(train.pool._loader._iterator._workers[0].pid)
        dataset.close()
        return seen, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, worker

    if __name__ == "__main__":  # the small dataset, then the large one: the process's peak may only grow
        for root in sys.argv[2:]:
            print(*one_epoch(root))
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the worker's peak from /proc")
def test_peak_memory_does_not_grow_with_a_four_times_larger_dataset(tmp_path):
    """Decoded, the 3 × 158 extra images would take 3 × 158 × 160² × 3 bytes = 35 MiB; streamed,
    neither the training process nor its decoding worker grows by more than a few MiB. One process
    reads the dataset, then the one four times larger (a peak never falls, so growth would show)."""
    base = tmp_path / "base"
    lists = write_lt_lists(base, "image_list", classes=8, most=16, least=8, held_out=4, size=(160, 160))
    (tmp_path / "probe.py").write_text(RSS_PROBE)
    roots = []
    for scale in (1, 4):
        root = tmp_path / f"x{scale}"
        for split, entries in lists.items():
            lines = []
            for copy in range(scale):  # distinct files with the same pictures: cheap to make, as large to decode
                for path, label in entries:
                    target = root / f"copy{copy}" / path
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(base / path, target)
                    lines.append(f"copy{copy}/{path} {label}\n")
            (root / f"{split}.txt").write_text("".join(lines))
        roots.append(str(root))
    out = subprocess.run([sys.executable, str(tmp_path / "probe.py"), str(ROOT), *roots], capture_output=True,
                         text=True, timeout=600, check=True).stdout.splitlines()
    small, large = ([int(value) for value in line.split()] for line in out)
    images = sum(len(entries) for entries in lists.values())
    assert small[0] == len(lists["train"]) + len(lists["test"]) and large[0] == 4 * small[0]
    extra_decoded_kib = 3 * images * 160 * 160 * 3 / 1024
    for process in (1, 2):  # the training process, the decoding worker
        grown = large[process] - small[process]
        assert grown < 0.15 * extra_decoded_kib, (process, grown, extra_decoded_kib)
