"""The Train page: the seed's parameters, Start / Stop / Resume, live curves and, in tabs, the
"left behind" bars, the class table, the confusion matrix and the loss and learning-rate curves,
then a log pane.

Every mode runs ``engine.trainer.train`` on a worker with the config the fields make: "freeze
feature extraction" is the plug-in there (its old / new / ensemble report), "freeze all" the
evaluate-only path. Nothing here trains: the panel builds configs and shows events.
"""
from __future__ import annotations

import math
from functools import partial
from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (QAbstractButton, QComboBox, QFileDialog, QLabel, QLineEdit, QSpinBox, QTabWidget,
                               QWidget)

from errors import UserError
from engine import workspace
from engine.config import RunConfig
from engine.knobs import settings
from engine.presets import DEMO, PLUGIN, preset, preset_titles
from gui.class_views import ClassTable, ConfusionView
from gui.engine_info import EngineInfo
from gui.form_widgets import compact_combo
from gui.plots import COLORS, ClassBars, CurvePlot, ThemedPlot
from gui.redraw_queue import RedrawQueue
from gui.settings import Settings
from gui.task_panel import TaskPanel
from gui.train_form import (build_train_form, config_from_form, fill_form, local_settings, offer_choices,
                            offer_plugin_choices, setting_text)
from gui.table_export import write_table
from gui.view_preview import ViewPreviewDialog
from gui.widgets import Column, FormScrollArea, LogPane, push_button, row_of, wrapping_label
from gui.workers import Task, TaskRunner, TaskWorker

# (plot, legend name (translated where drawn), metrics.csv key, colour, dashed)
CURVES = (
    ("accuracy", QT_TRANSLATE_NOOP("TrainPanel", "test top-1"), "test_top1", COLORS[0], False),
    ("accuracy", QT_TRANSLATE_NOOP("TrainPanel", "train top-1"), "train_top1", COLORS[0], True),
    ("accuracy", QT_TRANSLATE_NOOP("TrainPanel", "test GM"), "test_gm", COLORS[1], False),
    ("accuracy", QT_TRANSLATE_NOOP("TrainPanel", "train GM"), "train_gm", COLORS[1], True),
    ("worst", QT_TRANSLATE_NOOP("TrainPanel", "test HM"), "test_hm", COLORS[2], False),
    ("worst", QT_TRANSLATE_NOOP("TrainPanel", "train HM"), "train_hm", COLORS[2], True),
    ("worst", QT_TRANSLATE_NOOP("TrainPanel", "test LR"), "test_lowest_recall", COLORS[3], False),
    ("worst", QT_TRANSLATE_NOOP("TrainPanel", "train LR"), "train_lowest_recall", COLORS[3], True),
)
# (plot, legend name, metrics.csv key, colour, dashed): values, not percent
VALUE_CURVES = (
    ("zero", QT_TRANSLATE_NOOP("TrainPanel", "test"), "test_zero_recall", COLORS[3], False),
    ("zero", QT_TRANSLATE_NOOP("TrainPanel", "train"), "train_zero_recall", COLORS[3], True),
    ("loss", QT_TRANSLATE_NOOP("TrainPanel", "train loss"), "train_loss", COLORS[0], True),
    ("loss", QT_TRANSLATE_NOOP("TrainPanel", "test loss (NLL)"), "test_loss", COLORS[0], False),
    ("lr", QT_TRANSLATE_NOOP("TrainPanel", "learning rate"), "lr", COLORS[2], False),
)
WATCHED = "recountsPlan"  # property of a field editor whose changes recount the plan line
START_KEYS, STOP_KEYS = QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+.")  # Cmd on macOS: Cmd+. is "cancel"
OPENED_RUN = "run:"  # the Preset box's entry for the settings of an opened run: "run:<folder>"
# the optimiser fields "freeze features" takes from the plug-in preset (and gives back when left)
PLUGIN_OPTIM = ("epochs", "lr", "batch_size", "momentum", "weight_decay", "schedule", "warmup_epochs")
CSV_KEYS = ("epoch", "stage", "lr", "seconds", "train_loss", "train_top1", "train_hm", "train_gm",
            "train_lowest_recall",
            "test_loss", "test_top1", "test_top5", "test_mean_recall", "test_hm", "test_gm", "test_lowest_recall",
            "test_zero_recall", "test_many", "test_medium", "test_few", "test_nll", "test_ece")


