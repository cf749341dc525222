"""Run configuration: dataclasses with the LDAM-DRW defaults, JSON round-trip and validation.

Defaults follow the CIFAR-LT protocol of LDAM-DRW (Cao et al., NeurIPS 2019,
github.com/kaidic/LDAM-DRW): ResNet-32, SGD momentum 0.9, weight decay 2e-4, lr 0.1,
batch 128, 200 epochs, 5 linear warm-up epochs, lr ×0.01 after epoch 160 and ×0.0001
after epoch 180. The decay points are stored as fractions of the run (0.8, 0.9) so that a
shorter run keeps the same shape; for 200 epochs they are exactly epochs 160 and 180.
"""
from __future__ import annotations

import collections.abc
import json
import math
import types
import typing
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from data import dataset_kind, dataset_names, resolved_image_size
from errors import UserError
from models import architectures

ARCHITECTURES = architectures()
DATASETS = dataset_names()
IMBALANCE_TYPES = ("exp", "step", "none")
TRAIN_RULES = ("none", "resample", "reweight", "drw")
FREEZE_MODES = ("none", "features", "last_block", "all")
SCHEDULES = ("step", "cosine", "constant")
OPTIMIZERS = ("sgd", "adam")
BEST_METRICS = ("test_hm", "test_gm", "test_lr", "test_top1", "test_mean_recall")
PRECISIONS = ("auto", "fp32", "bf16")  # engine.precision


class ConfigError(UserError):
    """A configuration value a user must fix; the message names the field and the fix."""

    def __init__(self, field_name: str, message: str):
        super().__init__(f"{field_name}: {message}")
        self.field_name = field_name
        self.message = message


def normalise_imbalance(value: float) -> float:
    """Return the imbalance *ratio* n_max / n_min (≥ 1) from either convention.

    LDAM-DRW writes the imbalance factor as n_min / n_max (0.01); many papers write the
    ratio (100). Both mean the same long tail, so 0.01 and 100 both return 100.0.
    """
    if not math.isfinite(value) or value <= 0:
        raise ConfigError("imbalance", f"must be a positive number such as 100 or 0.01, got {value}")
    return 1.0 / value if value < 1 else float(value)


@dataclass
class DataConfig:
    dataset: str = "cifar100"
    root: str = ""  # dataset folder; "" means the workspace's datasets/ folder
    imbalance_type: str = "exp"
    imbalance_ratio: float = 100.0  # n_max / n_min; 0.01 is accepted and normalised to 100
    image_size: int = 0  # the side the model sees; 0 = the dataset's own (32 CIFAR/demo/folders, 224 streamed)
    holdout_fraction: float = 0.2  # image folders without a test/ sub-folder
    augment: bool = True  # random crop (4-pixel padding) + horizontal flip; RandomResizedCrop + flip when streamed
    color_jitter: float = 0.0  # streamed datasets: ColorJitter(j, j, j, 0) after the crop (0.4 in most recipes)
    loader_workers: int = 4  # streamed datasets: decoding processes, at most the CPUs (0: in the training process)
    # Seed of the long-tailed cut (and of an image folder's held-out split), independent of the
    # run's seed: LDAM-DRW, MiSLAS, RIDE and PaCo all cut with np.random.seed(0) inside the
    # dataset, so the default 0 trains on the published subset whatever the training seed.
    cut_seed: int = 0

    def validate(self) -> None:
        check_choice("dataset", self.dataset, DATASETS)
        check_choice("imbalance_type", self.imbalance_type, IMBALANCE_TYPES)
        self.imbalance_ratio = normalise_imbalance(float(self.imbalance_ratio))
        if self.imbalance_ratio > 10_000:
            raise ConfigError("imbalance", "ratios above 10000 leave classes with no image at all")
        self.image_size = resolved_image_size(self.dataset, self.image_size)
        check_range("image_size", self.image_size, 8, 512)
        check_range("color_jitter", self.color_jitter, 0.0, 1.0)
        check_range("loader_workers", self.loader_workers, 0, 64)
        check_range("holdout_fraction", self.holdout_fraction, 0.05, 0.9)
        check_range("cut_seed", self.cut_seed, 0, 2**32 - 1)
        if self.dataset == "folder" and not self.root:
            raise ConfigError("root", "choose the image folder to train on")
        if self.color_jitter and not dataset_kind(self.dataset).streamed:
            raise ConfigError("color_jitter", f"colour jitter is a recipe of the streamed datasets, not of {self.dataset}")


@dataclass
class ModelConfig:
    arch: str = "resnet32"
    pretrained: str = ""  # checkpoint to start from ("" = random initialisation)
    # none | features (train the classifier only) | last_block (the trunk's last residual block, its
    # BatchNorm layers and the heads: PaCo's Places-LT fine-tuning of an ImageNet ResNet) | all (evaluate only)
    freeze: str = "none"

    def validate(self) -> None:
        check_choice("arch", self.arch, ARCHITECTURES)
        check_choice("freeze", self.freeze, FREEZE_MODES)
        if self.freeze != "none" and not self.pretrained:
            raise ConfigError("pretrained", "freezing needs a pretrained checkpoint to start from")
        if self.pretrained and not Path(self.pretrained).is_file():
            raise ConfigError("pretrained", f"no checkpoint file at {self.pretrained}")


