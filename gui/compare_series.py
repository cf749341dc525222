"""What the Compare page shows: one :class:`Series` per model (old / new / ensemble of a plug-in
run, or a saved training run), built from engine results or read from run folders."""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QT_TRANSLATE_NOOP

from errors import UserError

# (column title, Metrics attribute); the titles are translated where shown (context ComparePanel)
TABLE_COLUMNS = (("Acc", "top1"), ("HM", "hm"), ("GM", "gm"), ("LR", "lowest_recall"),
                 (QT_TRANSLATE_NOOP("ComparePanel", "Many"), "many"),
                 (QT_TRANSLATE_NOOP("ComparePanel", "Medium"), "medium"),
                 (QT_TRANSLATE_NOOP("ComparePanel", "Few"), "few"), ("ECE", "ece"))
TIMESTAMP = re.compile(r"^\d{8}-\d{6}-")  # a run folder's "20250101-120000-" prefix
CURVE_METRICS = (("test_top1", QT_TRANSLATE_NOOP("ComparePanel", "Top-1 accuracy")), ("test_hm", "HM"),
                 ("test_gm", "GM"),
                 ("test_lowest_recall", QT_TRANSLATE_NOOP("ComparePanel", "Lowest recall (LR)")))


@dataclass
class Series:
    name: str  # method and run, e.g. "CE + DRW · cifar100-lt"; a plug-in's column after it
    summary: dict[str, float | None]  # Metrics attributes of TABLE_COLUMNS, plus zero_recall (the last epoch)
    per_class: list[float]
    class_names: list[str]
    class_counts: list[int]
    history: list[dict[str, float]] = field(default_factory=list)  # metrics.csv rows (epoch, test_* …)
    source: str = ""  # the run folder it was read from ("" for the plug-in's live result)

    def value(self, attribute: str) -> float | None:
        value = self.summary.get(attribute)
        return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def series_from_metrics(name: str, metrics, class_names: list[str], class_counts: list[int],
                        history: list[dict[str, float]] | None = None, source: str = "") -> Series:
    """A series from an ``engine.metrics.Metrics`` (a tuning report column)."""
    summary = {attribute: getattr(metrics, attribute) for _title, attribute in TABLE_COLUMNS}
    summary["zero_recall"] = metrics.zero_recall
    return Series(name, summary, list(metrics.per_class_recall), list(class_names), list(class_counts),
                  list(history or []), source)


def series_from_run(path: str | Path) -> list[Series]:
    """A training run → one series (its last epoch); a plug-in run → old / new / ensemble. Each is
    named by its method and its run's label, not by the timestamped folder."""
    from engine.metrics import Metrics
    from engine.runs import RunFolder

    run = RunFolder(path)
    if not run.is_run():
        raise UserError(QCoreApplication.translate(
            "ComparePanel", "{0} is not a run folder (it has no config.json); choose a folder under "
                            "runs/").format(path))
    history = run.history()
    name = run_title(run)
    report = run.path / "report.json"
    if report.exists():
        raw = json.loads(report.read_text())
        names, counts = raw["class_names"], raw["class_counts"]
        return [series_from_metrics(f"{name} · {column}", Metrics.from_dict(values), names, counts,
                                    history if column == "new" else None, str(run.path))
                for column, values in raw["columns"].items()]
    per_class = run.per_class()
    if not history or not per_class:
        raise UserError(QCoreApplication.translate(
            "ComparePanel", "{0} has no finished epoch yet, so there is nothing to compare").format(run.name))
    last = history[-1]
    summary = {attribute: last.get(f"test_{attribute}") for _title, attribute in TABLE_COLUMNS}
    summary["zero_recall"] = last.get("test_zero_recall")
    return [Series(name, summary, per_class[-1], run.class_names(), run.class_counts(), history, str(run.path))]


def run_title(run) -> str:
    """"<method> · <label>": the loss (+ train rule) or "GML plug-in", and the run folder's name
    without its date and time (the experiment name, or the default dataset-method label)."""
    raw = run.config()
    if raw.get("kind") == "tune":
        method = f"{raw.get('tune', {}).get('loss', '').upper()} plug-in"
    else:
        config = raw.get("run", {}).get("method", {})
        rule = config.get("train_rule", "none")
        method = config.get("loss", "?").upper() + (f" + {rule.upper()}" if rule != "none" else "")
    label = TIMESTAMP.sub("", run.name) or run.name
    return f"{method} · {label}"


def unique_names(series: list[Series]) -> list[Series]:
    """Give series of different runs that share a name the run folder's date and time too."""
    seen: dict[str, str] = {}
    for s in series:
        if s.name in seen and seen[s.name] != s.source:
            stamp = TIMESTAMP.match(Path(s.source).name)
            when = stamp.group(0) if stamp else ""
            s.name = (f"{s.name} ({when[4:6]}-{when[6:8]} {when[9:11]}:{when[11:13]}:{when[13:15]})" if when
                      else f"{s.name} ({Path(s.source).name})")
        seen.setdefault(s.name, s.source)
    return series
