"""The Train page: the seed's parameters, Start / Stop / Resume, live curves and, in tabs, the
"left behind" bars, the class table, the confusion matrix and the loss and learning-rate curves,
then a log pane.

Training runs ``engine.trainer.train`` on a worker; "freeze feature extraction" runs the
plug-in ``engine.plugin.tune`` with the same fields; "freeze all" is the trainer's
evaluate-only path. Nothing here trains: the panel builds configs and shows events.
"""
from __future__ import annotations

import math
from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (QAbstractButton, QComboBox, QFileDialog, QLabel, QLineEdit, QSpinBox, QTabWidget,
                               QWidget)

from errors import UserError
from engine import workspace
from engine.config import RunConfig
from engine.presets import DEMO, PRESETS
from gui.class_views import ClassTable, ConfusionView
from gui.engine_info import EngineInfo
from gui.form_widgets import compact_combo
from gui.plots import COLORS, ClassBars, CurvePlot, ThemedPlot
from gui.redraw_queue import RedrawQueue
from gui.settings import Settings
from gui.task_panel import TaskPanel
from gui.train_form import build_train_form, config_from_form, fill_form
from gui.table_export import write_table
from gui.view_preview import ViewPreviewDialog
from gui.widgets import Column, FormScrollArea, LogPane, push_button, row_of, wrapping_label
from gui.workers import Task, TaskRunner, TaskWorker

# (plot, legend name, metrics.csv key, colour, dashed)
CURVES = (
    ("accuracy", "test top-1", "test_top1", COLORS[0], False),
    ("accuracy", "train top-1", "train_top1", COLORS[0], True),
    ("accuracy", "test GM", "test_gm", COLORS[1], False), ("accuracy", "train GM", "train_gm", COLORS[1], True),
    ("worst", "test HM", "test_hm", COLORS[2], False), ("worst", "train HM", "train_hm", COLORS[2], True),
    ("worst", "test LR", "test_lowest_recall", COLORS[3], False),
    ("worst", "train LR", "train_lowest_recall", COLORS[3], True),
)
# (plot, legend name, metrics.csv key, colour, dashed): values, not percent
VALUE_CURVES = (
    ("zero", "test", "test_zero_recall", COLORS[3], False), ("zero", "train", "train_zero_recall", COLORS[3], True),
    ("loss", "train loss", "train_loss", COLORS[0], True), ("loss", "test loss (NLL)", "test_loss", COLORS[0], False),
    ("lr", "learning rate", "lr", COLORS[2], False),
)
WATCHED = "recountsPlan"  # property of a field editor whose changes recount the plan line
CSV_KEYS = ("epoch", "stage", "lr", "seconds", "train_loss", "train_top1", "train_hm", "train_gm", "train_lowest_recall",
            "test_loss", "test_top1", "test_top5", "test_mean_recall", "test_hm", "test_gm", "test_lowest_recall",
            "test_zero_recall", "test_many", "test_medium", "test_few", "test_nll", "test_ece")


