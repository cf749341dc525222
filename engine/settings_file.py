"""Settings files a user edits (sweeps, presets): TOML, or JSON with the same keys, read with
errors that point at ``file:line: field``.

TOML is read with ``tomllib`` (standard library since Python 3.11: comments, no quoting noise, no
dependency beyond the project's fixed package list). Neither parser reports where a value stood,
so :class:`Locator` finds a field's line by looking its keys (and value) up in the text.
"""
from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

from errors import UserError


class SettingsFileError(UserError):
    """A settings file a user must fix: ``file:line: field: message``."""


def read_settings(text: str, path: Path, error: type[SettingsFileError] = SettingsFileError,
                  what: str = "the file must be a table of keys") -> dict:
    """The top-level table of a TOML (or, by suffix, JSON) file's ``text``."""
    try:
        raw = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except tomllib.TOMLDecodeError as decode_error:
        raise error(f"{path}: not valid TOML: {decode_error}") from None
    except json.JSONDecodeError as decode_error:
        raise error(f"{path}:{decode_error.lineno}: not valid JSON: {decode_error.msg} "
                    f"(column {decode_error.colno})") from None
    if not isinstance(raw, dict):
        raise error(f"{path}:1: {what}")
    return raw


class Locator:
    """Finds the line of a field in a settings file's text (keys in order, then the value)."""

    def __init__(self, text: str, path: Path, error: type[SettingsFileError] = SettingsFileError):
        self.text, self.path, self.error_type = text, path, error

    def line(self, keys: tuple, value: Any = None) -> int | None:
        position, found = 0, False
        for key in keys:
            pattern = r"""(?:^|[\s{,\[."'])""" + re.escape(str(key)) + r"""["']?\s*(?:=|:|\])"""
            match = re.compile(pattern, re.MULTILINE).search(self.text, position)
            if match is None:
                continue
            position, found = match.end(), True
        if value is not None:
            token = json.dumps(value) if isinstance(value, str) else None
            for candidate in filter(None, (token, f"'{value}'" if isinstance(value, str) else None,
                                           None if isinstance(value, str) else str(value))):
                index = self.text.find(candidate, position)
                if index >= 0:
                    position, found = index, True
                    break
        return self.text.count("\n", 0, position) + 1 if found else None

    def error(self, keys: tuple, message: str, value: Any = None) -> SettingsFileError:
        line = self.line(keys, value)
        name = ".".join(str(k) for k in keys)
        return self.error_type(f"{self.path}{f':{line}' if line else ''}: {name}: {message}")
