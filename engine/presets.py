"""Named starting points, read from the TOML files in resources/presets (data, not code).

Each table is one preset: its name is the command line's ``--preset`` name, ``title`` what the
app's Preset box shows, ``extends`` the preset it builds on, ``source`` / ``published`` / ``note``
where a recipe comes from, the top-1 its authors published and what to know before running it
(the large benchmarks' recipes carry them), and every other key a run-config setting laid over
the parent's (or over the defaults of ``engine.config``). Files are read in
file-name order, presets in file order; a broken file is one ``file:line: field: why`` line.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from engine import workspace
from engine.config import RunConfig
from engine.knobs import ConfigError, merge
from engine.settings_file import Locator, SettingsFileError, read_settings

PRESET_KEYS = ("title", "extends", "source", "published", "note")
DEMO = "demo"  # the app's first preset
DEFAULT = "cifar100-ce"  # where `main.py train` and a sweep start when no preset is named
PLUGIN = "plugin"  # "freeze features": the plug-in's own settings, where `main.py tune` starts


class PresetError(SettingsFileError):
    """A preset file that cannot be read, or an unknown preset."""


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    changes: dict[str, Any] = field(default_factory=dict)  # run-config settings over the parent's
    extends: str = ""
    source: str = ""  # the official configuration the values restate
    published: str = ""  # the top-1 its authors published, and where
    note: str = ""


def preset_folder() -> Path:
    return workspace.resource("presets")


@cache
def presets() -> dict[str, Preset]:
    """Every preset by name, in display order; each one is checked when the files are read."""
    found: dict[str, Preset] = {}
    locators: dict[str, Locator] = {}
    for path in sorted(preset_folder().glob("*.toml")):
        text = path.read_text(encoding="utf-8")
        where = Locator(text, path, PresetError)
        for name, table in read_settings(text, path, PresetError).items():
            if not isinstance(table, dict):
                raise where.error((name,), "a preset is a table of settings")
            if name in found:
                raise where.error((name,), "a preset of this name is defined twice")
            changes = {key: value for key, value in table.items() if key not in PRESET_KEYS}
            found[name] = Preset(name, str(table.get("title") or name), changes,
                                 **{key: str(table.get(key, "")) for key in PRESET_KEYS[1:]})
            locators[name] = where
    for name, where in locators.items():
        try:
            _resolve(found, name)
        except ConfigError as error:
            raise where.error((name, *error.field_name.split(".")), error.message) from None
    return found


def preset_titles() -> dict[str, str]:
    """Name → title of every preset, in display order."""
    return {name: item.title for name, item in presets().items()}


def plugin_preset(loss: str) -> str:
    """The preset a plug-in run with ``loss`` starts from: the first plug-in (freeze features) preset
    of that loss, with the repair's own defaults ("plugin-crt" …), else the GML plug-in's."""
    return _plugin_presets().get(loss, PLUGIN)


@cache
def _plugin_presets() -> dict[str, str]:
    found: dict[str, str] = {}
    for name in presets():
        config = preset(name)
        if config.plugin_run:
            found.setdefault(config.method.loss, name)
    return found


def preset(name: str) -> RunConfig:
    """A fresh config for a preset's name (or its title)."""
    known = presets()
    name = next((item.name for item in known.values() if item.title == name), name)
    if name not in known:
        raise PresetError(f"unknown preset {name!r}; choose one of {', '.join(known)}")
    return _resolve(known, name)


def _resolve(known: dict[str, Preset], name: str) -> RunConfig:
    chain: list[Preset] = []
    while name:
        if name not in known:
            raise ConfigError("extends", f"no preset named {name!r}")
        if known[name] in chain:
            raise ConfigError("extends", f"{name!r} extends itself")
        chain.insert(0, known[name])
        name = known[name].extends
    settings = RunConfig().to_dict()
    for item in chain:
        settings = merge(settings, item.changes)
    return RunConfig.from_dict(settings)