class TrainPanel(TaskPanel):
    run_saved = Signal(str)  # a run folder was written
    worker_name = "train"

    def __init__(self, settings: Settings, parent: QWidget | None = None):
        super().__init__(settings, parent)
        self.base_config = preset(DEMO)
        self.history: list[dict[str, float]] = []
        self.class_names: list[str] = []
        self.class_counts: list[int] = []
        self.resume_target: Path | None = None
        # a live epoch redraws one view per turn of the event loop, each painted before the next
        # (gui/redraw_queue.py): the GUI thread's longest pause is one plot, not all of them
        self.redraws = RedrawQueue(self)
        self.preview_runner = TaskRunner(self)  # its own thread: a preview never cancels a run
        self.preview_dialog: ViewPreviewDialog | None = None
        self._filling = False  # the fields are being filled from a config: freeze changes are not the user's
        self._build()
        self.fill(self.base_config)
        self.restore_state()
        self._show_start_epoch()
        self._sync_buttons()
        self._watch_fields()

    # --- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.form, groups = build_train_form()
        self.form["freeze"].editor.currentIndexChanged.connect(self._freeze_changed)
        self.form["optimizer"].editor.currentIndexChanged.connect(self._sync_optimizer)

        self.preset = compact_combo(QComboBox(), 16)
        for name, title in preset_titles().items():
            self.preset.addItem(setting_text(title), name)
        self.preset.setToolTip(self.tr("Fill the fields with a named setting: the offline demo, or the CIFAR-100-LT "
                                       "paper setting of a method (ResNet-32, ratio 100, 200 epochs, SGD 0.1). The "
                                       "data path, log folder, experiment name, device and CPU threads stay yours."))
        apply_preset = push_button(self.tr("Apply"), self.tr("Replace the fields with the chosen preset."),
                                   self.apply_selected_preset)
        start_keys = START_KEYS.toString(QKeySequence.SequenceFormat.NativeText)
        stop_keys = STOP_KEYS.toString(QKeySequence.SequenceFormat.NativeText)
        start_tip = self.tr("Check the fields and start a run (or the plug-in when the backbone is frozen). {0}")
        self.start_button = push_button(self.tr("Start"), start_tip.format(start_keys), self.start)
        self.start_button.setDefault(True)
        self.start_button.setShortcut(START_KEYS)
        self.stop_button = push_button(self.tr("Stop"), self.tr("Stop after the current batch; the last finished "
                                                                "epoch's checkpoint is kept. {0}").format(stop_keys),
                                       self.stop)
        self.stop_button.setShortcut(STOP_KEYS)
        self.resume_button = push_button(self.tr("Resume…"), self.tr(
            "Continue a stopped run from its last checkpoint, in the same run folder."), self._resume_clicked)
        self.start_buttons = [self.start_button, self.resume_button]
        self.stop_buttons = [self.stop_button]
        self.preview_button = push_button(self.tr("Views…"), self.tr(
            "Show a few training images beside the augmented views the chosen method trains on (PaCo: its AutoAugment "
            "query and SimCLR key)."),
                                          self.preview_views)
        preset_row = row_of(QLabel(self.tr("Preset")), (self.preset, 1), apply_preset, self.preview_button)
        run_row = row_of(self.start_button, self.stop_button, self.resume_button, None)

        fields = Column(*groups, margins=(0, 0, 6, 0))
        fields.layout().addStretch(1)
        self.form.scroll_area = FormScrollArea(fields)
        self.plan_line = wrapping_label("hint")
        self.plan_line.setToolTip(self.tr("What Start will run, from the fields: the epochs of every stage of the "
                                          "chosen method."))
        self._plan_timer = QTimer(self)
        self._plan_timer.setSingleShot(True)
        self._plan_timer.setInterval(150)
        self._plan_timer.timeout.connect(self.show_plan)
        left = Column(preset_row, run_row, self.plan_line, self.error_line, (self.form.scroll_area, 1), fitted=True)

        self.plots = {"accuracy": CurvePlot(self.tr("Top-1 accuracy and GM")),
                      "worst": CurvePlot(self.tr("HM and lowest recall (LR)")),
                      "zero": CurvePlot(self.tr("Classes at zero recall"), y_label=self.tr("classes"), percent=False),
                      "loss": CurvePlot(self.tr("Loss"), y_label=self.tr("loss"), percent=False),
                      "lr": CurvePlot(self.tr("Learning rate"), y_label=self.tr("learning rate (log)"), percent=False,
                                      log_y=True)}
        for plot_name, name, _key, color, dashed in CURVES + VALUE_CURVES:
            self.plots[plot_name].curve(self.tr(name), color, dashed)
        self.bars = ClassBars(self.tr("Left behind: test recall per class"))
        self.class_table = ClassTable()
        self.confusion = ConfusionView()
        self.views = QTabWidget()
        self.views.setDocumentMode(True)
        self.views.tabBar().setUsesScrollButtons(True)  # the tabs never set the window's minimum width
        self.views.addTab(self.bars, self.tr("Left behind"))
        self.views.addTab(self.class_table, self.tr("Classes"))
        self.views.addTab(self.confusion, self.tr("Confusion"))
        self.views.addTab(row_of(self.plots["loss"], self.plots["lr"]), self.tr("Loss and learning rate"))
        self.log = LogPane()

        self.plots["zero"].setToolTip(self.tr("How many classes no test image is recognised in, per epoch: HM and LR "
                                              "sit at their floor while any class is at zero, this says how many."))
        for name, width in (("accuracy", 160), ("worst", 160), ("zero", 120)):  # three fit where two did
            self.plots[name].setMinimumWidth(width)
        self.curve_split = self.splitter("train/split_curves", Qt.Orientation.Horizontal, self.plots["accuracy"],
                                         self.plots["worst"], self.plots["zero"])
        self.curve_split.setSizes([400, 380, 290])
        self.right_split = self.splitter("train/split_right", Qt.Orientation.Vertical, self.curve_split, self.views,
                                         self.log)
        self.right_split.setSizes([330, 300, 120])
        right = Column(self.progress, (self.right_split, 1))
        self.main_split = self.set_panes("train/split_main", left, right)

    # --- engine and presets ----------------------------------------------------------------
    def engine_ready(self, info: EngineInfo) -> None:
        """The engine has loaded: offer the registries' choices (methods, architectures, devices, …;
        with freeze features the plug-in's losses) and the methods' hyperparameters; enable Start."""
        offer_choices(self.form, info, plugin=self.form["freeze"].value() == "features")
        self.form["pretrained"].refresh()
        self.form["teacher"].refresh()
        self._offer_processes(info.gpus)
        super().engine_ready(info)
        self.show_plan()

    # --- what Start will run -----------------------------------------------------------------
    def plan_text(self) -> str:
        """The epochs the fields ask for, stage by stage ("" while a field cannot be read)."""
        try:
            config = self.build_config()
        except (UserError, TypeError, ValueError):
            return ""
        if config.model.freeze == "features":
            return self.tr("Plug-in: {0} epochs re-training the classifier").format(config.optim.epochs)
        if config.model.freeze == "all":
            return self.tr("Evaluates the pretrained model; trains nothing")
        stages = _planned_stages(config)
        total = sum(epochs for _name, epochs in stages)
        if not stages:
            return ""
        if len(stages) == 1:
            return self.tr("Trains {0} epochs").format(total)
        return self.tr("Trains {0} epochs in {1} stages: {2}").format(
            total, len(stages), ", ".join(self.tr("{0} {1}").format(name, epochs) for name, epochs in stages))

    @Slot()
    def show_plan(self) -> None:
        self._watch_fields()
        if self.engine is not None:
            self.plan_line.setText(self.plan_text())

    def _watch_fields(self) -> None:
        """Recount the plan whenever a field changes (rows the hyperparameter field adds later too)."""
        for field in self.form.fields.values():
            for editor in (field.editor, *field.widget.findChildren(QWidget)):
                if editor.property(WATCHED):
                    continue
                signal = (editor.textChanged if isinstance(editor, QLineEdit) else
                          editor.valueChanged if isinstance(editor, QSpinBox) else
                          editor.currentIndexChanged if isinstance(editor, QComboBox) else
                          editor.toggled if isinstance(editor, QAbstractButton) else None)
                if signal is not None:
                    signal.connect(self._plan_timer.start)
                    editor.setProperty(WATCHED, True)

    def _offer_processes(self, gpus: int) -> None:
        """The GPUs field goes up to this machine's GPUs; greyed at 1 with fewer than two."""
        field = self.form["nproc"]
        field.editor.setMaximum(max(1, gpus))
        field.editor.setEnabled(gpus > 1)
        if gpus < 2:
            why = self.tr("This machine has {0} GPU(s); a run on several GPUs needs at least two (one process "
                          "per GPU). From a terminal, torchrun or --nproc with --device cpu runs several CPU "
                          "processes (docs/distributed.md).").format(gpus)
            field.tooltip = f"{why}\n\n{field.tooltip}"
            field.editor.setToolTip(field.tooltip)

    def apply_selected_preset(self) -> None:
        chosen = self.preset.currentData()
        if chosen.startswith(OPENED_RUN):
            self.load_run(chosen.removeprefix(OPENED_RUN))
        else:
            self.apply_preset(chosen)

    def apply_preset(self, name: str) -> None:
        """Fill the fields with preset ``name`` (or title); the data path, log folder, experiment name,
        device and CPU threads keep what the user set: they belong to this machine, not to a recipe."""
        self.base_config = preset(name)
        self.form.clear_errors()
        self.show_error("")
        self.fill(self.base_config, [name for name in self.form.fields if name not in local_settings()])
        self.preset.setCurrentIndex(max(0, self.preset.findData(self._preset_name(name))))
        self.resume_target = None
        self._show_start_epoch()
        self.log.add(self.tr("preset: {0}").format(self.preset.currentText()))

    @staticmethod
    def _preset_name(name: str) -> str:
        return next((key for key, title in preset_titles().items() if name in (key, title)), name)

    # --- what the model trains on ----------------------------------------------------------
    def preview_views(self) -> None:
        """Draw the chosen method's views of a few training images on a worker, then show them."""
        config = self.checked(self.build_config)
        if config is None:
            return
        from engine.view_preview import preview_views

        worker = TaskWorker(lambda on_event, should_stop: preview_views(config), name="preview")
        worker.finished.connect(self._show_preview)
        worker.failed.connect(self._preview_failed)
        self.preview_runner.start(worker)

    @Slot(object)
    def _show_preview(self, preview) -> None:
        if self.preview_dialog is not None:
            self.preview_dialog.close()
        self.preview_dialog = ViewPreviewDialog(preview, self)
        self.preview_dialog.show()

    @Slot(object)
    def _preview_failed(self, failure) -> None:
        self.show_error(self.tr("cannot show the views: {0}").format(failure.error))

    def shutdown(self, timeout_ms: int | None = None) -> bool:
        self.preview_runner.cancel()
        return super().shutdown(timeout_ms) and self.preview_runner.wait()

    # --- running ---------------------------------------------------------------------------
    def build_config(self) -> RunConfig:
        """The run config from the fields, checked before any data loads (raises ConfigProblems
        naming every field to fix)."""
        return config_from_form(self.form, self.base_config)

    def planned_task(self) -> tuple[Task, str]:
        """The run the fields ask for (train, the plug-in or evaluate) and what to call it."""
        from engine.trainer import train

        config = self.build_config()
        what = {"features": self.tr("Re-training the classifier (plug-in)"), "all": self.tr("Evaluating")}
        return partial(train, config), what.get(config.model.freeze, self.tr("Training"))

    def start(self) -> None:
        """Validate the fields, then train, tune or evaluate on a worker thread."""
        planned = self.checked(self.planned_task) if self.can_start() else None
        if planned is not None:
            self.resume_target = None
            self.form["start_epoch"].set_value(1, self.tr("running"))
            self._launch(*planned, fresh=True)

    def resume(self, run_dir: str | Path | None = None) -> None:
        """Continue a stopped run (the last one by default, or one the user picks)."""
        if not self.can_start():
            return
        path = Path(run_dir) if run_dir else self.resume_target
        if path is None:
            chosen = QFileDialog.getExistingDirectory(self, self.tr("Resume which run folder?"),
                                                      str(workspace.runs_dir()))
            if not chosen:
                return
            path = Path(chosen)
        from engine.runs import RunFolder
        from engine.trainer import check_resumable, train

        try:
            self.load_run(path)
            check_resumable(RunFolder(path))
        except (UserError, OSError, ValueError, KeyError) as error:
            self.show_error(self.tr("{0} cannot be resumed: {1}").format(path.name, error))
            return
        self.form["start_epoch"].set_value(len(self.history) + 1, self.tr("resuming"))
        self._launch(partial(train, None, resume=str(path)), self.tr("Resuming {0}").format(path.name), fresh=False)

    @Slot()
    def _resume_clicked(self) -> None:
        self.resume()

    def _launch(self, task: Task, what: str, fresh: bool) -> None:
        if fresh:
            self.history, self.class_names, self.class_counts = [], [], []
            self._redraw()
        self.log.add(f"{what}…")
        self.launch(task, what, self.tr("{0}: loading data…").format(what))

    # --- worker signals (GUI thread) ----------------------------------------------------------
    def on_dataset(self, event) -> None:
        self.class_names, self.class_counts = list(event.class_names), list(event.class_counts)

    def on_epoch(self, event) -> None:
        row = {"epoch": event.epoch, "stage": event.stage, "lr": event.lr, "seconds": event.seconds,
               **event.train.summary("train_"), **event.test.summary("test_")}
        self.history = [r for r in self.history if r["epoch"] < event.epoch] + [row]
        test = event.test
        self._redraw((test.per_class_recall, test.per_class_precision, test.confusion, test.confused_pairs or None),
                     live=True)
        stage = self.tr(" (stage {0})").format(event.stage_name) if event.stage_name else ""
        self.log.add(self.tr("epoch {0}/{1}{2}: test Acc {3:.2f}  HM {4:.2f}  GM {5:.2f}  LR {6:.2f}  "
                             "({7} at zero)").format(
                         event.epoch, event.epochs, stage, 100 * test.top1, 100 * test.hm, 100 * test.gm,
                         100 * test.lowest_recall, test.zero_recall)
                     + (f"  ECE {100 * test.ece:.2f}" if test.ece == test.ece else "")
                     + (self.tr("  {0:.2f} experts/image").format(test.experts_per_image)
                        if test.experts_per_image is not None else "")
                     + (self.tr("  ★ best") if event.is_best else ""))

    def on_finished(self, result) -> None:
        self.redraws.flush()
        run_dir = getattr(result, "run_dir", None)
        stopped = bool(getattr(result, "stopped", False))
        for column, metrics in getattr(result, "reports", {}).items():  # the plug-in's old / new / ensemble
            self.log.add(self.tr("{0}: test Acc {1:.2f}  HM {2:.2f}  GM {3:.2f}  LR {4:.2f}  ({5} at zero)").format(
                column, 100 * metrics.top1, 100 * metrics.hm, 100 * metrics.gm, 100 * metrics.lowest_recall,
                metrics.zero_recall))
        if run_dir is not None:
            self.resume_target = Path(run_dir)
            self.log.add((self.tr("stopped; run folder: {0}") if stopped else
                          self.tr("finished; run folder: {0}")).format(run_dir))
            self.run_saved.emit(str(run_dir))
        self._show_start_epoch()
        self.progress.done(self.tr("Stopped") if stopped else self.tr("Finished"))

    def on_failed(self, failure) -> None:
        self.redraws.flush()
        self._show_start_epoch()
        super().on_failed(failure)

    # --- showing a run -----------------------------------------------------------------------
    def load_run(self, path: str | Path) -> None:
        """Show a saved run folder (training or plug-in): its curves, last per-class recall and
        settings; the Preset box names the preset it was made from, or the run."""
        from engine.plugin.config import saved_run_config
        from engine.runs import RunFolder

        run = RunFolder(path)
        if not run.is_run():
            raise UserError(self.tr("{0} is not a run folder (it has no config.json)").format(path))
        config = saved_run_config(run.config())
        self.history = run.history()
        names = [name for name, _epochs in _planned_stages(config)]
        for row in self.history:  # metrics.csv numbers the stages from 1
            number = row.get("stage")
            if isinstance(number, (int, float)) and number in range(1, len(names) + 1):
                row["stage"] = names[int(number) - 1]
        self.class_names, self.class_counts = run.class_names(), run.class_counts()
        per_class, precision = run.per_class(), run.per_class_precision()
        self._redraw((per_class[-1], precision[-1] if precision else None, run.confusion("last"),
                      run.confused_pairs("last"))
                     if per_class else None)
        self.base_config = config
        self.form.clear_errors()
        self.fill(config)
        self._follow_run_in_preset_box(run.path, config)
        self.resume_target = run.path
        self._show_start_epoch()
        self.log.add(self.tr("opened {0}").format(run.path))

    def _follow_run_in_preset_box(self, path: Path, config: RunConfig) -> None:
        """Select the preset whose recipe the run has (local settings aside), else an entry for the run."""
        keep = local_settings()
        recipe = _recipe(config, keep)
        match = next((name for name in preset_titles() if _recipe(preset(name), keep) == recipe), None)
        entry = self.preset.findData(f"{OPENED_RUN}{path}")
        if match is not None:
            self.preset.setCurrentIndex(self.preset.findData(match))
            return
        if entry < 0:
            self.preset.insertItem(0, self.tr("Opened run: {0}").format(path.name), f"{OPENED_RUN}{path}")
            entry = 0
        self.preset.setCurrentIndex(entry)

    def _show_start_epoch(self) -> None:
        """Where the next run begins: after the opened or stopped run's last epoch when Resume can
        continue it, else 1."""
        from engine.runs import RunFolder

        run = RunFolder(self.resume_target) if self.resume_target is not None else None
        try:
            resumable = run is not None and run.is_run() and not run.is_finished() and run.history()
        except (OSError, ValueError):
            resumable = False
        if resumable:
            self.form["start_epoch"].set_value(len(run.history()) + 1, self.tr("Resume continues here"))
        elif run is not None and run.is_run():
            self.form["start_epoch"].set_value(1, self.tr("the run is finished: Start begins a new one"))
        else:
            self.form["start_epoch"].set_value(1, self.tr("a new run"))

    def _redraw(self, per_class: tuple | None = None, live: bool = False) -> None:
        """Update the curves and the per-class views ((recall, precision, confusion, confused pairs))
        now, or (live) one view per turn of the event loop, each painted before the next."""
        steps = [partial(self._draw_plot, name) for name in self.plots]
        if per_class is not None and self.class_counts:
            steps += [partial(self._draw_bars, *per_class), partial(self._draw_table, *per_class),
                      partial(self._draw_confusion, *per_class)]
        self.redraws.replace(steps)
        if not live:
            self.redraws.flush()

    def _draw_plot(self, plot_name: str) -> None:
        epochs = [row["epoch"] for row in self.history]
        for plot, name, key, _color, _dashed in CURVES + VALUE_CURVES:
            if plot == plot_name:
                self.plots[plot].set_curve(self.tr(name), epochs, [row.get(key, math.nan) for row in self.history])
        self.plots[plot_name].set_stage_starts([(row["epoch"], str(row["stage"]))
                                                for before, row in zip(self.history, self.history[1:])
                                                if row.get("stage") != before.get("stage")])

    def _draw_bars(self, per_class: list[float], *_rest) -> None:
        self.bars.set_bars(self.class_names, self.class_counts, [(self.tr("test recall"), per_class)])
        zeros = sum(1 for r in per_class if r == 0)
        self.bars.set_title(self.tr("Left behind · epoch {0}: {1} of {2} classes at zero recall · lowest "
                                    "{3:.1f} %").format(
            self._shown_epoch(), zeros, len(per_class), 100 * min(per_class)))
        self.views.setTabText(0, self.tr("Left behind ({0} at zero)").format(zeros) if zeros
                              else self.tr("Left behind"))

    def _draw_table(self, per_class: list[float], precision, *_rest) -> None:
        self.class_table.set_classes(self.class_names, self.class_counts, per_class, precision)  # O(classes)

    def _draw_confusion(self, _per_class, _precision, confusion, pairs) -> None:
        self.confusion.set_confusion(self.class_names, self.class_counts, confusion,
                                     self.tr("Confusion matrix · epoch {0} · rows: true class, most → fewest "
                                             "images").format(self._shown_epoch()), pairs)

    def _shown_epoch(self) -> int:
        return int(self.history[-1].get("epoch", 0)) if self.history else 0

    # --- state, export -----------------------------------------------------------------------
    @Slot()
    def _freeze_changed(self) -> None:
        """Switching to the plug-in shows its own optimiser settings (the "plugin" preset: 10 epochs,
        lr 0.02, cosine), switching back the base config's: the fields always say what will run.
        The loss stays the user's choice."""
        if self._filling:
            return
        source = preset(PLUGIN) if self.form["freeze"].value() == "features" else self.base_config
        self.fill(source, PLUGIN_OPTIM)

    def fill(self, config: RunConfig, names: list[str] | tuple[str, ...] | None = None) -> None:
        """Show ``config`` in the fields (only ``names``, when given), as it is: no field reacts."""
        self._filling = True
        try:
            fill_form(self.form, config, names)
        finally:
            self._filling = False
        self._sync_freeze()
        self._sync_optimizer()

    def _sync_freeze(self) -> None:
        plugin = self.form["freeze"].value() == "features"
        for key in ("ensemble", "t1", "t2"):
            self.form[key].editor.setEnabled(plugin)
        self._offer_losses()

    def _sync_optimizer(self) -> None:
        """SAM's neighbourhood size means something only when the optimiser is SAM."""
        self.form["sam_rho"].editor.setEnabled(self.form["optimizer"].value() == "sam")

    def _offer_losses(self) -> None:
        """Training offers every method; the plug-in (freeze features) only those that declare they
        can re-train a classifier (a chosen one that cannot stays, flagged on Start)."""
        if self.engine is not None:
            offer_plugin_choices(self.form, self.engine, self.form["freeze"].value() == "features")

    def exportables(self) -> dict[str, ThemedPlot]:
        return {"train-accuracy-gm": self.plots["accuracy"], "train-hm-lr": self.plots["worst"],
                "train-zero-recall": self.plots["zero"], "train-left-behind": self.bars,
                "train-confusion": self.confusion.plot,
                "train-loss": self.plots["loss"], "train-lr": self.plots["lr"]}

    def metrics_rows(self) -> tuple[list[str], list[list]]:
        """The curves' numbers, one row per epoch."""
        return list(CSV_KEYS), [[row.get(k, "") for k in CSV_KEYS] for row in self.history]

    def export_metrics(self, path: str | Path) -> Path:
        """The curves' numbers (one row per epoch) as CSV, Markdown or LaTeX (by the suffix)."""
        return write_table(path, *self.metrics_rows())

    def save_state(self) -> None:
        super().save_state()
        self.settings.set("train/base_config", self.base_config.to_dict())
        self.settings.set("train/preset", self.preset.currentData())

    def restore_state(self) -> None:
        raw = self.settings.get("train/base_config")
        if isinstance(raw, dict):
            try:
                self.base_config = RunConfig.from_dict(raw)
            except (UserError, TypeError, ValueError):
                pass
        super().restore_state()
        self.preset.setCurrentIndex(max(0, self.preset.findData(self.settings.get("train/preset", DEMO))))
        self._sync_freeze()


def _planned_stages(config: RunConfig) -> list[tuple[str, int]]:
    """(name, epochs) of each stage ``config`` trains; none when the method cannot say yet."""
    from engine.trainer import planned_stages  # the engine has loaded (the panels' engine_ready)

    try:
        return [(stage.name, stage.epochs) for stage in planned_stages(config)]
    except UserError:
        return []


def _recipe(config: RunConfig, local: tuple[str, ...]) -> dict:
    """``config`` without the settings of this machine and user (what a preset sets)."""
    return {item.path: item.get(config) for item in settings(RunConfig) if item.name not in local}
