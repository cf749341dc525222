"""Command-line flags generated from the config's knobs (``engine.knobs``): each setting's flag,
help and choices are defined once, on its field.

A flag left out is ``None`` (booleans too: ``--augment`` / ``--no-augment``), so the starting
config (a preset, a config file, a checkpoint's data) keeps its value. Values are checked by the
config's one ``validate()``, not by argparse: a bad one is the same one-line error everywhere.
"""
from __future__ import annotations

import argparse
import typing
from collections.abc import Callable, Iterable
from typing import Any

from errors import UserError
from engine.config import RunConfig
from engine.knobs import Setting, options, settings

SECTIONS = {"data": "data", "model": "model", "method": "method", "optim": "optimiser and schedule",
            "plugin": "plug-in (freeze features; main.py tune)", "": "run"}


def add_setting_arguments(parser: argparse.ArgumentParser, keep: Callable[[Setting], bool] = lambda item: True,
                          note: str = "", plugin: bool = False) -> list[Setting]:
    """A flag for every knob of the run config that ``keep`` accepts, in groups by section;
    returns those settings (for :func:`apply_arguments`). ``note`` follows each group's title;
    ``plugin``: the help lists the plug-in's choices where it narrows them (its losses)."""
    chosen = [item for item in settings(RunConfig) if item.knob.flag != "" and keep(item)]
    groups: dict[str, Any] = {}
    for item in chosen:
        section = item.path.rpartition(".")[0]
        if section not in groups:
            groups[section] = parser.add_argument_group(SECTIONS[section] + note)
        groups[section].add_argument(item.flag, dest=item.name, **argument_spec(item, plugin))
    return chosen


def argument_spec(item: Setting, plugin: bool = False) -> dict[str, Any]:
    """argparse's keywords for a knob: its type, its help with the choices spelled out (the
    plug-in's own, with ``plugin``, where it narrows them)."""
    help_text = item.knob.help.replace("%", "%%")
    allowed = options(item.knob.plugin_choices) if plugin and item.knob.plugin_choices is not None \
        else item.choices()
    if allowed is not None:
        help_text += f" One of: {', '.join(map(str, allowed))}."
    kind = item.type
    if kind is bool:
        return {"action": argparse.BooleanOptionalAction, "default": None, "help": help_text}
    if item.knob.widget == "params":
        return {"action": "append", "default": [], "metavar": "NAME=VALUE",
                "help": help_text + " One NAME=VALUE per flag."}
    if typing.get_origin(kind) in (tuple, list):
        return {"nargs": "+", "type": typing.get_args(kind)[0], "metavar": item.name.upper().rstrip("S"),
                "help": help_text}
    return {"type": kind, "help": help_text}


def apply_arguments(config: Any, args: argparse.Namespace, chosen: Iterable[Setting]) -> list[str]:
    """Set each flag given on ``config`` (the run config, or the section the settings are of);
    returns the flags given."""
    given = []
    for item in chosen:
        value = getattr(args, item.name)
        if value is None or value == []:
            continue
        given.append(item.flag)
        if item.knob.widget == "params":
            value = {**item.get(config), **parse_params(value)}
        elif typing.get_origin(item.type) is tuple:
            value = tuple(value)
        item.set(config, value)
    return given


def parse_params(items: list[str]) -> dict[str, float]:
    """``--param NAME=VALUE`` flags → a dict of method hyperparameters."""
    params = {}
    for item in items:
        key, _, value = item.partition("=")
        try:
            params[key.strip()] = float(value)
        except ValueError:
            raise UserError(f"--param {item!r}: expected NAME=NUMBER, e.g. --param gamma=2") from None
    return params
