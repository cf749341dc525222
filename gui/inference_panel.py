"""The Inference page: drop images (or a folder) or use "Open…", get the top-5 labels.

Prediction runs ``engine.inference.Predictor`` on a worker thread, a chunk of files at a time;
each chunk's results (with thumbnails made on the worker) arrive as one event. A file that
cannot be read gets its own message and the others are still predicted.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QFrame, QGridLayout, QHBoxLayout, QHeaderView, QLabel,
                               QProgressBar, QPushButton, QSplitter, QStackedWidget, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from data.errors import UserError
from engine.config import ARCHITECTURES
from gui import errors
from gui.engine_info import EngineInfo, model_choices
from gui.forms import CheckpointField, ChoiceField, Form
from gui.settings import Settings
from gui.widgets import ProgressLine, number_item, write_csv
from gui.workers import TaskRunner, TaskWorker

CHUNK = 32  # files per prediction batch (and per result signal)
TOP_K = 5
THUMBNAIL = 160  # pixels, longest side
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.webp *.gif *.tif *.tiff);;All files (*)"
COLUMNS = ("File", "Top-1", "Top-1 %", "Top-5 (probability %)", "Message")


@dataclass
class PredictionBatch:
    """One chunk of results: engine Predictions and their thumbnails (None when unreadable)."""

    predictions: list
    thumbnails: list[QImage | None]


@dataclass(frozen=True)
class ModelChoice:
    path: str
    arch: str
    dataset: str


def predict_files(choice: ModelChoice, cached, paths: list[str], on_event, should_stop):
    """Worker task: load (or reuse) the predictor, predict ``paths`` chunk by chunk; returns the predictor."""
    from engine.events import Message, Progress
    from engine.inference import Predictor, expand_paths

    predictor = cached or Predictor.from_checkpoint(choice.path, arch=choice.arch or None,
                                                    dataset=choice.dataset or None)
    if cached is None:
        on_event(Message(f"model: {predictor.checkpoint.describe()}"))
        for note in predictor.notes:
            on_event(Message(note))
        if not predictor.checkpoint.meta.get("class_names") and not choice.dataset:
            on_event(Message("This checkpoint names no classes; choose the dataset it was trained on under "
                             "Class names to see labels instead of class numbers.", "warning"))
    files = expand_paths(paths)
    if not files:
        raise UserError("no image files found there; drop PNG, JPEG, BMP or WebP files, or a folder of them")
    for start in range(0, len(files), CHUNK):
        if should_stop():
            break
        chunk = files[start:start + CHUNK]
        on_event(PredictionBatch(predictor.predict_paths(chunk, topk=TOP_K), [make_thumbnail(p) for p in chunk]))
        on_event(Progress(1, 1, start + len(chunk), len(files), stage="predict"))
    return predictor


def make_thumbnail(path: Path) -> QImage | None:
    """An RGB thumbnail (grey, RGBA and 16-bit converted like the model's input), or None."""
    from data.images import load_rgb

    try:
        image = load_rgb(path)
    except UserError:
        return None
    image.thumbnail((THUMBNAIL, THUMBNAIL))
    data = image.tobytes()
    return QImage(data, image.width, image.height, 3 * image.width, QImage.Format.Format_RGB888).copy()


class InferencePanel(QWidget):
    activity = Signal(str)

    def __init__(self, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings
        self.runner = TaskRunner(self)
        self.runner.idle.connect(self._on_idle)
        self.engine: EngineInfo | None = None
        self.paths: list[str] = []
        self.results: list[tuple[object, QImage | None]] = []
        self._predictor = None
        self._predictor_choice: ModelChoice | None = None
        self.setAcceptDrops(True)
        self._build()
        self.restore_state()

    # --- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.form = Form("inference")
        model_group = self.form.group("Model", [
            CheckpointField("model", "Checkpoint", "The trained model: best/last checkpoints of recent runs, the "
                            "pretrained folders, or any file via “…”.", model_choices, none_text="(choose a model)"),
            ChoiceField("arch", "Architecture", "Read from the checkpoint when it can tell; pick one only for a "
                        "foreign file whose depth cannot be inferred.",
                        [("", "From the checkpoint"), *((a, f"ResNet-{a[6:]}") for a in ARCHITECTURES)]),
            ChoiceField("dataset", "Class names", "Where the label names come from: the checkpoint's metadata, or "
                        "the dataset the model was trained on (for plain state dicts without names).",
                        [("", "From the checkpoint"), ("cifar10", "CIFAR-10"), ("cifar100", "CIFAR-100")]),
        ])
        self.form.align_labels()
        for key in ("model", "arch", "dataset"):
            self.form[key].editor.currentIndexChanged.connect(self._model_changed)
        self.model_info = QLabel("Drop images here, or use Open images… / Open folder….")
        self.model_info.setObjectName("hint")
        self.model_info.setWordWrap(True)

        open_files = QPushButton("Open images…")
        open_files.setToolTip("Predict one or many image files (PNG, JPEG, BMP, WebP; any size).")
        open_files.clicked.connect(self.open_files)
        open_folder = QPushButton("Open folder…")
        open_folder.setToolTip("Predict every image file in a folder and its sub-folders.")
        open_folder.clicked.connect(self.open_folder)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setToolTip("Save the table (file, top-5 labels and probabilities) as CSV.")
        self.export_button.clicked.connect(self.export_dialog)
        buttons = QHBoxLayout()
        buttons.addWidget(open_files)
        buttons.addWidget(open_folder)
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        self.progress = ProgressLine()

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setIconSize(QSize(32, 32))
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(36)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(False)
        self.table.setSortingEnabled(True)
        header = self.table.horizontalHeader()
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # files stay in drop order until a header is clicked
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        for column, width in ((0, 220), (1, 110), (2, 70), (4, 240)):
            self.table.setColumnWidth(column, width)
        self.table.itemSelectionChanged.connect(self._show_selected)
        self.drop_hint = QLabel("Drop image files or a folder here\n\nPNG · JPEG · BMP · WebP, any size; grey, RGBA "
                                "and 16-bit images are converted")
        self.drop_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.drop_hint.setFrameShape(QFrame.Shape.StyledPanel)
        self.drop_hint.setStyleSheet("QLabel { border: 2px dashed palette(mid); border-radius: 8px; padding: 24px; }")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.drop_hint)
        self.stack.addWidget(self.table)

        self.detail = PredictionDetail()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 6, 0)
        left_layout.addWidget(model_group)
        left_layout.addWidget(self.model_info)
        left_layout.addWidget(self.detail, 1)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(6, 0, 0, 0)
        right_layout.addLayout(buttons)
        right_layout.addWidget(self.progress)
        right_layout.addWidget(self.stack, 1)
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(left)
        self.split.addWidget(right)
        self.split.setStretchFactor(1, 1)
        self.split.setCollapsible(0, False)
        self.split.setSizes([380, 1000])
        layout = QVBoxLayout(self)
        layout.addWidget(self.split)

    def engine_ready(self, info: EngineInfo) -> None:
        self.engine = info
        self.form["model"].refresh()
        if self.paths:
            self.predict(self.paths)

    # --- input -----------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.predict(paths)

    def open_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Images to classify", "", IMAGE_FILTER)
        if files:
            self.predict(files)

    def open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of images to classify")
        if folder:
            self.predict([folder])

    def set_model(self, path: str) -> None:
        """Choose ``path`` as the model (File → Open checkpoint)."""
        self.form["model"].set_value(path)

    # --- predicting ------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self.runner.is_running()

    def predict(self, paths: list[str]) -> None:
        """Predict ``paths`` (files and folders) on a worker; replaces the table."""
        self.paths = [str(p) for p in paths]
        self._clear_results()
        if self.engine is None:
            self.model_info.setText("The engine is still loading; the images are predicted as soon as it is ready.")
            return
        values = self.form.values()
        if not values["model"]:
            self.form["model"].set_error("choose a model first")
            self.model_info.setText("Choose a model (a checkpoint) first, then drop the images again.")
            return
        self.form.clear_errors()
        choice = ModelChoice(values["model"], values["arch"], values["dataset"])
        cached = self._predictor if choice == self._predictor_choice else None
        self._predictor_choice = choice
        worker = TaskWorker(partial(predict_files, choice, cached, self.paths), name="predict")
        worker.progress.connect(self.on_progress)
        worker.message.connect(self.on_message)
        worker.event.connect(self.on_batch)
        worker.finished.connect(self.on_finished)
        worker.failed.connect(self.on_failed)
        self.progress.idle("Loading the model…" if cached is None else "Predicting…")
        self.runner.start(worker)

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        self.runner.cancel()
        return self.runner.wait(timeout_ms)

    @Slot(object)
    def on_progress(self, event) -> None:
        self.activity.emit(self.progress.show_progress(event.epoch, event.epochs, event.batch, event.batches,
                                                       event.stage))

    @Slot(object)
    def on_message(self, event) -> None:
        text = event.text.replace("model: ", "Model: ", 1)
        self.model_info.setText(text if text.startswith("Model:") else f"{self.model_info.text()}\n{text}")

    @Slot(object)
    def on_batch(self, batch) -> None:
        if not isinstance(batch, PredictionBatch):
            return
        self.stack.setCurrentWidget(self.table)
        self.table.setSortingEnabled(False)
        for prediction, thumbnail in zip(batch.predictions, batch.thumbnails):
            self.results.append((prediction, thumbnail))
            self._add_row(prediction, thumbnail)
        self.table.setSortingEnabled(True)
        if self.table.currentRow() < 0 and self.table.rowCount():
            self.table.selectRow(0)

    @Slot(object)
    def on_finished(self, predictor) -> None:
        self._predictor = predictor
        bad = sum(1 for prediction, _ in self.results if prediction.error)
        text = f"{len(self.results)} image(s) predicted" + (f"; {bad} could not be read (see Message)" if bad else "")
        self.progress.done(text)

    @Slot(object)
    def on_failed(self, failure) -> None:
        self._predictor, self._predictor_choice = None, None
        self.progress.done("Failed")
        errors.report_error(failure.error, self, "Prediction", failure.details)

    @Slot()
    def _on_idle(self) -> None:
        self.activity.emit("Idle")

    def _model_changed(self) -> None:
        if self.paths and self.engine is not None and not self.is_running():
            self.predict(self.paths)

    # --- results ---------------------------------------------------------------------------
    def _clear_results(self) -> None:
        self.results = []
        self.table.setRowCount(0)
        self.stack.setCurrentWidget(self.drop_hint)
        self.detail.show_prediction(None, None)

    def _add_row(self, prediction, thumbnail: QImage | None) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        name = QTableWidgetItem(prediction.path.name)
        name.setToolTip(str(prediction.path))
        name.setData(Qt.ItemDataRole.UserRole, len(self.results) - 1)
        if thumbnail is not None:
            name.setIcon(QIcon(QPixmap.fromImage(thumbnail)))
        self.table.setItem(row, 0, name)
        top = prediction.topk[0] if prediction.topk else ("", None)
        self.table.setItem(row, 1, QTableWidgetItem(top[0]))
        self.table.setItem(row, 2, number_item(top[1], percent=True))
        self.table.setItem(row, 3, QTableWidgetItem("   ".join(f"{label} ({100 * p:.0f})" for label, p in prediction.topk)))
        message = QTableWidgetItem(prediction.error or "")
        if prediction.error:
            message.setForeground(Qt.GlobalColor.red)
            message.setToolTip(prediction.error)
        self.table.setItem(row, 4, message)

    def _show_selected(self) -> None:
        items = self.table.selectedItems()
        if not items:
            return
        index = self.table.item(items[0].row(), 0).data(Qt.ItemDataRole.UserRole)
        self.detail.show_prediction(*self.results[index])

    def export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export predictions", "predictions.csv", "CSV (*.csv)")
        if path:
            self.export_metrics(path)

    def export_metrics(self, path: str | Path) -> Path:
        header = ["file", *(f"{kind}{k}" for k in range(1, TOP_K + 1) for kind in ("label", "probability")), "error"]
        rows = []
        for prediction, _ in self.results:
            pairs = [value for label, p in prediction.topk for value in (label, p)]
            rows.append([str(prediction.path), *pairs, *[""] * (2 * TOP_K - len(pairs)), prediction.error or ""])
        return write_csv(path, header, rows)

    def exportables(self) -> dict:
        return {}

    # --- state -----------------------------------------------------------------------------
    def save_state(self) -> None:
        self.form.save(self.settings)
        self.settings.save_splitter("inference/split", self.split)

    def restore_state(self) -> None:
        for key in ("model", "arch", "dataset"):
            self.form[key].editor.blockSignals(True)
        self.form.restore(self.settings)
        for key in ("model", "arch", "dataset"):
            self.form[key].editor.blockSignals(False)
        self.settings.restore_splitter("inference/split", self.split)


