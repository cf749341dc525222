"""Knobs: what every config field says about itself, and the one validation and JSON round-trip
driven by it.

A config field is a dataclass field whose metadata holds a :class:`Knob` (``knob(...)``): its
label, help, command-line flag, choices, range and form hints. The command line (``cli.options``)
and the app's form (``gui.train_form``) are generated from these, ``problems`` checks them, and
docs/configuration.md is a table of them (checked by a test). A choice set that a registry owns
(datasets, methods, architectures, …) is named by import path (:class:`Registry`) and loaded
when first asked for, so this module and ``engine.config`` import no registry (no torch, no
cycle with the methods that use the config).

Field names are unique across a config tree, so an error names a field by its own name
(``ConfigError("lr", …)``), which is also the form field's key and the command line's dest.
"""
from __future__ import annotations

import collections.abc
import importlib
import json
import math
import sys
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING, Field, asdict, dataclass, fields, is_dataclass
from functools import cache
from typing import Any

from errors import UserError

KNOB = "knob"  # the metadata key
# the most common messages, as templates: the window shows them translated (docs/i18n.md)
NOT_ONE_OF = "{value} is not one of {choices}"
NOT_A_NUMBER = "must be a number, got {value}"
OUT_OF_RANGE = "{value} is outside the sensible range {low} to {high}"
MESSAGE_TEMPLATES = (NOT_ONE_OF, NOT_A_NUMBER, OUT_OF_RANGE)


class ConfigError(UserError):
    """A configuration value a user must fix; the message names the field and the fix. A message
    made from a template (:meth:`templated`) keeps it and its values, for the window to translate."""

    def __init__(self, field_name: str, message: str, template: str = "", values: Mapping[str, str] | None = None):
        super().__init__(f"{field_name}: {message}")
        self.field_name = field_name
        self.message = message
        self.template, self.values = template, dict(values or {})

    @classmethod
    def templated(cls, field_name: str, template: str, **values: str) -> ConfigError:
        return cls(field_name, template.format(**values), template, values)


@dataclass(frozen=True)
class Registry:
    """A choice set owned elsewhere: ``"module:attribute"``, a mapping value → title, a sequence
    of values, or a function returning either. Imported on first use."""

    source: str

    def loaded(self) -> bool:
        """Its module is imported already (listing it costs nothing)."""
        return self.source.partition(":")[0] in sys.modules

    def options(self) -> dict[Any, str]:
        value = late(self.source)
        value = value() if callable(value) else value
        if isinstance(value, Mapping):
            return {key: text if isinstance(text, str) else str(key) for key, text in value.items()}
        return {key: str(key) for key in value}


Options = Mapping[Any, str] | Registry


@dataclass(frozen=True)
class Knob:
    """What a config field says about itself. ``choices`` are enforced; ``suggested`` values are
    only offered by the form (the range still decides). ``plugin_choices`` are what the GML plug-in
    (freeze features) offers instead: the losses that declare they can re-train a classifier; the
    rule behind them is checked by ``RunConfig.problems``. ``local`` fields (paths, names, devices)
    belong to this machine and user, not to a recipe: applying a preset keeps them. ``widget``
    asks the form for a special editor: ``folder``, ``checkpoint``, ``teacher``, ``imbalance`` or
    ``params``. ``flag`` is ``--name-with-dashes`` unless given; ``""`` keeps the field off the
    command line. ``check`` is a field's own rule beyond range and choices: value → message or None."""

    label: str
    help: str
    flag: str | None = None
    choices: Options | None = None
    suggested: Options | None = None
    plugin_choices: Options | None = None
    range: tuple[float, float] | None = None
    widget: str = ""
    placeholder: str = ""
    local: bool = False
    check: Callable[[Any], str | None] | None = None


def knob(label: str, help: str, **details: Any) -> dict[str, Knob]:
    """Field metadata: ``field(default=0.1, metadata=knob("Learning rate", "…", range=(1e-7, 10)))``."""
    return {KNOB: Knob(label, help, **details)}


@dataclass(frozen=True)
class Setting:
    """One knob of a config tree: where it sits (``optim.lr``), its field and its knob."""

    path: str
    field: Field
    knob: Knob
    type: Any

    @property
    def name(self) -> str:
        return self.field.name

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-") if self.knob.flag is None else self.knob.flag

    def default(self) -> Any:
        if self.field.default is not MISSING:
            return self.field.default
        return self.field.default_factory() if self.field.default_factory is not MISSING else None

    def get(self, config: Any) -> Any:
        for part in self.path.split("."):
            config = getattr(config, part)
        return config

    def set(self, config: Any, value: Any) -> None:
        *parents, leaf = self.path.split(".")
        for part in parents:
            config = getattr(config, part)
        setattr(config, leaf, value)

    @property
    def offer(self) -> Options | None:
        """What the form offers: the choices, else the suggested values (None: a free value)."""
        return self.knob.choices if self.knob.choices is not None else self.knob.suggested

    def choices(self) -> dict[Any, str] | None:
        return options(self.knob.choices)

    def offered(self) -> dict[Any, str] | None:
        return options(self.offer)


