"""The large benchmarks' splits, read in their official layouts as they are.

- ImageNet-LT and Places-LT (the OLTR split, Liu et al., CVPR 2019,
  github.com/zhmiao/OpenLongTailRecognition-OLTR; the same lists in classifier-balancing, MiSLAS,
  RIDE and PaCo): ``ImageNet_LT_{train,val,test}.txt`` / ``Places_LT_{train,val,test}.txt`` in the
  data root, one ``<path relative to the root> <label>`` per line.
- iNaturalist 2018 (github.com/visipedia/inat_comp/tree/master/2018): the converted lists
  ``iNaturalist18_{train,val}.txt`` most long-tail repositories use, or the official COCO-style
  ``train2018.json`` / ``val2018.json`` (``images``, ``annotations``, ``categories``). The
  validation split is the benchmark's test split (every paper reports on it).
- Any ``path label`` lists: ``train.txt``, ``test.txt`` and optionally ``val.txt`` in the root.
- A class-folder tree: ``train/<class>/…`` and ``test/<class>/…`` (or ``val/`` as the test
  split), optionally ``val/<class>/…`` beside ``test/``.

Counts are derived from the lists, never assumed: the class count is the largest training label
plus one. A listed file that does not exist is skipped and reported (``skipped``); if none
exists the root is wrong and the error says where the first was expected.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

from data.errors import DatasetError
from data.images import is_image_file
from data.stream import ImageList

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
# decoupling's, MiSLAS's and PaCo's iNaturalist statistics (classifier-balancing data/dataloader.py)
INAT_MEAN, INAT_STD = (0.466, 0.471, 0.380), (0.195, 0.194, 0.192)


@dataclass
class SplitFiles:
    """A dataset's splits as file lists, its class names and statistics, and the files skipped."""

    title: str
    splits: dict[str, ImageList]  # "train", "test" and maybe "val"
    class_names: list[str]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    skipped: list[tuple[str, str]]


@dataclass(frozen=True)
class ListLayout:
    """One official list layout: the title, a file per split, the statistics."""

    title: str
    files: dict[str, str]  # split → file name in the root
    optional: tuple[str, ...] = ()
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD


LAYOUTS = {
    "imagenet_lt": ListLayout("ImageNet-LT", {s: f"ImageNet_LT_{s}.txt" for s in ("train", "val", "test")}, ("val",)),
    "places_lt": ListLayout("Places-LT", {s: f"Places_LT_{s}.txt" for s in ("train", "val", "test")}, ("val",)),
    "inat2018": ListLayout("iNaturalist 2018", {"train": "iNaturalist18_train.txt", "test": "iNaturalist18_val.txt"},
                           mean=INAT_MEAN, std=INAT_STD),
    "image_list": ListLayout("image list", {s: f"{s}.txt" for s in ("train", "val", "test")}, ("val",)),
}
INAT_JSON = {"train": "train2018.json", "test": "val2018.json"}
RawSplits = dict[str, tuple[Path, list[str], list[int]]]  # split → (root, paths, labels)


def read_layout(kind: str, root: Path) -> SplitFiles:
    """The splits of ``kind`` (a key of ``LAYOUTS``, or ``image_tree``) under ``root``."""
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DatasetError(f"The data root {root} does not exist; point --data-root at the folder holding "
                           f"{_expected(kind)}")
    if kind == "image_tree":
        return _read_tree(root)
    layout = LAYOUTS[kind]
    if kind == "inat2018" and not (root / layout.files["train"]).is_file() and (root / INAT_JSON["train"]).is_file():
        return _check(layout.title, *_read_coco(root), layout.mean, layout.std)
    pairs = {}
    for split, name in layout.files.items():
        path = root / name
        if not path.is_file():
            if split in layout.optional:
                continue
            raise DatasetError(f"{name} not found: expected {path} ({layout.title} needs {_expected(kind)} "
                               "in the data root)")
        pairs[split] = _read_list(path)
    return _check(layout.title, {split: (root, *p) for split, p in pairs.items()}, None, layout.mean, layout.std)


def _expected(kind: str) -> str:
    if kind == "image_tree":
        return "train/<class>/… and test/<class>/… (or val/<class>/…)"
    files = ", ".join(LAYOUTS[kind].files.values())
    return files + (" (or train2018.json and val2018.json)" if kind == "inat2018" else "")


def _read_list(path: Path) -> tuple[list[str], list[int]]:
    """``<path> <label>`` per line, space- or tab-separated (a path may hold spaces: the label is the last field)."""
    paths, labels = [], []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(f"cannot read {path}: {getattr(error, 'strerror', None) or error}") from None
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        name, label = (line.rsplit(None, 1) + [""])[:2]
        if not label or not label.lstrip("-").isdigit():
            raise DatasetError(f"{path.name} line {number}: expected '<path> <label>', got {line[:80]!r}")
        paths.append(name.strip())
        labels.append(int(label))
    return paths, labels


