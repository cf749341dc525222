"""The Runs page: every run folder of the workspace (and folders the user adds) in one filterable
table — method, dataset, imbalance, epochs over all stages, status, the last epoch's Acc / HM / GM /
LR and zero-recall classes (``engine.run_index.REPORTED``, as Compare and the sweep show) — with a run's full
settings (training and plug-in runs alike), the settings that differ between two runs, and the
selected runs sent to Compare. It reads run folders only (``engine.run_index``); it starts no task.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHeaderView, QLabel, QLineEdit, QSplitter, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from engine import workspace
from gui.plots import ZERO_COLOR
from gui.settings import Settings
from gui.widgets import Column, choose_folders, number_item, push_button, read_only_table, row_of, wrapping_label

METRIC_KEYS = ("top1", "hm", "gm", "lowest_recall")  # percent columns; then the zero-recall count
STATUS_FILTERS = (("", QT_TRANSLATE_NOOP("RunsPanel", "Any status")),
                  ("finished", QT_TRANSLATE_NOOP("RunsPanel", "Finished")),
                  ("stopped", QT_TRANSLATE_NOOP("RunsPanel", "Stopped")),
                  ("running", QT_TRANSLATE_NOOP("RunsPanel", "Running")),
                  ("interrupted", QT_TRANSLATE_NOOP("RunsPanel", "Interrupted (its writer was killed)")),
                  ("diverged", QT_TRANSLATE_NOOP("RunsPanel", "Diverged")),
                  ("damaged", QT_TRANSLATE_NOOP("RunsPanel", "Damaged (files cannot be read)")),
                  ("incomplete", QT_TRANSLATE_NOOP("RunsPanel", "Incomplete (older runs)")))
# a run's status as the table shows it (the filter matches the English key)
STATUS_WORDS = {"finished": QT_TRANSLATE_NOOP("RunsPanel", "finished"),
                "stopped": QT_TRANSLATE_NOOP("RunsPanel", "stopped"),
                "running": QT_TRANSLATE_NOOP("RunsPanel", "running"),
                "interrupted": QT_TRANSLATE_NOOP("RunsPanel", "interrupted"),
                "diverged": QT_TRANSLATE_NOOP("RunsPanel", "diverged"),
                "damaged": QT_TRANSLATE_NOOP("RunsPanel", "damaged"),
                "incomplete": QT_TRANSLATE_NOOP("RunsPanel", "incomplete")}
PATH_ROLE = Qt.ItemDataRole.UserRole + 1


class RunsPanel(QWidget):
    compare_requested = Signal(list)  # run folder paths (str) to overlay on the Compare page
    open_requested = Signal(str)  # a training run to show on the Train page

    def __init__(self, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings
        self.extra: list[str] = []  # folders added by hand (outside the workspace's runs/)
        self.summaries: dict[str, object] = {}  # path → engine.run_index.RunSummary
        self._build()
        self.extra = [p for p in (self.settings.get("runs/extra", []) or []) if isinstance(p, str)]

    # --- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.filter = QLineEdit()
        self.filter.setPlaceholderText(self.tr("Filter: method, dataset, name, status…"))
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.apply_filter)
        self.status_filter = QComboBox()
        for key, text in STATUS_FILTERS:
            self.status_filter.addItem(self.tr(text), key)
        self.status_filter.currentIndexChanged.connect(self.apply_filter)
        add = push_button(self.tr("Add folders…"),
                          self.tr("List run folders from elsewhere (e.g. copied from a server)."),
                          self.add_folders_dialog)
        refresh = push_button(self.tr("Refresh"), self.tr("Read the run folders again."), self.refresh)

        self.table = read_only_table(
            self.columns(), self.tr("Test metrics of each run's last epoch (plug-in runs: the ensemble, else the new "
                                    "classifier), as Compare and the sweep table show them; a run's card (README.md) "
                                    "also lists its best epoch. Epochs count every stage. Select two runs to see what "
                                    "differs."), QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.itemDoubleClicked.connect(lambda _item: self.open_selected())

        self.open_button = push_button(self.tr("Open"), self.tr(
            "Show the run's settings here; a training run also opens on the Train page (its curves, per-class views; "
            "Resume continues it)."),
                                       self.open_selected)
        self.compare_button = push_button(self.tr("Compare selected"),
                                          self.tr("Overlay the selected runs on the Compare page."),
                                          self.compare_selected)
        self.diff_button = push_button(self.tr("Diff settings"),
                                       self.tr("Show the settings that differ between the two selected runs."),
                                       self.diff_selected)

        self.details_title = QLabel(self.tr("Settings"))
        self.details = QTableWidget(0, 2)
        self.details.verticalHeader().setVisible(False)
        self.details.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.details.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.details_hint = wrapping_label("hint")
        self.details_hint.setText(self.tr("Select a run to see every setting it ran with; select two to see what "
                                          "differs."))

        top = Column(row_of((self.filter, 1), self.status_filter, add, refresh), (self.table, 1),
                     row_of(self.open_button, self.compare_button, self.diff_button, None))
        bottom = Column(self.details_title, self.details_hint, (self.details, 1))
        self.split = QSplitter(Qt.Orientation.Vertical)
        self.split.addWidget(top)
        self.split.addWidget(bottom)
        self.split.setSizes([500, 300])
        QVBoxLayout(self).addWidget(self.split)
        self._selection_changed()

    def columns(self) -> list[str]:
        return [self.tr("Run"), self.tr("Method"), self.tr("Dataset"), self.tr("Imbalance"), self.tr("Epochs"),
                self.tr("Status"), self.tr("Acc % (last)"), self.tr("HM % (last)"), self.tr("GM % (last)"),
                self.tr("LR % (last)"), self.tr("Zero recall (last)")]

    # --- listing ---------------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the workspace's runs/ and the added folders again."""
        from engine.run_index import index_runs

        selected = set(self.selected_paths())
        self.summaries = {str(s.path): s for s in index_runs(None, self.extra)}
        self.table.setSortingEnabled(False)
        self.table.clearSelection()
        self.table.setRowCount(len(self.summaries))
        for row, summary in enumerate(self.summaries.values()):
            name = QTableWidgetItem(summary.name)
            name.setData(PATH_ROLE, str(summary.path))
            name.setToolTip(str(summary.path))
            self.table.setItem(row, 0, name)
            self.table.setItem(row, 1, QTableWidgetItem(summary.method))
            self.table.setItem(row, 2, QTableWidgetItem(summary.dataset))
            self.table.setItem(row, 3, number_item(summary.imbalance))
            epochs = number_item(summary.epochs_done)
            epochs.setText("—" if summary.problem else f"{summary.epochs_done}/{summary.epochs_planned}")
            if len(summary.stages) > 1:
                epochs.setToolTip(self.tr("{0} stages: {1}").format(
                    len(summary.stages), ", ".join(f"{name} {n}" for name, n in summary.stages)))
            self.table.setItem(row, 4, epochs)
            status = QTableWidgetItem(self.tr(STATUS_WORDS.get(summary.status, summary.status)))
            if summary.status != "finished":
                status.setForeground(QColor(ZERO_COLOR))
            if summary.problem:
                status.setToolTip(summary.problem)
                name.setToolTip(f"{summary.path}\n{summary.problem}")
            self.table.setItem(row, 5, status)
            for column, key in enumerate(METRIC_KEYS, start=6):
                cell = number_item(summary.metrics.get(key), percent=True)
                cell.setToolTip(summary.metrics_label)
                self.table.setItem(row, column, cell)
            zeros = summary.metrics.get("zero_recall")
            zero_cell = number_item(None if zeros is None else int(zeros))
            zero_cell.setToolTip(summary.metrics_label)
            self.table.setItem(row, 6 + len(METRIC_KEYS), zero_cell)
        self.table.setSortingEnabled(True)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for row in range(self.table.rowCount()):
            if self.table.item(row, 0).data(PATH_ROLE) in selected:
                self.table.selectRow(row)
        self.apply_filter()

    def apply_filter(self) -> None:
        """Hide the rows the filter text (every word must match) or the status choice excludes."""
        words = self.filter.text().lower().split()
        status = self.status_filter.currentData()
        for row in range(self.table.rowCount()):
            summary = self.summaries.get(self.table.item(row, 0).data(PATH_ROLE))
            text = summary.text() if summary else ""
            hidden = any(word not in text for word in words) or bool(status and summary.status != status)
            self.table.setRowHidden(row, hidden)

    def visible_names(self) -> list[str]:
        return [self.table.item(r, 0).text() for r in range(self.table.rowCount()) if not self.table.isRowHidden(r)]

    def add_folders(self, paths) -> None:
        """List run folders from elsewhere (kept in the settings)."""
        for path in map(str, paths):
            if path not in self.extra:
                self.extra.append(path)
        self.settings.set("runs/extra", self.extra)
        self.refresh()

    def add_folders_dialog(self) -> None:
        folders = choose_folders(self, self.tr("Add run folders"), str(workspace.runs_dir()))
        if folders:
            self.add_folders(folders)

    # --- selection -------------------------------------------------------------------------
    def selected_paths(self) -> list[str]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.table.item(r, 0).data(PATH_ROLE) for r in rows if not self.table.isRowHidden(r)]

    def show_run(self, path: str | Path) -> None:
        """List ``path`` (added if it is outside the workspace's runs/), select it, show its settings."""
        path = str(Path(path))
        if not self.summaries:
            self.refresh()
        if path not in self.summaries:
            self.add_folders([path])
        self.filter.clear()
        self.status_filter.setCurrentIndex(0)
        summary = self.summaries.get(path)
        if summary is not None:
            self.select([summary.name])
            self.show_settings(path)

    def select(self, names: list[str]) -> None:
        """Select the rows of the runs called ``names`` (tests, scripts)."""
        self.table.clearSelection()
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for row in range(self.table.rowCount()):
            if self.table.item(row, 0).text() in names:
                self.table.selectRow(row)
        self.table.setSelectionMode(mode)

    def _selection_changed(self) -> None:
        paths = self.selected_paths()
        self.open_button.setEnabled(len(paths) == 1)
        self.compare_button.setEnabled(bool(paths))
        self.diff_button.setEnabled(len(paths) == 2)
        if len(paths) == 1:
            self.show_settings(paths[0])
        elif len(paths) == 2:
            self.diff_selected()

    def show_settings(self, path: str) -> None:
        """Every setting the run ran with (training or plug-in), as dotted keys."""
        summary = self.summaries.get(path)
        if summary is None:
            return
        if summary.problem:
            self.details_title.setText(self.tr("{0} is damaged").format(summary.name))
            self._fill([self.tr("Problem")], [(summary.problem,)])
            return
        self.details_title.setText((self.tr("Settings of {0} (plug-in run)") if summary.kind == "tune" else
                                    self.tr("Settings of {0} (training run)")).format(summary.name))
        self._fill([self.tr("Setting"), self.tr("Value")], [(k, _text(v)) for k, v in sorted(summary.settings.items())])

    def diff_selected(self) -> list[tuple]:
        """The settings that differ between the two selected runs (shown below, and returned)."""
        from engine.run_index import settings_diff

        paths = self.selected_paths()
        if len(paths) != 2:
            return []
        a, b = (self.summaries[p] for p in paths)
        rows = settings_diff(a.settings, b.settings)
        self.details_title.setText(self.tr("%n setting(s) differ between {0} and {1}", "", len(rows)).format(
            a.name, b.name))
        self._fill([self.tr("Setting"), a.name, b.name], [(k, _text(x), _text(y)) for k, x, y in rows])
        return rows

    def _fill(self, header: list[str], rows: list[tuple]) -> None:
        self.details_hint.hide()
        self.details.setColumnCount(len(header))
        self.details.setHorizontalHeaderLabels(header)
        self.details.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                self.details.setItem(r, c, QTableWidgetItem(value))

    def open_selected(self) -> None:
        paths = self.selected_paths()
        if len(paths) != 1:
            return
        self.show_settings(paths[0])
        if self.summaries[paths[0]].kind == "train":
            self.open_requested.emit(paths[0])

    def compare_selected(self) -> None:
        paths = self.selected_paths()
        if paths:
            self.compare_requested.emit(paths)

    # --- what every page has ----------------------------------------------------------------
    def exportables(self) -> dict:
        return {}

    def metrics_rows(self) -> tuple[list[str], list[list]]:
        """The listed (unfiltered-out) runs, the last epoch's values in percent."""
        rows = []
        for row in range(self.table.rowCount()):
            if self.table.isRowHidden(row):
                continue
            s = self.summaries[self.table.item(row, 0).data(PATH_ROLE)]
            zeros = s.metrics.get("zero_recall")
            rows.append([s.name, s.method, s.dataset, s.imbalance, f"{s.epochs_done}/{s.epochs_planned}", s.status,
                         *(None if s.metrics.get(k) is None else 100 * s.metrics[k] for k in METRIC_KEYS),
                         None if zeros is None else int(zeros)])
        return self.columns(), rows

    def export_metrics(self, path: str | Path) -> Path:
        from gui.table_export import write_table

        return write_table(path, *self.metrics_rows())

    def is_running(self) -> bool:
        return False

    def shutdown(self, timeout_ms: int | None = None) -> bool:
        return True

    def engine_ready(self, info) -> None:
        self.refresh()

    def save_state(self) -> None:
        self.settings.set("runs/extra", self.extra)

    def restore_state(self) -> None:
        pass


def _text(value) -> str:
    return "—" if value is None else str(value)