def options(source: Options | None) -> dict[Any, str] | None:
    if source is None:
        return None
    return source.options() if isinstance(source, Registry) else dict(source)


@cache
def settings(kind: type, prefix: str = "") -> tuple[Setting, ...]:
    """Every knob of the config dataclass ``kind``, nested sections included, in field order."""
    found: list[Setting] = []
    hints = typing.get_type_hints(kind)
    for item in fields(kind):
        path = f"{prefix}{item.name}"
        if is_dataclass(hints[item.name]):
            found += settings(hints[item.name], f"{path}.")
        elif KNOB in item.metadata:
            found.append(Setting(path, item, item.metadata[KNOB], hints[item.name]))
    return tuple(found)


def setting(kind: type, name: str) -> Setting:
    """The knob of ``kind`` called ``name`` (field names are unique across a config tree)."""
    for found in settings(kind):
        if found.name == name or found.path == name:
            return found
    raise KeyError(name)


def registry_options(kind: type, plugin: bool = False) -> dict[str, dict[Any, str]]:
    """Setting name → options, for every setting of ``kind`` whose choices (or suggested values) a
    registry owns; with ``plugin``, the plug-in's own sets (``Knob.plugin_choices``) instead.
    Imports the registries: the app's engine loader calls it off the GUI thread."""
    if plugin:
        return {item.name: options(item.knob.plugin_choices) for item in settings(kind)
                if item.knob.plugin_choices is not None}
    return {item.name: item.offer.options() for item in settings(kind) if isinstance(item.offer, Registry)}


def late(source: str) -> Any:
    """``"module:attribute"`` → the attribute, importing the module now (a late-bound reference)."""
    module, _, attribute = source.partition(":")
    return getattr(importlib.import_module(module), attribute)


# --- validation -------------------------------------------------------------------------------

def knob_problems(config: Any) -> list[ConfigError]:
    """What breaks a knob's own rules (choices, range, ``check``) among ``config``'s own fields
    (a nested section checks its own)."""
    found = []
    for item in settings(type(config)):
        if "." in item.path:
            continue
        value = item.get(config)
        if item.knob.choices is not None:
            allowed = item.choices()
            if value not in allowed:
                found.append(ConfigError.templated(item.name, NOT_ONE_OF, value=repr(value),
                                                   choices=", ".join(map(str, allowed))))
                continue
        if item.knob.range is not None:
            error = range_error(item.name, value, *item.knob.range)
            if error:
                found.append(error)
                continue
        if item.knob.check is not None:
            message = item.knob.check(value)
            if message:
                found.append(ConfigError(item.name, message))
    return found


def range_error(name: str, value: Any, low: float, high: float) -> ConfigError | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return ConfigError.templated(name, NOT_A_NUMBER, value=repr(value))
    if not low <= value <= high:
        return ConfigError.templated(name, OUT_OF_RANGE, value=number_text(value), low=number_text(low),
                                     high=number_text(high))
    return None


def number_text(value: float) -> str:
    """A number as typed: 0.1, 1e-07, 10, 4294967295 (not 10.0 or 4.29497e+09)."""
    if isinstance(value, int):
        return str(value)
    short = f"{value:g}"
    return short if float(short) == value else repr(value)


class ConfigProblems(ConfigError):
    """Several fields must change: the first names itself (as any ConfigError), ``problems`` all."""

    def __init__(self, problems: Sequence[ConfigError]):
        first = problems[0]
        super().__init__(first.field_name, first.message, first.template, first.values)
        self.problems = list(problems)


def first(problems: Sequence[ConfigError]) -> None:
    """Raise the first of ``problems``, if any."""
    if problems:
        raise problems[0]


# --- JSON -------------------------------------------------------------------------------------

class JsonConfig:
    """JSON round-trip for the config dataclasses; unknown keys are refused by name."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]):
        return from_dict(cls, raw)

    @classmethod
    def from_json(cls, text: str):
        return cls.from_dict(json.loads(text))


def from_dict(kind: type, raw: Any, where: str = ""):
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
    from_dict(type(config), asdict(config))


def merge(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` laid over it, section by section (a dict value that is a section
    of ``base`` merges; any other value replaces)."""
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping) and key != "params":
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _field_types(kind: type) -> dict[str, Any]:
    resolved = typing.get_type_hints(kind)
    return {f.name: resolved[f.name] for f in fields(kind)}


def _coerce(value: Any, hint: Any, name: str) -> Any:
    """``value`` as the annotated type ``hint``, or a ``ConfigError`` saying what was expected."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return value
    if is_dataclass(hint):
        return from_dict(hint, value, name)
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
