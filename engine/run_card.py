"""The run card: a short README.md in every run folder, readable without the app."""
from __future__ import annotations

from data.types import LTDataset
from engine.config import RunConfig
from engine.metrics import Metrics, floor_note
from engine.precision import Precision
from engine.runs import RunFolder, format_percent


def write_run_card(run: RunFolder, config: RunConfig, dataset: LTDataset, best_epoch: int | None,
                   best: dict, last: Metrics | None, stopped: bool, stages: list[str] = ()) -> None:
    optim, method, data = config.optim, config.method, config.data
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
        f"- **Compute:** device {config.device}, {config.threads} CPU thread(s), "
        + Precision(config.precision, tuple(config.fp32_layers or ())).describe(),
        f"- **Seeds:** long-tail cut {data.cut_seed}, training (initialisation, order, augmentation) {config.seed}"
        + ("  \n- **Stopped early** by the user." if stopped else ""),
        "",
        "| metric (test, %) | best epoch" + (f" ({best_epoch})" if best_epoch is not None else "") + " | last epoch |",
        "|---|---|---|",
    ]
    for title, key in (("Acc", "top1"), ("HM", "hm"), ("GM", "gm"), ("LR", "lowest_recall"),
                       ("Many", "many"), ("Medium", "medium"), ("Few", "few")):
        last_value = getattr(last, key) if last else None
        lines.append(f"| {title} | {format_percent(best.get('test_' + key))} | {format_percent(last_value)} |")
    if last is not None:
        lines.append(f"| zero-recall classes | {best.get('test_zero_recall', '—')} | {last.zero_recall} |")
        lines.append(f"| ECE | {format_percent(best.get('test_ece'))} | {format_percent(last.ece)} |")
        lines += ["", floor_note({last.recall_floor})]
    lines += ["", f"Resume with `python main.py train --resume {run.path}`.", ""]
    run.write_card("\n".join(lines))
