"""The Inference page: real drop events with image files, a bad file among them, CSV export."""
from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from data.cifar import CIFAR100_CLASSES
from engine.inference import Predictor
from gui.inference_panel import MESSAGE_COLUMN, InferencePanel
from test_gui_support import (engine_info, gui_settings, no_leaked_threads, open_error_boxes,  # noqa: F401
                              shown_panel)

pytestmark = pytest.mark.usefixtures("no_leaked_threads")


@pytest.fixture
def images(tmp_path):
    """Real files in the formats a user drops: RGB PNG, grey JPEG, RGBA PNG, 16-bit PNG, WebP, BMP."""
    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8), "RGB").save(folder / "rgb.png")
    Image.fromarray(rng.integers(0, 256, (32, 32), dtype=np.uint8), "L").save(folder / "grey.jpg")
    Image.fromarray(rng.integers(0, 256, (20, 30, 4), dtype=np.uint8), "RGBA").save(folder / "alpha.png")
    Image.fromarray(rng.integers(0, 65536, (32, 32), dtype=np.uint16)).save(folder / "deep.png")
    Image.fromarray(rng.integers(0, 256, (300, 200, 3), dtype=np.uint8), "RGB").save(folder / "big.webp")
    Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8), "RGB").save(folder / "small.bmp")
    return folder


@pytest.fixture
def panel(qtbot, gui_settings, engine_info, shared_checkpoint):
    widget = shown_panel(qtbot, InferencePanel(gui_settings), engine_info, (1200, 700))
    widget.set_model(str(shared_checkpoint("CE.pt")))
    widget.form["dataset"].set_value("cifar100")  # a plain state dict carries no class names
    return widget


