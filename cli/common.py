"""Pieces every CLI sub-command shares: data flags, the metrics table, a tqdm event sink."""
from __future__ import annotations

import argparse
import json
import math
from typing import Any

from cli.options import add_setting_arguments, apply_arguments
from data import default_imbalance_type
from engine.config import DataConfig
from engine.knobs import Setting, settings
from engine.events import DatasetReady, EpochEnd, Event, Message, Progress
from engine.metrics import Metrics, floor_note
from engine.runs import format_count, format_percent

TABLE_ROWS = (("Acc", "top1"), ("HM", "hm"), ("GM", "gm"), ("LR", "lowest_recall"), ("Many", "many"),
              ("Medium", "medium"), ("Few", "few"), ("ECE", "ece"))


def add_data_arguments(parser: argparse.ArgumentParser) -> list[Setting]:
    """The data flags (generated from the data section's knobs) of a command that reads a checkpoint."""
    return add_setting_arguments(parser, lambda item: item.path.startswith("data."),
                                 " (defaults: what the checkpoint was trained on, else CIFAR-100-LT, 100)")


def data_config_from_args(args: argparse.Namespace, trained_on: dict | None = None) -> DataConfig:
    """The flags given, else the data a checkpoint was trained on (its meta "data"), else CIFAR-100-LT."""
    fallback = DataConfig()
    if trained_on and (args.dataset is None or args.dataset == trained_on.get("dataset")):
        fallback = DataConfig(**{k: v for k, v in trained_on.items() if k in DATA_FIELDS_FROM_CHECKPOINT})
        if "cut_seed" not in trained_on and "seed" in trained_on:
            fallback.cut_seed = int(trained_on["seed"])  # saved before the cut had its own seed: it followed the run's
    dataset = args.dataset or fallback.dataset
    same = dataset == fallback.dataset
    data = DataConfig(dataset=dataset, root=fallback.root if same else "", image_size=fallback.image_size,
                      imbalance_type=fallback.imbalance_type if same else default_imbalance_type(dataset),
                      imbalance_ratio=fallback.imbalance_ratio, cut_seed=fallback.cut_seed)
    apply_arguments(data, args, settings(DataConfig))
    return data


DATA_FIELDS_FROM_CHECKPOINT = ("dataset", "root", "imbalance_type", "imbalance_ratio", "image_size", "cut_seed")


def trained_on(checkpoint: str) -> dict | None:
    """The data settings stored in one of our checkpoints (None for foreign files)."""
    from engine.checkpoints import load_checkpoint

    return load_checkpoint(checkpoint).meta.get("data")


def json_text(payload: Any) -> str:
    """Strict JSON whatever the numbers: NaN and ±inf (not JSON) become null."""
    return json.dumps(finite_or_none(payload), indent=2, allow_nan=False)


def finite_or_none(value: Any) -> Any:
    """``value`` with every non-finite float (nested in dicts, lists, tuples) replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite_or_none(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(item) for item in value]
    return value


def metrics_table(columns: dict[str, Metrics]) -> str:
    """Acc/HM/GM/LR/many/medium/few/ECE (in %), the zero-recall count and NLL, one column per
    model, and a note of the recall floor HM / GM / LR were computed with."""
    names = list(columns)
    width = max(10, *(len(n) + 2 for n in names))
    lines = ["".ljust(14) + "".join(n.rjust(width) for n in names)]
    for title, key in TABLE_ROWS:
        cells = (format_percent(getattr(m, key)) for m in columns.values())
        lines.append(f"{title} (%)".ljust(14) + "".join(c.rjust(width) for c in cells))
    lines.append("zero-recall".ljust(14) + "".join(format_count(m.zero_recall).rjust(width)
                                                    for m in columns.values()))
    lines.append("NLL".ljust(14) + "".join(_plain(m.nll).rjust(width) for m in columns.values()))
    if any(m.experts_per_image is not None for m in columns.values()):  # RIDE's router
        cells = ("all" if m.experts_per_image is None else f"{m.experts_per_image:.2f}" for m in columns.values())
        lines.append("experts/image".ljust(14) + "".join(c.rjust(width) for c in cells))
    lines.append(floor_note({m.recall_floor for m in columns.values()}))
    return "\n".join(lines)



def print_result(result) -> None:
    """A finished run's table: the last epoch's metrics, or the plug-in's old / new / ensemble."""
    columns = getattr(result, "reports", None) or ({"last epoch": result.final} if result.final is not None else {})
    if getattr(result, "test", None) is not None and "last epoch" in columns:  # a validation split chose best.pt
        columns = {"last epoch (val)": result.final, "best.pt (test)": result.test}
    if columns:
        print()
        print(metrics_table(columns))
    choice = getattr(result, "choice", None)
    if choice:
        chosen = ", ".join(f"{key} = {value:g}" for key, value in choice.items() if isinstance(value, float))
        print(f"\nchosen on {result.validation}: {chosen} (validation HM {100 * choice['validation']['hm']:.2f})")
    if "ensemble" in columns:
        how = (f"chosen on {result.validation}, validation HM {100 * result.search.hm:.2f}" if result.search
               else "as set")
        print(f"\nensemble temperatures: t1 = {result.t1:g} (new), t2 = {result.t2:g} (old), {how}")
    print(f"\nrun folder: {result.run_dir}")


def _plain(value: float) -> str:
    return "—" if value is None or value != value else f"{value:.3f}"


class TerminalReporter:
    """An event sink that draws a tqdm bar per epoch and prints one line per finished epoch."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self._bar = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, Progress):
            self._progress(event)
        elif isinstance(event, EpochEnd):
            self._close_bar()
            test = event.test
            stage = f" (stage {event.stage_name})" if event.stage_name else ""
            print(f"epoch {event.epoch}/{event.epochs}{stage}  lr {event.lr:.4g}  "
                  f"train acc {format_percent(event.train.top1)}  {event.split} acc {format_percent(test.top1)}  "
                  f"HM {format_percent(test.hm)}  GM {format_percent(test.gm)}  "
                  f"LR {format_percent(test.lowest_recall)}  zero-recall {format_count(test.zero_recall)}"
                  f"  ({event.seconds:.1f}s){'  *best' if event.is_best else ''}", flush=True)
        elif isinstance(event, Message):
            self._close_bar()
            print(("warning: " if event.level == "warning" else "") + event.text, flush=True)
        elif isinstance(event, DatasetReady):
            pass

    def _progress(self, event: Progress) -> None:
        if self.quiet:
            return
        if self._bar is None or event.batch == 1:
            from tqdm import tqdm

            self._close_bar()
            self._bar = tqdm(total=event.batches, desc=f"{event.stage_name or event.stage} {event.epoch}/{event.epochs}",
                             leave=False, unit="batch")
        self._bar.n = event.batch
        self._bar.refresh()

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