def _read_coco(root: Path) -> tuple[RawSplits, list[str]]:
    """The iNaturalist COCO-style files; labels are category ids ranked in sorted order (0..C−1,
    which for iNaturalist 2018 are the ids themselves). The category names come with them."""
    splits = {}
    categories: dict[int, str] = {}
    for split, name in INAT_JSON.items():
        path = root / name
        if not path.is_file():
            raise DatasetError(f"{name} not found: expected {path} (iNaturalist 2018 needs train2018.json and "
                               "val2018.json, or iNaturalist18_train.txt and iNaturalist18_val.txt)")
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            files = {int(image["id"]): str(image["file_name"]) for image in raw["images"]}
            owned = [(files[int(a["image_id"])], int(a["category_id"])) for a in raw["annotations"]]
            categories.update({int(c["id"]): str(c.get("name", c["id"])) for c in raw.get("categories", [])})
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise DatasetError(f"{path} is not a COCO-style file with images, annotations and categories "
                               f"({type(error).__name__}: {error})") from None
        splits[split] = (root, [f for f, _ in owned], [c for _, c in owned])
    ids = sorted(set(categories) | {c for _, _, labels in splits.values() for c in labels})
    rank = {category: k for k, category in enumerate(ids)}
    names = [categories.get(category, str(category)) for category in ids]
    return {split: (r, paths, [rank[c] for c in labels]) for split, (r, paths, labels) in splits.items()}, names


def _read_tree(root: Path) -> SplitFiles:
    train = root / "train"
    test = root / "test" if (root / "test").is_dir() else root / "val"
    if not train.is_dir() or not test.is_dir():
        raise DatasetError(f"{root} needs train/<class>/… and test/<class>/… (or val/<class>/…) for the image "
                           f"tree layout; found {'train/' if train.is_dir() else 'no train/'}")
    classes = sorted(p.name for p in train.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(classes) < 2:
        raise DatasetError(f"{train} needs at least two class sub-folders ({len(classes)} found)")
    folders = {"train": train, "test": test}
    if test.name == "test" and (root / "val").is_dir():
        folders["val"] = root / "val"
    splits = {}
    for split, folder in folders.items():
        unknown = sorted({p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")} - set(classes))
        if unknown:
            raise DatasetError(f"{folder} has class folders that {train} lacks: {', '.join(unknown[:5])}")
        paths, labels = [], []
        for label, name in enumerate(classes):
            for directory, _, files in sorted(os.walk(folder / name)):
                for file in sorted(files):
                    if is_image_file(Path(file)):
                        paths.append(str(Path(directory, file).relative_to(root).as_posix()))
                        labels.append(label)
        splits[split] = (root, paths, labels)
    return _check("image tree", splits, classes, IMAGENET_MEAN, IMAGENET_STD)


def _check(title: str, raw: RawSplits, names: list[str] | None, mean: tuple, std: tuple) -> SplitFiles:
    """Labels in range, every class trained on, files present (missing ones skipped and listed)."""
    _, _, train_labels = raw["train"]
    if not train_labels:
        raise DatasetError(f"the {title} training list is empty")
    if min(train_labels) < 0:
        raise DatasetError(f"the {title} training list has a negative label ({min(train_labels)})")
    classes = max(train_labels) + 1 if names is None else len(names)
    counts = np.bincount(np.asarray(train_labels), minlength=classes)
    if (counts == 0).any():
        empty = int(np.flatnonzero(counts == 0)[0])
        raise DatasetError(f"class {empty} has no image in the {title} training list; every label from 0 to "
                           f"{classes - 1} needs at least one")
    skipped: list[tuple[str, str]] = []
    splits = {}
    for split, (split_root, paths, labels) in raw.items():
        bad = [label for label in labels if not 0 <= label < classes]
        if bad:
            raise DatasetError(f"the {title} {split} list has label {bad[0]}, but training has {classes} classes "
                               f"(labels 0 to {classes - 1})")
        splits[split] = _existing(title, split, ImageList.from_pairs(split_root, paths, labels), skipped)
    return SplitFiles(title, splits, names or _class_names(splits["train"], classes), mean, std, skipped)


def _existing(title: str, split: str, images: ImageList, skipped: list[tuple[str, str]]) -> ImageList:
    present = np.fromiter((os.path.isfile(images.path(i)) for i in range(len(images))), dtype=bool, count=len(images))
    if len(images) and not present.any():
        raise DatasetError(f"none of the {len(images)} images of the {title} {split} list exists; the first was "
                           f"expected at {images.path(0)} (is --data-root the folder the list's paths start from?)")
    skipped.extend((str(images.path(i)), "file not found") for i in np.flatnonzero(~present))
    return images if present.all() else images.subset(np.flatnonzero(present))


def _class_names(train: ImageList, classes: int) -> list[str]:
    """Each class named by the folder its first training image is in, below the folders all classes
    share (``train/n01440764/…`` → ``n01440764``); "0", "1", … when those are not unique."""
    first = {}
    for path, label in zip(train.paths, train.labels.tolist()):
        first.setdefault(label, PurePosixPath(path.decode("utf-8")).parent.parts)
    folders = [first.get(label, ()) for label in range(classes)]
    shared = 0
    while all(len(f) > shared + 1 for f in folders) and len({f[shared] for f in folders}) == 1:
        shared += 1
    names = ["/".join(f[shared:]) for f in folders]
    return names if all(names) and len(set(names)) == classes else [str(label) for label in range(classes)]