class PredictionDetail(QWidget):
    """The selected image: its thumbnail and its top-5 labels with probability bars."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.image = QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setFixedSize(THUMBNAIL + 8, THUMBNAIL + 8)
        self.image.setFrameShape(QFrame.Shape.StyledPanel)
        self.name = QLabel()
        self.name.setWordWrap(True)
        self.name.setAlignment(Qt.AlignmentFlag.AlignCenter)
        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        self.labels, self.bars = [], []
        for k in range(TOP_K):
            label, bar = QLabel(), QProgressBar()
            bar.setRange(0, 1000)
            bar.setTextVisible(True)
            grid.addWidget(label, k, 0)
            grid.addWidget(bar, k, 1)
            self.labels.append(label)
            self.bars.append(bar)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(self.image, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.name)
        layout.addLayout(grid)
        layout.addStretch(1)
        self.show_prediction(None, None)

    def show_prediction(self, prediction, thumbnail: QImage | None) -> None:
        if thumbnail is not None:
            pixmap = QPixmap.fromImage(thumbnail)
            small = max(thumbnail.width(), thumbnail.height()) < 64  # keep tiny images' pixels crisp
            mode = Qt.TransformationMode.FastTransformation if small else Qt.TransformationMode.SmoothTransformation
            self.image.setPixmap(pixmap.scaled(THUMBNAIL, THUMBNAIL, Qt.AspectRatioMode.KeepAspectRatio, mode))
        else:
            self.image.clear()
            self.image.setText("no image" if prediction is None else "cannot read")
        self.name.setText("" if prediction is None else
                          (prediction.path.name if not prediction.error else f"{prediction.path.name}\n⚠ {prediction.error}"))
        topk = prediction.topk if prediction is not None else []
        for k, (label, bar) in enumerate(zip(self.labels, self.bars)):
            visible = k < len(topk)
            label.setVisible(visible)
            bar.setVisible(visible)
            if visible:
                name, probability = topk[k]
                label.setText(name)
                bar.setValue(int(round(1000 * probability)))
                bar.setFormat(f"{100 * probability:.1f} %")
