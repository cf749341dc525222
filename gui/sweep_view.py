"""The sweep window: a sweep folder's cells filling live (pending / running / done / failed) and
the paper-style table (mean ± std over seeds); a cell opens its run folders in Compare.

Widgets only: the numbers come from ``engine.sweep`` (status files and run folders, re-read
every second while the window is open); running the remaining cells here uses the same
``run_cells`` as ``main.py sweep`` on a worker thread. The engine is imported on first use.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QHeaderView, QLabel, QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from gui import errors
from gui.widgets import number_item, push_button, read_only_table, row_of
from gui.workers import TaskRunner, TaskWorker

REFRESH_MS = 1000
METRICS = (("acc", "Acc"), ("hm", "HM"), ("gm", "GM"), ("lr", "LR"),
           ("zero", QT_TRANSLATE_NOOP("SweepView", "Zeros")))  # as engine.sweep.report
CELL_COLUMNS = [QT_TRANSLATE_NOOP("SweepView", "Cell"), QT_TRANSLATE_NOOP("SweepView", "Dataset"),
                QT_TRANSLATE_NOOP("SweepView", "Ratio"), QT_TRANSLATE_NOOP("SweepView", "Method"),
                QT_TRANSLATE_NOOP("SweepView", "Seed"), QT_TRANSLATE_NOOP("SweepView", "State")]
RESIZE = "resizeColumns"  # property of a table whose cells changed since its columns were sized
STATE_COLOURS = {"pending": "#9e9e9e", "running": "#1e88e5", "done": "#43a047", "failed": "#e53935",
                 "interrupted": "#fb8c00", "damaged": "#8e24aa"}
STATE_WORDS = {"pending": QT_TRANSLATE_NOOP("SweepView", "pending"),
               "running": QT_TRANSLATE_NOOP("SweepView", "running"),
               "done": QT_TRANSLATE_NOOP("SweepView", "done"), "failed": QT_TRANSLATE_NOOP("SweepView", "failed"),
               "interrupted": QT_TRANSLATE_NOOP("SweepView", "interrupted"),
               "damaged": QT_TRANSLATE_NOOP("SweepView", "damaged")}


class SweepView(QWidget):
    """One sweep folder. ``open_runs`` carries the run folders of the cell the user opened."""

    open_runs = Signal(list)
    activity = Signal(str)

    def __init__(self, folder: str | Path, parent: QWidget | None = None):
        super().__init__(parent)
        from engine.sweep.cells import read_sweep
        from engine.sweep.report import table_models

        self.folder = Path(folder)
        self.name, self.cells = read_sweep(self.folder)  # a UserError when it is not a sweep
        self.models = table_models(self.cells)  # base, then each repair (+cRT) and its ensemble (+cRT+ens)
        model_headers = [f"{title} {self.tr(name)}" for _m, title in self.models for _k, name in METRICS]
        self.setWindowTitle(self.tr("Sweep {0} · Long-Tail Studio").format(self.name))
        self._results: dict[str, tuple[float, object]] = {}  # cell id → (status time, CellResult)
        self.runner = TaskRunner(self)
        self.summary = QLabel()
        self.cells_table = self._table([self.tr(title) for title in CELL_COLUMNS] + model_headers, self.tr(
            "Every cell of the grid; double-click one to open its base and plug-in runs in Compare. Test metrics in "
            "percent."))
        self.cells_table.setRowCount(len(self.cells))
        self.cells_table.cellDoubleClicked.connect(lambda row, _col: self.open_cell(row))
        self.table = self._table([self.tr("Dataset"), self.tr("Ratio"), self.tr("Method"), self.tr("Seeds")]
                                 + model_headers,
                                 self.tr("Mean ± std over the finished seeds (sample std; one seed: its value alone), "
                                         "test split, last epoch, %. Zeros: classes at zero recall."))
        self.open_button = push_button(self.tr("Open in Compare"),
                                       self.tr("Show the selected cell's runs on the Compare page."),
                                       lambda: self.open_cell(self.cells_table.currentRow()))
        self.report_button = push_button(self.tr("Write report"), self.tr(
            "Write table.csv / table.md / table.tex and per-class recalls into the sweep's report/ folder."),
            self.write_report)
        self.run_button = push_button(self.tr("Run remaining cells"), self.tr(
            "Run the unfinished cells on this machine, one after another (finished cells are skipped, stopped ones "
            "resume)."), self.run_remaining)
        self.stop_button = push_button(self.tr("Stop"),
                                       self.tr("Stop after the current batch; the cell resumes on the next run."),
                                       self.runner.cancel)
        self.stop_button.setEnabled(False)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.cells_table)
        split.addWidget(self.table)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(self.tr("<b>{0}</b> — {1}").format(self.name, self.folder)))
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)
        layout.addWidget(row_of(self.open_button, self.report_button, None, self.run_button, self.stop_button))
        self.resize(1200, 640)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self.refresh()

    @staticmethod
    def _table(headers: list[str], tip: str) -> QTableWidget:
        table = read_only_table(headers, tip)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)  # sized once per change:
        return table  # ResizeToContents re-measured every row at each setItem, a second per refresh at 12 cells

    # --- reading --------------------------------------------------------------------------------
    @Slot()
    def refresh(self) -> None:
        """Re-read the status files; a cell's run folders are read again only when its status changed."""
        from engine.sweep.cells import read_status, shown_state
        from engine.sweep.report import cell_result, table_rows

        counts: dict[str, int] = {}
        results = []
        for row, cell in enumerate(self.cells):
            status = read_status(self.folder, cell.id)
            cached = self._results.get(cell.id)
            if cached is None or cached[0] != status.updated:
                cached = (status.updated, cell_result(self.folder, cell))
                self._results[cell.id] = cached
            result = cached[1]
            results.append(result)
            damaged = result.state == "damaged"  # its status, metrics or report cannot be read
            state = "damaged" if damaged else shown_state(self.folder, status)
            counts[state] = counts.get(state, 0) + 1
            text = self.tr(STATE_WORDS.get(state, state)) + (f" · {status.stage} {status.epoch}/{status.epochs}"
                                                             if state == "running" else "")
            self._fill_cell_row(row, cell, text, state, result.reason if damaged else status.reason, result.values)
        self._fill_table(table_rows(results))
        self.summary.setText(" · ".join(self.tr("{0} {1}").format(n, self.tr(STATE_WORDS.get(state, state)))
                                         for state, n in counts.items()))
        for table in (self.cells_table, self.table):
            if table.property(RESIZE):
                table.resizeColumnsToContents()
                table.setProperty(RESIZE, False)

    def _fill_cell_row(self, row: int, cell, text: str, state: str, reason: str, values: dict) -> None:
        items = [QTableWidgetItem(cell.id), QTableWidgetItem(cell.dataset), number_item(cell.imbalance),
                 QTableWidgetItem(cell.method), number_item(cell.seed), QTableWidgetItem(text)]
        items[5].setForeground(QBrush(QColor(STATE_COLOURS.get(state, "#9e9e9e"))))
        items[5].setToolTip(reason or text)
        items += [number_item(_finite(values.get(model, {}).get(key)), percent=key != "zero")
                  for model, _t in self.models for key, _n in METRICS]
        _put_row(self.cells_table, row, items)

    def _fill_table(self, rows) -> None:
        from engine.sweep.report import stat_text

        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            items = [QTableWidgetItem(row.dataset), number_item(row.imbalance), QTableWidgetItem(row.method),
                     QTableWidgetItem(f"{row.seeds}/{row.planned}")]
            for model, _t in self.models:
                for key, _n in METRICS:
                    if model in row.stats:
                        item = QTableWidgetItem(stat_text(key, *row.stats[model][key]))
                        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    else:
                        item = QTableWidgetItem("—")
                    items.append(item)
            _put_row(self.table, r, items)

    # --- actions --------------------------------------------------------------------------------
    def open_cell(self, row: int) -> list[str]:
        """Emit the run folders of the cell in ``row`` (nothing for a cell that has none yet)."""
        from engine.sweep.cells import cell_runs

        if not 0 <= row < len(self.cells):
            return []
        paths = [str(p) for p in cell_runs(self.folder, self.cells[row])]
        if not paths:
            self.activity.emit(self.tr("{0} has no finished epoch yet").format(self.cells[row].id))
            return []
        self.open_runs.emit(paths)
        return paths

    def write_report(self) -> None:
        from engine.sweep.report import write_report

        paths = write_report(self.folder)
        self.activity.emit(self.tr("Sweep table written to {0}").format(paths["markdown"].parent))

    def run_remaining(self) -> None:
        """Run the unfinished cells on a worker, holding the sweep folder's lock (a ``main.py sweep``
        running there already is named in one line instead)."""
        worker = TaskWorker(lambda _on_event, should_stop: _run_remaining(self.folder, self.cells, should_stop),
                            name="sweep")
        worker.failed.connect(self._on_failed)  # slots of this widget: they run on the GUI thread
        worker.done.connect(self._on_done)
        self._set_running(True)
        self.runner.start(worker)

    @Slot(object)
    def _on_failed(self, failure) -> None:
        errors.report_error(failure.error, self, self.tr("Running the sweep"), failure.details)

    @Slot()
    def _on_done(self) -> None:
        self._set_running(False)

    def _set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        if not running:
            self.refresh()

    def is_running(self) -> bool:
        return self.runner.is_running()

    def closeEvent(self, event) -> None:
        self.timer.stop()
        self.runner.cancel()
        self.runner.wait()
        super().closeEvent(event)


def _finite(value: float | None) -> float | None:
    return None if value is None or value != value else value


def _put_row(table: QTableWidget, row: int, items: list[QTableWidgetItem]) -> None:
    """Set the row's items where their text or tooltip changed (a refresh with nothing new sets none)."""
    for column, item in enumerate(items):
        old = table.item(row, column)
        if old is None or old.text() != item.text() or old.toolTip() != item.toolTip():
            table.setItem(row, column, item)
            table.setProperty(RESIZE, True)


def _run_remaining(folder: Path, cells: list, should_stop) -> list:
    from engine.sweep.backends import run_cells
    from engine.sweep.cells import sweep_lock

    with sweep_lock(folder, "Long-Tail Studio: Run remaining cells"):
        return run_cells(folder, cells, "local", jobs=1, should_stop=should_stop)
