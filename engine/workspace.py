"""Where user data lives: datasets, runs, pretrained checkpoints and logs.

The workspace is ``$LTS_WORKSPACE`` if set, else ``~/LongTailStudio``. The CLI and the app
share it, so a run trained on a server opens in the app. Nothing is ever written into the
code or bundle folder; ``models/pretrained`` there is read-only and listed beside the
workspace's ``pretrained/``.
"""
from __future__ import annotations

from pathlib import Path

from data import workspace_root

CODE_ROOT = Path(__file__).resolve().parent.parent


def _sub(name: str) -> Path:
    path = workspace_root() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def datasets_dir() -> Path:
    return _sub("datasets")  # data.default_datasets_dir(), created


def runs_dir() -> Path:
    return _sub("runs")


def pretrained_dirs() -> list[Path]:
    """Folders the pretrained-model pickers list: the workspace's, then the bundled one."""
    return [_sub("pretrained"), CODE_ROOT / "models" / "pretrained"]


def logs_dir() -> Path:
    return _sub("logs")


def resource(name: str) -> Path:
    """A file under ``resources/`` (works from source and from the packaged bundle)."""
    return CODE_ROOT / "resources" / name
