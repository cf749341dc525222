"""The sweep file: a grid of methods × datasets × imbalance ratios × seeds, read and checked.

The file is TOML (``tomllib``, in the standard library since Python 3.11: comments, no quoting
noise, and no dependency beyond the project's fixed package list); JSON with the same keys is
accepted too (``.json``). Everything is checked before any cell starts: an unknown method, an
override the run config cannot take, or an empty grid is refused as ``file:line: field: why``.
The line is found by looking the field's key (and value) up in the text, since neither parser
reports where a value stood. docs/sweeps.md describes every key; a minimal file::

    preset = "demo"                 # the starting config (a `main.py train --preset` name)
    methods = ["ce", "ldam-drw"]    # method names, "<method>-<train rule>", presets, or tables
    imbalance = [10, 100]
    seeds = [0, 1, 2]
    [overrides]
    "optim.epochs" = 2              # any run-config field, dotted
    [plugin]                        # the GML plug-in after each base run (run settings by field name)
    enabled = true
    epochs = 10
"""
from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from errors import UserError
from engine.config import RunConfig
from engine.knobs import ConfigError, first
from engine.rules import RULES
from engine.settings_file import Locator, SettingsFileError, read_settings

TOP_KEYS = ("name", "preset", "methods", "datasets", "imbalance", "seeds", "overrides", "plugin", "resources")
METHOD_KEYS = ("loss", "rule", "params", "label")
RESOURCE_KEYS = ("cpus", "gpus")
# run-config fields the sweep sets itself for every cell
SET_BY_SWEEP = {"seed": "seeds", "runs_dir": "the sweep folder", "experiment": "the cell id",
                "data.dataset": "datasets", "data.imbalance_ratio": "imbalance", "method.loss": "methods",
                "method.train_rule": "methods", "method.params": "methods"}
PLUGIN_SET_BY_SWEEP = ("checkpoint", "pretrained", "data", "seed", "runs_dir", "experiment")


class SweepSpecError(SettingsFileError):
    """A sweep file a user must fix: ``file:line: field: message``."""


@dataclass(frozen=True)
class MethodEntry:
    label: str  # what the table and the cell id call it
    loss: str
    rule: str = "none"
    params: dict[str, float] = field(default_factory=dict)


@dataclass
class Cell:
    """One base run (plus its plug-in run): a point of the grid."""

    id: str
    dataset: str
    imbalance: float
    method: str  # the method entry's label
    seed: int
    run: dict  # RunConfig.to_dict() (runs_dir is set when the cell runs)
    plugin: dict | None = None  # the plug-in's RunConfig.to_dict() without the checkpoint, or None
    resources: dict = field(default_factory=dict)  # {"cpus": 1, "gpus": 0.5}

    @property
    def epochs(self) -> int:
        return int(self.run["optim"]["epochs"])

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, raw: dict) -> Cell:
        return cls(**raw)


@dataclass
class SweepSpec:
    path: Path
    name: str
    cells: list[Cell]
    plugin: bool
    ensemble: bool
    resources: dict


