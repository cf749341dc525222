"""The sweep file: a grid of methods × datasets × imbalance ratios × seeds, read and checked.

The file is TOML (``tomllib``, in the standard library since Python 3.11: comments, no quoting
noise, and no dependency beyond the project's fixed package list); JSON with the same keys is
accepted too (``.json``). Everything is checked before any cell starts: an unknown method, an
override the run config cannot take, a method hyperparameter out of its range or unfit for the
cell's training split (PaCo's queue longer than the split), a grid of more than ``max_cells``
cells (counted before any cell is built), or an empty grid is refused as ``file:line: field: why``.
The line is found by looking the field's key (and value) up in the text, since neither parser
reports where a value stood. docs/sweeps.md describes every key; a minimal file::

    preset = "demo"                 # the starting config (a `main.py train --preset` name)
    methods = ["ce", "ldam-drw"]    # method names, "<method>-<train rule>", presets, or tables
    imbalance = [10, 100]
    seeds = [0, 1, 2]
    [overrides]
    "optim.epochs" = 2              # any run-config field, dotted
    [plugin]                        # classifier repairs after each base run (run settings by field name)
    repairs = ["gml", "crt"]        # each from its own plug-in preset; default: the GML plug-in
    ensemble = true                 # settings here apply to every repair …
    [plugin.gml]
    epochs = 10                     # … and a repair's own table to it alone
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
PLUGIN_SET_BY_SWEEP = ("checkpoint", "pretrained", "data", "seed", "runs_dir", "experiment", "nproc")
MAX_CELLS = 1000  # a grid larger than this is refused unless the user raises the cap (--max-cells)


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
    """One base run (plus its plug-in runs, one per repair): a point of the grid."""

    id: str
    dataset: str
    imbalance: float
    method: str  # the method entry's label
    seed: int
    run: dict  # RunConfig.to_dict() (runs_dir is set when the cell runs)
    plugins: list[dict] = field(default_factory=list)  # each repair's RunConfig.to_dict(), without the checkpoint
    resources: dict = field(default_factory=dict)  # {"cpus": 1, "gpus": 0.5}

    @property
    def epochs(self) -> int:
        return int(self.run["optim"]["epochs"])

    @property
    def repairs(self) -> list[str]:
        """The repairs run after the base run (their losses), in the table's order."""
        return [plugin_loss(plugin) for plugin in self.plugins]

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, raw: dict) -> Cell:
        """A cell of sweep.json (one written before a cell had several repairs holds ``plugin``)."""
        raw = dict(raw)
        if "plugin" in raw:
            older = raw.pop("plugin")
            raw["plugins"] = [older] if older else []
        return cls(**raw)


def plugin_loss(plugin: dict) -> str:
    """The repair a cell's plug-in settings run (their loss; the GML plug-in's in the oldest layout)."""
    return str((plugin.get("method") or {}).get("loss") or plugin.get("loss") or "gml")


@dataclass
class SweepSpec:
    path: Path
    name: str
    cells: list[Cell]
    plugin: bool
    ensemble: bool  # some repair ensembles the new classifier with the old one
    resources: dict
    repairs: list[str] = field(default_factory=list)  # the plug-in's repairs, in order


def load_spec(path: str | Path, max_cells: int = MAX_CELLS) -> SweepSpec:
    """Read and check a sweep file; every cell's run (and plug-in) config is built and validated."""
    from engine.run_files import RunDamaged, read_text

    path = Path(path)
    try:
        text = read_text(path)  # binary or not UTF-8: one line
    except RunDamaged as error:
        raise SweepSpecError(f"not a sweep file: {error}") from None
    return parse_spec(text, path, max_cells)


