"""The Compare page: run the plug-in on a pretrained model (the seed's page) and compare old,
new and ensemble class by class; beyond the seed, overlay several repairs of one model (GML, cRT,
LWS, τ-norm, WB: each run adds its new and ensemble series beside the others) and saved run folders.
Choosing a loss shows that repair's own defaults (its plug-in preset), not the training form's.

Bars show per-class accuracy, classes ordered by training count; the table lists Acc / HM / GM
/ LR / many / medium / few for every series; the curve plot overlays the runs' test curves.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHeaderView, QLabel, QListWidget, QTableWidget,
                               QTableWidgetItem, QWidget)

from errors import UserError
from engine import workspace
from engine.config import RunConfig
from engine.presets import PLUGIN, plugin_preset, preset
from gui import errors
from gui.compare_series import CURVE_METRICS, TABLE_COLUMNS, Series, series_from_metrics, series_from_run
from gui.engine_info import EngineInfo
from gui.forms import Form
from gui.plots import COLORS, ClassBars, CurvePlot, ThemedPlot
from gui.settings import Settings
from gui.task_panel import TaskPanel
from gui.train_form import config_from_form, fill_form, offer_choices, plugin_form_fields
from gui.table_export import write_table
from gui.widgets import Column, LogPane, choose_folders, number_item, push_button, row_of

PLUGIN_PREFIX = "plug-in"


class ComparePanel(TaskPanel):
    run_saved = Signal(str)
    worker_name = "compare"
    activity_prefix = "Plug-in: "

    def __init__(self, settings: Settings, parent: QWidget | None = None):
        super().__init__(settings, parent)
        self.series: list[Series] = []
        self.tune_history: list[dict[str, float]] = []
        self.repaired: tuple | None = None  # the model and data the plug-in series on show repair
        self.running_config: RunConfig | None = None  # the plug-in run in progress (or the last one)
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

        self.run_button = push_button("Run plug-in", "Re-train the chosen model's classifier on the chosen data and "
                                      "compare it with the original, class by class.", self.start)
        self.run_button.setDefault(True)
        self.stop_button = push_button("Stop", "Stop the plug-in after the current batch.", self.stop)
        self.start_buttons, self.stop_buttons = [self.run_button], [self.stop_button]

        self.run_list = QListWidget()
        self.run_list.setToolTip("Everything compared on the right: the plug-in's old / new / ensemble and the run "
                                 "folders you added.")
        self.run_list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        list_buttons = row_of(
            push_button("Add run folders…", "Add saved run folders (training or plug-in runs) to overlay their "
                        "curves and bars.", self.add_runs_dialog), None,
            push_button("Remove", "Remove the selected entries.", self.remove_selected),
            push_button("Clear", "Remove every entry.", self.clear_series))
        self.log = LogPane()

        left = Column(plugin_group, row_of(None, self.run_button, self.stop_button), self.error_line, self.progress,
                      QLabel("Compared"), (self.run_list, 1), list_buttons, (self.log, 1), margins=(0, 0, 6, 0),
                      fitted=True)

        self.bars = ClassBars("Per-class accuracy", y_label="accuracy (%)")
        self.curves = CurvePlot("Test curves of the compared runs")
        self.curve_metric = QComboBox()
        for key, title in CURVE_METRICS:
            self.curve_metric.addItem(title, key)
        self.curve_metric.setToolTip("Which test metric the curves show, per epoch.")
        self.curve_metric.currentIndexChanged.connect(self._redraw_curves)
        curve_box = Column(row_of(QLabel("Curve metric"), self.curve_metric, None), (self.curves, 1))
        self.table = QTableWidget(0, len(TABLE_COLUMNS) + 2)
        self.table.setHorizontalHeaderLabels(["Model", *(t for t, _ in TABLE_COLUMNS), "Zero-recall classes"])
        self.table.setToolTip("Test metrics in percent. HM, GM and LR floor each class's recall at 0.1 % (the "
                              "paper's code) unless the run says otherwise; the last column counts the classes at "
                              "zero recall. Many / Medium / Few: > 100, 20–100, < 20 training images. ECE: "
                              "calibration error, 15 bins.")
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # insertion order first

        self.right_split = self.splitter("compare/split_right", Qt.Orientation.Vertical, self.bars, curve_box,
                                         self.table)
        self.right_split.setSizes([380, 260, 140])
        self.main_split = self.set_panes("compare/split_main", left, self.right_split)

    # --- engine ----------------------------------------------------------------------------
    def engine_ready(self, info: EngineInfo) -> None:
        offer_choices(self.form, info, plugin=True)  # the losses that can re-train a classifier
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
        """Validate the fields, then run the plug-in on a worker thread."""
        config = self.checked(self.build_tune_config) if self.can_start() else None
        if config is not None:
            from engine.plugin import tune

            self.tune_history = []
            self.running_config = config
            self.launch(partial(tune, config), "The plug-in", "Plug-in: loading the model and the data…")

    def on_epoch(self, event) -> None:
        self.tune_history.append({"epoch": event.epoch, **event.test.summary("test_")})
        self.log.add(f"tuning epoch {event.epoch}/{event.epochs}: test Acc {100 * event.test.top1:.2f}  "
                     f"HM {100 * event.test.hm:.2f}  LR {100 * event.test.lowest_recall:.2f}")

    def on_finished(self, result) -> None:
        """The run's columns join the plug-in series: one "old" for the model repaired, and the new
        and ensemble series of each repair run on it (a repair run again replaces its own; another
        model or data clears them)."""
        from engine.methods import method_class

        config = self.running_config
        repaired = (config.model.pretrained, config.data.dataset, config.data.root, config.data.imbalance_ratio)
        if repaired != self.repaired:
            self.series = [s for s in self.series if not s.name.startswith(PLUGIN_PREFIX)]
            self.repaired = repaired
        repair = method_class(config.method.loss).abbreviation()
        names = {column: f"{PLUGIN_PREFIX} · old" if column == "old" else f"{PLUGIN_PREFIX} · {repair} · {column}"
                 for column in result.reports}
        plugin = [series_from_metrics(names[column], metrics, result.class_names, result.class_counts,
                                      self.tune_history if column == "new" else None)
                  for column, metrics in result.reports.items()]
        kept = [s for s in self.series if s.name not in names.values()]
        repairs = sorted([s for s in kept if s.name.startswith(PLUGIN_PREFIX)] + plugin,
                         key=lambda s: s.name != names["old"])  # the old model first, then the repairs in order
        self.series = repairs + [s for s in kept if not s.name.startswith(PLUGIN_PREFIX)]
        self.progress.done("Stopped" if result.stopped else "Finished")
        if result.run_dir is not None:
            self.log.add(f"plug-in run folder: {result.run_dir}")
            self.run_saved.emit(str(result.run_dir))
        self.refresh()

    # --- saved runs -------------------------------------------------------------------------
    def add_runs_dialog(self) -> None:
        folders = choose_folders(self, "Add run folders", str(workspace.runs_dir()))
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
        """CSV: the table (fractions) plus every class's recall per series; Markdown or LaTeX:
        the table as shown, in percent, for a paper."""
        if Path(path).suffix.lower() != ".csv":
            return write_table(path, *self.metrics_rows())
        header = ["model", *(t for t, _ in TABLE_COLUMNS), "zero_recall"]
        classes = self.series[0].class_names if self.series else []
        rows = []
        for s in self.series:
            per_class = s.per_class if len(s.per_class) == len(classes) else [""] * len(classes)
            rows.append([s.name, *(s.value(a) for _, a in TABLE_COLUMNS), s.value("zero_recall"), *per_class])
        return write_table(path, header + [f"recall:{name}" for name in classes], rows)
