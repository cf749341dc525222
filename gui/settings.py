"""Persistent app state: window geometry, splitter sizes and the last value of every field.

Values are stored as JSON text so that an INI store (used by tests) and the native store
give back exactly the type that was saved.
"""
from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QSplitter, QWidget

ORGANIZATION = "LongTailStudio"
APPLICATION = "Long-Tail Studio"


class Settings:
    """A thin wrapper over ``QSettings``; pass a store (e.g. an INI file) to isolate tests."""

    def __init__(self, store: QSettings | None = None):
        self.store = store if store is not None else QSettings(ORGANIZATION, APPLICATION)

    @classmethod
    def from_file(cls, path: str) -> Settings:
        return cls(QSettings(str(path), QSettings.Format.IniFormat))

    def get(self, key: str, default: Any = None) -> Any:
        raw = self.store.value(key)
        if raw is None:
            return default
        try:
            return json.loads(raw)
        except (TypeError, ValueError):
            return default

    def set(self, key: str, value: Any) -> None:
        self.store.setValue(key, json.dumps(value))

    def save_geometry(self, key: str, widget: QWidget) -> None:
        self.store.setValue(key, widget.saveGeometry())

    def restore_geometry(self, key: str, widget: QWidget) -> bool:
        raw = self.store.value(key)
        return isinstance(raw, QByteArray) and widget.restoreGeometry(raw)

    def save_splitter(self, key: str, splitter: QSplitter) -> None:
        self.store.setValue(key, splitter.saveState())

    def restore_splitter(self, key: str, splitter: QSplitter) -> None:
        """Restore saved sizes (works before the splitter is shown, unlike ``setSizes``)."""
        raw = self.store.value(key)
        if isinstance(raw, QByteArray):
            splitter.restoreState(raw)

    def sync(self) -> None:
        self.store.sync()
