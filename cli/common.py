"""Pieces every CLI sub-command shares: data flags, the metrics table, a tqdm event sink."""
from __future__ import annotations

import argparse
import json
import math
from typing import Any

from errors import UserError
from engine.config import DATASETS, IMBALANCE_TYPES, DataConfig
from engine.events import DatasetReady, EpochEnd, Event, Message, Progress
from engine.metrics import Metrics, floor_note
from engine.runs import format_percent

TABLE_ROWS = (("Acc", "top1"), ("HM", "hm"), ("GM", "gm"), ("LR", "lowest_recall"), ("Many", "many"),
              ("Medium", "medium"), ("Few", "few"), ("ECE", "ece"))


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("data (defaults: what the checkpoint was trained on, else CIFAR-100-LT, 100)")
    group.add_argument("--dataset", choices=DATASETS)
    group.add_argument("--data-root", default="", help="dataset folder (default: <workspace>/datasets)")
    group.add_argument("--imbalance", type=float,
                       help="imbalance ratio n_max/n_min (100) or factor n_min/n_max (0.01); both mean the same")
    group.add_argument("--imbalance-type", choices=IMBALANCE_TYPES,
                       help="exp or step cut, or none (default: exp; none for an image folder)")
    group.add_argument("--image-size", type=int)
    group.add_argument("--cut-seed", type=int,
                       help="seed of the long-tailed cut (default: the checkpoint's, else 0 as in LDAM-DRW/MiSLAS)")


def data_config_from_args(args: argparse.Namespace, trained_on: dict | None = None) -> DataConfig:
    """The flags given, else the data a checkpoint was trained on (its meta "data"), else CIFAR-100-LT."""
    fallback = DataConfig(dataset="cifar100")
    if trained_on and (args.dataset is None or args.dataset == trained_on.get("dataset")):
        fallback = DataConfig(**{k: v for k, v in trained_on.items() if k in DATA_FIELDS_FROM_CHECKPOINT})
        if "cut_seed" not in trained_on and "seed" in trained_on:
            fallback.cut_seed = int(trained_on["seed"])  # saved before the cut had its own seed: it followed the run's
    dataset = args.dataset or fallback.dataset
    default_type = fallback.imbalance_type if dataset == fallback.dataset else default_imbalance_type(dataset)
    cut_seed = getattr(args, "cut_seed", None)
    return DataConfig(dataset=dataset, root=args.data_root or (fallback.root if dataset == fallback.dataset else ""),
                      imbalance_type=args.imbalance_type or default_type,
                      imbalance_ratio=args.imbalance if args.imbalance is not None else fallback.imbalance_ratio,
                      image_size=args.image_size or fallback.image_size,
                      cut_seed=cut_seed if cut_seed is not None else fallback.cut_seed)


DATA_FIELDS_FROM_CHECKPOINT = ("dataset", "root", "imbalance_type", "imbalance_ratio", "image_size", "cut_seed")


def trained_on(checkpoint: str) -> dict | None:
    """The data settings stored in one of our checkpoints (None for foreign files)."""
    from engine.checkpoints import load_checkpoint

    return load_checkpoint(checkpoint).meta.get("data")


def default_imbalance_type(dataset: str) -> str:
    """A user's own folder is taken as it is; benchmarks are cut to the usual exponential tail."""
    return "none" if dataset == "folder" else "exp"


def parse_params(items: list[str]) -> dict[str, float]:
    """``--param NAME=VALUE`` flags → a dict of method hyperparameters."""
    params = {}
    for item in items:
        key, _, value = item.partition("=")
        try:
            params[key.strip()] = float(value)
        except ValueError:
            raise UserError(f"--param {item!r}: expected NAME=NUMBER, e.g. --param gamma=2") from None
    return params


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
    lines.append("zero-recall".ljust(14) + "".join(str(m.zero_recall).rjust(width) for m in columns.values()))
    lines.append("NLL".ljust(14) + "".join(_plain(m.nll).rjust(width) for m in columns.values()))
    if any(m.experts_per_image is not None for m in columns.values()):  # RIDE's router
        cells = ("all" if m.experts_per_image is None else f"{m.experts_per_image:.2f}" for m in columns.values())
        lines.append("experts/image".ljust(14) + "".join(c.rjust(width) for c in cells))
    lines.append(floor_note({m.recall_floor for m in columns.values()}))
    return "\n".join(lines)



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
            stage = f" (stage {event.stage_name})" if event.stage_name else ""
            print(f"epoch {event.epoch}/{event.epochs}{stage}  lr {event.lr:.4g}  "
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
            self._bar = tqdm(total=event.batches, desc=f"{event.stage_name or event.stage} {event.epoch}/{event.epochs}",
                             leave=False, unit="batch")
        self._bar.n = event.batch
        self._bar.refresh()

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
