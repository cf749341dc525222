"""Checkpoints: safe loading, key remapping, architecture inference and atomic saving.

Every file is read with ``torch.load(path, map_location="cpu", weights_only=True)``: a file
that needs arbitrary pickled Python objects (a whole pickled model, a ``__reduce__`` payload)
is refused with a ``CheckpointError`` and nothing in it runs. Only numeric numpy scalars and
arrays are allow-listed beside PyTorch's own safe types, because many research scripts store
``best_acc1`` as one; they rebuild from raw bytes and run no code.

Our format (``FORMAT``) is a plain dict::

    {"format": "long-tail-studio/3",
     "state_dict": {...},                          # the model's tensors
     "meta": {"model": ModelSpec.to_dict(), "arch", "head", "num_classes", "class_names",
              "class_counts", "dataset", "mean", "std", "image_size", "method", "method_params",
              "logit_scale", "metrics", "stage",
              "ensemble": {"t1", "t2", "searched", "old_method", "old_method_params",
                           "old_logit_scale"} (optional)},
     "heads": {"old": {"linear.weight", …}} (optional extra heads, keyed like the model's),
     "method_state": {...},                        # the method's own state
     "extra": {...}}                               # resume state (optimiser, stage, RNG, step hooks)

Older formats load as before: ``long-tail-studio/1`` (``arch``/``head``/``num_classes`` meta and
an old head as ``{"weight", "bias"}``) and ``/2`` (RIDE's "router trained" in the method state,
where format 3 keeps it in the model's ``router_trained`` buffer; an ensemble's old method
unnamed, its plain logits × ``old_logit_scale``). Foreign files are accepted as plain state dicts,
nested under a key such as ``state_dict`` or ``model`` (siblings like ``epoch`` are ignored) or
saved in parts; ``module.`` (DataParallel) prefixes are removed and missing BatchNorm counters
added here. Everything else about a foreign file is its model family's knowledge
(``models.registry``, after timm's ``checkpoint_filter_fn`` and ``pretrained_cfg``): the family
that recognises the tensors filters its own key layouts (backbone prefixes, ``fc`` →
``linear``, official buffers) and says what its outputs mean (the prediction method, the logit
scale). Each repair is recorded in ``Checkpoint.notes``.
"""
from __future__ import annotations

import os
import pickle
import pickletools
import re
import tempfile
import warnings
from collections import Counter, OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from errors import UserError
from models import (LTModel, ModelSpec, UnrecognisedWeights, create_model, family, join_parts, pretrained_cfg,
                    recognise, spec_for)

FORMAT = "long-tail-studio/3"
READABLE_FORMATS = ("long-tail-studio/1", "long-tail-studio/2", FORMAT)

# Where research scripts nest the weights, most specific first.
NESTED_KEYS = ("state_dict", "model_state_dict", "model_state", "model", "net", "network",
               "state_dict_model", "weights", "params", "module")
DATA_PARALLEL = "module."
LIST_LIMIT = 8  # keys listed per category in a mismatch report