def load_spec(path: str | Path) -> SweepSpec:
    """Read and check a sweep file; every cell's run (and plug-in) config is built and validated."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SweepSpecError(f"cannot read the sweep file {path}: {error.strerror or error}") from None
    return parse_spec(text, path)


def parse_spec(text: str, path: Path) -> SweepSpec:
    raw = read_settings(text, path, SweepSpecError, "the sweep file must be a table of keys (name, methods, seeds, …)")
    where = Locator(text, path, SweepSpecError)
    unknown = sorted(set(raw) - set(TOP_KEYS))
    if unknown:
        raise where.error((unknown[0],), f"unknown key (the keys are: {', '.join(TOP_KEYS)})")
    from engine.presets import DEFAULT, preset, preset_titles

    preset_name = raw.get("preset", DEFAULT)
    if not isinstance(preset_name, str) or preset_name not in preset_titles():
        raise where.error(("preset",), f"unknown preset {preset_name!r}; choose one of {', '.join(preset_titles())}",
                          preset_name)
    base = preset(preset_name)
    methods = [_method_entry(item, where) for item in _grid_list(raw, "methods", where, None)]
    labels = [m.label for m in methods]
    if len(set(labels)) != len(labels):
        dup = next(lab for lab in labels if labels.count(lab) > 1)
        raise where.error(("methods",), f"{dup!r} is listed twice; give one of them a label", dup)
    datasets = _grid_list(raw, "datasets", where, [base.data.dataset])
    ratios = _grid_list(raw, "imbalance", where, [base.data.imbalance_ratio])
    seeds = _grid_list(raw, "seeds", where, [0])
    overrides = _flatten(_table(raw, "overrides", where))
    for key in overrides:
        if key in SET_BY_SWEEP or key.split(".")[0] in SET_BY_SWEEP:
            raise where.error(("overrides", key), f"set by the sweep from {SET_BY_SWEEP.get(key, 'the grid')}; "
                              "not an override")
        if key == "save_model" and overrides[key] is False:
            raise where.error(("overrides", key), "a sweep needs each epoch's checkpoint to resume cells")
    plugin_raw = dict(_table(raw, "plugin", where))
    plugin_on = plugin_raw.pop("enabled", "plugin" in raw)
    if not isinstance(plugin_on, bool):
        raise where.error(("plugin", "enabled"), f"must be true or false, got {plugin_on!r}")
    resources = _resources(_table(raw, "resources", where), where)

    cells = []
    for dataset, ratio, method, seed in itertools.product(datasets, ratios, methods, seeds):
        config = _run_config(base, overrides, dataset, ratio, method, seed, where)
        cell_id = _cell_id(dataset, config.data.imbalance_ratio, method.label, seed)
        plugin = _plugin_config(config, plugin_raw, cell_id, where) if plugin_on else None
        cells.append(Cell(cell_id, dataset, config.data.imbalance_ratio, method.label, seed,
                          json.loads(json.dumps(config.to_dict())), plugin, resources))  # as sweep.json holds it
    ids = [c.id for c in cells]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise where.error(("imbalance",), f"two cells would share the id {dup!r} (a ratio given twice?)")
    name = str(raw.get("name") or path.stem)
    return SweepSpec(path, name, cells, plugin_on, bool(plugin_on and cells[0].plugin["plugin"]["ensemble"]), resources)


# --- pieces ---------------------------------------------------------------------------------

def _grid_list(raw: dict, key: str, where: Locator, default: list | None) -> list:
    if key not in raw:
        if default is None:
            raise where.error((key,), "missing: the grid needs at least one entry")
        return list(default)
    value = raw[key]
    value = value if isinstance(value, list) else [value]
    if not value:
        raise where.error((key,), "the grid is empty: give at least one entry")
    kinds = {"datasets": str, "imbalance": (int, float), "seeds": int}
    for item in value:
        if key in kinds and (isinstance(item, bool) or not isinstance(item, kinds[key])):
            raise where.error((key,), f"{item!r} is not a {'name' if key == 'datasets' else 'number'}", item)
    if len(set(map(str, value))) != len(value):
        raise where.error((key,), "an entry is listed twice")
    return value


def _table(raw: dict, key: str, where: Locator) -> dict:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise where.error((key,), "must be a table of settings")
    return value


def _flatten(table: dict, prefix: str = "") -> dict[str, Any]:
    """``{"optim": {"epochs": 2}, "data.augment": false}`` → ``{"optim.epochs": 2, "data.augment": False}``."""
    flat = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and name != "method.params":
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _method_entry(item: Any, where: Locator) -> MethodEntry:
    from engine.methods import available_methods
    from engine.presets import preset, preset_titles

    known = available_methods()
    if isinstance(item, dict):
        unknown = sorted(set(item) - set(METHOD_KEYS))
        if unknown:
            raise where.error(("methods", unknown[0]), f"unknown key in a method table (keys: {', '.join(METHOD_KEYS)})")
        loss, rule = item.get("loss"), item.get("rule", "none")
        params = item.get("params", {})
        label = str(item.get("label") or (loss if rule == "none" else f"{loss}-{rule}"))
        anchor: tuple = ("methods", "loss")
    elif isinstance(item, str):
        label, params, anchor = item, {}, ("methods",)
        if item in preset_titles() and item != "demo":
            config = preset(item)
            loss, rule = config.method.loss, config.method.train_rule
        else:
            loss, _, rule = item.rpartition("-") if item.rpartition("-")[2] in RULES else (item, "", "none")
    else:
        raise where.error(("methods",), f"{item!r}: a method is a name or a table {{loss = …, rule = …}}")
    if loss not in known:
        raise where.error(anchor, f"unknown method {loss!r}; choose one of {', '.join(sorted(known))} "
                          f"(optionally with -{'/-'.join(r for r in RULES if r != 'none')})", loss)
    if rule not in RULES:
        raise where.error(("methods", "rule"), f"unknown train rule {rule!r}; choose one of {', '.join(RULES)}",
                          rule)
    if not isinstance(params, dict):
        raise where.error(("methods", "params"), "must be a table of NAME = NUMBER")
    for name, value in params.items():
        if name not in known[loss].defaults:
            raise where.error(("methods", "params", name), f"{known[loss].title} has no hyperparameter {name!r} "
                              f"(it has: {', '.join(known[loss].defaults) or 'none'})")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise where.error(("methods", "params", name), f"must be a number, got {value!r}")
    return MethodEntry(label, loss, rule, {k: float(v) for k, v in params.items()})


def _resources(table: dict, where: Locator) -> dict:
    out = {"cpus": 1.0, "gpus": 0.0}
    for key, value in table.items():
        if key not in RESOURCE_KEYS:
            raise where.error(("resources", key), f"unknown resource (use {', '.join(RESOURCE_KEYS)})")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise where.error(("resources", key), f"must be a number ≥ 0, got {value!r}")
        if key == "gpus" and value > 1 and value != int(value):
            raise where.error(("resources", key), "a fraction of a GPU must be below 1 (0.5 lets two cells share one)")
        out[key] = float(value)
    return out


def _run_config(base: RunConfig, overrides: dict, dataset: str, ratio: float, method: MethodEntry, seed: int,
                where: Locator) -> RunConfig:
    config = RunConfig.from_dict(base.to_dict())
    for key, value in overrides.items():
        _set_field(config, key, value, where)
    config.data.dataset, config.seed = dataset, seed
    config.method.loss, config.method.train_rule, config.method.params = method.loss, method.rule, dict(method.params)
    try:
        config.data.imbalance_ratio = ratio
        config.validate()
    except ConfigError as error:
        raise where.error(_config_field_path(error.field_name, overrides), error.message,
                          dataset if error.field_name == "dataset" else None) from None
    except UserError as error:
        raise where.error(("overrides",), str(error)) from None
    return config


def _set_field(config: Any, key: str, value: Any, where: Locator) -> None:
    *parents, name = key.split(".")
    target = config
    for part in parents:
        target = getattr(target, part, None)
        if not is_dataclass(target):
            raise where.error(("overrides", key), f"no such run setting ({part!r} is not a section)")
    known = {f.name for f in fields(target)}
    if name not in known:
        raise where.error(("overrides", key), f"no such run setting (the {type(target).__name__} settings are: "
                          f"{', '.join(sorted(known))})")
    current = getattr(target, name)
    if is_dataclass(current):
        raise where.error(("overrides", key), "is a section; set its fields, e.g. optim.epochs")
    if isinstance(current, tuple) and not isinstance(value, list):
        raise where.error(("overrides", key), f"{value!r} does not fit (expected a list like {list(current)})")
    if isinstance(current, bool) != isinstance(value, bool) or (
            isinstance(current, (int, float)) and not isinstance(value, (int, float))) or (
            isinstance(current, str) and not isinstance(value, str)):
        raise where.error(("overrides", key), f"{value!r} does not fit (expected a {type(current).__name__})")
    if isinstance(current, int) and not isinstance(current, bool) and isinstance(value, float) and not value.is_integer():
        raise where.error(("overrides", key), f"{value!r} does not fit (expected a whole number)")
    setattr(target, name, tuple(value) if isinstance(current, tuple) else type(current)(value)
            if isinstance(current, (int, float)) and not isinstance(current, bool) else value)


def _config_field_path(name: str, overrides: dict) -> tuple:
    """Which key of the sweep file a ConfigError's field came from."""
    grid = {"dataset": "datasets", "imbalance": "imbalance", "imbalance_ratio": "imbalance", "loss": "methods",
            "train_rule": "methods", "seed": "seeds"}
    for key in overrides:
        if key.split(".")[-1] == name:
            return ("overrides", key)
    return (grid[name],) if name in grid else ("overrides", name)