@dataclass
class MethodConfig:
    loss: str = "ce"
    params: dict[str, float] = field(default_factory=dict)  # overrides of the method's defaults
    stages: list[str] = field(default_factory=list)  # run only these of the method's stages ([] = all)
    train_rule: str = "none"
    reweight_beta: float = 0.9999  # effective-number β for Reweight and DRW
    teacher: str = ""  # checkpoint of the teacher a distillation method learns from ("" = none)
    drw_epoch: int = 0  # DRW's weights from this 1-based epoch on (0: the first learning-rate decay, LDAM-DRW's)

    def validate(self) -> None:
        from engine.methods import available_methods

        check_choice("loss", self.loss, tuple(available_methods()))
        check_choice("train_rule", self.train_rule, TRAIN_RULES)
        check_range("reweight_beta", self.reweight_beta, 0.0, 0.999999)
        check_range("drw_epoch", self.drw_epoch, 0, 10_000)
        if self.teacher and not Path(self.teacher).is_file():
            raise ConfigError("teacher", f"no checkpoint file at {self.teacher}")


@dataclass
class OptimConfig:
    epochs: int = 200
    batch_size: int = 128
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 2e-4
    nesterov: bool = False
    optimizer: str = "sgd"  # sgd | adam (adam ignores momentum and nesterov)
    schedule: str = "step"  # step (LDAM-DRW) | cosine (to zero) | constant
    warmup_epochs: int = 5
    decay_at: tuple[float, ...] = (0.8, 0.9)  # fractions of the run: epochs 160, 180 of 200
    decay_factors: tuple[float, ...] = (0.01, 0.0001)

    def validate(self) -> None:
        check_range("epochs", self.epochs, 1, 10_000)
        check_sgd_settings(self)
        check_choice("schedule", self.schedule, SCHEDULES)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        if self.nesterov and self.momentum <= 0:
            raise ConfigError("nesterov", "Nesterov momentum needs a momentum above 0")
        check_range("warmup_epochs", self.warmup_epochs, 0, 10_000)  # longer than the run: warms up throughout
        self.decay_at = tuple(float(x) for x in self.decay_at)
        self.decay_factors = tuple(float(x) for x in self.decay_factors)
        if len(self.decay_at) != len(self.decay_factors):
            raise ConfigError("decay_at", "needs one decay factor per decay point")
        if any(not 0 < x < 1 for x in self.decay_at) or list(self.decay_at) != sorted(self.decay_at):
            raise ConfigError("decay_at", "decay points are increasing fractions of the run, e.g. 0.8, 0.9")

    def decay_epochs(self) -> list[int]:
        """1-based epochs after which each decay applies (160 and 180 for a 200-epoch run)."""
        return [int(round(f * self.epochs)) for f in self.decay_at]


