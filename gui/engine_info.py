"""What the panels ask the engine for: the device, the registries' choices, checkpoints on disk.

``load_engine_info`` imports torch and the method registry; the app runs it on a worker
thread after the window is shown, then hands the result to every panel.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QCoreApplication

from engine import workspace
from engine.config import RunConfig
from engine.knobs import registry_options
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
    # setting name → (value, text) options, for the settings whose choices a registry owns
    # (methods, architectures, train rules, samplers, devices, …; engine.knobs.registry_options)
    choices: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    # the same for what the plug-in (freeze features) narrows: the losses that declare they can
    # re-train a classifier (Knob.plugin_choices)
    plugin_choices: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    method_params: dict[str, list[MethodParam]] = field(default_factory=dict)  # loss name → its hyperparameters
    gpus: int = 0  # CUDA GPUs of this machine: how many processes a run may train with (RunConfig.nproc)


def load_engine_info() -> EngineInfo:
    """Import torch and everything a task will need, so a run does not pay for imports later:
    an import holds the interpreter lock for long stretches and would stall the GUI mid-run."""
    import engine.inference  # noqa: F401
    import engine.plugin.run  # noqa: F401
    import engine.trainer  # noqa: F401
    from engine.devices import describe_device, gpu_count, pick_device, warm_up
    from engine.methods import available_methods

    warm_up(pick_device("auto"))
    choices, plugin_choices = ({name: list(offered.items())
                                for name, offered in registry_options(RunConfig, plugin).items()}
                               for plugin in (False, True))
    params = {name: method_params(cls) for name, cls in available_methods().items()}
    return EngineInfo(describe_device(pick_device("auto")), choices, plugin_choices, params, gpu_count())


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
    if folder == workspace.CODE_ROOT / "models" / "pretrained":
        return QCoreApplication.translate("EngineInfo", "bundled")
    return f"{folder.parent.name}/{folder.name}"
