"""The paper-style table of a sweep: mean ± std over seeds of Acc / HM / GM / LR and of the
number of classes at zero recall, for the base model and, side by side, after each classifier
repair of the base model (+GML, +cRT, +LWS, +τ-norm, +WB) and with that repair's old+new ensemble
(+GML+ens, …).

Numbers come from the cells' run folders only: the base column is the last row of the base
run's metrics.csv (the last epoch: the final model, the one the plug-ins repair), each repair's
columns are the "new" and "ensemble" columns of its plug-in run's report.json. std is the sample
standard deviation (n − 1); with one seed there is none, and the table shows the value alone.
Writes, under ``<sweep>/report/``: table.csv, table.md,
table.tex, cells.csv (every cell's numbers) and per_class.csv (every cell's per-class recalls,
for the left-behind plots).
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

from engine.run_files import RunDamaged, RunWriteError
from engine.runs import list_runs
from engine.sweep.cells import plugin_folder, plugin_report, read_status, read_sweep, train_run
from engine.sweep.spec import Cell

BASE = ("base", "base")  # key, title
METRICS = (("acc", "Acc", "top1"), ("hm", "HM", "hm"), ("gm", "GM", "gm"), ("lr", "LR", "lowest_recall"),
           ("zero", "Zeros", "zero_recall"))  # key, title, Metrics attribute; "zero" counts classes
COUNTS = ("zero",)  # metrics that are class counts, not fractions shown in percent
ENSEMBLE_SUFFIX = "_ens"  # a repair's ensemble column: "<repair>_ens"


def table_models(cells: list[Cell]) -> list[tuple[str, str]]:
    """(key, title) of every model the table can show: the base model, then per repair of the
    cells (in their order) its new classifier (``crt``, "+cRT") and its ensemble (``crt_ens``,
    "+cRT+ens") where that repair ensembles."""
    from engine.methods import method_class

    models, seen = [BASE], set()
    for cell in cells:
        for repair, plugin in zip(cell.repairs, cell.plugins):
            if repair in seen:
                continue
            seen.add(repair)
            title = "+" + method_class(repair).abbreviation()
            models.append((repair, title))
            if plugin["plugin"]["ensemble"]:
                models.append((repair + ENSEMBLE_SUFFIX, title + "+ens"))
    return models


@dataclass
class CellResult:
    cell: Cell
    state: str  # the cell's status, or "damaged" when its status, metrics or report could not be read
    values: dict[str, dict[str, float]] = field(default_factory=dict)  # model → metric → value (fraction)
    per_class: dict[str, list[float]] = field(default_factory=dict)  # model → recalls
    class_names: list[str] = field(default_factory=list)
    class_counts: list[int] = field(default_factory=list)
    reason: str = ""  # why damaged, in words


@dataclass
class Row:
    """One line of the table: a dataset × ratio × method, over its seeds."""

    dataset: str
    imbalance: float
    method: str
    seeds: int  # finished seeds that enter the means
    planned: int
    stats: dict[str, dict[str, tuple[float, float | None]]]  # model → metric → (mean, std; None for one seed)


def collect(sweep_dir: str | Path) -> list[CellResult]:
    """Every cell's state and, when its runs are finished, its numbers."""
    _name, cells = read_sweep(sweep_dir)
    return [cell_result(sweep_dir, cell) for cell in cells]


def cell_result(sweep_dir: str | Path, cell: Cell) -> CellResult:
    """One cell's state and its numbers (base once its run finished, each repair's after its
    plug-in run); "damaged" with the reason when a file they come from cannot be read."""
    status = read_status(sweep_dir, cell.id)
    result = CellResult(cell, status.state, reason=status.reason if status.state == "damaged" else "")
    if status.state == "damaged":
        return result
    try:
        _read_numbers(result, sweep_dir, status.train_done or status.state == "done")
    except RunDamaged as error:
        result.state, result.reason = "damaged", str(error)
        result.values.clear()
        result.per_class.clear()
    return result


