"""The Compare page: run the plug-in on a pretrained model (the seed's page) and compare old,
new and ensemble class by class; beyond the seed, overlay several repairs of one model (GML, cRT,
LWS, τ-norm, WB: each run adds its new and ensemble series beside the others) and saved run folders.
Choosing a loss shows that repair's own defaults (its plug-in preset), not the training form's.

Bars show per-class accuracy, classes ordered by training count; "Change" shows each class's
change between two series (the plug-in's old → new by default) sorted from gain to loss, the
classes still at zero and a searchable class table; the table lists Acc / HM / GM / LR / many /
medium / few of every series' last epoch; the curve plot overlays the runs' test curves. While
the plug-in runs, the bars and curves follow its tuning epochs as they finish. Choosing a
checkpoint fills the dataset fields with the data it was trained on (read on a worker).
"""
from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QT_TRANSLATE_NOOP, Qt, Signal, Slot
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHeaderView, QLabel, QListWidget, QTableWidget,
                               QTableWidgetItem, QTabWidget, QWidget)

from errors import UserError
from engine import workspace
from engine.config import RunConfig
from engine.presets import PLUGIN, plugin_preset, preset
from gui import errors
from gui.class_views import ClassTable
from gui.compare_series import (CURVE_METRICS, TABLE_COLUMNS, Series, series_from_metrics, series_from_run,
                                unique_names)
from gui.engine_info import EngineInfo
from gui.forms import Form
from gui.plots import COLORS, ChangeBars, ClassBars, CurvePlot, ThemedPlot
from gui.settings import Settings
from gui.task_panel import TaskPanel
from gui.train_form import DATA_FIELDS, config_from_form, fill_form, offer_choices, plugin_form_fields
from gui.table_export import write_table
from gui.widgets import Column, LogPane, choose_folders, number_item, push_button, row_of, wrapping_label
from gui.workers import TaskRunner, TaskWorker

PLUGIN_PREFIX = "plug-in"
ZERO_NAMES_SHOWN = 40  # "still at zero" lists this many names, then how many more


