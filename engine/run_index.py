"""What a run browser lists: a one-line summary of every run folder (training or plug-in), its
full settings flattened to dotted keys, and the settings that differ between two runs. Reads
the run folder's files only (config.json, metrics.csv, report.json, status.json, .lock, log.txt,
README.md).

**Which numbers.** A summary reports the *last* epoch (a plug-in run: its final ensemble, else new,
column), as the Compare page, the sweep table and the plug-in (which re-trains the final model)
do. The best epoch is picked on the test split, so it flatters a run; the run card shows it beside
the last one, labelled. ``REPORTED`` names the choice for every table that shows these numbers.

The status tells the truth: "running" only while a writer holds the run's lock, "interrupted"
when status.json says running but its writer is gone (killed), and a folder whose files cannot
be read is listed as "damaged" with the reason in words (``RunSummary.problem``), not left out."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from errors import UserError
from engine.plugin.config import saved_run_config
from engine.run_files import read_json
from engine.runs import RunFolder, list_runs

SUMMARY_KEYS = ("top1", "hm", "gm", "lowest_recall", "zero_recall")  # the browser's Acc / HM / GM / LR / zeros
REPORTED = "last epoch"  # which epoch's numbers the app's tables show (see the module docstring)
# incomplete: a run written before status.json existed that did not reach its epochs
STATUSES = ("finished", "stopped", "running", "interrupted", "diverged", "damaged", "incomplete")


@dataclass
class RunSummary:
    path: Path
    name: str
    kind: str  # "train" or "tune" (the plug-in)
    method: str
    dataset: str
    imbalance: float | None  # ratio n_max / n_min
    epochs_done: int
    epochs_planned: int  # over every stage
    status: str
    metrics: dict[str, float | None] = field(default_factory=dict)  # SUMMARY_KEYS → value, of the last epoch
    metrics_label: str = ""  # where the values are from: "epoch 16 (last)", a plug-in run's column
    settings: dict[str, Any] = field(default_factory=dict)  # flattened config.json
    stages: list[tuple[str, int]] = field(default_factory=list)  # (name, epochs) of a training run's stages
    problem: str = ""  # why the folder is "damaged", in words

    def text(self) -> str:
        """Everything a filter may match, lower-case."""
        return " ".join(str(v) for v in (self.name, self.kind, self.method, self.dataset, self.status,
                                         self.imbalance)).lower()


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts → ``{"run.optim.lr": 0.1, ...}``; lists and scalars stay as they are."""
    if not isinstance(value, dict):
        return {prefix: value} if prefix else {}
    flat: dict[str, Any] = {}
    for key, item in value.items():
        flat.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def settings_diff(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(key, value in a, value in b) for every flattened setting that differs; a setting only one
    run has shows None for the other. Sorted by key."""
    missing = object()
    rows = []
    for key in sorted(set(a) | set(b)):
        left, right = a.get(key, missing), b.get(key, missing)
        if left != right:
            rows.append((key, None if left is missing else left, None if right is missing else right))
    return rows


def summarize(path: str | Path) -> RunSummary:
    """The summary of one run folder; a damaged one is summarised as such (``damaged``)."""
    try:
        return _summarize(RunFolder(path))
    except UserError as error:
        return damaged(path, str(error))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        return damaged(path, f"{path} holds settings or results this version cannot read "
                             f"({type(error).__name__}: {error})")


def damaged(path: str | Path, problem: str) -> RunSummary:
    path = Path(path)
    return RunSummary(path, path.name, "", "", "", None, 0, 0, "damaged", problem=problem)


def _summarize(run: RunFolder) -> RunSummary:
    raw = run.config()
    kind = raw.get("kind", "train")
    settings = flatten({k: v for k, v in raw.items() if k != "kind"})
    history = run.history()
    if kind == "tune":
        plugin = saved_run_config(raw)
        report_path = run.path / "report.json"
        report = read_json(report_path) if report_path.exists() else None
        columns = (report or {}).get("columns", {})
        column = next((c for c in ("ensemble", "new", "old") if c in columns), None)
        metrics = {k: _fraction(columns[column].get(k)) for k in SUMMARY_KEYS} if column else {}
        status = ("stopped" if report.get("stopped") else "finished") if report else (run.state() or "incomplete")
        return RunSummary(run.path, run.name, kind, f"plug-in {plugin.method.loss}", plugin.data.dataset,
                          _ratio(plugin.data.imbalance_ratio), int((report or {}).get("epochs_done", len(history))),
                          plugin.optim.epochs, status, metrics, f"{column}, after the last epoch" if column else "",
                          settings)
    config = raw.get("run", {})
    data = config.get("data", {})
    method = config.get("method", {})
    stages = stages_of(config)
    planned = sum(epochs for _name, epochs in stages)
    last = history[-1] if history else None
    metrics = {k: _fraction(last.get(f"test_{k}")) for k in SUMMARY_KEYS} if last else {}
    rule = method.get("train_rule", "none")
    return RunSummary(run.path, run.name, kind, method.get("loss", "") + (f" + {rule}" if rule != "none" else ""),
                      data.get("dataset", ""), _ratio(data.get("imbalance_ratio")), len(history), planned,
                      _train_status(run, len(history), planned), metrics,
                      f"epoch {int(last['epoch'])} ({REPORTED})" if last else "", settings, stages)


def index_runs(roots: list[str | Path] | None = None, extra: list[str | Path] = ()) -> list[RunSummary]:
    """Summaries of the run folders under ``roots`` (default: the workspace's runs/) and of the
    ``extra`` folders, newest first; damaged folders are listed as "damaged" with the reason."""
    folders = [run.path for root in (roots or [None]) for run in list_runs(root)]
    folders += [Path(p) for p in extra if Path(p) not in folders]
    return [summarize(folder) if RunFolder(folder).is_run() else
            damaged(folder, f"{folder} is not a run folder (it has no config.json)") for folder in folders]


def stages_of(config: dict) -> list[tuple[str, int]]:
    """(name, epochs) of each stage a run's config (``config.json``'s "run") trains; its optimiser's epochs as one stage
    when the method cannot say (a config from an older version, a method no longer registered)."""
    from engine.config import RunConfig
    from engine.trainer import planned_stages

    try:
        return [(stage.name, stage.epochs) for stage in planned_stages(RunConfig.from_dict(config))]
    except (UserError, TypeError, ValueError, KeyError):
        epochs = 0 if config.get("model", {}).get("freeze") == "all" else int(config.get("optim", {}).get("epochs", 0))
        return [("train", epochs)]


def _train_status(run: RunFolder, done: int, planned: int) -> str:
    state = run.state()
    if state:  # status.json, with a killed writer's "running" shown as "interrupted"
        return state
    card = run.card()
    if card:  # written when a run ends, stopped or not
        return "stopped" if "Stopped early" in card or done < planned else "finished"
    log = run.path / "log.txt"
    if log.exists() and "stopped during epoch" in log.read_text(encoding="utf-8", errors="replace"):
        return "stopped"
    return "finished" if planned and done >= planned else "incomplete"


def _ratio(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _fraction(value) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)