_CODE_OPCODES = {"GLOBAL", "STACK_GLOBAL", "INST", "OBJ", "REDUCE", "NEWOBJ", "NEWOBJ_EX"}
_ZIP_MAGIC = b"PK\x03\x04"
_PICKLE_PROTO = 0x80
_FILE_KINDS = ((b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
               (b"BM", "a BMP image"), (b"%PDF", "a PDF document"))


class CheckpointError(UserError):
    """A checkpoint file that cannot be used; the message names the file and what to do."""


class CheckpointMismatch(CheckpointError):
    """The checkpoint's tensors do not fit the chosen model. The message is one line (what differs
    first, the likeliest cause); ``details`` lists every key that differs."""

    def __init__(self, message: str, missing: list[str], unexpected: list[str],
                 shape_mismatches: list[tuple[str, tuple[int, ...], tuple[int, ...]]], hints: list[str],
                 details: str = ""):
        super().__init__(message)
        self.details = details
        self.missing = missing
        self.unexpected = unexpected
        self.shape_mismatches = shape_mismatches  # (key, checkpoint shape, model shape)
        self.hints = hints


@dataclass
class Checkpoint:
    """A loaded checkpoint with keys already in its model family's layout.

    ``meta`` always holds ``arch``, ``num_classes``, ``head`` and ``logit_scale`` when they could
    be inferred from the tensors; ``source`` is ``"long-tail-studio"``, ``"state_dict"`` or
    ``"nested:<key>"``; ``notes`` says in words what was remapped or inferred.
    """

    state_dict: dict[str, torch.Tensor]
    meta: dict[str, Any]
    heads: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    source: str = "state_dict"
    path: Path | None = None
    method_state: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.name if self.path else "the checkpoint"

    @property
    def spec(self) -> ModelSpec | None:
        """The model the tensors belong to, or None when it could not be told."""
        raw = self.meta.get("model")
        return ModelSpec.from_dict(raw) if raw else None

    def describe(self) -> str:
        """One line for lists and status bars, e.g. ``resnet32, 100 classes, linear head, ce``."""
        meta, spec = self.meta, self.spec
        parts = [spec.describe() if spec else "unknown architecture"]
        parts += [str(meta[key]) for key in ("method", "dataset") if meta.get(key)]
        if "ensemble" in meta and "old" in self.heads:
            parts.append("ensemble")
        return ", ".join(parts)


# ----------------------------------------------------------------------------------- saving

def save_checkpoint(path: str | Path, state_dict: Mapping[str, torch.Tensor], meta: Mapping[str, Any],
                    heads: Mapping[str, Mapping[str, torch.Tensor]] | None = None,
                    extra: Mapping[str, Any] | None = None, method_state: Mapping[str, Any] | None = None) -> Path:
    """Write our format atomically (temporary file in the same folder, then ``os.replace``).

    ``meta`` needs ``model`` (a ``ModelSpec.to_dict()``), or a CIFAR ResNet's ``arch``, ``head``
    and ``num_classes`` from which it is made. ``extra`` holds resume state
    (optimiser and scheduler state dicts, ``torch.Generator.get_state()`` ByteTensors). All of it
    must load with ``weights_only=True``: dicts, lists, tuples, sets, numbers, strings, None,
    tensors, devices and dtypes pass; numpy arrays become tensors and numpy scalars Python
    numbers (so ``np.random.get_state()`` comes back with its key array as an int64 tensor and
    ``random.getstate()`` as nested tuples); any other object raises ``TypeError`` (a
    programming error, not a user's).
    """
    meta = dict(meta)
    if "model" not in meta and all(key in meta for key in ("arch", "head", "num_classes")):
        meta["model"] = spec_for(meta["arch"], int(meta["num_classes"]), meta["head"]).to_dict()
    if "model" not in meta:
        raise ValueError("checkpoint meta lacks the model spec ('model', or arch, head and num_classes)")
    payload = {
        "format": FORMAT,
        "state_dict": {key: _cpu_tensor(value) for key, value in state_dict.items()},
        "meta": _weights_only_safe(dict(meta), "meta"),
        "heads": {name: {key: _cpu_tensor(value) for key, value in head.items()}
                  for name, head in (heads or {}).items()},
        "method_state": _weights_only_safe(dict(method_state or {}), "method_state"),
        "extra": _weights_only_safe(dict(extra or {}), "extra"),
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(payload, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return path


def _cpu_tensor(value: torch.Tensor) -> torch.Tensor:
    return value.detach().cpu()


_ATOMS = (type(None), bool, int, float, complex, str, bytes, torch.device, torch.dtype)


def _weights_only_safe(value: Any, where: str) -> Any:
    """``value`` with numpy converted and every part checked to load under ``weights_only``."""
    if isinstance(value, torch.Tensor):
        return _cpu_tensor(value)
    if type(value) in _ATOMS or isinstance(value, torch.Size):
        return value
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.array(value))
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if type(value) in (dict, OrderedDict, Counter):
        return type(value)({_weights_only_safe(k, where): _weights_only_safe(v, f"{where}.{k}")
                            for k, v in value.items()})
    if type(value) in (list, tuple, set):
        return type(value)(_weights_only_safe(item, f"{where}[]") for item in value)
    raise TypeError(f"{where}: a {type(value).__name__} cannot be stored in a weights_only checkpoint")


# ---------------------------------------------------------------------------------- loading

def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read any supported checkpoint safely, remap its keys and fill what meta lacks."""
    path = Path(path)
    raw = _safe_torch_load(path)
    if isinstance(raw, Mapping) and isinstance(raw.get("format"), str) and raw["format"].startswith("long-tail-studio/"):
        checkpoint = _ours(raw, path)
    else:
        state_dict, source, notes = _find_state_dict(raw, path)
        checkpoint = Checkpoint(state_dict=state_dict, meta={}, notes=notes, source=source, path=path)
    checkpoint.state_dict = _remap_keys(checkpoint.state_dict, checkpoint.notes)
    _complete_meta(checkpoint)
    return checkpoint


def _numpy_globals() -> list:
    """numpy's scalar/array rebuilders under both the numpy 1 and numpy 2 module names."""
    multiarray = np._core.multiarray if hasattr(np, "_core") else np.core.multiarray
    numeric_dtypes = {type(np.dtype(code)) for code in "?bBhHiIlLqQefdgFD"}
    allowed: list = [np.dtype, np.ndarray, *numeric_dtypes]
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed += [(multiarray.scalar, f"{module}.scalar"), (multiarray._reconstruct, f"{module}._reconstruct")]
    return allowed


def _safe_torch_load(path: Path) -> Any:
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file" if not path.exists()
                              else f"{path} is a folder, not a checkpoint file")
    try:
        with path.open("rb") as file:
            head = file.read(8)
    except OSError as error:
        raise CheckpointError(f"{path}: cannot be read ({error.strerror or error})") from None
    if not head.startswith(_ZIP_MAGIC) and (not head or head[0] != _PICKLE_PROTO):
        raise CheckpointError(f"{path.name} is {_describe_file(path, head)}, not a PyTorch checkpoint "
                              "(a .pt/.pth file written by torch.save)")
    try:
        with torch.serialization.safe_globals(_numpy_globals()), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Detected pickle protocol")  # refused below if unsafe
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        unsafe = _unsafe_globals(path, str(error))
        if unsafe is not None:
            names = f" ({', '.join(unsafe[:4])})" if unsafe else ""
            raise CheckpointError(
                f"{path.name} contains executable code{names} and was not loaded: loading it could run any "
                "program on this computer. Only checkpoints of plain tensors are accepted. If you trust its "
                "source, re-save just the weights with torch.save(model.state_dict(), path).") from None
        raise CheckpointError(f"{path.name} is damaged or not a PyTorch checkpoint and could not be read "
                              f"({_torch_reason(error)}); copy or download it again") from None
    except MemoryError:
        raise CheckpointError(f"{path.name} is too large to load into this computer's memory") from None
    except Exception as error:  # random bytes make the unpickler fail in any way (IndexError, struct.error, …)
        raise CheckpointError(f"{path.name} is damaged or incomplete and could not be read "
                              f"({_torch_reason(error)}); copy or download it again") from None


def _torch_reason(error: BaseException) -> str:
    """The useful part of a torch.load error, one short clause. PyTorch's advice to retry with
    ``weights_only=False`` is never relayed: that would run whatever code the file holds."""
    text = " ".join(str(error).split())
    if "weights_only" in text or "Weights only load failed" in text:
        detail = re.search(r"WeightsUnpickler error: (.+?)(?:\.(?:\s|$)|$)", text)
        text = detail.group(1) if detail and "weights_only" not in detail.group(1) else "not a valid pickle stream"
    text = re.split(r"\. (?=This is an internal|If you are seeing|Please )", text)[0].rstrip(".")
    text = text or type(error).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _unsafe_globals(path: Path, message: str) -> list[str] | None:
    """The Python objects a refused file would have built, or ``None`` if it needs none (then it is
    simply unreadable). Inspects the pickle without running it."""
    named = re.findall(r"GLOBAL ([\w.]+)", message) + re.findall(r"but got <class '([\w.]+)'>", message)
    if named:
        return sorted(set(named))
    try:
        found = torch.serialization.get_unsafe_globals_in_checkpoint(path)  # zip files
        if found:
            return found
    except (ValueError, RuntimeError, OSError):
        pass
    try:
        with path.open("rb") as file:
            return [] if any(op.name in _CODE_OPCODES for op, _, _ in pickletools.genops(file)) else None
    except Exception:  # a damaged pickle stream: nothing to report beyond "unreadable"
        return None


def _describe_file(path: Path, head: bytes) -> str:
    if not head:
        return "empty"
    for magic, kind in _FILE_KINDS:
        if head.startswith(magic):
            return kind
    try:
        with path.open("rb") as file:
            file.read(4096).decode("utf-8")
        return "a text file"
    except UnicodeDecodeError:
        return "an unknown kind of file"


def _ours(raw: Mapping[str, Any], path: Path) -> Checkpoint:
    if raw["format"] not in READABLE_FORMATS:
        raise CheckpointError(f"{path.name} was written by another version of Long-Tail Studio "
                              f"(format {raw['format']!r}, this app reads {', '.join(READABLE_FORMATS)}); update the app")
    if not _is_state_dict(raw.get("state_dict")) or not isinstance(raw.get("meta"), Mapping):
        raise CheckpointError(f"{path.name} is damaged: its state_dict or meta is missing")
    meta = dict(raw["meta"])
    heads = {name: dict(head) for name, head in (raw.get("heads") or {}).items()}
    state_dict, method_state = dict(raw["state_dict"]), dict(raw.get("method_state") or {})
    if raw["format"] == "long-tail-studio/1":  # one ``linear`` head, its old copy saved without the prefix
        heads = {name: {f"linear.{key}": value for key, value in head.items()} for name, head in heads.items()}
    if raw["format"] == "long-tail-studio/2" and "router_trained" in method_state:  # now the model's buffer
        trained = method_state.pop("router_trained")
        if any(key.startswith("expert_help_pred_fc.") for key in state_dict):
            state_dict["router_trained"] = torch.tensor(trained is not False)  # None: unknown, trusted
    return Checkpoint(state_dict=state_dict, meta=meta, heads=heads, extra=dict(raw.get("extra") or {}),
                      source="long-tail-studio", path=path, method_state=method_state)


def _is_state_dict(value: Any) -> bool:
    return (isinstance(value, Mapping) and len(value) > 0
            and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in value.items()))


