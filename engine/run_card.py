"""The run card: a short README.md in every run folder, readable without the app."""
from __future__ import annotations

from data.types import LTDataset
from engine.config import RunConfig
from engine.metrics import Metrics, floor_note
from engine.runs import RunFolder, format_percent


def write_run_card(run: RunFolder, config: RunConfig, dataset: LTDataset, best_epoch: int | None,
                   best: dict, last: Metrics | None, stopped: bool, stages: list[str] = ()) -> None:
    optim, method, data = config.optim, config.method, config.data
    run_epochs = len(run.history())
    lines = [
        f"# {run.name}",
        "",
        f"- **Dataset:** {dataset.describe()}",
        f"- **Long tail:** {data.imbalance_type}, imbalance ratio n_max/n_min = {data.imbalance_ratio:g} "
        f"(factor {1 / data.imbalance_ratio:g})",
        f"- **Model:** {config.model.arch}" + (f", from {config.model.pretrained} (freeze: {config.model.freeze})"
                                               if config.model.pretrained else ""),
        f"- **Method:** {method.loss} {method.params or ''}, train rule {method.train_rule}",
        f"- **Optimiser:** {optim.optimizer.upper()} lr {optim.lr}, momentum {optim.momentum}"
        + (" (Nesterov)" if optim.nesterov else "") + f", weight decay {optim.weight_decay}, "
        f"batch {optim.batch_size}, {optim.epochs} epochs, {optim.schedule} schedule",
        *(f"- **Stage {number}:** {text}" for number, text in enumerate(stages, start=1)),
        f"- **Seeds:** long-tail cut {data.cut_seed}, training (initialisation, order, augmentation) {config.seed}"
        + ("  \n- **Stopped early** by the user." if stopped else ""),
        "",
        "| metric (test, %) | last epoch" + (f" ({run_epochs})" if run_epochs else "") + " | best epoch"
        + (f" ({best_epoch}, by {config.best_metric.removeprefix('test_')})" if best_epoch is not None else "") + " |",
        "|---|---|---|",
    ]
    for title, key in (("Acc", "top1"), ("HM", "hm"), ("GM", "gm"), ("LR", "lowest_recall"),
                       ("Many", "many"), ("Medium", "medium"), ("Few", "few")):
        last_value = getattr(last, key) if last else None
        lines.append(f"| {title} | {format_percent(last_value)} | {format_percent(best.get('test_' + key))} |")
    if last is not None:
        lines.append(f"| zero-recall classes | {last.zero_recall} | {best.get('test_zero_recall', '—')} |")
        lines.append(f"| ECE | {format_percent(last.ece)} | {format_percent(best.get('test_ece'))} |")
        lines += ["", "The app's tables, Compare and the sweep report the last epoch; the best epoch is chosen on "
                  "the test split, so it is shown here for reference only.", "", floor_note({last.recall_floor})]
    lines += ["", f"Resume with `python main.py train --resume {run.path}`.", ""]
    run.write_card("\n".join(lines))