class TrainPanel(TaskPanel):
    run_saved = Signal(str)  # a run folder was written
    worker_name = "train"

    def __init__(self, settings: Settings, parent: QWidget | None = None):
        super().__init__(settings, parent)
        self.base_config = PRESETS[DEMO]()
        self.history: list[dict[str, float]] = []
        self.class_names: list[str] = []
        self.class_counts: list[int] = []
        self.resume_target: Path | None = None
        # a live epoch redraws one view per turn of the event loop, each painted before the next
        # (gui/redraw_queue.py): the GUI thread's longest pause is one plot, not all of them
        self.redraws = RedrawQueue(self)
        self.preview_runner = TaskRunner(self)  # its own thread: a preview never cancels a run
        self.preview_dialog: ViewPreviewDialog | None = None
        self._build()
        fill_form(self.form, self.base_config)
        self._set_plugin_defaults()
        self.restore_state()
        self._sync_buttons()
        self._watch_fields()

    # --- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.form, groups = build_train_form()
        self.form["freeze"].editor.currentIndexChanged.connect(self._freeze_changed)

        self.preset = compact_combo(QComboBox(), 16)
        self.preset.addItems(list(PRESETS))
        self.preset.setToolTip("Fill every field with a named setting: the offline demo, or the CIFAR-100-LT paper "
                               "setting of a method (ResNet-32, ratio 100, 200 epochs, SGD 0.1).")
        apply_preset = push_button("Apply", "Replace the fields with the chosen preset.", self.apply_selected_preset)
        self.start_button = push_button("Start", "Check the fields and start a run (or the plug-in when the backbone "
                                        "is frozen).", self.start)
        self.start_button.setDefault(True)
        self.stop_button = push_button("Stop", "Stop after the current batch; the last finished epoch's checkpoint "
                                       "is kept.", self.stop)
        self.resume_button = push_button("Resume…", "Continue a stopped run from its last checkpoint, in the same "
                                         "run folder.", self._resume_clicked)
        self.start_buttons = [self.start_button, self.resume_button]
        self.stop_buttons = [self.stop_button]
        self.preview_button = push_button("Views…", "Show a few training images beside the augmented views the "
                                          "chosen method trains on (PaCo: its AutoAugment query and SimCLR key).",
                                          self.preview_views)
        preset_row = row_of(QLabel("Preset"), (self.preset, 1), apply_preset, self.preview_button)
        run_row = row_of(self.start_button, self.stop_button, self.resume_button, None)

        fields = Column(*groups, margins=(0, 0, 6, 0))
        fields.layout().addStretch(1)
        self.plan_line = wrapping_label("hint")
        self.plan_line.setToolTip(self.tr("What Start will run, from the fields: the epochs of every stage of the "
                                          "chosen method."))
        self._plan_timer = QTimer(self)
        self._plan_timer.setSingleShot(True)
        self._plan_timer.setInterval(150)
        self._plan_timer.timeout.connect(self.show_plan)
        left = Column(preset_row, run_row, self.plan_line, self.error_line, (FormScrollArea(fields), 1), fitted=True)

        self.plots = {"accuracy": CurvePlot("Top-1 accuracy and GM"), "worst": CurvePlot("HM and lowest recall (LR)"),
                      "zero": CurvePlot(self.tr("Classes at zero recall"), y_label=self.tr("classes"), percent=False),
                      "loss": CurvePlot("Loss", y_label="loss", percent=False),
                      "lr": CurvePlot("Learning rate", y_label="learning rate (log)", percent=False, log_y=True)}
        for plot_name, name, _key, color, dashed in CURVES + VALUE_CURVES:
            self.plots[plot_name].curve(name, color, dashed)
        self.bars = ClassBars("Left behind: test recall per class")
        self.class_table = ClassTable()
        self.confusion = ConfusionView()
        self.views = QTabWidget()
        self.views.setDocumentMode(True)
        self.views.addTab(self.bars, "Left behind")
        self.views.addTab(self.class_table, "Classes")
        self.views.addTab(self.confusion, "Confusion")
        self.views.addTab(row_of(self.plots["loss"], self.plots["lr"]), "Loss and learning rate")
        self.log = LogPane()

        self.plots["zero"].setToolTip(self.tr("How many classes no test image is recognised in, per epoch: HM and LR "
                                              "sit at their floor while any class is at zero, this says how many."))
        for name, width in (("accuracy", 190), ("worst", 190), ("zero", 140)):  # three fit where two did
            self.plots[name].setMinimumWidth(width)
        self.curve_split = self.splitter("train/split_curves", Qt.Orientation.Horizontal, self.plots["accuracy"],
                                         self.plots["worst"], self.plots["zero"])
        self.curve_split.setSizes([400, 400, 240])
        self.right_split = self.splitter("train/split_right", Qt.Orientation.Vertical, self.curve_split, self.views,
                                         self.log)
        self.right_split.setSizes([330, 300, 120])
        right = Column(self.progress, (self.right_split, 1))
        self.main_split = self.set_panes("train/split_main", left, right)

    def _set_plugin_defaults(self) -> None:
        self.form["ensemble"].set_value(True)
        self.form["t1"].set_value(1.0)
        self.form["t2"].set_value(1.0)
        self.form["start_epoch"].set_value(1)

    # --- engine and presets ----------------------------------------------------------------
    def engine_ready(self, info: EngineInfo) -> None:
        """The engine has loaded: offer its methods, their hyperparameters and the devices; enable Start."""
        self.form["loss"].set_options(info.methods)
        self.form["params"].set_catalog(info.method_params)
        self.form["device"].set_options(info.devices)
        self.form["pretrained"].refresh()
        self.form["teacher"].refresh()
        super().engine_ready(info)
        self.show_plan()

    # --- what Start will run -----------------------------------------------------------------
    def plan_text(self) -> str:
        """The epochs the fields ask for, stage by stage ("" while a field cannot be read)."""
        try:
            config = config_from_form(self.form, self.base_config)
        except (UserError, TypeError, ValueError):
            return ""
        if config.model.freeze == "features":
            return self.tr("Plug-in: {0} epochs re-training the classifier").format(config.optim.epochs)
        if config.model.freeze == "all":
            return self.tr("Evaluates the pretrained model; trains nothing")
        from engine.trainer import planned_stages  # the engine has loaded (engine_ready)

        try:
            stages = planned_stages(config)
        except UserError:
            return ""
        total = sum(stage.epochs for stage in stages)
        if len(stages) == 1:
            return self.tr("Trains {0} epochs").format(total)
        return self.tr("Trains {0} epochs in {1} stages: {2}").format(
            total, len(stages), ", ".join(self.tr("{0} {1}").format(stage.name, stage.epochs) for stage in stages))

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

    def apply_selected_preset(self) -> None:
        self.apply_preset(self.preset.currentText())

    def apply_preset(self, name: str) -> None:
        self.base_config = PRESETS[name]()
        self.form.clear_errors()
        fill_form(self.form, self.base_config)
        self.form["start_epoch"].set_value(1)
        self.resume_target = None
        self.log.add(f"preset: {name}")

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
        self.show_error(f"cannot show the views: {failure.error}")

    def shutdown(self, timeout_ms: int | None = None) -> bool:
        self.preview_runner.cancel()
        return super().shutdown(timeout_ms) and self.preview_runner.wait()

    # --- running ---------------------------------------------------------------------------
    def build_config(self) -> RunConfig:
        """The run config from the fields, validated (raises ConfigError naming the field)."""
        return config_from_form(self.form, self.base_config).validate()

    def build_tune_config(self, config: RunConfig):
        from engine.plugin.config import TuneConfig

        values, optim = self.form.values(), config.optim
        return TuneConfig(checkpoint=config.model.pretrained, data=config.data, loss=config.method.loss,
                          loss_params=config.method.params, epochs=optim.epochs, batch_size=optim.batch_size,
                          lr=optim.lr, momentum=optim.momentum, weight_decay=optim.weight_decay,
                          schedule=optim.schedule, train_rule=config.method.train_rule,
                          ensemble=values["ensemble"], t1=values["t1"], t2=values["t2"], seed=config.seed,
                          device=config.device, runs_dir=config.runs_dir, experiment=config.experiment,
                          save_model=config.save_model).validate()

    def planned_task(self) -> tuple[Task, str]:
        """The task the fields ask for (train, tune or evaluate) and what to call it."""
        config = self.build_config()
        if config.model.freeze == "features":
            from engine.plugin import tune

            return partial(tune, self.build_tune_config(config)), "Re-training the classifier (plug-in)"
        from engine.trainer import train

        return partial(train, config), ("Evaluating" if config.model.freeze == "all" else "Training")

    def start(self) -> None:
        """Validate the fields, then train, tune or evaluate on a worker thread."""
        planned = self.checked(self.planned_task) if self.can_start() else None
        if planned is not None:
            self.form["start_epoch"].set_value(1)
            self._launch(*planned, fresh=True)

    def resume(self, run_dir: str | Path | None = None) -> None:
        """Continue a stopped run (the last one by default, or one the user picks)."""
        if not self.can_start():
            return
        path = Path(run_dir) if run_dir else self.resume_target
        if path is None:
            chosen = QFileDialog.getExistingDirectory(self, "Resume which run folder?", str(workspace.runs_dir()))
            if not chosen:
                return
            path = Path(chosen)
        try:
            self.load_run(path)
        except (UserError, OSError, ValueError, KeyError) as error:
            self.show_error(f"{path} cannot be resumed: {error}")
            return
        from engine.trainer import train

        config = RunConfig.from_dict(self._run_config(path))
        self.form["start_epoch"].set_value(len(self.history) + 1)
        self._launch(partial(train, config, resume=str(path)), f"Resuming {path.name}", fresh=False)

    @Slot()
    def _resume_clicked(self) -> None:
        self.resume()

    def _launch(self, task: Task, what: str, fresh: bool) -> None:
        if fresh:
            self.history, self.class_names, self.class_counts = [], [], []
            self._redraw()
        self.log.add(f"{what}…")
        self.launch(task, what, f"{what}: loading data…")

    # --- worker signals (GUI thread) ----------------------------------------------------------
    def on_dataset(self, event) -> None:
        self.class_names, self.class_counts = list(event.class_names), list(event.class_counts)

    def on_epoch(self, event) -> None:
        row = {"epoch": event.epoch, "stage": event.stage, "lr": event.lr, "seconds": event.seconds,
               **event.train.summary("train_"), **event.test.summary("test_")}
        self.history = [r for r in self.history if r["epoch"] < event.epoch] + [row]
        test = event.test
        self._redraw((test.per_class_recall, test.per_class_precision, test.confusion), live=True)
        stage = self.tr(" (stage {0})").format(event.stage_name) if event.stage_name else ""
        self.log.add(f"epoch {event.epoch}/{event.epochs}{stage}: test Acc {100 * test.top1:.2f}  HM {100 * test.hm:.2f}  "
                     f"GM {100 * test.gm:.2f}  LR {100 * test.lowest_recall:.2f}  ({test.zero_recall} at zero)"
                     + (f"  ECE {100 * test.ece:.2f}" if test.ece == test.ece else "")
                     + (f"  {test.experts_per_image:.2f} experts/image" if test.experts_per_image is not None else "")
                     + ("  ★ best" if event.is_best else ""))

    def on_finished(self, result) -> None:
        self.redraws.flush()
        run_dir = getattr(result, "run_dir", None)
        stopped = bool(getattr(result, "stopped", False))
        for column, metrics in getattr(result, "reports", {}).items():  # the plug-in's old / new / ensemble
            self.log.add(f"{column}: test Acc {100 * metrics.top1:.2f}  HM {100 * metrics.hm:.2f}  "
                         f"GM {100 * metrics.gm:.2f}  LR {100 * metrics.lowest_recall:.2f}  "
                         f"({metrics.zero_recall} at zero)")
        if run_dir is not None:
            self.resume_target = Path(run_dir) if self._is_train_run(run_dir) else None
            self.log.add(f"{'stopped' if stopped else 'finished'}; run folder: {run_dir}")
            self.run_saved.emit(str(run_dir))
        self.progress.done("Stopped" if stopped else "Finished")

    def on_failed(self, failure) -> None:
        self.redraws.flush()
        super().on_failed(failure)

    # --- showing a run -----------------------------------------------------------------------
    def load_run(self, path: str | Path) -> None:
        """Show a saved run folder: its curves, last per-class recall, settings and card."""
        from engine.runs import RunFolder

        from engine.run_index import stages_of

        run = RunFolder(path)
        if not run.is_run():
            raise UserError(f"{path} is not a run folder (it has no config.json)")
        raw = run.config()
        self.history = run.history()
        names = [name for name, _epochs in stages_of(raw["run"])] if raw.get("kind") == "train" else []
        for row in self.history:  # metrics.csv numbers the stages from 1
            number = row.get("stage")
            if isinstance(number, (int, float)) and number in range(1, len(names) + 1):
                row["stage"] = names[int(number) - 1]
        self.class_names, self.class_counts = run.class_names(), run.class_counts()
        per_class, precision = run.per_class(), run.per_class_precision()
        self._redraw((per_class[-1], precision[-1] if precision else None, run.confusion("last"))
                     if per_class else None)
        if raw.get("kind") == "train":
            self.base_config = RunConfig.from_dict(raw["run"])
            fill_form(self.form, self.base_config)
            self.resume_target = run.path
        self.form["start_epoch"].set_value(len(self.history) + 1)
        self.log.add(f"opened {run.path}")

    def _run_config(self, path: Path) -> dict:
        from engine.runs import RunFolder

        raw = RunFolder(path).config()
        if raw.get("kind") != "train":
            raise UserError(f"{path.name} is a plug-in run; only training runs can be resumed")
        return raw["run"]

    def _is_train_run(self, path) -> bool:
        from engine.runs import RunFolder

        try:
            return RunFolder(path).config().get("kind") == "train"
        except (OSError, ValueError):
            return False

    def _redraw(self, per_class: tuple | None = None, live: bool = False) -> None:
        """Update the curves and the per-class views ((recall, precision, confusion)) now, or (live)
        one view per turn of the event loop, each painted before the next."""
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
                self.plots[plot].set_curve(name, epochs, [row.get(key, math.nan) for row in self.history])
        self.plots[plot_name].set_stage_starts([(row["epoch"], str(row["stage"]))
                                                for before, row in zip(self.history, self.history[1:])
                                                if row.get("stage") != before.get("stage")])

    def _draw_bars(self, per_class: list[float], _precision, _confusion) -> None:
        self.bars.set_bars(self.class_names, self.class_counts, [("test recall", per_class)])
        zeros = sum(1 for r in per_class if r == 0)
        self.bars.set_title(f"Left behind · epoch {self._shown_epoch()}: {zeros} of {len(per_class)} classes "
                            f"at zero recall · lowest {100 * min(per_class):.1f} %")
        self.views.setTabText(0, f"Left behind ({zeros} at zero)" if zeros else "Left behind")

    def _draw_table(self, per_class: list[float], precision, _confusion) -> None:
        self.class_table.set_classes(self.class_names, self.class_counts, per_class, precision)  # O(classes)

    def _draw_confusion(self, _per_class, _precision, confusion) -> None:
        self.confusion.set_confusion(self.class_names, self.class_counts, confusion,
                                     f"Confusion matrix · epoch {self._shown_epoch()} · rows: true class, "
                                     "most → fewest images")

    def _shown_epoch(self) -> int:
        return int(self.history[-1].get("epoch", 0)) if self.history else 0

    # --- state, export -----------------------------------------------------------------------
    @Slot()
    def _freeze_changed(self) -> None:
        """Switching to the plug-in shows its own optimiser defaults (10 epochs, lr 0.02, cosine),
        switching back shows the preset's: the fields always say what will run. The loss stays the
        user's choice."""
        from engine.plugin.config import TuneConfig

        if self.form["freeze"].value() == "features":
            plugin = TuneConfig()
            values = {"epochs": plugin.epochs, "lr": plugin.lr, "batch_size": plugin.batch_size,
                      "momentum": plugin.momentum, "weight_decay": plugin.weight_decay,
                      "schedule": plugin.schedule, "warmup_epochs": 0}
        else:
            optim = self.base_config.optim
            values = {"epochs": optim.epochs, "lr": optim.lr, "batch_size": optim.batch_size,
                      "momentum": optim.momentum, "weight_decay": optim.weight_decay, "schedule": optim.schedule,
                      "warmup_epochs": optim.warmup_epochs}
        for key, value in values.items():
            self.form[key].set_value(value)
        self._sync_freeze()

    def _sync_freeze(self) -> None:
        plugin = self.form["freeze"].value() == "features"
        for key in ("ensemble", "t1", "t2"):
            self.form[key].editor.setEnabled(plugin)

    def exportables(self) -> dict[str, ThemedPlot]:
        return {"train-accuracy-gm": self.plots["accuracy"], "train-hm-lr": self.plots["worst"],
                "train-zero-recall": self.plots["zero"],
                "train-left-behind": self.bars, "train-confusion": self.confusion.plot,
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
        self.settings.set("train/preset", self.preset.currentText())

    def restore_state(self) -> None:
        raw = self.settings.get("train/base_config")
        if isinstance(raw, dict):
            try:
                self.base_config = RunConfig.from_dict(raw)
            except (UserError, TypeError, ValueError):
                pass
        super().restore_state()
        self.preset.setCurrentText(self.settings.get("train/preset", DEMO))
        self._sync_freeze()
