"""The run folder's files: per-class precision beside recall, confusion matrices, the CLI table."""
from __future__ import annotations

import csv

import torch

from cli.common import metrics_table
from engine.metrics import compute_metrics
from engine.runs import PRECISION_FILE, RunFolder

CONFUSION = torch.tensor([[3, 1, 0], [1, 1, 0], [2, 0, 0]])  # class 2 never right
COUNTS = torch.tensor([200, 50, 5])


def test_epochs_write_recall_and_precision_in_step(tmp_path):
    run = RunFolder.create(tmp_path, "t")
    run.write_dataset("toy", ["cat", "dog", "eel"], COUNTS.tolist())
    metrics = compute_metrics(CONFUSION, COUNTS, loss=1.0)
    for epoch in (1, 2, 3):
        run.append_epoch(epoch, 0.1, 1.0, metrics, metrics)
    assert run.per_class()[0] == [0.75, 0.5, 0.0]
    assert run.per_class_precision()[0][:2] == [3 / 6, 1 / 2]
    history = run.history()
    assert {"test_nll", "test_ece", "test_zero_recall"} <= set(history[0])
    assert history[0]["test_hm"] == metrics.hm > 0  # floored: not 0 although a class is at zero
    fresh = RunFolder(run.path)  # what a reader (the app, a resume) sees
    assert len(fresh.per_class()) == len(fresh.per_class_precision()) == len(fresh.history()) == 3
    assert fresh.epochs_committed() == 3
    with open(run.path / PRECISION_FILE) as handle:
        assert next(csv.reader(handle)) == ["epoch", "class_0", "class_1", "class_2"]


def test_confusion_matrices_are_saved_with_class_names_and_read_back(tmp_path):
    run = RunFolder.create(tmp_path, "t")
    run.write_dataset("toy", ["cat", "dog", "eel"], COUNTS.tolist())
    path = run.write_confusion("best", CONFUSION)
    assert path.name == "confusion_best.csv"
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["true \\ predicted", "cat", "dog", "eel"] and rows[3] == ["eel", "2", "0", "0"]
    assert run.confusion("best") == CONFUSION.tolist()
    run.write_confusion("last", compute_metrics(CONFUSION, COUNTS).confusion)  # a Metrics' own matrix
    assert run.confusion("last") == CONFUSION.tolist()
    assert run.confusion("other") is None


def test_cli_table_shows_calibration_zero_count_and_the_floor():
    floored = compute_metrics(CONFUSION, COUNTS, nll=0.75, ece=0.125)
    plain = compute_metrics(CONFUSION, COUNTS, recall_floor=0)
    table = metrics_table({"floored": floored, "plain": plain})
    assert "ECE (%)" in table and "12.50" in table
    assert "NLL" in table and "0.750" in table
    assert "floors differ" in table
    assert metrics_table({"floored": floored}).endswith("floored at 0.1 % (the paper's convention).")
    assert metrics_table({"plain": plain}).endswith("HM / GM / LR unfloored: 0 when any class has zero recall.")


def test_the_confusion_matrices_are_written_when_the_session_ends_not_every_epoch(tmp_path):
    from engine.events import EpochEnd
    from engine.trainer import train
    from test_gui_support import tiny_demo_config

    seen = []

    def on_event(event) -> None:
        if isinstance(event, EpochEnd):
            folder = next((tmp_path / "runs").iterdir())
            seen.append((folder / "confusion_last.csv").exists())
            assert len(event.test.confusion) == 10  # listeners (the app) still get it every epoch

    result = train(tiny_demo_config(tmp_path, epochs=3), on_event=on_event)
    assert seen == [False, False, False]
    run = RunFolder(result.run_dir)
    with open(run.path / "confusion_last.csv") as handle:
        assert next(csv.reader(handle))[0] == "true \\ predicted (epoch 3)"
    with open(run.path / "confusion_best.csv") as handle:
        assert next(csv.reader(handle))[0] == f"true \\ predicted (epoch {result.best_epoch})"
    from data import load_dataset

    matrix = run.confusion("last")
    assert len(matrix) == 10 and all(len(row) == 10 for row in matrix)
    assert sum(map(sum, matrix)) == len(load_dataset(tiny_demo_config(tmp_path).data).test_labels)
