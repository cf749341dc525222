"""Pieces every CLI sub-command shares: data flags, the metrics table, a tqdm event sink."""
from __future__ import annotations

import argparse
import math

from engine.config import DATASETS, IMBALANCE_TYPES, DataConfig
from engine.events import DatasetReady, EpochEnd, Event, Message, Progress
from engine.metrics import Metrics

TABLE_ROWS = (("Acc", "top1"), ("HM", "hm"), ("GM", "gm"), ("LR", "lowest_recall"), ("Many", "many"),
              ("Medium", "medium"), ("Few", "few"))


def add_data_arguments(parser: argparse.ArgumentParser, default_dataset: str = "cifar100") -> None:
    group = parser.add_argument_group("data")
    group.add_argument("--dataset", choices=DATASETS, default=default_dataset)
    group.add_argument("--data-root", default="", help="dataset folder (default: <workspace>/datasets)")
    group.add_argument("--imbalance", type=float, default=100.0,
                       help="imbalance ratio n_max/n_min (100) or factor n_min/n_max (0.01); both mean the same")
    group.add_argument("--imbalance-type", choices=IMBALANCE_TYPES,
                       help="exp or step cut, or none (default: exp; none for an image folder)")
    group.add_argument("--image-size", type=int, default=32)


def data_config_from_args(args: argparse.Namespace) -> DataConfig:
    return DataConfig(dataset=args.dataset, root=args.data_root,
                      imbalance_type=args.imbalance_type or default_imbalance_type(args.dataset),
                      imbalance_ratio=args.imbalance, image_size=args.image_size)


def default_imbalance_type(dataset: str) -> str:
    """A user's own folder is taken as it is; benchmarks are cut to the usual exponential tail."""
    return "none" if dataset == "folder" else "exp"


def metrics_table(columns: dict[str, Metrics]) -> str:
    """Acc/HM/GM/LR/many/medium/few (in %) plus the zero-recall count, one column per model."""
    names = list(columns)
    width = max(10, *(len(n) + 2 for n in names))
    lines = ["".ljust(14) + "".join(n.rjust(width) for n in names)]
    for title, key in TABLE_ROWS:
        cells = (_percent(getattr(m, key)) for m in columns.values())
        lines.append(f"{title} (%)".ljust(14) + "".join(c.rjust(width) for c in cells))
    lines.append("zero-recall".ljust(14) + "".join(str(m.zero_recall).rjust(width) for m in columns.values()))
    return "\n".join(lines)


def _percent(value: float | None) -> str:
    return "—" if value is None or math.isnan(value) else f"{100 * value:.2f}"


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
            print(f"epoch {event.epoch}/{event.epochs}  lr {event.lr:.4g}  "
                  f"train acc {100 * event.train.top1:.1f}  test acc {100 * event.test.top1:.2f}  "
                  f"HM {100 * event.test.hm:.2f}  GM {100 * event.test.gm:.2f}  "
                  f"LR {100 * event.test.lowest_recall:.2f}  zero-recall {event.test.zero_recall}  "
                  f"({event.seconds:.1f}s){'  *best' if event.is_best else ''}", flush=True)
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
            self._bar = tqdm(total=event.batches, desc=f"{event.stage} {event.epoch}/{event.epochs}",
                             leave=False, unit="batch")
        self._bar.n = event.batch
        self._bar.refresh()

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
