"""The Compare page: run the plug-in on a pretrained model (the seed's page) and compare old,
new and ensemble class by class; beyond the seed, overlay saved run folders.

Bars show per-class accuracy, classes ordered by training count; the table lists Acc / HM / GM
/ LR / many / medium / few for every series; the curve plot overlays the runs' test curves.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path
from types import SimpleNamespace

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFileDialog, QHBoxLayout, QHeaderView, QLabel,
                               QListWidget, QPushButton, QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout,
                               QWidget)

from data.errors import UserError
from engine import workspace
from engine.config import ConfigError, DataConfig
from gui import errors
from gui.compare_series import CURVE_METRICS, TABLE_COLUMNS, Series, series_from_metrics, series_from_run
from gui.engine_info import EngineInfo, model_choices
from gui.forms import BoolField, CheckpointField, ChoiceField, Form, IntField
from gui.plots import COLORS, ClassBars, CurvePlot, ThemedPlot
from gui.settings import Settings
from gui.train_form import dataset_fields, fill_form
from gui.widgets import LogPane, ProgressLine, number_item, write_csv
from gui.workers import TaskRunner, TaskWorker

PLUGIN_PREFIX = "plug-in"


class ComparePanel(QWidget):
    activity = Signal(str)
    run_saved = Signal(str)

    def __init__(self, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings
        self.runner = TaskRunner(self)
        self.runner.idle.connect(self._on_idle)
        self.engine: EngineInfo | None = None
        self.series: list[Series] = []
        self.tune_history: list[dict[str, float]] = []
        self._build()
        self.restore_state()
        self._sync_buttons()

    # --- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.form = Form("compare")
        plugin_group = self.form.group("Plug-in: re-train the classifier", [
            CheckpointField("pretrained", "Pretrained model", "The model to repair: its feature extractor is frozen "
                            "and only its classifier is re-trained. Recent runs, the pretrained folders, or “…”.",
                            model_choices, none_text="(choose a model)", error_names=("checkpoint",)),
            *dataset_fields(),
            ChoiceField("loss", "Loss for tuning", "The loss that re-trains the classifier. GML (the paper's "
                        "Geometric Mean Loss) lifts the worst classes.", [("gml", "Geometric mean loss (GML)")],
                        error_names=("loss",)),
            IntField("epochs", "Epochs", "Classifier re-training epochs (10 in the MiSLAS-style stage the plug-in "
                     "follows; 0 evaluates the old model only).", error_names=("epochs",)),
            BoolField("ensemble", "Ensemble", "Also report ½·[softmax(z_new) + softmax(z_old)] (t1 = t2 = 1).",
                      text="old + new classifier"),
        ])
        self.form.align_labels()
        fill_form(self.form, SimpleNamespace(data=DataConfig(dataset="cifar100")))
        self.form["epochs"].set_value(10)
        self.form["ensemble"].set_value(True)

        self.run_button = QPushButton("Run plug-in")
        self.run_button.setDefault(True)
        self.run_button.setToolTip("Re-train the chosen model's classifier on the chosen data and compare it with "
                                   "the original, class by class.")
        self.run_button.clicked.connect(self.start)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop the plug-in after the current batch.")
        self.stop_button.clicked.connect(self.stop)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.stop_button)
        self.error_line = QLabel()
        self.error_line.setObjectName("errorLine")
        self.error_line.setWordWrap(True)
        self.error_line.hide()
        self.progress = ProgressLine()

        self.run_list = QListWidget()
        self.run_list.setToolTip("Everything compared on the right: the plug-in's old / new / ensemble and the run "
                                 "folders you added.")
        self.run_list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        add = QPushButton("Add run folders…")
        add.setToolTip("Add saved run folders (training or plug-in runs) to overlay their curves and bars.")
        add.clicked.connect(self.add_runs_dialog)
        remove = QPushButton("Remove")
        remove.setToolTip("Remove the selected entries.")
        remove.clicked.connect(self.remove_selected)
        clear = QPushButton("Clear")
        clear.clicked.connect(self.clear_series)
        list_buttons = QHBoxLayout()
        list_buttons.addWidget(add)
        list_buttons.addStretch(1)
        list_buttons.addWidget(remove)
        list_buttons.addWidget(clear)
        self.log = LogPane()

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 6, 0)
        left_layout.addWidget(plugin_group)
        left_layout.addLayout(buttons)
        left_layout.addWidget(self.error_line)
        left_layout.addWidget(self.progress)
        left_layout.addWidget(QLabel("Compared"))
        left_layout.addWidget(self.run_list, 1)
        left_layout.addLayout(list_buttons)
        left_layout.addWidget(self.log, 1)

        self.bars = ClassBars("Per-class accuracy", y_label="accuracy (%)")
        self.curves = CurvePlot("Test curves of the compared runs")
        self.curve_metric = QComboBox()
        for key, title in CURVE_METRICS:
            self.curve_metric.addItem(title, key)
        self.curve_metric.setToolTip("Which test metric the curves show, per epoch.")
        self.curve_metric.currentIndexChanged.connect(self._redraw_curves)
        curve_box = QWidget()
        curve_layout = QVBoxLayout(curve_box)
        curve_layout.setContentsMargins(0, 0, 0, 0)
        metric_row = QHBoxLayout()
        metric_row.addWidget(QLabel("Curve metric"))
        metric_row.addWidget(self.curve_metric)
        metric_row.addStretch(1)
        curve_layout.addLayout(metric_row)
        curve_layout.addWidget(self.curves, 1)
        self.table = QTableWidget(0, len(TABLE_COLUMNS) + 2)
        self.table.setHorizontalHeaderLabels(["Model", *(t for t, _ in TABLE_COLUMNS), "Zero-recall classes"])
        self.table.setToolTip("Test metrics in percent. HM and GM are 0 when any class has zero recall; the last "
                              "column counts those classes. Many / Medium / Few: > 100, 20–100, < 20 training images.")
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # insertion order first

        self.right_split = QSplitter(Qt.Orientation.Vertical)
        self.right_split.addWidget(self.bars)
        self.right_split.addWidget(curve_box)
        self.right_split.addWidget(self.table)
        self.right_split.setSizes([380, 260, 140])
        self.main_split = QSplitter(Qt.Orientation.Horizontal)
        self.main_split.addWidget(left)
        self.main_split.addWidget(self.right_split)
        self.main_split.setStretchFactor(1, 1)
        self.main_split.setCollapsible(0, False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.main_split)

    # --- engine ----------------------------------------------------------------------------
    def engine_ready(self, info: EngineInfo) -> None:
        self.engine = info
        self.form["loss"].set_options(info.methods)
        self.form["pretrained"].refresh()
        self._sync_buttons()

    # --- the plug-in -----------------------------------------------------------------------
    def is_running(self) -> bool:
        return self.runner.is_running()

    def build_tune_config(self):
        from engine.plugin.config import TuneConfig

        values = self.form.values()
        data = DataConfig(dataset=values["dataset"], root=values["root"], imbalance_ratio=values["imbalance"],
                          imbalance_type=values["imbalance_type"])
        return TuneConfig(checkpoint=values["pretrained"], data=data, loss=values["loss"], epochs=values["epochs"],
                          ensemble=values["ensemble"], experiment=f"compare-{values['loss']}").validate()

    def start(self) -> None:
        if self.is_running() or self.engine is None:
            return
        self.form.clear_errors()
        self._show_error("")
        try:
            from engine.plugin import tune

            task = partial(tune, self.build_tune_config())
        except ConfigError as error:
            field = self.form.flag(error)
            self._show_error(f"{field.label if field else error.field_name}: {error.message}")
            return
        except UserError as error:
            self._show_error(str(error))
            return
        self.tune_history = []
        worker = TaskWorker(task, name="compare")
        worker.progress.connect(self.on_progress)
        worker.epoch_finished.connect(self.on_epoch)
        worker.message.connect(self.on_message)
        worker.finished.connect(self.on_finished)
        worker.failed.connect(self.on_failed)
        self.progress.idle("Plug-in: loading the model and the data…")
        self.activity.emit("Plug-in: loading the model and the data…")
        self.runner.start(worker)
        self._sync_buttons()

    def stop(self) -> None:
        if self.is_running():
            self.runner.cancel()
            self.progress.setFormat("Stopping after this batch…")

    def shutdown(self, timeout_ms: int = 120_000) -> bool:
        self.runner.cancel()
        return self.runner.wait(timeout_ms)

    @Slot(object)
    def on_progress(self, event) -> None:
        text = self.progress.show_progress(event.epoch, event.epochs, event.batch, event.batches, event.stage)
        self.activity.emit(f"Plug-in: {text}")

    @Slot(object)
    def on_message(self, event) -> None:
        self.log.add(event.text, event.level)

    @Slot(object)
    def on_epoch(self, event) -> None:
        self.tune_history.append({"epoch": event.epoch, **event.test.summary("test_")})
        self.log.add(f"tuning epoch {event.epoch}/{event.epochs}: test Acc {100 * event.test.top1:.2f}  "
                     f"HM {100 * event.test.hm:.2f}  LR {100 * event.test.lowest_recall:.2f}")

    @Slot(object)
    def on_finished(self, result) -> None:
        self.series = [s for s in self.series if not s.name.startswith(PLUGIN_PREFIX)]
        plugin = [series_from_metrics(f"{PLUGIN_PREFIX} · {column}", metrics, result.class_names,
                                      result.class_counts, self.tune_history if column == "new" else None)
                  for column, metrics in result.reports.items()]
        self.series = plugin + self.series
        self.progress.done("Stopped" if result.stopped else "Finished")
        if result.run_dir is not None:
            self.log.add(f"plug-in run folder: {result.run_dir}")
            self.run_saved.emit(str(result.run_dir))
        self.refresh()

    @Slot(object)
    def on_failed(self, failure) -> None:
        self.progress.done("Failed")
        self.log.add(f"failed: {failure.error}", "warning")
        errors.report_error(failure.error, self, "The plug-in", failure.details)

    @Slot()
    def _on_idle(self) -> None:
        self.activity.emit("Idle")
        self._sync_buttons()

    # --- saved runs -------------------------------------------------------------------------
    def add_runs_dialog(self) -> None:
        dialog = QFileDialog(self, "Add run folders", str(workspace.runs_dir()))
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)  # the native one picks a single folder
        for view in dialog.findChildren(QAbstractItemView):
            view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        if dialog.exec():
            self.add_runs(dialog.selectedFiles())

    def add_runs(self, paths) -> None:
        """Add run folders; a folder that is not a run is reported and the others are still added."""
        for path in paths:
            try:
                added = series_from_run(path)
            except (UserError, OSError, ValueError, KeyError) as error:
                self.log.add(f"{path}: {error}", "warning")
                errors.report_error(error if isinstance(error, UserError) else UserError(f"{path}: {error}"), self)
                continue
            names = {s.name for s in added}
            self.series = [s for s in self.series if s.name not in names] + added
        self.refresh()

    def remove_selected(self) -> None:
        chosen = {item.text() for item in self.run_list.selectedItems()}
        self.series = [s for s in self.series if s.name not in chosen]
        self.refresh()

    def clear_series(self) -> None:
        self.series = []
        self.refresh()

    # --- drawing ----------------------------------------------------------------------------
    def refresh(self) -> None:
        self.run_list.clear()
        self.run_list.addItems([s.name for s in self.series])
        self._redraw_bars()
        self._redraw_curves()
        self._fill_table()

    def _redraw_bars(self) -> None:
        if not self.series:
            self.bars.set_bars([], [], [])
            return
        first = self.series[0]
        same = [s for s in self.series if len(s.per_class) == len(first.per_class)]
        self.bars.set_bars(first.class_names, first.class_counts, [(s.name, s.per_class) for s in same])
        skipped = len(self.series) - len(same)
        self.bars.set_title(f"Per-class accuracy · {len(first.per_class)} classes"
                            + (f" · {skipped} series with another class count not shown" if skipped else ""))

    def _redraw_curves(self) -> None:
        key = self.curve_metric.currentData()
        self.curves.remove_curves()
        for k, series in enumerate(s for s in self.series if s.history):
            self.curves.curve(series.name, COLORS[k % len(COLORS)])
            self.curves.set_curve(series.name, [row["epoch"] for row in series.history],
                                  [row.get(key, float("nan")) for row in series.history])

    def _fill_table(self) -> None:
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(self.series))
        for row, series in enumerate(self.series):
            self.table.setItem(row, 0, QTableWidgetItem(series.name))
            for column, (_title, attribute) in enumerate(TABLE_COLUMNS, start=1):
                self.table.setItem(row, column, number_item(series.value(attribute), percent=True))
            self.table.setItem(row, len(TABLE_COLUMNS) + 1, number_item(series.value("zero_recall")))
        self.table.setSortingEnabled(True)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)

    def _sync_buttons(self) -> None:
        running = self.is_running()
        self.run_button.setEnabled(self.engine is not None and not running)
        self.stop_button.setEnabled(running)

    def _show_error(self, text: str) -> None:
        self.error_line.setText(text)
        self.error_line.setVisible(bool(text))

    # --- export and state -------------------------------------------------------------------
    def exportables(self) -> dict[str, ThemedPlot]:
        return {"compare-per-class": self.bars, "compare-curves": self.curves}

    def export_metrics(self, path: str | Path) -> Path:
        """The table, plus every class's accuracy per series, as CSV."""
        header = ["model", *(t for t, _ in TABLE_COLUMNS), "zero_recall"]
        classes = self.series[0].class_names if self.series else []
        rows = []
        for s in self.series:
            per_class = s.per_class if len(s.per_class) == len(classes) else [""] * len(classes)
            rows.append([s.name, *(s.value(a) for _, a in TABLE_COLUMNS), s.value("zero_recall"), *per_class])
        return write_csv(path, header + [f"recall:{name}" for name in classes], rows)

    def save_state(self) -> None:
        self.form.save(self.settings)
        self.settings.save_splitter("compare/split_main", self.main_split)
        self.settings.save_splitter("compare/split_right", self.right_split)

    def restore_state(self) -> None:
        self.form.restore(self.settings)
        self.settings.restore_splitter("compare/split_main", self.main_split)
        self.settings.restore_splitter("compare/split_right", self.right_split)
