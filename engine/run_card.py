"""The run card: a short README.md in every run folder, readable without the app."""
from __future__ import annotations

from data.types import Dataset
from engine.config import RunConfig
from engine.metrics import Metrics, floor_note
from engine.precision import Precision
from engine.runs import RunFolder, format_count, format_percent


def write_run_card(run: RunFolder, config: RunConfig, dataset: Dataset, best_epoch: int | None,
                   best: dict, last: Metrics | None, stopped: bool, stages: list[str] = (),
                   eval_split: str = "test", test: Metrics | None = None, processes: int = 1) -> None:
    """``README.md``: the settings, then the per-epoch split's best and last metrics (the validation
    split when the dataset has one) and, then, the test split measured once with best.pt.
    ``processes``: how many shared each global batch (the last session's)."""
    optim, method, data = config.optim, config.method, config.data
    run_epochs = len(run.history())
    lines = [
        f"# {run.name}",
        "",
        f"- **Dataset:** {dataset.describe()}",
        ("- **Long tail:** the data as it is" if data.imbalance_type == "none" else
         f"- **Long tail:** {data.imbalance_type}, imbalance ratio n_max/n_min = {data.imbalance_ratio:g} "
         f"(factor {1 / data.imbalance_ratio:g})"),
        f"- **Model:** {config.model.arch}" + (f", from {config.model.pretrained} (freeze: {config.model.freeze})"
                                               if config.model.pretrained else ""),
        f"- **Method:** {method.loss} {method.params or ''}, train rule {method.train_rule}",
        f"- **Optimiser:** {optim.optimizer.upper()} lr {optim.lr}, momentum {optim.momentum}"
        + (" (Nesterov)" if optim.nesterov else "") + f", weight decay {optim.weight_decay}, "
        f"batch {optim.batch_size}" + (f" (global: {processes} processes of {optim.batch_size // processes}–"
                                        f"{-(-optim.batch_size // processes)})" if processes > 1 else "")
        + f", {optim.epochs} epochs, {optim.schedule} schedule",
        *(f"- **Stage {number}:** {text}" for number, text in enumerate(stages, start=1)),
        f"- **Compute:** device {config.device}, {config.threads} CPU thread(s), "
        + Precision(config.precision, tuple(config.fp32_layers or ())).describe(),
        f"- **Seeds:** long-tail cut {data.cut_seed}, training (initialisation, order, augmentation) {config.seed}"
        + ("  \n- **Stopped early** by the user." if stopped else ""),
        "",
        f"| metric ({eval_split}, %) | last epoch" + (f" ({run_epochs})" if run_epochs else "") + " | best epoch"
        + (f" ({best_epoch}, by {config.best_metric.removeprefix('test_')})" if best_epoch is not None else "")
        + " |" + (" test, best.pt |" if test else ""),
        "|---|---|---|" + ("---|" if test else ""),
    ]
    for title, key in (("Acc", "top1"), ("HM", "hm"), ("GM", "gm"), ("LR", "lowest_recall"),
                       ("Many", "many"), ("Medium", "medium"), ("Few", "few")):
        last_value = getattr(last, key) if last else None
        tested = f" {format_percent(getattr(test, key))} |" if test else ""
        lines.append(f"| {title} | {format_percent(last_value)} | {format_percent(best.get('test_' + key))} |{tested}")
    if last is not None:
        lines.append(f"| zero-recall classes | {format_count(last.zero_recall)} | {best.get('test_zero_recall', '—')} |"
                     + (f" {format_count(test.zero_recall)} |" if test else ""))
        lines.append(f"| ECE | {format_percent(last.ece)} | {format_percent(best.get('test_ece'))} |"
                     + (f" {format_percent(test.ece)} |" if test else ""))
        lines += ["", floor_note({last.recall_floor})]
        if eval_split == "val":
            lines += ["", "The validation split picks best.pt (and fills the test_* columns of metrics.csv); "
                      "the test split is measured once, with best.pt (test_report.json)."]
        else:
            lines += ["", "The app's tables, Compare and the sweep report the last epoch; the best epoch is chosen "
                      "on the test split, so it is shown here for reference only."]
    lines += ["", f"Resume with `python main.py train --resume {run.path}`.", ""]
    run.write_card("\n".join(lines))