def _find_state_dict(raw: Any, path: Path) -> tuple[dict[str, torch.Tensor], str, list[str]]:
    """The tensors of a foreign file: the file itself, a model saved in parts, or a dict nested
    under a known key."""
    if _is_state_dict(raw):
        return dict(raw), "state_dict", []
    joined = join_parts(raw) if isinstance(raw, Mapping) else None  # a family's model saved in parts
    if joined is not None:
        return joined[0], "parts", [joined[1]]
    if isinstance(raw, Mapping):
        nested = [key for key in NESTED_KEYS if _is_state_dict(raw.get(key))]
        nested += [key for key, value in raw.items() if key not in nested and _is_state_dict(value)]
        if nested:
            key = nested[0]
            others = [str(k) for k in raw if k != key]
            notes = [f"took the weights from the entry {key!r}"
                     + (f"; ignored {', '.join(others[:LIST_LIMIT])}" if others else "")]
            return dict(raw[key]), f"nested:{key}", notes
        tensors = {k: v for k, v in raw.items() if isinstance(k, str) and isinstance(v, torch.Tensor)}
        if tensors:
            ignored = [str(k) for k in raw if k not in tensors]
            return tensors, "state_dict", [f"ignored non-tensor entries {', '.join(ignored[:LIST_LIMIT])}"]
        listed = ", ".join(map(str, list(raw)[:LIST_LIMIT])) or "none"
        raise CheckpointError(f"{path.name} holds no model weights (its top-level entries are: {listed})")
    raise CheckpointError(f"{path.name} holds a {type(raw).__name__}, not model weights")


