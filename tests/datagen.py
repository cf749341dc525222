"""Test data in the real on-disk formats, small, deterministic and learnable.

- ``write_cifar``: CIFAR-10/100 in the official python-pickle layout, byte for byte the way the
  real files are pickled (Python 2 ``cPickle`` protocol 2: byte strings, bytes keys, numpy
  arrays through ``numpy.core.multiarray._reconstruct``), with the real meta files.
- ``write_image_folder``: a folder of class sub-folders holding real PNG/JPEG/BMP/WebP files
  in several modes (RGB, L, RGBA, 16-bit, palette).

Every class has its own colour and stripe pattern plus noise, so a model can learn them.
"""
from __future__ import annotations

import io
import json
import pickle
import struct
from pathlib import Path

import numpy as np
from PIL import Image

from data.cifar import CIFAR10_CLASSES, CIFAR100_CLASSES, LAYOUTS

CIFAR100_SUPERCLASSES = {
    "aquatic_mammals": ("beaver", "dolphin", "otter", "seal", "whale"),
    "fish": ("aquarium_fish", "flatfish", "ray", "shark", "trout"),
    "flowers": ("orchid", "poppy", "rose", "sunflower", "tulip"),
    "food_containers": ("bottle", "bowl", "can", "cup", "plate"),
    "fruit_and_vegetables": ("apple", "mushroom", "orange", "pear", "sweet_pepper"),
    "household_electrical_devices": ("clock", "keyboard", "lamp", "telephone", "television"),
    "household_furniture": ("bed", "chair", "couch", "table", "wardrobe"),
    "insects": ("bee", "beetle", "butterfly", "caterpillar", "cockroach"),
    "large_carnivores": ("bear", "leopard", "lion", "tiger", "wolf"),
    "large_man-made_outdoor_things": ("bridge", "castle", "house", "road", "skyscraper"),
    "large_natural_outdoor_scenes": ("cloud", "forest", "mountain", "plain", "sea"),
    "large_omnivores_and_herbivores": ("camel", "cattle", "chimpanzee", "elephant", "kangaroo"),
    "medium_mammals": ("fox", "porcupine", "possum", "raccoon", "skunk"),
    "non-insect_invertebrates": ("crab", "lobster", "snail", "spider", "worm"),
    "people": ("baby", "boy", "girl", "man", "woman"),
    "reptiles": ("crocodile", "dinosaur", "lizard", "snake", "turtle"),
    "small_mammals": ("hamster", "mouse", "rabbit", "shrew", "squirrel"),
    "trees": ("maple_tree", "oak_tree", "palm_tree", "pine_tree", "willow_tree"),
    "vehicles_1": ("bicycle", "bus", "motorcycle", "pickup_truck", "train"),
    "vehicles_2": ("lawn_mower", "rocket", "streetcar", "tank", "tractor"),
}


# ---------------------------------------------------------------- class-dependent pictures


def class_images(labels: np.ndarray, num_classes: int, height: int, width: int, seed: int) -> np.ndarray:
    """``(N, 3, height, width)`` uint8: class colour + class stripe direction/frequency + noise."""
    rng = np.random.default_rng(seed)
    palette = np.random.default_rng(12345).uniform(40, 215, size=(num_classes, 3))
    angle = np.pi * np.arange(num_classes) / num_classes
    frequency = 1.0 + np.arange(num_classes) % 3
    ys, xs = np.mgrid[0:height, 0:width] / max(height, width)
    n = len(labels)
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1, 1))
    along = np.cos(angle[labels])[:, None, None] * xs + np.sin(angle[labels])[:, None, None] * ys
    stripes = 45.0 * np.sin(2 * np.pi * frequency[labels][:, None, None] * along + phase)
    pictures = palette[labels][:, :, None, None] + stripes[:, None] + rng.normal(0, 12, size=(n, 3, height, width))
    return np.clip(np.rint(pictures), 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- CIFAR


class _Py2Pickler(pickle._Pickler):
    """Writes str and bytes as Python 2 byte strings, as ``cPickle`` did for the real files."""

    dispatch = pickle._Pickler.dispatch.copy()

    def _save_byte_string(self, obj: str | bytes) -> None:
        raw = obj.encode("latin-1") if isinstance(obj, str) else obj
        if len(raw) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(raw)]) + raw)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(raw)) + raw)
        self.memoize(obj)

    dispatch[str] = _save_byte_string
    dispatch[bytes] = _save_byte_string


