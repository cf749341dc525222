"""What a tuning run leaves beside metrics.csv: report.json, report.csv and the run card.

The report has one column per model (old, new, ensemble) with Acc, HM, GM, LR, many / medium /
few, the zero-recall count, ECE and every class's recall, so a reader sees who was left behind
before and who is now; the same report for every repair (GML, cRT, LWS, τ-norm, WB), with what a
repair chose on the validation split (τ-norm's τ) under "repair".
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from data.types import Dataset
from engine.checkpoints import Checkpoint
from engine.metrics import FEW_THRESHOLD, MANY_THRESHOLD, Metrics, floor_note
from engine.config import RunConfig
from engine.methods import method_class
from engine.plugin.ensemble import TemperatureChoice
from engine.runs import RunFolder, format_count, format_percent


@dataclass
class TuneResult:
    """What a plug-in run reports: old / new / ensemble metrics and the temperatures used."""

    run_dir: Path | None
    stopped: bool
    reports: dict[str, Metrics]  # "old", and "new" / "ensemble" when they exist
    class_names: list[str]
    class_counts: list[int]
    t1: float
    t2: float
    epochs_done: int = 0
    search: TemperatureChoice | None = None  # the validation scores of the searched pair
    seconds: dict[str, float] = field(default_factory=dict)  # "features", "tune", "total"
    choice: dict | None = None  # what a repair that trains nothing chose on the validation split (τ-norm's τ)
    validation: str = ""  # which split the choices were made on
    precision: str = "fp32"  # engine.precision: the pretrained model's, where the device computes it

TABLE_ROWS = (("Acc", "top1"), ("HM", "hm"), ("GM", "gm"), ("LR", "lowest_recall"), ("Many", "many"),
              ("Medium", "medium"), ("Few", "few"), ("ECE", "ece"))
WORST_SHOWN = 5


def shot_group(count: int) -> str:
    return "many" if count > MANY_THRESHOLD else "few" if count < FEW_THRESHOLD else "medium"


def write_reports(run: RunFolder, config: RunConfig, dataset: Dataset, checkpoint: Checkpoint,
                  result: TuneResult) -> None:
    run.write_json("report.json", {
        "checkpoint": config.model.pretrained, "loss": config.method.loss, "epochs_done": result.epochs_done,
        "stopped": result.stopped, "t1": result.t1, "t2": result.t2,
        "temperatures": "search" if result.search else "user",
        "search": vars(result.search) if result.search else None,
        "repair": result.choice, "validation": result.validation,
        "seconds": result.seconds,
        "class_names": result.class_names, "class_counts": result.class_counts,
        "columns": {name: metrics.to_dict() for name, metrics in result.reports.items()},
    })
    with open(run.path / "report.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["class", "name", "train_count", "group", *result.reports])
        for c, (name, count) in enumerate(zip(result.class_names, result.class_counts)):
            writer.writerow([c, name, count, shot_group(count),
                             *(m.per_class_recall[c] for m in result.reports.values())])
    run.write_card(_card(run, config, dataset, checkpoint, result))


def _card(run: RunFolder, config: RunConfig, dataset: Dataset, checkpoint: Checkpoint, result: TuneResult) -> str:
    columns = result.reports
    plugin, optim = config.plugin, config.optim
    source = (f"{plugin.feature_passes if config.data.augment else 1} cached feature pass(es)"
              if plugin.cache_features else "a full forward pass per batch")
    temperatures = (f"searched on {result.validation} (validation HM {format_percent(result.search.hm)})"
                    if result.search else "set by the user")
    method = method_class(config.method.loss)
    if result.choice is not None:
        chosen = ", ".join(f"{key} = {value:g}" for key, value in result.choice.items() if isinstance(value, float))
        tuning = (f"{method.title}: nothing trained; {chosen} chosen on {result.validation} (validation HM "
                  f"{format_percent(result.choice['validation']['hm'])}); backbone frozen")
    else:
        max_norm = (f", MaxNorm {plugin.max_norm:g} per {plugin.max_norm_every}" if plugin.max_norm else "")
        tuning = (f"{method.title}, {result.epochs_done}/{optim.epochs} epochs, {optim.optimizer} lr {optim.lr} "
                  f"({optim.schedule}), weight decay {optim.weight_decay:g}, batch {optim.batch_size}, "
                  f"{plugin.sampler} sampling{max_norm}; trains {', '.join(method.repair_trains)}, new classifier "
                  f"initialised from the {'old one' if plugin.init == 'old' else 'scratch'}; backbone frozen, {source}")
    lines = [
        f"# {run.name}: classifier repair (plug-in)",
        "",
        f"- **Pretrained model:** {config.model.pretrained} ({checkpoint.describe()})",
        f"- **Dataset:** {dataset.describe()}",
        f"- **Repair:** {tuning}",
        "- **Ensemble:** " + (f"½·[softmax(z_new/{result.t1:g}) + softmax(z_old/{result.t2:g})], temperatures "
                               f"{temperatures}" if "ensemble" in columns else "off"),
        f"- **Time:** features {result.seconds.get('features', 0):.1f}s, tuning {result.seconds.get('tune', 0):.1f}s, "
        f"total {result.seconds.get('total', 0):.1f}s; seed {config.seed}; {config.threads} CPU thread(s), "
        f"{result.precision}"
        + ("  \n- **Stopped early** by the user." if result.stopped else ""),
        "",
    ]
    if columns:
        lines += ["| test, % | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
        lines += [f"| {title} | " + " | ".join(format_percent(getattr(m, key)) for m in columns.values()) + " |"
                  for title, key in TABLE_ROWS]
        lines.append("| zero-recall classes | " + " | ".join(format_count(m.zero_recall) for m in columns.values()) + " |")
        lines += [f"- **{name}: the model's outputs were not finite numbers** (NaN/inf) for {m.non_finite} test "
                  "images; its metrics are n/a." for name, m in columns.items() if not m.are_numbers()]
        lines += ["", floor_note({m.recall_floor for m in columns.values()}), "", *_left_behind(result)]
    lines += ["Per-class recalls: report.csv; all numbers: report.json; the tuned model (with the old "
              "classifier for the ensemble): checkpoints/last.pt.", ""]
    return "\n".join(lines)


def _left_behind(result: TuneResult) -> list[str]:
    """The old model's worst classes and where each column leaves them."""
    old = result.reports["old"].per_class_recall
    worst = sorted(range(len(old)), key=lambda c: (old[c], c))[:WORST_SHOWN]
    lines = [f"Worst {len(worst)} classes of the old model:", "",
             "| class | train images | " + " | ".join(result.reports) + " |", "|---" * (len(result.reports) + 2) + "|"]
    for c in worst:
        recalls = " | ".join(format_percent(m.per_class_recall[c]) for m in result.reports.values())
        lines.append(f"| {result.class_names[c]} | {result.class_counts[c]} | {recalls} |")
    return lines + [""]