def _remap_keys(state_dict: dict[str, torch.Tensor], notes: list[str]) -> dict[str, torch.Tensor]:
    """What any PyTorch file may need: DataParallel's ``module.`` removed, and the BatchNorm
    counters older PyTorch versions did not save added. Key layouts are the families' business."""
    hits = sum(key.startswith(DATA_PARALLEL) for key in state_dict)
    if hits:
        stripped = {_strip(key, DATA_PARALLEL): value for key, value in state_dict.items()}
        if len(stripped) == len(state_dict):
            notes.append(f"removed the prefix {DATA_PARALLEL!r} from {hits} keys (saved from DataParallel)")
            state_dict = stripped
    counters = [key[: -len("running_mean")] + "num_batches_tracked" for key in state_dict
                if key.endswith(".running_mean")]
    counters = [key for key in counters if key not in state_dict]
    if counters:
        state_dict = {**state_dict, **{key: torch.tensor(0, dtype=torch.long) for key in counters}}
        notes.append(f"added {len(counters)} batch-norm num_batches_tracked counters (older PyTorch files lack them)")
    return state_dict


def _strip(key: str, prefix: str) -> str:
    while key.startswith(prefix):
        key = key[len(prefix):]
    return key


def _complete_meta(checkpoint: Checkpoint) -> None:
    """Give every checkpoint a model spec: ours carry one (or, format 1, its parts); foreign files
    are recognised from their tensors by the model families."""
    meta, notes = checkpoint.meta, checkpoint.notes
    if "model" not in meta and all(key in meta for key in ("arch", "head", "num_classes")):
        meta["model"] = spec_for(meta["arch"], int(meta["num_classes"]), meta["head"]).to_dict()
    if "model" not in meta:
        try:
            spec, checkpoint.state_dict = recognise(checkpoint.state_dict, notes)
        except UnrecognisedWeights as error:
            notes.append(f"could not infer the architecture: {error}")
            return
        meta["model"] = spec.to_dict()
        notes.append(f"recognised as {spec.describe()} from the tensor shapes")
    spec = ModelSpec.from_dict(meta["model"])
    meta.setdefault("arch", spec.arch)
    meta.setdefault("num_classes", spec.num_classes)
    meta.setdefault("head", spec.head)
    if "logit_scale" not in meta:
        cfg = pretrained_cfg(spec)
        meta["logit_scale"] = cfg.logit_scale
        if cfg.note:
            notes.append(cfg.note)


