"""The Inference page: drop images (or a folder) or use "Open…", get the top-5 labels.

Prediction runs ``engine.inference.Predictor`` on a worker thread, a chunk of files at a time;
each chunk's results (with thumbnails made on the worker) arrive as one event. A file that
cannot be read gets its own message and the others are still predicted.

The table always matches the form: a new drop, or a change of checkpoint, architecture or class
names while a prediction runs, discards that prediction (nothing it reports later reaches the
table or the CSV) and predicts again. A model that fails to load leaves no description behind.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QSize, QT_TRANSLATE_NOOP, Qt
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QFrame, QGridLayout, QHeaderView, QLabel, QProgressBar,
                               QStackedWidget, QStyle, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from errors import UserError
from engine.knobs import ConfigError
from gui.engine_info import EngineInfo, model_choices
from gui.forms import CheckpointField, ChoiceField, Form
from gui.settings import Settings
from gui.task_panel import TaskPanel
from gui.table_export import write_table
from gui.widgets import Column, number_item, push_button, row_of, wrapping_label

CHUNK = 32  # files per prediction batch (and per result signal)
TOP_K = 5
THUMBNAIL = 160  # pixels, longest side
IMAGE_FILTER = QT_TRANSLATE_NOOP("InferencePanel",
                                 "Images (*.png *.jpg *.jpeg *.bmp *.webp *.gif *.tif *.tiff);;All files (*)")
COLUMNS = (QT_TRANSLATE_NOOP("InferencePanel", "File"), "Top-1", "Top-1 %",
           QT_TRANSLATE_NOOP("InferencePanel", "Top-5 (probability %)"), QT_TRANSLATE_NOOP("InferencePanel", "Message"))
COLUMN_WIDTHS = (200, 100, 70, 240)  # the messages take the rest; the top-5 column widens to fit its labels
TOP5_COLUMN, MESSAGE_COLUMN = 3, 4
MODEL_NAME_CHARS = 30  # a run's checkpoint reads "<date>-<time>-<experiment> · best"
FROM_CHECKPOINT = QT_TRANSLATE_NOOP("InferencePanel", "From the checkpoint")
MODEL_PREFIX = "model: "  # the worker's first message describes the model it loaded


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
    """Worker task: load (or reuse) the predictor, predict ``paths`` chunk by chunk; returns
    ``(choice, predictor)`` so the page caches the predictor under the choice it was built for."""
    from engine.events import Message, Progress
    from engine.inference import Predictor, expand_paths

    predictor = cached or Predictor.from_checkpoint(choice.path, arch=choice.arch or None,
                                                    dataset=choice.dataset or None)
    if cached is None:
        on_event(Message(f"{MODEL_PREFIX}{Path(choice.path).name} · {predictor.checkpoint.describe()}"))
        for note in predictor.notes:
            on_event(Message(note))
        if not predictor.checkpoint.meta.get("class_names") and not choice.dataset:
            on_event(Message(QCoreApplication.translate("InferencePanel", "This checkpoint names no classes; choose the dataset it was "
                                                    "trained on under Class names to see labels instead of class "
                                                    "numbers."), "warning"))
    files = expand_paths(paths)
    if not files:
        raise UserError(QCoreApplication.translate("InferencePanel", "no image files found there; drop PNG, JPEG, BMP or WebP "
                                                   "files, or a folder of them"))
    for start in range(0, len(files), CHUNK):
        if should_stop():
            break
        chunk = files[start:start + CHUNK]
        on_event(PredictionBatch(predictor.predict_paths(chunk, topk=TOP_K), [make_thumbnail(p) for p in chunk]))
        on_event(Progress(1, 1, start + len(chunk), len(files), stage="predict"))
    return choice, predictor


def top5_text(prediction) -> str:
    return "   ".join(f"{label} ({100 * p:.0f})" if math.isfinite(p) else f"{label} ({QCoreApplication.translate('InferencePanel', 'n/a')})"
                      for label, p in prediction.topk)


def experts_text(prediction) -> str:
    """"2 experts" when a router chose how many experts to call (RIDE), else empty."""
    experts = getattr(prediction, "experts", None)
    return "" if experts is None else QCoreApplication.translate("InferencePanel", "%n expert(s)", "", experts)


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


class InferencePanel(TaskPanel):
    worker_name = "predict"
    shutdown_timeout_ms = 30_000

    def __init__(self, settings: Settings, parent: QWidget | None = None):
        super().__init__(settings, parent)
        self.paths: list[str] = []
        self.results: list[tuple[object, QImage | None]] = []
        self._predictor: tuple[ModelChoice, object] | None = None  # the last loaded predictor and its choice
        self._loading = False  # the running task is still loading its model
        self.setAcceptDrops(True)
        self._build()
        self.restore_state()

    # --- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.form = Form("inference")
        from_checkpoint = self.tr(FROM_CHECKPOINT)
        model_group = self.form.group(self.tr("Model"), [
            CheckpointField("model", self.tr("Checkpoint"), self.tr(
                "The trained model: best/last checkpoints of recent runs, the pretrained folders, or any file "
                "via “…”."), model_choices, none_text=self.tr("(choose a model)"), visible_chars=MODEL_NAME_CHARS),
            ChoiceField("arch", self.tr("Architecture"), self.tr(
                "Read from the checkpoint when it can tell; pick one only for a foreign file whose depth cannot be "
                "inferred."), [("", from_checkpoint)]),
            ChoiceField("dataset", self.tr("Class names"), self.tr(
                "Where the label names come from: the checkpoint's metadata, or the dataset the model was trained "
                "on (for plain state dicts without names)."),
                [("", from_checkpoint), ("cifar10", "CIFAR-10"), ("cifar100", "CIFAR-100")]),
        ])
        self.form.align_labels()
        for key in ("model", "arch", "dataset"):
            self.form[key].editor.currentIndexChanged.connect(self._model_changed)
        self.model_info = wrapping_label("hint")
        self.model_info.setText(self.tr("Drop images here, or use Open images… / Open folder…."))

        open_files = push_button(self.tr("Open images…"), self.tr(
            "Predict one or many image files (PNG, JPEG, BMP, WebP; any size)."), self.open_files)
        open_folder = push_button(self.tr("Open folder…"), self.tr(
            "Predict every image file in a folder and its sub-folders."), self.open_folder)
        self.export_button = push_button(self.tr("Export CSV…"), self.tr(
            "Save the table (file, top-5 labels and probabilities) as CSV."), self.export_dialog)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels([self.tr(title) for title in COLUMNS])
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
        header.setSectionResizeMode(MESSAGE_COLUMN, QHeaderView.ResizeMode.Stretch)
        for column, width in enumerate(COLUMN_WIDTHS):
            self.table.setColumnWidth(column, width)
        self.table.itemSelectionChanged.connect(self._show_selected)
        self.drop_hint = QLabel(self.tr("Drop image files or a folder here\n\nPNG · JPEG · BMP · WebP, any size; "
                                        "grey, RGBA and 16-bit images are converted"))
        self.drop_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.drop_hint.setFrameShape(QFrame.Shape.StyledPanel)
        self.drop_hint.setStyleSheet("QLabel { border: 2px dashed palette(mid); border-radius: 8px; padding: 24px; }")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.drop_hint)
        self.stack.addWidget(self.table)

        self.detail = PredictionDetail()
        left = Column(model_group, self.error_line, self.model_info, (self.detail, 1), margins=(0, 0, 6, 0),
                      fitted=True)
        right = Column(row_of(open_files, open_folder, None, self.export_button), self.progress, (self.stack, 1),
                       margins=(6, 0, 0, 0))
        self.split = self.set_panes("inference/split", left, right)

    def engine_ready(self, info: EngineInfo) -> None:
        self.form["arch"].set_options([("", self.tr(FROM_CHECKPOINT)), *info.choices["arch"]])
        self.form["model"].refresh()
        super().engine_ready(info)
        if self.paths:
            self.predict(self.paths)

    # --- input -----------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    dragMoveEvent = dragEnterEvent  # a drag moving over the page is accepted on the same terms

    def dropEvent(self, event) -> None:
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.predict(paths)

    def open_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, self.tr("Images to classify"), "", self.tr(IMAGE_FILTER))
        if files:
            self.predict(files)

    def open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Folder of images to classify"))
        if folder:
            self.predict([folder])

    def set_model(self, path: str) -> None:
        """Choose ``path`` as the model (File → Open checkpoint)."""
        self.form["model"].set_value(path)

    # --- predicting ------------------------------------------------------------------------
    def model_choice(self) -> ModelChoice:
        """The chosen model (ConfigError when none is chosen yet)."""
        values = self.form.values()
        if not values["model"]:
            raise ConfigError("model", self.tr("choose a model (a checkpoint) first, then drop the images again"))
        return ModelChoice(values["model"], values["arch"], values["dataset"])

    def predict(self, paths: list[str]) -> None:
        """Predict ``paths`` (files and folders) on a worker; replaces the table. A prediction
        still running is discarded first: its late rows never reach the table."""
        self.paths = [str(p) for p in paths]
        self.discard()
        self._clear_results()
        if self.engine is None:
            self.model_info.setText(self.tr("The engine is still loading; the images are predicted as soon as it is "
                                            "ready."))
            return
        choice = self.checked(self.model_choice)
        if choice is None:
            self.progress.idle()
            return
        cached = self._predictor[1] if self._predictor is not None and self._predictor[0] == choice else None
        self._loading = cached is None
        if self._loading:
            self.model_info.setText(self.tr("Loading {0}…").format(Path(choice.path).name))
        self.launch(partial(predict_files, choice, cached, self.paths), self.tr("Prediction"),
                    self.tr("Loading the model…") if cached is None else self.tr("Predicting…"))

    def on_message(self, event) -> None:
        if event.text.startswith(MODEL_PREFIX):
            self._loading = False
            self.model_info.setText(self.tr("Model: {0}").format(event.text.removeprefix(MODEL_PREFIX)))
        else:
            self.model_info.setText(f"{self.model_info.text()}\n{event.text}")

    def on_event(self, batch) -> None:
        if not isinstance(batch, PredictionBatch):
            return
        self.stack.setCurrentWidget(self.table)
        self.table.setSortingEnabled(False)
        for prediction, thumbnail in zip(batch.predictions, batch.thumbnails):
            self.results.append((prediction, thumbnail))
            self._add_row(prediction, thumbnail)
        self.table.setSortingEnabled(True)
        self._fit_top5_column(batch.predictions)
        if self.table.currentRow() < 0 and self.table.rowCount():
            self.table.selectRow(0)

    def on_finished(self, result) -> None:
        self._predictor = result
        bad = sum(1 for prediction, _ in self.results if prediction.error)
        text = self.tr("%n image(s) predicted", "", len(self.results))
        if bad:
            text += self.tr("; %n could not be read (see Message)", "", bad)
        self.progress.done(text)

    def on_failed(self, failure) -> None:
        if self._loading:  # the model itself failed: describe no model, keep no stale predictor
            self._predictor = None
            self.model_info.setText(self.tr("No model loaded: {0}").format(failure.error))
        super().on_failed(failure)

    def _model_changed(self) -> None:
        """The table must follow the form: predict again (discarding a running prediction)."""
        if self.paths and self.engine is not None:
            self.predict(self.paths)

    # --- results ---------------------------------------------------------------------------
    def _clear_results(self) -> None:
        self.results = []
        self.table.setRowCount(0)
        self.table.setColumnWidth(TOP5_COLUMN, COLUMN_WIDTHS[TOP5_COLUMN])
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
        finite = top[1] is not None and math.isfinite(top[1])
        self.table.setItem(row, 2, number_item(top[1] if finite else None, percent=True))
        self.table.setItem(row, TOP5_COLUMN, QTableWidgetItem(top5_text(prediction)))
        message = QTableWidgetItem(prediction.error or experts_text(prediction))
        if prediction.error:
            message.setForeground(Qt.GlobalColor.red)
            message.setToolTip(prediction.error)
        self.table.setItem(row, MESSAGE_COLUMN, message)

    def _fit_top5_column(self, predictions) -> None:
        """Widen the top-5 column to its longest labels, up to half the table; the messages keep the rest."""
        margin = 2 * self.table.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 8
        text_width = max((self.table.fontMetrics().horizontalAdvance(top5_text(p)) for p in predictions), default=0)
        fitted = min(text_width + margin, self.table.viewport().width() // 2)
        if fitted > self.table.columnWidth(TOP5_COLUMN):
            self.table.setColumnWidth(TOP5_COLUMN, fitted)

    def _show_selected(self) -> None:
        items = self.table.selectedItems()
        if not items:
            return
        index = self.table.item(items[0].row(), 0).data(Qt.ItemDataRole.UserRole)
        self.detail.show_prediction(*self.results[index])

    def export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Export predictions"), "predictions.csv", "CSV (*.csv)")
        if path:
            self.export_metrics(path)

    def export_metrics(self, path: str | Path) -> Path:
        header = ["file", *(f"{kind}{k}" for k in range(1, TOP_K + 1) for kind in ("label", "probability")), "error"]
        rows = []
        for prediction, _ in self.results:
            pairs = [value for label, p in prediction.topk for value in (label, p)]
            rows.append([str(prediction.path), *pairs, *[""] * (2 * TOP_K - len(pairs)), prediction.error or ""])
        return write_table(path, header, rows)

    def exportables(self) -> dict:
        return {}

    # --- state -----------------------------------------------------------------------------
    def restore_state(self) -> None:
        """Restore without re-predicting at every restored field."""
        for key in ("model", "arch", "dataset"):
            self.form[key].editor.blockSignals(True)
        super().restore_state()
        for key in ("model", "arch", "dataset"):
            self.form[key].editor.blockSignals(False)


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
            self.image.setText(self.tr("no image") if prediction is None else self.tr("cannot read"))
        name = "" if prediction is None else prediction.path.name
        if prediction is not None and experts_text(prediction):
            name += "\n" + self.tr("{0} called by the router").format(experts_text(prediction))
        self.name.setText(f"{name}\n⚠ {prediction.error}" if prediction is not None and prediction.error else name)
        topk = prediction.topk if prediction is not None else []
        for k, (label, bar) in enumerate(zip(self.labels, self.bars)):
            visible = k < len(topk)
            label.setVisible(visible)
            bar.setVisible(visible)
            if visible:
                name, probability = topk[k]
                label.setText(name)
                finite = math.isfinite(probability)  # a damaged or diverged model gives NaN
                bar.setValue(int(round(1000 * probability)) if finite else 0)
                bar.setFormat(f"{100 * probability:.1f} %" if finite else self.tr("n/a"))