def _write_py2_pickle(path: Path, obj: dict) -> None:
    buffer = io.BytesIO()
    _Py2Pickler(buffer, protocol=2).dump(obj)
    # numpy 1 (which pickled the real files) names the module numpy.core.multiarray.
    path.write_bytes(buffer.getvalue().replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n"))


def write_cifar(root: Path, name: str, train_per_class: int, test_per_class: int, seed: int = 0) -> Path:
    """Write a small CIFAR-10 (``name="cifar10"``) or CIFAR-100 in the real layout under
    ``root``; returns the dataset folder (``root/cifar-10-batches-py`` or ``root/cifar-100-python``).
    Labels are shuffled as in the real files; the train set is split over 5 batches for CIFAR-10."""
    layout = LAYOUTS[name]
    classes = CIFAR10_CLASSES if name == "cifar10" else CIFAR100_CLASSES
    folder = Path(root) / layout.folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    splits = {}
    for split, per_class in (("train", train_per_class), ("test", test_per_class)):
        labels = rng.permutation(np.repeat(np.arange(len(classes)), per_class))
        images = class_images(labels, len(classes), 32, 32, seed=int(rng.integers(2**31)))
        splits[split] = (labels, images.reshape(len(labels), 3072))

    if name == "cifar10":
        train_labels, train_data = splits["train"]
        parts = np.array_split(np.arange(len(train_labels)), len(layout.train_files))
        for number, (file, part) in enumerate(zip(layout.train_files, parts), start=1):
            _write_py2_pickle(folder / file, _cifar10_batch(
                f"training batch {number} of {len(parts)}", train_labels[part], train_data[part], classes))
        test_labels, test_data = splits["test"]
        _write_py2_pickle(folder / "test_batch",
                          _cifar10_batch("testing batch 1 of 1", test_labels, test_data, classes))
        _write_py2_pickle(folder / "batches.meta", {
            b"num_cases_per_batch": 10000, b"label_names": [c.encode() for c in classes], b"num_vis": 3072})
    else:
        coarse_names = sorted(CIFAR100_SUPERCLASSES)
        coarse_of = {fine: coarse_names.index(coarse)
                     for coarse, fines in CIFAR100_SUPERCLASSES.items() for fine in fines}
        for split, (labels, data) in splits.items():
            _write_py2_pickle(folder / split, {
                b"filenames": _filenames(labels, classes),
                b"batch_label": f"{'training' if split == 'train' else 'testing'} batch 1 of 1".encode(),
                b"fine_labels": [int(x) for x in labels],
                b"coarse_labels": [coarse_of[classes[x]] for x in labels],
                b"data": data,
            })
        _write_py2_pickle(folder / "meta", {
            b"fine_label_names": [c.encode() for c in classes],
            b"coarse_label_names": [c.encode() for c in coarse_names],
        })
    return folder


def _cifar10_batch(batch_label: str, labels: np.ndarray, data: np.ndarray, classes) -> dict:
    return {
        b"batch_label": batch_label.encode(),
        b"labels": [int(x) for x in labels],
        b"data": data,
        b"filenames": _filenames(labels, classes),
    }


def _filenames(labels: np.ndarray, classes) -> list[bytes]:
    return [f"{classes[x]}_s_{i:06d}.png".encode() for i, x in enumerate(labels)]


# ---------------------------------------------------------------- image folders

# Modes each format is written in, cycled through within a class.
FORMAT_MODES = {
    "png": ("RGB", "L", "RGBA", "I;16", "P"),
    "jpg": ("RGB", "L"),
    "bmp": ("RGB", "L", "P"),
    "webp": ("RGB", "RGBA"),
}


def write_image_folder(
    root: Path,
    class_counts: dict[str, int] | list[int],
    size: tuple[int, int] = (40, 30),
    split: bool = False,
    formats: tuple[str, ...] = ("png", "jpg", "bmp", "webp"),
    test_per_class: int = 3,
) -> Path:
    """Write ``root/<class>/<n>.<ext>`` images (``size`` is width × height); a list of counts
    names the classes ``class_00``, ``class_01``, …. With ``split`` the counts go to
    ``root/train/<class>`` and ``test_per_class`` images to ``root/test/<class>``. Returns ``root``."""
    if not isinstance(class_counts, dict):
        class_counts = {f"class_{i:02d}": n for i, n in enumerate(class_counts)}
    root = Path(root)
    targets = [(root / "train", class_counts), (root / "test", dict.fromkeys(class_counts, test_per_class))] \
        if split else [(root, class_counts)]
    width, height = size
    for seed, (folder, counts) in enumerate(targets):
        for label, (name, count) in enumerate(counts.items()):
            pictures = class_images(np.full(count, label), len(class_counts), height, width, seed=1000 * seed + label)
            (folder / name).mkdir(parents=True, exist_ok=True)
            for k, picture in enumerate(pictures):
                fmt = formats[k % len(formats)]
                modes = FORMAT_MODES[fmt]
                image = _in_mode(picture.transpose(1, 2, 0), modes[(k // len(formats)) % len(modes)])
                image.save(folder / name / f"{name}_{k:03d}.{fmt}")
    return root


def _in_mode(rgb: np.ndarray, mode: str) -> Image.Image:
    image = Image.fromarray(rgb)
    if mode == "RGB":
        return image
    if mode == "I;16":
        return Image.fromarray(np.asarray(image.convert("L"), dtype=np.uint16) * 257)
    if mode == "P":
        return image.convert("P", palette=Image.Palette.ADAPTIVE)
    if mode == "RGBA":
        alpha = np.full(rgb.shape[:2], 255, np.uint8)
        alpha[: rgb.shape[0] // 4] = 128  # a half-transparent band, composited on white when read
        return Image.fromarray(np.dstack([rgb, alpha]))
    return image.convert(mode)


# ---------------------------------------------------------------- the large benchmarks' layouts


def long_tail_counts(classes: int, most: int, least: int) -> list[int]:
    """Exponentially falling counts from ``most`` (class 0) to ``least`` (the last class)."""
    return [int(most * (least / most) ** (c / max(1, classes - 1))) for c in range(classes)]


def _write_jpegs(root: Path, entries: list[tuple[str, int]], classes: int, size: tuple[int, int], seed: int) -> None:
    """One JPEG per ``(relative path, label)``; a class's pictures share its colour and stripes,
    and the images vary in shape around ``size`` (width × height) as real photos do."""
    rng = np.random.default_rng(seed)
    for k, (relative, label) in enumerate(entries):
        width, height = (int(s * rng.uniform(0.8, 1.25)) for s in size)
        picture = class_images(np.array([label]), classes, height, width, seed=seed * 100_003 + k)[0]
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(picture.transpose(1, 2, 0)).save(path, quality=90)


def write_lt_lists(root: Path, kind: str = "imagenet_lt", classes: int = 12, most: int = 24, least: int = 2,
                   held_out: int = 3, size: tuple[int, int] = (48, 40), seed: int = 0) -> dict[str, list]:
    """The OLTR layout: ``ImageNet_LT_{train,val,test}.txt`` (``kind="places_lt"``: ``Places_LT_…``;
    ``"inat2018"``: ``iNaturalist18_{train,val}.txt``; ``"image_list"``: ``{train,val,test}.txt``)
    with ``<path> <label>`` lines and the JPEGs they name under ``root``, in each benchmark's own
    folder shape. Returns split → ``[(path, label), …]``."""
    counts = long_tail_counts(classes, most, least)
    folder = {"imagenet_lt": lambda c: f"n{1440764 + c:08d}", "places_lt": lambda c: f"{'abc'[c % 3]}/place_{c:02d}",
              "inat2018": lambda c: f"Plantae/{c}", "image_list": lambda c: f"class_{c:02d}"}[kind]
    prefix = {"imagenet_lt": "ImageNet_LT_", "places_lt": "Places_LT_", "inat2018": "iNaturalist18_",
              "image_list": ""}[kind]
    top = {"imagenet_lt": ("train", "val", "val"), "places_lt": ("data_256", "val_256", "val_256"),
           "inat2018": ("train_val2018",) * 3, "image_list": ("images",) * 3}[kind]
    splits = {"train": counts, "val": [held_out] * classes, "test": [held_out] * classes}
    if kind == "inat2018":
        splits = {"train": counts, "val": [held_out] * classes}  # iNaturalist's val is its test split
    lists = {}
    for number, (split, per_class) in enumerate(splits.items()):
        base = top[min(number, 2)]
        entries = [(f"{base}/{folder(c)}/{split}_{c:02d}_{k:04d}.jpg", c) for c in range(classes) for k in range(per_class[c])]
        _write_jpegs(root, entries, classes, size, seed + number)
        (root / f"{prefix}{split}.txt").write_text("".join(f"{p} {c}\n" for p, c in entries))
        lists[split] = entries
    return lists


def write_inat_json(root: Path, classes: int = 12, most: int = 24, least: int = 2, held_out: int = 3,
                    size: tuple[int, int] = (48, 40), seed: int = 0) -> dict[str, list]:
    """iNaturalist 2018's COCO-style ``train2018.json`` / ``val2018.json`` (images, annotations,
    categories with supercategory) and the JPEGs under ``train_val2018/<supercategory>/<id>/``."""
    counts = long_tail_counts(classes, most, least)
    categories = [{"id": c, "name": f"Species {c}", "supercategory": "Plantae", "kingdom": "Plantae"}
                  for c in range(classes)]
    lists = {}
    next_id = 0
    for number, (split, per_class) in enumerate((("train", counts), ("val", [held_out] * classes))):
        entries = [(f"train_val2018/Plantae/{c}/{split}{c:02d}{k:04d}.jpg", c)
                   for c in range(classes) for k in range(per_class[c])]
        _write_jpegs(root, entries, classes, size, seed + number)
        images = [{"id": next_id + i, "file_name": path, "width": size[0], "height": size[1]}
                  for i, (path, _) in enumerate(entries)]
        annotations = [{"id": next_id + i, "image_id": next_id + i, "category_id": c}
                       for i, (_, c) in enumerate(entries)]
        next_id += len(entries)
        (root / f"{split}2018.json").write_text(json.dumps(
            {"info": {"year": 2018}, "images": images, "annotations": annotations, "categories": categories}))
        lists[split] = entries
    return lists