def training_data(path: str | Path) -> dict[str, Any]:
    """The data settings a checkpoint says it was trained on: ``dataset``, ``root``,
    ``imbalance_ratio`` and ``imbalance_type`` (ours), just ``dataset`` (a file naming it), or {}."""
    from data import dataset_names

    meta = load_checkpoint(path).meta
    data = meta.get("data") or {}
    found = {key: data[key] for key in ("dataset", "root", "imbalance_ratio", "imbalance_type") if key in data}
    if "dataset" not in found and meta.get("dataset") in dataset_names():
        found["dataset"] = meta["dataset"]
    return found


# --------------------------------------------------------------------------------- building

def build_model_from_checkpoint(checkpoint: Checkpoint, arch: str | None = None,
                                num_classes: int | None = None) -> LTModel:
    """The model with the checkpoint's weights loaded strictly, in eval mode.

    ``arch`` and ``num_classes`` override the checkpoint's spec (the user's choice when the file
    has none). Raises ``CheckpointMismatch`` when the tensors do not fit.
    """
    spec = checkpoint.spec
    if spec is None and not arch:
        reason = next((n.split(": ", 1)[1] for n in checkpoint.notes if n.startswith("could not infer")), "")
        raise CheckpointError(f"{checkpoint.name} is not a model this app can build ({reason or 'unknown tensors'}); "
                              "if it is a CIFAR ResNet, choose the architecture it was trained with")
    spec = spec or spec_for(arch, int(num_classes or 0) or 100)
    if arch:
        spec = spec.replace(arch=arch)
    if num_classes:
        spec = spec.replace(num_classes=int(num_classes))
    model = create_model(spec)
    load_weights_into(model, checkpoint)
    return model.eval()