def _read_numbers(result: CellResult, sweep_dir: str | Path, trained: bool) -> None:
    cell = result.cell
    base = train_run(sweep_dir, cell.id)
    history = base.history() if base is not None and trained else []
    if not history:
        return
    last = history[-1]
    result.values["base"] = {key: last.get(f"test_{attribute}", math.nan) for key, _t, attribute in METRICS}
    result.per_class["base"] = base.per_class()[-1]
    result.class_names, result.class_counts = base.class_names(), base.class_counts()
    for repair in cell.repairs:
        report = next((found for run in list_runs(plugin_folder(sweep_dir, cell.id, repair))
                       if (found := plugin_report(run)) is not None), None)
        if report is None:
            continue
        for key, column in ((repair, "new"), (repair + ENSEMBLE_SUFFIX, "ensemble")):
            values = report["columns"].get(column)
            if values is not None:
                try:
                    result.values[key] = {k: _number(values[attribute]) for k, _t, attribute in METRICS}
                    result.per_class[key] = [float(r) for r in values["per_class_recall"]]
                except (KeyError, TypeError, ValueError):
                    raise RunDamaged(f"the {column} column of the {repair} report of {cell.id} is damaged") from None


def _number(value) -> float:
    """A report value as a float; a zero-recall count of outputs that were not numbers (null) is NaN."""
    return math.nan if value is None else float(value)


def table_rows(results: list[CellResult]) -> list[Row]:
    models = table_models([result.cell for result in results])
    groups: dict[tuple, list[CellResult]] = {}
    for result in results:
        groups.setdefault((result.cell.dataset, result.cell.imbalance, result.cell.method), []).append(result)
    rows = []
    for (dataset, ratio, method), members in groups.items():
        finished = [m for m in members if m.state == "done" and m.values]
        stats = {}
        for model, _title in models:
            having = [m.values[model] for m in finished if model in m.values]
            if having:
                stats[model] = {key: mean_std([v[key] for v in having]) for key, _t, _a in METRICS}
        rows.append(Row(dataset, ratio, method, len(finished), len(members), stats))
    return rows


def mean_std(values: list[float]) -> tuple[float, float | None]:
    """The mean and the sample standard deviation (n − 1); no deviation (None) for one value."""
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, None
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def stat_text(metric: str, mean: float, std: float | None, plus_minus: str = "±") -> str:
    """A table cell: percent with two decimals (a class count with one), "± std" only when
    there are several seeds; "n/a" when a seed's outputs were NaN/inf (no mean is claimed)."""
    if not math.isfinite(mean):
        return "n/a"
    if metric in COUNTS:
        return f"{mean:.0f}" if std is None else f"{mean:.1f} {plus_minus} {std:.1f}"
    return f"{100 * mean:.2f}" if std is None else f"{100 * mean:.2f} {plus_minus} {100 * std:.2f}"


def write_report(sweep_dir: str | Path, results: list[CellResult] | None = None) -> dict[str, Path]:
    """Write the table and the per-cell numbers (of ``results``, default: ``collect``); returns name → path."""
    results = collect(sweep_dir) if results is None else results
    rows = table_rows(results)
    models = table_models([result.cell for result in results])
    folder = Path(sweep_dir) / "report"
    paths = {"csv": folder / "table.csv", "markdown": folder / "table.md", "latex": folder / "table.tex",
             "cells": folder / "cells.csv", "per_class": folder / "per_class.csv"}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _write_table_csv(paths["csv"], rows, models)
        paths["markdown"].write_text(markdown_table(rows, models), encoding="utf-8")
        paths["latex"].write_text(latex_table(rows, models), encoding="utf-8")
        _write_cells_csv(paths["cells"], results, models)
        _write_per_class_csv(paths["per_class"], results)
    except OSError as error:
        raise RunWriteError(f"cannot write the sweep's table into {folder}: {error.strerror or error}") from None
    return paths


def _models_present(rows: list[Row], models: list[tuple[str, str]]) -> list[tuple[str, str]]:
    present = {model for row in rows for model in row.stats}
    return [(key, title) for key, title in models if key in present] or [BASE]


