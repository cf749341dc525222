"""Per-epoch bookkeeping: ``python tools/bench_bookkeeping.py`` (docs/benchmarks.md).

What a run spends each epoch besides training and evaluating, at C classes: the training
split's metrics (``EpochStats.read``), the test split's metrics from its logits
(``metrics_from_logits``), the CSV rows and the atomic commit (``RunFolder.commit_epoch``:
``last.pt`` with the SGD momentum as resume state, ``best.pt`` on a best epoch, a ResNet-32 with a
C-class head), and the confusion matrix (kept by ``engine.confusion.ConfusionRecord``; in versions
before it, written as ``confusion_last.csv`` every epoch and ``confusion_best.csv`` on a best
epoch). The run goes through every epoch up to ``--epochs``; a best epoch every tenth, and in
the epochs reported. Prints the median of epochs 1–3 and of the last three, per part.

Run it from another version's tree to compare (``git archive <commit> | tar -x -C /tmp/old``,
then ``python tools/bench_bookkeeping.py`` there with this file copied in).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.epoch_stats import EpochStats  # noqa: E402
from engine.evaluation import metrics_from_logits  # noqa: E402
from engine.runs import RunFolder, epoch_rows  # noqa: E402
from models import ModelSpec, create_model  # noqa: E402

TEST_IMAGES = {100: 10_000, 1000: 50_000}  # CIFAR-100's test split; ImageNet-LT's
TRAIN_BATCHES = 20  # batches of 128 fed to the training statistics (not timed)
REPORTED = 10  # epochs at each end


def confusion_keeper(run: RunFolder):
    """The version's way of keeping the confusion matrix each epoch."""
    try:
        from engine.confusion import ConfusionRecord
    except ImportError:  # before the record: two CSV files per epoch
        def write(metrics, epoch: int, is_best: bool) -> None:
            run.write_confusion("last", metrics.confusion)
            if is_best:
                run.write_confusion("best", metrics.confusion)
        return write
    record = ConfusionRecord()
    return record.update


def bookkeeping(classes: int, epochs: int, folder: Path) -> dict[str, list[float]]:
    """Seconds per epoch of each part, for every epoch."""
    generator = torch.Generator().manual_seed(0)
    counts = torch.randint(5, 500, (classes,), generator=generator)
    model = create_model(ModelSpec("cifar_resnet", "resnet32", classes))
    momentum = {"state": {i: {"momentum_buffer": p.detach().clone()} for i, p in enumerate(model.parameters())},
                "param_groups": [{"lr": 0.1, "params": list(range(len(list(model.parameters()))))}]}
    test_logits = torch.randn(TEST_IMAGES[classes], classes, generator=generator) * 3
    test_labels = torch.randint(0, classes, (len(test_logits),), generator=generator)
    meta = {"arch": "resnet32", "head": "linear", "num_classes": classes}
    run = RunFolder.create(folder, f"bookkeeping-{classes}")
    run.write_dataset("bench", [f"class {c}" for c in range(classes)], counts.tolist())
    keep = confusion_keeper(run)
    parts: dict[str, list[float]] = {"metrics": [], "commit": [], "confusion": []}
    sizes = []
    for epoch in range(1, epochs + 1):
        stats = EpochStats(classes, "cpu")
        for _ in range(TRAIN_BATCHES):
            logits = torch.randn(128, classes, generator=generator)
            stats.update(torch.tensor(1.0), logits, torch.randint(0, classes, (128,), generator=generator))
        is_best = epoch <= REPORTED or epoch > epochs - REPORTED or epoch % 10 == 0
        started = time.perf_counter()
        train = stats.read(counts)
        test = metrics_from_logits(test_logits, test_labels, counts)
        metrics_done = time.perf_counter()
        run.commit_epoch(*epoch_rows(epoch, 0.1, 1.0, train, test, stage=1), state_dict=model.state_dict(),
                         meta={**meta, "epoch": epoch}, extra={"optimizer": momentum, "epochs_done": epoch},
                         is_best=is_best)
        committed = time.perf_counter()
        keep(test, epoch, is_best)
        finished = time.perf_counter()
        sizes.append((run.path / "checkpoints" / "last.pt").stat().st_size)
        parts["metrics"].append(metrics_done - started)
        parts["commit"].append(committed - metrics_done)
        parts["confusion"].append(finished - committed)
    parts["last.pt KB"] = [size / 1000 for size in sizes]
    return parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--classes", type=int, nargs="+", default=[100, 1000], choices=sorted(TEST_IMAGES))
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--dir", type=Path, help="where the runs are written (default: a temporary folder)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"per-epoch bookkeeping, ms (median of epochs 1-{REPORTED} and of "
          f"{args.epochs - REPORTED + 1}-{args.epochs})")
    print(f"{'classes':>8} {'epochs':>9} {'metrics':>9} {'commit':>9} {'confusion':>10} {'total':>9} "
          f"{'last.pt KB':>11}")
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        for classes in args.classes:
            parts = bookkeeping(classes, args.epochs, Path(folder))
            size = parts.pop("last.pt KB")
            totals = [sum(values) for values in zip(*parts.values())]
            for label, window, kb in ((f"1-{REPORTED}", slice(0, REPORTED), size[0]),
                                      (f"{args.epochs - REPORTED + 1}-{args.epochs}", slice(-REPORTED, None),
                                       size[-1])):
                cells = [1000 * statistics.median(values[window]) for values in (*parts.values(), totals)]
                print(f"{classes:>8} {label:>9} " + " ".join(f"{c:>9.1f}" for c in cells[:2])
                      + f" {cells[2]:>10.1f} {cells[3]:>9.1f} {kb:>11,.0f}", flush=True)


if __name__ == "__main__":
    main()
