"""Build the packaged app: ``python3 tools/build_app.py`` → ``dist/LongTailStudio/`` (docs/packaging.md).

Creates the project venv ``.venv`` when it is missing, installs the requirements and the pinned
PyInstaller into it, runs ``build.spec`` (PyInstaller, onedir) and prints the bundle's size.
``--self-test`` then runs ``<bundle>/LongTailStudio --self-test`` and exits with its status.
Standard library only, so any Python 3.11 runs it before the venv exists.

The rules for what goes into the bundle live here too (``APP_NAME``, ``EXCLUDES``,
``own_modules``, ``bundled_data``, ``torchvision_extensions``, ``cuda_dlopened_libraries``):
``build.spec`` imports them, and the tests check them without a four-minute build.
"""
from __future__ import annotations

import argparse
import importlib.machinery
import importlib.util
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP_NAME = "LongTailStudio"
PYINSTALLER = ("pyinstaller==6.22.3", "pyinstaller-hooks-contrib==2026.9")  # the versions this spec is tested with
OWN_PACKAGES = ("data", "models", "engine", "cli", "gui")
OWN_MODULES = ("errors",)  # root modules beside main.py
EXCLUDES = (
    "PyQt5", "PyQt6", "PySide2",  # one Qt binding: PySide6 (pyqtgraph would otherwise drag the others' shims in)
    "tkinter", "_tkinter",  # no Tk anywhere; only PIL.ImageTk would import it, and nothing imports that
    "triton",  # torch.compile's GPU kernel generator (0.9 GB); nothing here compiles and torch imports it lazily
    "pytest", "_pytest", "pytestqt",  # test-only
    "ray",  # the sweep's optional cluster backend (requirements-ray.txt); the app runs sweeps locally
    "pandas", "pyarrow",  # ray[train]'s; only tqdm's optional pandas hook would pull them in
)


# --- what goes into the bundle (used by build.spec) --------------------------------------

def own_modules(root: Path = ROOT) -> list[str]:
    """Every module of the app's packages, so that imports made inside functions are bundled too."""
    modules = []
    for package in OWN_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            modules.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return modules + list(OWN_MODULES)


def bundled_data(root: Path = ROOT) -> list[tuple[str, str]]:
    """(source, folder in the bundle): resources/ (demo digits, icon, style), the translation
    catalogues (translations/*.qm; Qt's own qtbase_*.qm come with PyInstaller's PySide6 hook) and
    any bundled pretrained checkpoints. Class names are code (data/cifar.py, data/demo.py)."""
    catalogues = sorted((root / "translations").glob("*.qm"))
    if not catalogues:
        raise SystemExit(f"no translation catalogues in {root / 'translations'}: run tools/update_translations.py")
    data = [(str(root / "resources"), "resources"), *((str(qm), "translations") for qm in catalogues)]
    pretrained = root / "models" / "pretrained"
    if pretrained.is_dir() and any(p.is_file() for p in pretrained.iterdir()):
        data.append((str(pretrained), "models/pretrained"))
    return data


def torchvision_extensions() -> list[tuple[str, str]]:
    """torchvision's compiled op libraries as (file, "torchvision") binaries.

    torchvision loads them by file name from its package folder (``torchvision.extension``);
    pyinstaller-hooks-contrib's hook names only ``torchvision._C``, while torchvision 0.29 calls
    them ``_C_stable`` and ``image_stable``. Without them a bundle starts and then dies with
    "operator torchvision::nms does not exist". Any extension module in the folder is taken,
    whatever its name in this or another version.
    """
    spec = importlib.util.find_spec("torchvision")
    if spec is None or spec.origin is None:
        raise RuntimeError("torchvision is not installed in the Python that runs PyInstaller")
    package = Path(spec.origin).parent
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    return [(str(path), "torchvision") for path in sorted(package.iterdir()) if path.name.endswith(suffixes)]


def cuda_dlopened_libraries() -> list[tuple[str, str]]:
    """CUDA libraries that other CUDA libraries open at run time, invisible to PyInstaller's
    dependency analysis: NVRTC's builtins, which libnvrtc loads from its own folder when torch
    compiles a kernel at run time. The contrib hooks collect them for CUDA 12's per-library
    wheels (nvidia/cuda_nvrtc/lib) but not for CUDA 13's merged nvidia/cu13/lib. Each goes to the
    same folder as in site-packages; empty for a CPU-only torch."""
    spec = importlib.util.find_spec("nvidia")
    found = []
    for location in (spec.submodule_search_locations or []) if spec else []:
        base = Path(location)
        for path in sorted(base.glob("*/lib/libnvrtc-builtins*.so*")):
            found.append((str(path), (Path("nvidia") / path.parent.relative_to(base)).as_posix()))
    return found


# --- building ----------------------------------------------------------------------------

def venv_python(venv_dir: Path) -> Path:
    return venv_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def bundle_executable(dist: Path) -> Path:
    return dist / APP_NAME / (f"{APP_NAME}.exe" if os.name == "nt" else APP_NAME)


def prepare_venv(venv_dir: Path) -> Path:
    """The venv's Python with the requirements and PyInstaller installed (the venv is created if missing)."""
    python = venv_python(venv_dir)
    if not python.exists():
        print(f"creating {venv_dir}", flush=True)
        venv.create(venv_dir, with_pip=True)
    _run([python, "-m", "pip", "install", "-q", "-r", str(ROOT / "requirements.txt"), *PYINSTALLER])
    return python


def build(python: Path, dist: Path, work: Path) -> Path:
    _run([python, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
          "--distpath", str(dist), "--workpath", str(work), str(ROOT / "build.spec")])
    return dist / APP_NAME


def folder_size(folder: Path) -> tuple[int, int]:
    """(bytes, files) of every regular file under ``folder``; links are not followed."""
    total = count = 0
    for parent, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(parent, name)
            if not path.is_symlink():
                total += path.stat().st_size
                count += 1
    return total, count


def _run(command: list) -> None:
    print("$ " + " ".join(map(str, command)), flush=True)
    subprocess.run([str(part) for part in command], cwd=ROOT, check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the packaged app with PyInstaller (onedir).")
    parser.add_argument("--venv", type=Path, default=ROOT / ".venv", help="the project venv (created if missing)")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    parser.add_argument("--work", type=Path, default=ROOT / "build", help="PyInstaller's work folder")
    parser.add_argument("--self-test", action="store_true", help="run the bundle's --self-test after building")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    python = prepare_venv(args.venv)
    bundle = build(python, args.dist.resolve(), args.work.resolve())
    size, files = folder_size(bundle)
    print(f"built {bundle} in {time.perf_counter() - started:.0f}s: {size / 1e9:.2f} GB in {files} files", flush=True)
    if not args.self_test:
        return 0
    report = args.work.resolve() / "self-test.json"
    executable = bundle_executable(args.dist.resolve())
    return subprocess.run([str(executable), "--self-test", "--report", str(report)]).returncode


if __name__ == "__main__":
    sys.exit(main())