def _plugin_config(config: RunConfig, plugin_raw: dict, cell_id: str, where: Locator) -> dict:
    """The cell's plug-in run: the "plugin" preset on the base run's data, seed and measurement
    settings, with the ``[plugin]`` table's settings (field names) over it; the checkpoint is
    the base run's, set when the cell runs."""
    from engine.plugin import plugin_config
    from engine.presets import PLUGIN, preset

    base = preset(PLUGIN)
    base.data, base.seed, base.device, base.workers = RunConfig.from_dict(config.to_dict()).data, config.seed, \
        config.device, config.workers
    base.recall_floor, base.best_metric, base.amp = config.recall_floor, config.best_metric, config.amp
    base.experiment = f"{cell_id}-plugin"
    for key in plugin_raw:
        if key in PLUGIN_SET_BY_SWEEP:
            raise where.error(("plugin", key), "set by the sweep from the base run")
    try:
        tune = plugin_config(plugin_raw, base)
        first([error for error in tune.problems() if error.field_name != "pretrained"])  # the checkpoint comes later
    except ConfigError as error:
        raise where.error(("plugin", error.field_name), error.message) from None
    return json.loads(json.dumps(tune.to_dict()))


def _cell_id(dataset: str, ratio: float, label: str, seed: int) -> str:
    safe = re.sub(r"[^A-Za-z0-9._+-]+", "-", label).strip("-")
    return f"{dataset}-ir{ratio:g}-{safe}-s{seed}"
