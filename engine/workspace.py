"""Where user data lives: datasets, runs, pretrained checkpoints and logs.

The workspace is ``$LTS_WORKSPACE`` if set, else ``~/LongTailStudio``. The CLI and the app
share it, so a run trained on a server opens in the app. Nothing is ever written into the
code or bundle folder; ``models/pretrained`` there is read-only and listed beside the
workspace's ``pretrained/``.

``check_run_folders`` is the early check a run makes before anything heavy (dataset, model):
a workspace or runs folder that is a file, read-only or not creatable is one ``WorkspaceError``
line naming the folder. It leaves nothing behind: folders it had to make are removed again.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from data import workspace_root
from errors import UserError

CODE_ROOT = Path(__file__).resolve().parent.parent


class WorkspaceError(UserError):
    """A folder the app must write into is unusable; the message names it and the way out."""


def _sub(name: str) -> Path:
    root = workspace_root()
    _refuse_files_in_the_way(root, "workspace")
    return ensure_folder(root / name, f"workspace's {name} folder")


def datasets_dir() -> Path:
    return _sub("datasets")  # data.default_datasets_dir(), created


def runs_dir() -> Path:
    return _sub("runs")


def pretrained_dirs() -> list[Path]:
    """Folders the pretrained-model pickers list: the workspace's, then the bundled one."""
    return [_sub("pretrained"), CODE_ROOT / "models" / "pretrained"]


def logs_dir() -> Path:
    return _sub("logs")


def cache_dir() -> Path:
    """Measurements about this machine that runs reuse (``engine.precision_probe``)."""
    return _sub("cache")


def resource(name: str) -> Path:
    """A file under ``resources/`` (works from source and from the packaged bundle)."""
    return CODE_ROOT / "resources" / name


# ----------------------------------------------------------------------------- early checks

def check_run_folders(runs_dir: str | Path | None = None) -> Path:
    """The runs folder a run will write into (``runs_dir``, default ``<workspace>/runs``), proven
    usable before the dataset loads. Raises ``WorkspaceError`` naming the folder."""
    if runs_dir:
        return ensure_writable_folder(Path(runs_dir).expanduser(), "runs folder", hint="choose another with --runs-dir")
    root = workspace_root()
    ensure_writable_folder(root, "workspace", hint="set $LTS_WORKSPACE to a writable folder")
    return ensure_writable_folder(root / "runs", "runs folder", hint="set $LTS_WORKSPACE to a writable folder")


def ensure_folder(path: Path, role: str, hint: str = "") -> Path:
    """``path`` as a folder, created with its parents if missing; one line naming it otherwise."""
    _refuse_files_in_the_way(path, role, hint)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise WorkspaceError(_line(f"the {role} {path} cannot be created ({_reason(error)})", hint)) from None
    return path


def ensure_writable_folder(path: Path, role: str, hint: str = "") -> Path:
    """Proof that ``path`` is, or can be made, a folder that takes files: the folders missing are
    created, a file is created and removed in it, and the folders created are removed again (so a
    check leaves nothing behind). One ``WorkspaceError`` line naming the folder otherwise."""
    missing = [part for part in (path, *path.parents) if not part.exists()]
    ensure_folder(path, role, hint)
    try:
        handle, name = tempfile.mkstemp(prefix=".write-check-", dir=path)
        os.close(handle)
        os.unlink(name)
    except OSError as error:
        raise WorkspaceError(_line(f"the {role} {path} is not writable ({_reason(error)})", hint)) from None
    finally:
        for part in missing:  # deepest first
            try:
                part.rmdir()
            except OSError:  # another process put something there meanwhile: keep it
                break
    return path


def _refuse_files_in_the_way(path: Path, role: str, hint: str = "") -> None:
    for part in (path, *path.parents):
        if part.exists():
            if not part.is_dir():
                where = "is a file" if part == path else f"cannot be made: {part} is a file"
                raise WorkspaceError(_line(f"the {role} {path} {where}, not a folder", hint))
            return


def _reason(error: OSError) -> str:
    return error.strerror or type(error).__name__


def _line(text: str, hint: str) -> str:
    return f"{text}; {hint}" if hint else text
