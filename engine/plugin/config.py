"""The plug-in's settings as a run config: "freeze features" over the "plugin" preset.

The plug-in has no schema of its own: it runs a ``RunConfig`` whose ``model.freeze`` is
"features", with its own knobs in the ``plugin`` section and its optimiser defaults in the
"plugin" preset (resources/presets/30-plugin.toml). A sweep's ``[plugin]`` table and the
config.json of plug-in runs written before the schemas were one (kind "tune", key "tune") name
settings by field name; :func:`plugin_config` lays such settings over a config.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.config import RunConfig
from engine.knobs import ConfigError, merge, setting

# field names of the plug-in's settings before the schemas were one, where they differ today's
OLD_NAMES = {"checkpoint": "pretrained", "loss_params": "params"}


def plugin_config(settings: Mapping[str, Any], base: RunConfig | None = None) -> RunConfig:
    """``base`` (default: the "plugin" preset) with ``settings`` (field name → value; ``data`` a
    whole section) laid over it, as freeze features. Raises ConfigError naming an unknown field."""
    from engine.presets import PLUGIN, preset

    config = base or preset(PLUGIN)
    changes: dict[str, Any] = {"model": {"freeze": "features"}}
    for key, value in settings.items():
        name = OLD_NAMES.get(key, key)
        if name == "data":
            changes = merge(changes, {"data": value})
            continue
        if name == "arch" and not value:  # "" meant: the checkpoint says (today's plug-in always asks it first)
            continue
        try:
            path = setting(RunConfig, name).path
        except KeyError:
            raise ConfigError(key, "no such plug-in setting (see main.py tune --help; e.g. epochs, lr, ensemble, "
                                   "search_temperatures)") from None
        for part in reversed(path.split(".")):
            value = {part: value}
        changes = merge(changes, value)
    return RunConfig.from_dict(merge(config.to_dict(), changes))


def saved_run_config(saved: Mapping[str, Any]) -> RunConfig:
    """The run config of a run folder's config.json (``RunFolder.config()``), of either kind;
    a plug-in run from before the schemas were one holds its settings under "tune"."""
    if "run" in saved:
        return RunConfig.from_dict(saved["run"])
    if saved.get("kind") == "tune" and "tune" in saved:
        return plugin_config(saved["tune"])
    raise ValueError("config.json holds no run settings")