def parse_spec(text: str, path: Path, max_cells: int = MAX_CELLS) -> SweepSpec:
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
    repairs = _repairs(plugin_raw, where) if plugin_on else {}
    resources = _resources(_table(raw, "resources", where), where)
    count = len(datasets) * len(ratios) * len(methods) * len(seeds)
    if count > max_cells:
        raise where.error(("seeds",), f"the grid has {count:,} cells ({len(datasets)} dataset(s) × {len(ratios)} "
                          f"ratio(s) × {len(methods)} method(s) × {len(seeds)} seed(s)), each a whole training run; "
                          f"more than the limit of {max_cells:,}. Shrink the grid, or raise the limit with "
                          "--max-cells if you mean it")

    cells, fits = [], {}
    for dataset, ratio, method, seed in itertools.product(datasets, ratios, methods, seeds):
        config = _run_config(base, overrides, dataset, ratio, method, seed, where)
        _check_fit(config, method, where, fits)
        cell_id = _cell_id(dataset, config.data.imbalance_ratio, method.label, seed)
        plugins = [_plugin_config(config, {**plugin_raw, **own, "loss": loss}, cell_id, where, loss)
                   for loss, own in repairs.items()]
        cells.append(Cell(cell_id, dataset, config.data.imbalance_ratio, method.label, seed,
                          json.loads(json.dumps(config.to_dict())), plugins, resources))  # as sweep.json holds it
    ids = [c.id for c in cells]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise where.error(("imbalance",), f"two cells would share the id {dup!r} (a ratio given twice?)")
    name = str(raw.get("name") or path.stem)
    ensemble = any(plugin["plugin"]["ensemble"] for plugin in cells[0].plugins)
    return SweepSpec(path, name, cells, plugin_on, ensemble, resources, list(repairs))


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
        problems = known[loss].param_problems({name: value})  # range, whole numbers: the method's own rules
        if problems:
            raise where.error(("methods", "params", name), problems[0][1], value)
    return MethodEntry(label, loss, rule, {k: float(v) for k, v in params.items()})


def _check_fit(config: RunConfig, method: MethodEntry, where: Locator, seen: dict) -> None:
    """The cell's method built on its training split's class counts (known without loading CIFAR):
    a class left empty, or a hyperparameter that cannot work on the split (``Method.check_fit``),
    is refused before any cell starts. Folders (sizes unknown until loaded) are checked by the run."""
    import torch

    from engine.methods import build_method
    from engine.sweep.cost import data_counts

    data = config.to_dict()["data"]
    key = (json.dumps(data, sort_keys=True), method.label)
    if key in seen:
        return
    seen[key] = True
    counts, _test = data_counts(data, config.seed)
    if counts is None:
        return
    try:
        build_method(method.loss, torch.tensor(counts), method.params, config.optim.epochs).check_fit(sum(counts))
    except UserError as error:
        raise where.error(("methods",), f"{method.label} on {config.data.dataset} at ratio "
                          f"{config.data.imbalance_ratio:g}: {error}", method.label) from None


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


def _repairs(plugin_raw: dict, where: Locator) -> dict[str, dict]:
    """The ``[plugin]`` table's repairs (``repairs = [...]``, else its ``loss``, else GML), each with
    its own table's settings (``[plugin.crt]``), taken out of ``plugin_raw``."""
    from engine.methods import repair_methods

    names = plugin_raw.pop("repairs", None)
    if names is None:
        names = [plugin_raw.pop("loss", "gml")]
    elif "loss" in plugin_raw:
        raise where.error(("plugin", "loss"), "give the repairs list or one loss, not both")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise where.error(("plugin", "repairs"), "a list of repair names, e.g. [\"gml\", \"crt\", \"tau_norm\"]")
    able = repair_methods()
    for name in names:
        if name not in able:
            raise where.error(("plugin", "repairs"), f"{name!r} cannot repair a classifier; choose from "
                              f"{', '.join(able)}", name)
    if len(set(names)) != len(names):
        raise where.error(("plugin", "repairs"), "a repair is listed twice")
    own = {}
    for name in names:
        table = plugin_raw.pop(name, {})
        if not isinstance(table, dict):
            raise where.error(("plugin", name), f"the settings of {name} alone: a table, e.g. [plugin.{name}]")
        own[name] = table
    return own


def _plugin_config(config: RunConfig, plugin_raw: dict, cell_id: str, where: Locator, loss: str) -> dict:
    """The cell's plug-in run of the repair ``loss``: the repair's own plug-in preset on the base
    run's data, seed, processes and measurement settings, with the ``[plugin]`` table's settings
    (field names) over it; the checkpoint is the base run's, set when the cell runs."""
    from engine.plugin import plugin_config
    from engine.presets import plugin_preset, preset

    base = preset(plugin_preset(loss))
    base.data, base.seed, base.device, base.threads = RunConfig.from_dict(config.to_dict()).data, config.seed, \
        config.device, config.threads
    base.nproc = config.nproc  # a cell of N processes runs its plug-ins on N too
    base.recall_floor, base.best_metric, base.precision = config.recall_floor, config.best_metric, config.precision
    base.experiment = f"{cell_id}-{loss}"
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