def load_weights_into(model: LTModel, checkpoint: Checkpoint, num_classes: int | None = None) -> None:
    """Load the checkpoint's tensors into ``model`` strictly (every key, every shape).

    On any difference raise ``CheckpointMismatch`` listing missing, unexpected and wrongly
    shaped tensors, with hints; ``num_classes`` is the chosen dataset's class count for those
    hints (default: the model's). The model is left untouched then.
    """
    expected = model.state_dict()
    given = checkpoint.state_dict
    missing = [key for key in expected if key not in given]
    unexpected = [key for key in given if key not in expected]
    shapes = [(key, tuple(given[key].shape), tuple(expected[key].shape)) for key in expected
              if key in given and given[key].shape != expected[key].shape]
    if missing or unexpected or shapes:
        hints = _mismatch_hints(checkpoint, model, unexpected, num_classes or model.num_classes)
        raise CheckpointMismatch(_mismatch_line(checkpoint, model, missing, unexpected, shapes, hints),
                                 missing, unexpected, shapes, hints,
                                 _mismatch_listing(checkpoint, model, missing, unexpected, shapes, hints))
    model.load_state_dict(given, strict=True)


HEAD_PREFIXES = ("linear.", "lws.")


def is_trunk_file(checkpoint: Checkpoint, model: LTModel) -> bool:
    """Whether ``checkpoint`` is a plain trunk file (its family's models are the trunk itself,
    ``trunk_prefixes == ("",)``: torchvision's ImageNet weights, say) of the model's architecture
    that only the trunk of ``model`` can take: its classifier has another class count, or the model
    wraps the trunk (``trunk_prefixes``, e.g. PaCo's two encoders)."""
    spec = checkpoint.spec
    return (spec is not None and spec.arch == model.arch and family(spec.family).trunk_prefixes == ("",)
            and bool(model.trunk_prefixes)
            and (model.spec.family != spec.family or spec.num_classes != model.num_classes))


def load_trunk_into(model: LTModel, checkpoint: Checkpoint) -> str:
    """Load every trunk tensor of a plain ImageNet ResNet file (``is_trunk_file``) into each copy of
    the trunk ``model`` holds; its classifier is left out and the model's own parts the file lacks
    keep their initialisation. Returns a note saying what was loaded. Raises ``CheckpointMismatch``
    when a trunk tensor is missing or has another shape."""
    trunk = {key: value for key, value in checkpoint.state_dict.items() if not key.startswith(HEAD_PREFIXES)}
    expected = model.state_dict()
    loaded, missing, shapes = {}, [], []
    for prefix in model.trunk_prefixes:
        for key, value in trunk.items():
            target = prefix + key
            if target not in expected:
                missing.append(target)
            elif expected[target].shape != value.shape:
                shapes.append((target, tuple(value.shape), tuple(expected[target].shape)))
            else:
                loaded[target] = value
    if missing or shapes:
        raise CheckpointMismatch(_mismatch_line(checkpoint, model, missing, [], shapes, []), missing, [], shapes, [],
                                 _mismatch_listing(checkpoint, model, missing, [], shapes, []))
    model.load_state_dict({**expected, **loaded}, strict=True)
    copies = " and ".join(p.rstrip(".") for p in model.trunk_prefixes if p) or "the model"
    fresh = sorted({_module_of(key, model.trunk_prefixes) for key in expected if key not in loaded})
    return (f"loaded the {checkpoint.spec.arch} trunk of {checkpoint.name} ({len(trunk)} tensors) into {copies}; "
            f"{', '.join(fresh)} start fresh")