class ComparePanel(TaskPanel):
    run_saved = Signal(str)
    worker_name = "compare"
    activity_prefix = QT_TRANSLATE_NOOP("TaskPanel", "Plug-in: ")

    def __init__(self, settings: Settings, parent: QWidget | None = None):
        super().__init__(settings, parent)
        self.series: list[Series] = []
        self.tune_history: list[dict[str, float]] = []
        self.class_names: list[str] = []
        self.class_counts: list[int] = []
        self.repaired: tuple | None = None  # the model and data the plug-in series on show repair
        self.repair = ""  # the running (or last) repair's abbreviation: "GML", "cRT", …
        self.live: Series | None = None  # the running repair's new classifier after its latest tuning epoch
        self.peek_runner = TaskRunner(self)  # reads a chosen checkpoint's data settings
        self._peeked = ""
        self._build()
        self.restore_state()
        self._sync_buttons()

    # --- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.form = Form("compare")
        plugin_group = self.form.group(self.tr("Plug-in: re-train the classifier"), plugin_form_fields())
        self.form.align_labels()
        fill_form(self.form, preset(PLUGIN))
        self.form["loss"].editor.currentIndexChanged.connect(self._show_repair_defaults)

        self.run_button = push_button(self.tr("Run plug-in"), self.tr(
            "Re-train the chosen model's classifier on the chosen data and compare it with the original, class by "
            "class."), self.start)
        self.run_button.setDefault(True)
        self.stop_button = push_button(self.tr("Stop"), self.tr("Stop the plug-in after the current batch."), self.stop)
        self.start_buttons, self.stop_buttons = [self.run_button], [self.stop_button]

        self.run_list = QListWidget()
        self.run_list.setToolTip(self.tr("Everything compared on the right: the plug-in's old / new / ensemble and "
                                         "the run folders you added."))
        self.run_list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        list_buttons = row_of(
            push_button(self.tr("Add run folders…"), self.tr(
                "Add saved run folders (training or plug-in runs) to overlay their curves and bars."),
                self.add_runs_dialog), None,
            push_button(self.tr("Remove"), self.tr("Remove the selected entries."), self.remove_selected),
            push_button(self.tr("Clear"), self.tr("Remove every entry."), self.clear_series))
        self.log = LogPane()

        left = Column(plugin_group, row_of(None, self.run_button, self.stop_button), self.error_line, self.progress,
                      QLabel(self.tr("Compared")), (self.run_list, 1), list_buttons, (self.log, 1),
                      margins=(0, 0, 6, 0), fitted=True)

        self.form["pretrained"].editor.currentIndexChanged.connect(self._checkpoint_chosen)
        self.bars = ClassBars(self.tr("Per-class accuracy"), y_label=self.tr("accuracy (%)"))
        self.change = ChangeBars()
        self.change_from, self.change_to = QComboBox(), QComboBox()
        for combo in (self.change_from, self.change_to):
            combo.setMinimumContentsLength(8)
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.currentIndexChanged.connect(self._redraw_change)
        self.change_from.setToolTip(self.tr("The series each class's change is measured from."))
        self.change_to.setToolTip(self.tr("The series each class's change is measured to."))
        self.still_zero = wrapping_label("hint")
        self.change_table = ClassTable(change=(self.tr("Before"), self.tr("After")))
        change_box = Column(row_of(QLabel(self.tr("Change from")), (self.change_from, 1), QLabel(self.tr("to")),
                                   (self.change_to, 1)), (self.change, 1), self.still_zero)
        self.views = QTabWidget()
        self.views.setDocumentMode(True)
        self.views.addTab(self.bars, self.tr("Per class"))
        self.views.addTab(change_box, self.tr("Change per class"))
        self.views.addTab(self.change_table, self.tr("Classes: before → after"))
        self.curves = CurvePlot(self.tr("Test curves of the compared runs"))
        self.curve_metric = QComboBox()
        for key, title in CURVE_METRICS:
            self.curve_metric.addItem(self.tr(title), key)
        self.curve_metric.setToolTip(self.tr("Which test metric the curves show, per epoch."))
        self.curve_metric.currentIndexChanged.connect(self._redraw_curves)
        curve_box = Column(row_of(QLabel(self.tr("Curve metric")), self.curve_metric, None), (self.curves, 1))
        self.table = QTableWidget(0, len(TABLE_COLUMNS) + 2)
        self.table.setHorizontalHeaderLabels([self.tr("Model (last epoch)"), *(self.tr(t) for t, _ in TABLE_COLUMNS),
                                              self.tr("Zero-recall classes")])
        self.table.setToolTip(self.tr("Test metrics in percent, of each run's last epoch. HM, GM and LR floor each "
                                      "class's recall at 0.1 % (the paper's code) unless the run says otherwise; the "
                                      "last column counts the classes at zero recall. Many / Medium / Few: > 100, "
                                      "20–100, < 20 training images. ECE: calibration error, 15 bins."))
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # insertion order first

        self.right_split = self.splitter("compare/split_right", Qt.Orientation.Vertical, self.views, curve_box,
                                         self.table)
        self.right_split.setSizes([380, 260, 140])
        self.main_split = self.set_panes("compare/split_main", left, self.right_split)

    # --- engine ----------------------------------------------------------------------------
    def engine_ready(self, info: EngineInfo) -> None:
        offer_choices(self.form, info, plugin=True)  # the losses that can re-train a classifier
        self._peeked = self.form["pretrained"].value()  # a restored choice keeps the fields restored with it
        self.form["pretrained"].refresh()
        super().engine_ready(info)

    # --- the plug-in -----------------------------------------------------------------------
    def _show_repair_defaults(self) -> None:
        """A loss was chosen: its repair's own defaults (epochs, ensemble) in the fields."""
        loss = self.form["loss"].value()
        if loss:
            fill_form(self.form, preset(plugin_preset(loss)), names=("epochs", "ensemble"))

    def build_tune_config(self) -> RunConfig:
        """The plug-in run the fields ask for: the chosen repair's plug-in preset with them, checked
        (raises ConfigProblems naming every field to fix)."""
        loss = self.form["loss"].value()
        base = preset(plugin_preset(loss) if loss else PLUGIN)
        base.experiment = f"compare-{loss}"
        return config_from_form(self.form, base)

    def start(self) -> None:
        """Validate the fields, then run the plug-in on a worker thread. The previous plug-in's
        series leave the page (its run folder keeps them), so nothing shown belongs to another run."""
        config = self.checked(self.build_tune_config) if self.can_start() else None
        if config is not None:
            from engine.plugin import tune

            self.tune_history, self.live = [], None
            self._drop_replaced_series(config)
            self.refresh()
            self.bars.set_title(self.tr("{0}: loading the model and the data…").format(self._repair_title()))
            self.launch(partial(tune, config), self.tr("The plug-in"),
                        self.tr("Plug-in: loading the model and the data…"))

    def on_dataset(self, event) -> None:
        self.class_names, self.class_counts = list(event.class_names), list(event.class_counts)

    def on_progress(self, event) -> None:
        """The plots say what the plug-in is doing until its first tuning epoch has finished."""
        super().on_progress(event)
        if self.live is None and self.is_running():
            self.bars.set_title(self.tr("{0}: {1}").format(self._repair_title(), self.progress.format()))

    def on_epoch(self, event) -> None:
        """A tuning epoch finished: its new classifier is drawn at once, beside the compared runs."""
        self.tune_history.append({"epoch": event.epoch, **event.test.summary("test_")})
        self.log.add(self.tr("tuning epoch {0}/{1}: test Acc {2:.2f}  HM {3:.2f}  LR {4:.2f}  ({5} at zero)").format(
            event.epoch, event.epochs, 100 * event.test.top1, 100 * event.test.hm, 100 * event.test.lowest_recall,
            event.test.zero_recall))
        self.live = series_from_metrics(self.tr("{0} · new, epoch {1}/{2}").format(f"{PLUGIN_PREFIX} · {self.repair}",
                                                                                    event.epoch, event.epochs),
                                        event.test, self.class_names, self.class_counts, self.tune_history)
        self.refresh()

    def on_finished(self, result) -> None:
        """The run's columns join the plug-in series: one "old" for the model repaired, and the new
        and ensemble series of each repair run on it, the old model first."""
        self.live = None
        names = {column: f"{PLUGIN_PREFIX} · old" if column == "old" else
                 f"{PLUGIN_PREFIX} · {self.repair} · {column}" for column in result.reports}
        plugin = [series_from_metrics(names[column], metrics, result.class_names, result.class_counts,
                                      self.tune_history if column == "new" else None, str(result.run_dir or ""))
                  for column, metrics in result.reports.items()]
        kept = [s for s in self.series if s.name not in names.values()]
        repairs = sorted([s for s in kept if s.name.startswith(PLUGIN_PREFIX)] + plugin,
                         key=lambda s: s.name != names["old"])  # the old model first, then the repairs in order
        self.series = unique_names(repairs + [s for s in kept if not s.name.startswith(PLUGIN_PREFIX)])
        self.progress.done(self.tr("Stopped") if result.stopped else self.tr("Finished"))
        if result.run_dir is not None:
            self.log.add(self.tr("plug-in run folder: {0}").format(result.run_dir))
            self.run_saved.emit(str(result.run_dir))
        self.refresh()
        self._choose_change(names["old"], names.get("new", ""))

    def on_failed(self, failure) -> None:
        self.live = None
        self.refresh()
        super().on_failed(failure)

    def _drop_replaced_series(self, config: RunConfig) -> None:
        """A repair starts: the series it will replace leave the page (its earlier run folder keeps
        them), so nothing on show belongs to another run, even if this one fails. A repair of
        another model or data clears every plug-in series; one of the same model clears its own."""
        from engine.methods import method_class

        self.repair = method_class(config.method.loss).abbreviation()
        repaired = (config.model.pretrained, config.data.dataset, config.data.root, config.data.imbalance_ratio)
        prefix = PLUGIN_PREFIX if repaired != self.repaired else f"{PLUGIN_PREFIX} · {self.repair} · "
        self.series = [s for s in self.series if not s.name.startswith(prefix)]
        self.repaired = repaired

    def _repair_title(self) -> str:
        return self.tr("{0} plug-in").format(self.repair)

    # --- the checkpoint's data ---------------------------------------------------------------
    @Slot()
    def _checkpoint_chosen(self) -> None:
        """Read the chosen checkpoint's training data settings on a worker, then fill the fields."""
        path = self.form["pretrained"].value()
        if not path or path == self._peeked or self.engine is None:
            return
        self._peeked = path
        from engine.checkpoints import training_data

        worker = TaskWorker(lambda _on_event, _should_stop: training_data(path), name="checkpoint")
        worker.finished.connect(self._fill_data_fields)
        self.peek_runner.start(worker)

    @Slot(object)
    def _fill_data_fields(self, data: dict) -> None:
        """The dataset fields as the checkpoint was trained (what it does not say stays as it is)."""
        for key in DATA_FIELDS:
            if data.get(key) not in (None, ""):
                self.form[key].set_value(data[key])
        if data:
            self.log.add(self.tr("dataset fields set from the checkpoint: {0}").format(
                ", ".join(f"{k} {v}" for k, v in data.items() if k != "root")))

    def shutdown(self, timeout_ms: int | None = None) -> bool:
        self.peek_runner.cancel()
        return super().shutdown(timeout_ms) and self.peek_runner.wait()

    # --- saved runs -------------------------------------------------------------------------
    def add_runs_dialog(self) -> None:
        folders = choose_folders(self, self.tr("Add run folders"), str(workspace.runs_dir()))
        if folders:
            self.add_runs(folders)

    def add_runs(self, paths) -> None:
        """Add run folders; a folder that is not a run is reported and the others are still added."""
        for path in paths:
            try:
                added = series_from_run(path)
            except (UserError, OSError, ValueError, KeyError) as error:
                self.log.add(f"{path}: {error}", "warning")
                errors.report_error(error if isinstance(error, UserError) else UserError(f"{path}: {error}"), self)
                continue
            sources = {s.source for s in added}
            self.series = unique_names([s for s in self.series if s.source not in sources] + added)
        self.refresh()

    def remove_selected(self) -> None:
        chosen = {item.text() for item in self.run_list.selectedItems()}
        self.series = [s for s in self.series if s.name not in chosen]
        self.refresh()

    def clear_series(self) -> None:
        self.series = []
        self.refresh()

    # --- drawing ----------------------------------------------------------------------------
    def shown(self) -> list[Series]:
        """Every series on the page: the plug-in's latest tuning epoch while it runs, then the rest."""
        return ([self.live] if self.live is not None else []) + self.series

    def refresh(self) -> None:
        self.run_list.clear()
        self.run_list.addItems([s.name for s in self.series])
        self._redraw_bars()
        self._redraw_curves()
        self._fill_table()
        self._fill_change_choices()

    def _redraw_bars(self) -> None:
        shown = self.shown()
        if not shown:
            self.bars.set_bars([], [], [])
            self.bars.set_title(self.tr("Per-class accuracy"))
            return
        first = shown[0]
        same = [s for s in shown if len(s.per_class) == len(first.per_class)]
        self.bars.set_bars(first.class_names, first.class_counts, [(s.name, s.per_class) for s in same])
        skipped = len(shown) - len(same)
        self.bars.set_title(self.tr("Per-class accuracy · {0} classes").format(len(first.per_class))
                            + (self.tr(" · {0} series with another class count not shown").format(skipped)
                               if skipped else ""))

    def _redraw_curves(self) -> None:
        key = self.curve_metric.currentData()
        self.curves.remove_curves()
        for k, series in enumerate(s for s in self.shown() if s.history):
            self.curves.curve(series.name, COLORS[k % len(COLORS)])
            self.curves.set_curve(series.name, [row["epoch"] for row in series.history],
                                  [row.get(key, float("nan")) for row in series.history])

    # --- change per class ------------------------------------------------------------------
    def _fill_change_choices(self) -> None:
        shown = [s.name for s in self.shown()]
        for combo, fallback in ((self.change_from, 0), (self.change_to, 1)):
            current = combo.currentText()
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(shown)
            combo.setCurrentIndex(shown.index(current) if current in shown else min(fallback, len(shown) - 1))
            combo.blockSignals(False)
        self._redraw_change()

    def _choose_change(self, before: str, after: str) -> None:
        for combo, name in ((self.change_from, before), (self.change_to, after)):
            index = combo.findText(name)
            if index >= 0:
                combo.setCurrentIndex(index)
        self._redraw_change()

    @Slot()
    def _redraw_change(self) -> None:
        """Each class's change from one series to the other, and the classes still at zero after it."""
        by_name = {s.name: s for s in self.shown()}
        before, after = by_name.get(self.change_from.currentText()), by_name.get(self.change_to.currentText())
        if before is None or after is None or len(before.per_class) != len(after.per_class):
            self.change.set_change([], [], [])
            self.change_table.set_change([], [], [], [])
            self.still_zero.setText(self.tr("Choose two series with the same classes.") if self.series else "")
            return
        self.change.set_change(after.class_names, before.per_class, after.per_class)
        self.change.set_title(self.tr("Change per class: {0} → {1}").format(before.name, after.name))
        self.change_table.set_change(after.class_names, after.class_counts, before.per_class, after.per_class)
        zeros = [after.class_names[i] for i in range(len(after.per_class)) if after.per_class[i] == 0]
        rescued = sum(1 for b, a in zip(before.per_class, after.per_class) if b == 0 and a > 0)
        if not zeros:
            self.still_zero.setText(self.tr("No class is at zero recall after; {0} left zero.").format(rescued))
            return
        more = len(zeros) - ZERO_NAMES_SHOWN
        self.still_zero.setText(self.tr("Still at zero after: {0} classes ({1} left zero): {2}").format(
            len(zeros), rescued, ", ".join(zeros[:ZERO_NAMES_SHOWN]) + (self.tr(" … and {0} more").format(more)
                                                                         if more > 0 else "")))

    def _fill_table(self) -> None:
        shown = self.shown()
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(shown))
        for row, series in enumerate(shown):
            self.table.setItem(row, 0, QTableWidgetItem(series.name))
            for column, (_title, attribute) in enumerate(TABLE_COLUMNS, start=1):
                self.table.setItem(row, column, number_item(series.value(attribute), percent=True))
            self.table.setItem(row, len(TABLE_COLUMNS) + 1, number_item(series.value("zero_recall")))
        self.table.setSortingEnabled(True)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)

    # --- export ---------------------------------------------------------------------------
    def exportables(self) -> dict[str, ThemedPlot]:
        return {"compare-per-class": self.bars, "compare-curves": self.curves}

    def metrics_rows(self) -> tuple[list[str], list[list]]:
        """The table as shown: one row per model, metrics in percent, the zero-recall count."""
        header = ["Model", *(f"{t} (%)" for t, _ in TABLE_COLUMNS), "Zero-recall classes"]
        rows = [[s.name, *(None if s.value(a) is None else 100 * s.value(a) for _, a in TABLE_COLUMNS),
                 s.value("zero_recall")] for s in self.series]
        return header, rows

    def export_metrics(self, path: str | Path) -> Path:
        """CSV: the table (fractions) plus every class's recall per series, one column per class
        name over every series (a series without that class leaves it empty); Markdown or LaTeX:
        the table as shown, in percent, for a paper."""
        if Path(path).suffix.lower() != ".csv":
            return write_table(path, *self.metrics_rows())
        header = ["model", *(t for t, _ in TABLE_COLUMNS), "zero_recall"]
        classes = list(dict.fromkeys(name for s in self.series for name in s.class_names))
        rows = []
        for s in self.series:
            recall = dict(zip(s.class_names, s.per_class))
            rows.append([s.name, *(s.value(a) for _, a in TABLE_COLUMNS), s.value("zero_recall"),
                         *(recall.get(name, "") for name in classes)])
        return write_table(path, header + [f"recall:{name}" for name in classes], rows)