class JsonConfig:
    """JSON round-trip for the config dataclasses; unknown keys are refused by name."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]):
        return _from_dict(cls, raw)

    @classmethod
    def from_json(cls, text: str):
        return cls.from_dict(json.loads(text))


# config.json of runs written before issue 21/23: the old field → its successor
LEGACY_FIELDS = {"workers": lambda value: ("threads", value),
                 "amp": lambda value: ("precision", "auto" if value else "fp32")}


@dataclass
class RunConfig(JsonConfig):
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    method: MethodConfig = field(default_factory=MethodConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    # CPU threads for torch; 0 = the machine's fixed default (engine.cpu_policy.default_threads), never
    # read from the load. config.json records the count used.
    threads: int = 0
    experiment: str = ""  # run label; the run folder is <runs>/<timestamp>-<experiment>
    runs_dir: str = ""  # "" means the workspace's runs/ folder
    save_model: bool = True
    best_metric: str = "test_hm"
    # auto: bf16 where this machine measured it faster (engine.precision), else fp32. config.json records
    # the precision used and ``fp32_layers``: the modules kept in fp32 under bf16 (None: the measured ones)
    precision: str = "auto"
    fp32_layers: list[str] | None = None
    compile: bool = False  # torch.compile the training step's model (no gain measured on CPU; engine/speed.py)
    # HM / GM / LR floor each per-class recall at this (the paper's code: 1e-3; 0 = unfloored),
    # see engine.metrics
    recall_floor: float = 1e-3

    @classmethod
    def from_dict(cls, raw: dict[str, Any]):
        if isinstance(raw, Mapping) and any(key in raw for key in LEGACY_FIELDS):
            raw = dict(raw)
            for key, successor in LEGACY_FIELDS.items():
                if key in raw:
                    name, value = successor(raw.pop(key))
                    raw.setdefault(name, value)
        return _from_dict(cls, raw)

    def validate(self) -> RunConfig:
        """Check every field; raise ConfigError naming the first bad one. Returns self."""
        check_types(self)
        self.data.validate()
        self.model.validate()
        self.method.validate()
        self.optim.validate()
        check_range("seed", self.seed, 0, 2**32 - 1)
        check_range("recall_floor", self.recall_floor, 0.0, 0.1)
        check_range("threads", self.threads, 0, 1024)
        check_choice("precision", self.precision, PRECISIONS)
        check_choice("best_metric", self.best_metric, BEST_METRICS)
        check_device(self.device)
        return self


def _from_dict(kind: type, raw: Any, where: str = ""):
    """``kind`` built from JSON-like ``raw``, every field checked against its annotation (the one
    source of the types): a wrong type or shape is a ``ConfigError`` naming the dotted field."""
    if not isinstance(raw, Mapping):
        raise ConfigError(where or "config", f"must be an object of settings ({{...}}), not {_kind_of(raw)}")
    hints = _field_types(kind)
    unknown = [str(key) for key in raw if key not in hints]
    if unknown:
        raise ConfigError(_dotted(where, sorted(unknown)[0]), f"unknown setting in {kind.__name__}")
    return kind(**{name: _coerce(value, hints[name], _dotted(where, name)) for name, value in raw.items()})


def check_types(config: Any) -> None:
    """Every field of a config dataclass (nested ones too) has its annotated type and shape;
    for values set in code or by the GUI rather than read from a file."""
    _from_dict(type(config), asdict(config))


def _field_types(kind: type) -> dict[str, Any]:
    resolved = typing.get_type_hints(kind)
    return {f.name: resolved[f.name] for f in fields(kind)}


def _coerce(value: Any, hint: Any, name: str) -> Any:
    """``value`` as the annotated type ``hint``, or a ``ConfigError`` saying what was expected."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return value
    if is_dataclass(hint):
        return _from_dict(hint, value, name)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, option, name)
            except ConfigError as error:
                errors.append(error.message)
        raise ConfigError(name, " or ".join(errors))
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(name, f"{value!r} is not one of {', '.join(map(repr, args))}")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(name, f"must be true or false, not {_kind_of(value)}")
        return value
    if hint is int:
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(name, f"must be a whole number, not {_kind_of(value)}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(name, f"must be a number, not {_kind_of(value)}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(name, f"must be text, not {_kind_of(value)}")
        return value
    if origin in (tuple, list) or hint in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(name, f"must be a list such as [0.8, 0.9], not {_kind_of(value)}")
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                raise ConfigError(name, f"must be a list of {len(args)} values, not {len(value)}")
            items = [_coerce(v, a, f"{name}[{i}]") for i, (v, a) in enumerate(zip(value, args))]
        else:
            item = args[0] if args else Any
            items = [_coerce(v, item, f"{name}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if (origin or hint) is tuple else items
    if origin in (dict, Mapping, collections.abc.Mapping) or hint in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise ConfigError(name, f"must be an object such as {{\"gamma\": 2}}, not {_kind_of(value)}")
        key_type, item_type = args if args else (Any, Any)
        return {_coerce(k, key_type, name): _coerce(v, item_type, _dotted(name, str(k))) for k, v in value.items()}
    if isinstance(hint, type) and not isinstance(value, hint):
        raise ConfigError(name, f"must be {hint.__name__}, not {_kind_of(value)}")
    return value


def _kind_of(value: Any) -> str:
    """``value`` in a user's words: the JSON kind, and the value itself when it is short."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    kind = {bool: "true/false", str: "text", list: "a list", tuple: "a list", type(None): "null"}.get(
        type(value), "an object" if isinstance(value, Mapping) else type(value).__name__)
    shown = repr(value)
    return f"{kind} {shown}" if len(shown) <= 40 and not isinstance(value, (dict, type(None))) else kind


def _dotted(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def check_sgd_settings(settings: Any) -> None:
    """The batch size, lr, momentum and weight decay every optimiser config has."""
    check_range("batch_size", settings.batch_size, 1, 65_536)
    check_range("lr", settings.lr, 1e-7, 10.0)
    check_range("momentum", settings.momentum, 0.0, 0.999)
    check_range("weight_decay", settings.weight_decay, 0.0, 0.1)


def check_device(value: str) -> None:
    if not (value in ("auto", "cpu", "cuda") or value.startswith("cuda:")):
        raise ConfigError("device", f"use auto, cpu, cuda or cuda:N, not {value!r}")


def check_choice(name: str, value: Any, options: tuple) -> None:
    if value not in options:
        raise ConfigError(name, f"{value!r} is not one of {', '.join(map(str, options))}")


def check_range(name: str, value: Any, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(name, f"must be a number, got {value!r}")
    if not low <= value <= high:
        raise ConfigError(name, f"{value} is outside the sensible range {low} to {high}")