def _module_of(key: str, prefixes: tuple[str, ...]) -> str:
    """``encoder_q.fc.0.weight`` → ``encoder_q.fc``; ``queue`` → ``queue``: the module a key belongs to,
    one level below a trunk prefix."""
    prefix = next((p for p in prefixes if p and key.startswith(p)), "")
    return prefix + key[len(prefix):].split(".", 1)[0]


def _mismatch_hints(checkpoint: Checkpoint, model: LTModel, unexpected: list[str], chosen_classes: int) -> list[str]:
    hints = []
    spec = checkpoint.spec
    if spec is None:
        return [note for note in checkpoint.notes if note.startswith("could not infer")]
    if spec.family != model.spec.family:
        hints.append(f"this checkpoint is a {spec.family} model but a {model.spec.family} one was built")
    if spec.arch != model.arch:
        hints.append(f"this checkpoint is a {spec.arch} but {model.arch} was chosen")
    if spec.num_classes != chosen_classes:
        hints.append(f"this checkpoint has {spec.num_classes} classes but you chose a {chosen_classes}-class dataset")
    if spec.head != model.spec.head:
        hints.append(f"this checkpoint has a {spec.head} classifier but the model was built with a {model.spec.head} one")
    if any(".shortcut." in key for key in unexpected):
        hints.append("this checkpoint uses projection shortcuts (option B); the CIFAR ResNets here use option A")
    return hints


def _mismatch_line(checkpoint: Checkpoint, model: LTModel, missing: list[str], unexpected: list[str],
                   shapes: list[tuple[str, tuple, tuple]], hints: list[str]) -> str:
    """One line: the counts, the first key of each kind, the first hint."""
    parts = []
    if missing:
        parts.append(f"{len(missing)} missing key(s) such as {missing[0]}")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected key(s) such as {unexpected[0]}")
    if shapes:
        key, in_file, in_model = shapes[0]
        parts.append(f"{len(shapes)} shape mismatch(es) such as {key} {list(in_file)} vs {list(in_model)}")
    hint = f"; {hints[0]}" if hints else ""
    return f"{checkpoint.name} does not fit a {model.spec.describe()}: {', '.join(parts)}{hint}"


def _mismatch_listing(checkpoint: Checkpoint, model: LTModel, missing: list[str], unexpected: list[str],
                      shapes: list[tuple[str, tuple, tuple]], hints: list[str]) -> str:
    lines = [f"{checkpoint.name} does not fit a {model.spec.describe()}:"]
    lines += _listing("missing keys", missing)
    lines += _listing("unexpected keys", unexpected)
    lines += _listing("shape mismatches (checkpoint vs model)",
                      [f"{key}: {list(in_file)} vs {list(in_model)}" for key, in_file, in_model in shapes])
    lines += [f"Hint: {hint}." for hint in hints]
    return "\n".join(lines)


def _listing(title: str, items: list[str]) -> list[str]:
    if not items:
        return []
    shown = [f"    {item}" for item in items[:LIST_LIMIT]]
    if len(items) > LIST_LIMIT:
        shown.append(f"    … and {len(items) - LIST_LIMIT} more")
    return [f"  {title} ({len(items)}):", *shown]