def drop(widget, paths) -> None:
    """Deliver a real drag-enter and drop carrying file URLs, as a file manager would."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def test_dropped_images_are_predicted_on_a_worker_with_top5_labels(qtbot, panel, images, shared_checkpoint):
    files = sorted(images.iterdir())
    with qtbot.waitSignal(panel.runner.idle, timeout=120_000):
        drop(panel, files)
    assert panel.table.rowCount() == len(files)
    expected = Predictor.from_checkpoint(shared_checkpoint("CE.pt"), dataset="cifar100").predict_paths(files)
    by_name = {prediction.path.name: prediction for prediction, _ in panel.results}
    for want in expected:
        got = by_name[want.path.name]
        assert got.error is None
        assert [label for label, _ in got.topk] == [label for label, _ in want.topk]
        assert [p for _, p in got.topk] == pytest.approx([p for _, p in want.topk], abs=1e-5)
        assert all(label in CIFAR100_CLASSES for label, _ in got.topk)
    # the detail view shows the selected row's thumbnail and its five labels with bars
    panel.table.selectRow(0)
    shown = [label.text() for label in panel.detail.labels if label.isVisible()]
    index = panel.table.item(0, 0).data(Qt.ItemDataRole.UserRole)
    prediction, thumbnail = panel.results[index]
    assert shown == [label for label, _ in prediction.topk] and len(shown) == 5
    assert thumbnail is not None and max(thumbnail.width(), thumbnail.height()) <= 160
    assert panel.detail.bars[0].value() == round(1000 * prediction.topk[0][1])


def test_a_dropped_folder_expands_to_its_images(qtbot, panel, images):
    with qtbot.waitSignal(panel.runner.idle, timeout=120_000):
        drop(panel, [images])
    assert panel.table.rowCount() == 6


def test_a_non_image_file_gets_a_message_and_the_rest_are_still_predicted(qtbot, panel, images, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not an image")
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    with qtbot.waitSignal(panel.runner.idle, timeout=120_000):
        drop(panel, [images / "rgb.png", notes, broken])
    results = {prediction.path.name: prediction for prediction, _ in panel.results}
    assert results["rgb.png"].error is None and len(results["rgb.png"].topk) == 5
    assert results["notes.txt"].error and "notes.txt" in results["notes.txt"].error
    assert results["broken.png"].error and not results["broken.png"].topk
    messages = [panel.table.item(row, 4).text() for row in range(panel.table.rowCount())]
    assert sum(1 for m in messages if m) == 2
    assert "2 could not be read" in panel.progress.format()
    assert open_error_boxes() == []  # inline messages, no dialog


def test_without_a_model_the_drop_asks_for_one_and_starts_nothing(qtbot, gui_settings, engine_info, images):
    panel = InferencePanel(gui_settings)
    qtbot.addWidget(panel)
    panel.engine_ready(engine_info)
    drop(panel, [images / "rgb.png"])
    assert not panel.is_running()
    assert panel.form["model"].editor.property("invalid") is True


def test_predictions_export_to_csv(qtbot, panel, images, tmp_path):
    with qtbot.waitSignal(panel.runner.idle, timeout=120_000):
        drop(panel, [images / "rgb.png", images / "grey.jpg"])
    path = panel.export_metrics(tmp_path / "predictions.csv")
    rows = list(csv.DictReader(path.open()))
    assert [r["file"] for r in rows] == [str(images / "rgb.png"), str(images / "grey.jpg")]
    first, _ = panel.results[0]
    assert rows[0]["label1"] == first.topk[0][0]
    assert float(rows[0]["probability1"]) == pytest.approx(first.topk[0][1])


def test_a_file_that_is_no_checkpoint_is_reported_without_a_traceback(qtbot, panel, images):
    panel.set_model(str(images / "rgb.png"))
    with qtbot.waitSignal(panel.runner.idle, timeout=60_000):
        drop(panel, [images / "grey.jpg"])
    (box,) = open_error_boxes()
    assert box.text() == "Prediction failed" and box.detailedText() == ""
    assert "rgb.png" in box.informativeText()
    assert panel.table.rowCount() == 0


def test_a_checkpoint_without_class_names_asks_for_the_dataset(qtbot, panel, images):
    panel.form["dataset"].set_value("")
    with qtbot.waitSignal(panel.runner.idle, timeout=60_000):
        drop(panel, [images / "rgb.png"])
    assert "choose the dataset" in panel.model_info.text()
    (prediction, _), = panel.results
    assert prediction.topk[0][0].startswith("class ")


@pytest.fixture
def slow_folder(tmp_path, monkeypatch):
    """A folder of 40 images predicted 4 at a time, each thumbnail taking 50 ms: a prediction that
    is surely still running (mid-chunk) when the user acts."""
    import time

    from gui import inference_panel

    folder = tmp_path / "many"
    folder.mkdir()
    rng = np.random.default_rng(2)
    for k in range(40):
        Image.fromarray(rng.integers(0, 256, (12, 12, 3), dtype=np.uint8), "RGB").save(folder / f"img{k:02d}.png")
    real = inference_panel.make_thumbnail

    def slow_thumbnail(path):
        time.sleep(0.05)
        return real(path)

    monkeypatch.setattr(inference_panel, "CHUNK", 4)
    monkeypatch.setattr(inference_panel, "make_thumbnail", slow_thumbnail)
    return folder


def finished_on_the_page(panel) -> bool:
    """The prediction's thread has ended *and* the page has handled its last rows and its result
    (the thread can end before its queued signals reach the GUI thread)."""
    return not panel.is_running() and panel.progress.format().endswith("predicted")


def test_changing_class_names_during_a_prediction_predicts_again_with_the_new_choice(qtbot, panel, slow_folder):
    drop(panel, [slow_folder])
    qtbot.waitUntil(lambda: panel.table.rowCount() > 0, timeout=60_000)
    assert panel.is_running() and panel.results[0][0].topk[0][0] in CIFAR100_CLASSES
    panel.form["dataset"].set_value("")  # "From the checkpoint": a plain state dict names no classes
    qtbot.waitUntil(lambda: finished_on_the_page(panel), timeout=120_000)
    assert panel.table.rowCount() == len(panel.results) == 40
    labels = {prediction.topk[0][0] for prediction, _ in panel.results}
    assert all(label.startswith("class ") for label in labels), labels  # no row from the old choice
    assert all(panel.table.item(row, 1).text().startswith("class ") for row in range(40))


def test_a_cancelled_predictions_late_rows_never_reach_the_table_or_the_csv(qtbot, panel, slow_folder, images,
                                                                            tmp_path):
    drop(panel, [slow_folder])
    qtbot.waitUntil(lambda: panel.table.rowCount() > 0, timeout=60_000)
    drop(panel, [images / "rgb.png", images / "grey.jpg"])  # while the folder is mid-chunk
    qtbot.waitUntil(lambda: finished_on_the_page(panel), timeout=120_000)
    qtbot.wait(100)  # anything still queued from the old task would arrive now
    names = [prediction.path.name for prediction, _ in panel.results]
    assert names == ["rgb.png", "grey.jpg"]
    assert panel.table.rowCount() == 2
    rows = list(csv.DictReader(panel.export_metrics(tmp_path / "p.csv").open()))
    assert [row["file"] for row in rows] == [str(images / "rgb.png"), str(images / "grey.jpg")]
    assert panel.progress.format() == "2 images predicted"


def test_a_failed_checkpoint_load_leaves_no_description_of_the_previous_model(qtbot, panel, images):
    with qtbot.waitSignal(panel.runner.idle, timeout=120_000):
        drop(panel, [images / "rgb.png"])
    assert panel.model_info.text().startswith("Model:") and "CE.pt" in panel.model_info.text()
    with qtbot.waitSignal(panel.runner.idle, timeout=60_000):
        panel.set_model(str(images / "grey.jpg"))  # not a checkpoint: re-predicts at once and fails
    assert "CE.pt" not in panel.model_info.text() and "resnet32" not in panel.model_info.text()
    assert panel.model_info.text().startswith("No model loaded")
    assert panel.table.rowCount() == 0


def test_the_official_ride_checkpoint_shows_the_experts_its_router_called(qtbot, gui_settings, engine_info, images,
                                                                          shared_checkpoint):
    widget = shown_panel(qtbot, InferencePanel(gui_settings), engine_info, (1200, 700))
    path = shared_checkpoint("ride_ea_epoch5.pth")
    widget.set_model(str(path))
    widget.form["dataset"].set_value("cifar100")
    files = sorted(images.iterdir())
    with qtbot.waitSignal(widget.runner.idle, timeout=120_000):
        drop(widget, files)
    expected = {p.path.name: p.experts for p in
                Predictor.from_checkpoint(path, dataset="cifar100").predict_paths(files)}
    got = {prediction.path.name: prediction.experts for prediction, _ in widget.results}
    assert got == expected and all(1 <= n <= 3 for n in got.values())
    widget.table.selectRow(0)
    row_text = widget.table.item(0, MESSAGE_COLUMN).text()
    assert row_text.endswith(("1 expert", "2 experts", "3 experts"))
    assert "called by the router" in widget.detail.name.text()
