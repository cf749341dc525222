"""What the panels ask the engine for: the device, the registered methods, checkpoints on disk.

``load_engine_info`` imports torch and the method registry; the app runs it on a worker
thread after the window is shown, then hands the result to every panel.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine import workspace
from gui.forms import CHECKPOINT_SUFFIXES


@dataclass(frozen=True)
class MethodParam:
    """One hyperparameter of a loss: its name, the paper's value, a line of help, its name in
    words and the stage it acts in (a multi-stage method's section title, else "")."""

    name: str
    default: float
    help: str
    label: str = ""
    section: str = ""


@dataclass
class EngineInfo:
    device: str  # "CPU (2 threads)" or the GPU's name
    methods: list[tuple[str, str]]  # (name, title) of every registered loss / method
    devices: list[tuple[str, str]] = field(default_factory=list)  # (config value, text)
    method_params: dict[str, list[MethodParam]] = field(default_factory=dict)  # loss name → its hyperparameters


def load_engine_info() -> EngineInfo:
    """Import torch and everything a task will need, so a run does not pay for imports later:
    an import holds the interpreter lock for long stretches and would stall the GUI mid-run."""
    import torch

    import engine.inference  # noqa: F401
    import engine.plugin.run  # noqa: F401
    import engine.trainer  # noqa: F401
    from engine.devices import describe_device, pick_device, warm_up
    from engine.methods import available_methods

    warm_up(pick_device("auto"))
    registry = available_methods()
    methods = sorted(((name, cls.title) for name, cls in registry.items()), key=lambda m: m[1].lower())
    devices = [("auto", "Automatic (GPU if present)"), ("cpu", "CPU")]
    devices += [(f"cuda:{i}", f"GPU {i}: {torch.cuda.get_device_name(i)}") for i in range(torch.cuda.device_count())]
    params = {name: method_params(cls) for name, cls in registry.items()}
    return EngineInfo(describe_device(pick_device("auto")), methods, devices, params)


def method_params(cls) -> list[MethodParam]:
    """A method class's hyperparameters, those outside its sections first, then section by section."""
    section_of = {key: title for title, keys in cls.param_sections.items() for key in keys}
    params = [MethodParam(key, float(value), cls.param_help.get(key, ""), cls.param_labels.get(key, ""),
                          section_of.get(key, "")) for key, value in cls.defaults.items()]
    order = ["", *cls.param_sections]
    return sorted(params, key=lambda p: (order.index(p.section),
                                         cls.param_sections.get(p.section, ()).index(p.name) if p.section else 0))


def pretrained_choices() -> list[tuple[str, str]]:
    """(path, text) for every checkpoint file in the pretrained folders."""
    choices = []
    for folder in workspace.pretrained_dirs():
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                if path.suffix.lower() in CHECKPOINT_SUFFIXES and path.is_file():
                    choices.append((str(path), f"{path.name}  ·  {_short_folder(folder)}"))
    return choices


def run_checkpoint_choices(limit: int = 20) -> list[tuple[str, str]]:
    """(path, text) for the best and last checkpoints of the newest runs."""
    from engine.runs import list_runs

    choices = []
    for run in list_runs()[:limit]:
        for which in ("best", "last"):
            path = run.checkpoint(which)
            if path is not None:
                choices.append((str(path), f"{run.name}  ·  {which}"))
    return choices


def model_choices() -> list[tuple[str, str]]:
    return run_checkpoint_choices() + pretrained_choices()


def _short_folder(folder: Path) -> str:
    return "bundled" if folder == workspace.CODE_ROOT / "models" / "pretrained" else f"{folder.parent.name}/{folder.name}"
