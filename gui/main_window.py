"""The main window: Train / Inference / Compare / Runs tabs, the menus and the status bar.

The window shows before torch is imported; ``start_engine_loading`` loads the engine on a
worker and then enables the panels. Closing during a run asks first, stops the worker
cooperatively (the last finished epoch's checkpoint stays) and waits for its thread.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QT_TRANSLATE_NOOP, Qt, Slot
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QApplication, QFileDialog, QLabel, QMainWindow, QMessageBox, QTabWidget, QWidget

from errors import UserError
from engine import workspace
from gui import errors, gc_guard, theme
from gui.compare_panel import ComparePanel
from gui.engine_info import load_engine_info
from gui.figure_export import FORMATS, FigureExportDialog
from gui.forms import CHECKPOINT_FILTER
from gui.inference_panel import InferencePanel
from gui.language_menu import LanguageMenu
from gui.settings import Settings
from gui.table_export import TABLE_FORMATS
from gui.runs_panel import RunsPanel
from gui.sweep_view import SweepView
from gui.train_panel import TrainPanel
from gui.workers import TaskRunner, TaskWorker

ABOUT = QT_TRANSLATE_NOOP("MainWindow", """<h3>Long-Tail Studio</h3>
<p>Train, repair and inspect long-tailed image classifiers, after <i>No One Left Behind: Improving the
Worst Categories in Long-Tailed Learning</i> (Du &amp; Wu, CVPR 2023, arXiv 2303.03630).</p>
<p>Beside accuracy it reports the harmonic mean (HM), the geometric mean (GM) and the lowest recall (LR)
of the per-class recalls, and re-trains a pretrained model's classifier with the Geometric Mean Loss.</p>
<p>Workspace: {workspace}<br>Log: {log}</p>""")


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings or Settings()
        self.setWindowTitle("Long-Tail Studio")
        self.resize(1440, 900)
        self.train = TrainPanel(self.settings)
        self.inference = InferencePanel(self.settings)
        self.compare = ComparePanel(self.settings)
        self.runs = RunsPanel(self.settings)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.train, self.tr("Train"))
        self.tabs.addTab(self.inference, self.tr("Inference"))
        self.tabs.addTab(self.compare, self.tr("Compare"))
        self.tabs.addTab(self.runs, self.tr("Runs"))
        self.runs.compare_requested.connect(self.compare_runs)
        self.runs.open_requested.connect(self.open_run)
        self.setCentralWidget(self.tabs)
        self.device_label = QLabel(self.tr("Device: loading the engine…"))
        self.device_label.setToolTip(self.tr("Where training and prediction run."))
        self.activity_label = QLabel(self.tr("Starting…"))
        self.statusBar().addWidget(self.activity_label, 1)
        self.statusBar().addPermanentWidget(self.device_label)
        for panel in self.panels():
            panel.activity.connect(self.show_activity)
        self.train.run_saved.connect(self.on_run_saved)
        self.compare.run_saved.connect(self.on_run_saved)
        self.loader = TaskRunner(self)
        self.sweeps: list[SweepView] = []
        self._build_menus()
        self.restore_state()

    def panels(self) -> list:
        return [self.train, self.inference, self.compare]

    # --- menus -----------------------------------------------------------------------------
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu(self.tr("&File"))
        self._action(file_menu, self.tr("Open &run folder…"), self.open_run_dialog, QKeySequence.StandardKey.Open,
                     self.tr("Show a saved run's curves, per-class recall and settings on the Train page (Resume "
                             "continues it)."))
        self._action(file_menu, self.tr("Open &checkpoint…"), self.open_checkpoint_dialog, "Ctrl+Shift+O",
                     self.tr("Use a checkpoint file on the Inference page."))
        self._action(file_menu, self.tr("Open s&weep folder…"), self.open_sweep_dialog, None,
                     self.tr("Watch a sweep (main.py sweep) fill its table; a cell opens its runs in Compare."))
        file_menu.addSeparator()
        self._action(file_menu, self.tr("Export &figures…"), self.export_plots_dialog, "Ctrl+E",
                     self.tr("Save the current page's plots as PNG (at a chosen DPI), SVG or PDF, plain light or "
                             "as shown."))
        self._action(file_menu, self.tr("Export &metrics table…"), self.export_metrics_dialog, "Ctrl+Shift+E",
                     self.tr("Save the current page's numbers as CSV, Markdown or LaTeX."))
        file_menu.addSeparator()
        self._action(file_menu, self.tr("&Quit"), self.close, QKeySequence.StandardKey.Quit)

        view_menu = self.menuBar().addMenu(self.tr("&View"))
        theme_menu = view_menu.addMenu(self.tr("&Theme"))
        self.theme_group = QActionGroup(self)
        current = self.settings.get("app/theme", "system")
        for key, text in theme.THEMES.items():
            action = QAction(QCoreApplication.translate("Theme", text), self, checkable=True)
            action.setData(key)
            action.setChecked(key == current)
            self.theme_group.addAction(action)
            theme_menu.addAction(action)
        self.theme_group.triggered.connect(self.choose_theme)
        self.language_menu = LanguageMenu(self, view_menu, self.settings)

        help_menu = self.menuBar().addMenu(self.tr("&Help"))
        self._action(help_menu, self.tr("&About Long-Tail Studio"), self.show_about)

    def _action(self, menu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    # --- engine ----------------------------------------------------------------------------
    def start_engine_loading(self) -> None:
        """Import torch and the engine on a worker; the panels enable when it is done."""
        worker = TaskWorker(_load_engine, name="engine")
        worker.finished.connect(self.on_engine_ready)
        worker.failed.connect(self.on_engine_failed)
        self.loader.start(worker)

    @Slot(object)
    def on_engine_ready(self, info) -> None:
        self.device_label.setText(self.tr("Device: {0}").format(info.device))
        for panel in self.panels():
            panel.engine_ready(info)
        self.runs.engine_ready(info)
        gc_guard.freeze_long_lived()  # the engine and the widgets stay for the session
        self.show_activity(self.tr("Ready"))

    @Slot(object)
    def on_engine_failed(self, failure) -> None:
        self.device_label.setText(self.tr("Device: engine unavailable"))
        errors.report_error(failure.error, self, self.tr("Loading the engine"), failure.details)

    @Slot(str)
    def show_activity(self, text: str) -> None:
        self.activity_label.setText(text)

    @Slot(str)
    def on_run_saved(self, path: str) -> None:
        self.inference.form["model"].refresh()
        self.compare.form["pretrained"].refresh()
        self.runs.refresh()

    @Slot(list)
    def compare_runs(self, paths: list) -> None:
        """Overlay run folders (from the Runs page) on the Compare page."""
        self.compare.add_runs(paths)
        self.tabs.setCurrentWidget(self.compare)

    # --- menu actions ----------------------------------------------------------------------
    def open_run_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Open a run folder"), str(workspace.runs_dir()))
        if folder:
            self.open_run(folder)

    def open_run(self, folder: str) -> None:
        """A training run opens on the Train page (curves, per-class views, its settings in the
        form); a plug-in run opens on the Runs page with every setting it ran with."""
        from engine.runs import RunFolder

        try:
            if RunFolder(folder).is_run() and RunFolder(folder).config().get("kind") == "tune":
                self.runs.show_run(folder)
                self.tabs.setCurrentWidget(self.runs)
                return
            self.train.load_run(folder)
        except (UserError, OSError, ValueError, KeyError) as error:
            errors.report_error(error if isinstance(error, UserError) else UserError(f"{folder}: {error}"), self)
            return
        self.tabs.setCurrentWidget(self.train)

    def open_sweep_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Open a sweep folder"),
                                                  str(workspace.workspace_root() / "sweeps"))
        if folder:
            self.open_sweep(folder)

    def open_sweep(self, folder: str) -> SweepView | None:
        """Show a sweep folder in its own window; its cells open in Compare."""
        try:
            view = SweepView(folder)
        except UserError as error:
            errors.report_error(error, self)
            return None
        view.open_runs.connect(self.compare_runs)
        view.activity.connect(self.show_activity)
        self.sweeps = [v for v in self.sweeps if v.isVisible()] + [view]
        view.show()
        return view

    @Slot(list)
    def compare_runs(self, paths: list) -> None:
        self.compare.add_runs(paths)
        self.tabs.setCurrentWidget(self.compare)
        self.raise_()
        self.activateWindow()

    def open_checkpoint_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Open a checkpoint"), str(workspace.runs_dir()),
                                              CHECKPOINT_FILTER)
        if path:
            self.inference.set_model(path)
            self.tabs.setCurrentWidget(self.inference)

    def export_plots_dialog(self) -> None:
        plots = self.tabs.currentWidget().exportables()
        if not plots:
            QMessageBox.information(self, self.tr("Export figures"),
                                    self.tr("This page has no plots; use Export metrics table."))
            return
        options = FigureExportDialog(self, dpi=int(self.settings.get("export/dpi", 300) or 300),
                                     light=self.settings.get("export/light", True) in (True, "true"),
                                     size=str(self.settings.get("export/size", "single")))
        if not options.exec():
            return
        suffix, dpi, light, size = options.options()
        self.settings.set("export/dpi", dpi)
        self.settings.set("export/light", light)
        self.settings.set("export/size", size)
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Export figures (one file per plot)"), f"figure{suffix}",
                                              f"{QCoreApplication.translate('FigureExportDialog', FORMATS[suffix])} "
                                              f"(*{suffix})")
        if path:
            self.export_plots(path, suffix, dpi=dpi, light=light, size=size)

    def export_plots(self, path: str, suffix: str, dpi: int = 300, light: bool = False,
                     size: str = "screen") -> list[Path]:
        """Write each plot of the current page as ``<path stem>-<plot><suffix>`` (PNG, SVG or PDF);
        a target that cannot be written is reported, and nothing is called exported."""
        base = Path(path)
        try:
            written = [plot.export(base.with_name(f"{base.stem}-{name}{suffix}"), dpi=dpi, light=light, size=size)
                       for name, plot in self.tabs.currentWidget().exportables().items()]
        except UserError as error:
            errors.report_error(error, self)
            return []
        self.show_activity(self.tr("Exported {0} figure(s) to {1}").format(len(written), base.parent))
        return written

    def export_metrics_dialog(self) -> None:
        filters = ";;".join(f"{text} (*{suffix})" for suffix, text in TABLE_FORMATS.items())
        path, chosen = QFileDialog.getSaveFileName(self, self.tr("Export the metrics table"), "metrics.csv", filters)
        if not path:
            return
        if Path(path).suffix.lower() not in TABLE_FORMATS:  # no suffix typed: the chosen filter's
            path += next(s for s, text in TABLE_FORMATS.items() if chosen.startswith(text))
        try:
            written = self.tabs.currentWidget().export_metrics(path)
        except (UserError, OSError) as error:
            errors.report_error(error if isinstance(error, UserError) else UserError(f"{path}: {error}"), self)
            return
        self.show_activity(self.tr("Exported {0}").format(written))

    @Slot(QAction)
    def choose_theme(self, action: QAction) -> None:
        self.settings.set("app/theme", action.data())
        theme.apply_theme(QApplication.instance(), action.data())

    def show_about(self) -> None:
        QMessageBox.about(self, self.tr("About Long-Tail Studio"),
                          self.tr(ABOUT).format(workspace=workspace.workspace_root(), log=errors.log_path()))

    # --- closing ---------------------------------------------------------------------------
    def confirm_close_during_run(self) -> bool:
        answer = QMessageBox.question(
            self, self.tr("A task is running"),
            self.tr("A task is still running. Stop it and quit?\n\nTraining stops after the current batch; the "
                    "checkpoint of the last finished epoch is kept, and Resume can continue the run later."),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def closeEvent(self, event) -> None:
        running = any(panel.is_running() for panel in self.panels()) or any(v.is_running() for v in self.sweeps)
        if running and not self.confirm_close_during_run():
            event.ignore()
            return
        self.show_activity(self.tr("Stopping…"))
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            for panel in self.panels():
                panel.shutdown()
            for view in self.sweeps:
                view.close()
            self.loader.wait()
        finally:
            QApplication.restoreOverrideCursor()
        self.save_state()
        event.accept()

    def save_state(self) -> None:
        self.settings.save_geometry("window/geometry", self)
        self.settings.set("window/size", [self.width(), self.height()])
        self.settings.set("window/tab", self.tabs.currentIndex())
        for panel in self.panels():
            panel.save_state()
        self.runs.save_state()
        self.settings.sync()

    def restore_state(self) -> None:
        self.settings.restore_geometry("window/geometry", self)
        size = self.settings.get("window/size")
        if not self.isMaximized() and isinstance(size, list) and len(size) == 2:
            self.resize(*size)  # restoreGeometry may shrink a window larger than the screen it finds
        self.tabs.setCurrentIndex(int(self.settings.get("window/tab", 0) or 0))


def _load_engine(_on_event, _should_stop):
    """The loader task: a plain call, nothing to report or cancel."""
    return load_engine_info()