def _cell_text(row: Row, model: str, metric: str, plus_minus: str) -> str:
    if model not in row.stats:
        return "–"
    return stat_text(metric, *row.stats[model][metric], plus_minus)


def markdown_table(rows: list[Row], models: list[tuple[str, str]]) -> str:
    models = _models_present(rows, models)
    head = ["dataset", "ratio", "method", "seeds"] + [f"{title} {name}" for _k, title in models for _m, name, _a in METRICS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * 4 + "---:|" * (len(head) - 4)]
    for row in rows:
        cells = [row.dataset, f"{row.imbalance:g}", row.method, f"{row.seeds}/{row.planned}"]
        cells += [_cell_text(row, key, metric, "±") for key, _t in models for metric, _n, _a in METRICS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + ("\n\nMean ± std over seeds (sample std; one seed: its value), test split, last epoch, "
                               "%; Zeros: classes at zero recall.\n")


def latex_table(rows: list[Row], models: list[tuple[str, str]]) -> str:
    models = _models_present(rows, models)
    columns = "lrl" + "r" * (len(models) * len(METRICS))
    group = " & ".join(f"\\multicolumn{{{len(METRICS)}}}{{c}}{{{_latex(title)}}}" for _k, title in models)
    names = " & ".join(name for _k, _t in models for _m, name, _a in METRICS)
    lines = ["\\begin{tabular}{" + columns + "}", "\\toprule", f" & & & {group} \\\\",
             f"Dataset & Ratio & Method & {names} \\\\", "\\midrule"]
    for row in rows:
        values = " & ".join(_cell_text(row, key, metric, "$\\pm$") for key, _t in models for metric, _n, _a in METRICS)
        lines.append(f"{_latex(row.dataset)} & {row.imbalance:g} & {_latex(row.method)} & {values} \\\\")
    lines += ["\\bottomrule", "\\end{tabular}", ""]
    return "\n".join(lines)


def _latex(text: str) -> str:
    for char in "\\&%$#_{}":
        text = text.replace(char, "\\" + char)
    return text


def _write_table_csv(path: Path, rows: list[Row], models: list[tuple[str, str]]) -> None:
    header = ["dataset", "imbalance", "method", "seeds", "planned"]
    header += [f"{model}_{metric}_{part}" for model, _t in models for metric, _n, _a in METRICS for part in ("mean", "std")]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            values = []
            for model, _t in models:
                for metric, _n, _a in METRICS:
                    mean, std = row.stats[model][metric] if model in row.stats else ("", "")
                    values += [mean, "" if std is None else std]
            writer.writerow([row.dataset, f"{row.imbalance:g}", row.method, row.seeds, row.planned, *values])


def _write_cells_csv(path: Path, results: list[CellResult], models: list[tuple[str, str]]) -> None:
    header = ["cell", "dataset", "imbalance", "method", "seed", "state"]
    header += [f"{model}_{metric}" for model, _t in models for metric, _n, _a in METRICS]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header + ["reason"])
        for r in results:
            values = [r.values.get(model, {}).get(metric, "") for model, _t in models for metric, _n, _a in METRICS]
            writer.writerow([r.cell.id, r.cell.dataset, f"{r.cell.imbalance:g}", r.cell.method, r.cell.seed, r.state,
                             *values, r.reason])


def _write_per_class_csv(path: Path, results: list[CellResult]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["cell", "dataset", "imbalance", "method", "seed", "model", "class", "name", "train_count",
                         "recall"])
        for r in results:
            for model, recalls in r.per_class.items():
                for c, recall in enumerate(recalls):
                    name = r.class_names[c] if c < len(r.class_names) else str(c)
                    count = r.class_counts[c] if c < len(r.class_counts) else ""
                    writer.writerow([r.cell.id, r.cell.dataset, f"{r.cell.imbalance:g}", r.cell.method, r.cell.seed,
                                     model, c, name, count, recall])
