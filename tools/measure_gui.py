"""Measure the app's start-up time, its GUI-thread stalls under load, and the per-class views' refresh.

``python tools/measure_gui.py [--runs 3] [--epochs 6] [--load N] [--skip-startup] [--skip-stalls]
[--view-repeats 5]``

1. Start-up: a fresh interpreter runs what ``python main.py`` runs (``create_application`` +
   ``show_main_window``); we time from spawning it to the window's first paint, and to the
   engine (torch) having loaded in the background.
2. Responsiveness under load: ``--load`` busy processes (default 2 × the CPU count, each a
   Python loop at normal priority) run while a 10 ms QTimer probe (``tools.latency.LatencyProbe``)
   records how late the GUI thread serves it, (a) while the main window trains the offline demo
   preset, (b) while a sweep window runs a 2 × 2 demo grid on its worker and refreshes every
   second. Reported: worst and 99th-percentile lateness. The machine's load average is printed
   beside them, because on a shared machine other people's processes delay the GUI thread too.
3. The per-class views' refresh at 100 and 1,000 classes: the class table, the bars (a curve over
   200 classes) and the confusion matrix with its confused pairs, each filled and painted
   (median of 5).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import sys
sys.path.insert(0, {root!r})
from PySide6.QtCore import QEvent, QObject
from gui.app import create_application, show_main_window
from gui.settings import Settings


class FirstPaint(QObject):
    seen = False

    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint and not self.seen:
            self.seen = True
            print("SHOWN", flush=True)
        return False


settings = Settings.from_file({settings!r})
app = create_application([sys.argv[0]], settings)
first_paint = FirstPaint()
app.installEventFilter(first_paint)
window = show_main_window(settings)
window.loader.idle.connect(lambda: (print("ENGINE", flush=True), window.close(), app.quit()))
app.exec()
"""


def measure_startup(runs: int) -> tuple[list[float], list[float]]:
    shown, engine = [], []
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
           "OMP_WAIT_POLICY": "PASSIVE"}
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            env["LTS_WORKSPACE"] = tmp
            code = CHILD.format(root=str(ROOT), settings=str(Path(tmp) / "settings.ini"))
            started = time.perf_counter()
            child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, env=env)
            for line in child.stdout:
                if line.startswith("SHOWN"):
                    shown.append(time.perf_counter() - started)
                elif line.startswith("ENGINE"):
                    engine.append(time.perf_counter() - started)
            child.wait()
    return shown, engine


BUSY = "while True: pass"


class BusyLoad:
    """``count`` busy Python processes for the duration of a ``with`` block."""

    def __init__(self, count: int):
        self.count, self.children = count, []

    def __enter__(self) -> BusyLoad:
        self.children = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(self.count)]
        time.sleep(2)  # let the scheduler see them
        return self

    def __exit__(self, *_exc) -> None:
        for child in self.children:
            child.kill()
        for child in self.children:
            child.wait()


def probe_report(name: str, probe, seconds: float, load_before: float) -> None:
    print(f"{name}: {seconds:.1f} s, {probe.ticks} probe ticks; GUI stall worst {probe.worst_ms:.1f} ms, "
          f"p99 {probe.percentile(0.99):.1f} ms, p50 {probe.percentile(0.5):.1f} ms "
          f"(load average {load_before:.1f} → {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")


def measure_stalls(epochs: int, load: int, sweep_epochs: int) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as main.py sets it
    os.environ["LTS_WORKSPACE"] = tempfile.mkdtemp(prefix="lts-measure-")
    sys.path.insert(0, str(ROOT))
    from PySide6.QtCore import QEventLoop

    from engine.presets import DEMO
    from gui.app import create_application, show_main_window
    from tools.latency import LatencyProbe
    from gui.settings import Settings

    settings = Settings.from_file(str(Path(os.environ["LTS_WORKSPACE"]) / "settings.ini"))
    app = create_application([sys.argv[0]], settings)
    window = show_main_window(settings)
    window.resize(1440, 900)
    loading = LatencyProbe(10)
    loading.start()
    loop = QEventLoop()
    window.loader.idle.connect(loop.quit)
    loop.exec()
    print(f"worst GUI stall while the engine loads in the background: {loading.stop():.1f} ms")
    print(f"busy processes alongside: {load} (2 × {os.cpu_count()} CPUs is {2 * (os.cpu_count() or 1)})")

    with BusyLoad(load):
        train = window.train
        train.apply_preset(DEMO)
        train.form["epochs"].set_value(epochs)
        train.views.setCurrentWidget(train.class_table)  # the table refreshes and paints every epoch
        probe = LatencyProbe(10)
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        probe.start()
        train.start()
        train.runner.idle.connect(loop.quit)
        loop.exec()
        probe.stop()
        probe_report(f"demo run, {epochs} epochs, Classes tab in front", probe, time.perf_counter() - started,
                     load_before)

        view = window.open_sweep(str(demo_sweep(Path(os.environ["LTS_WORKSPACE"]), sweep_epochs)))
        probe = LatencyProbe(10)
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        probe.start()
        view.runner.idle.connect(loop.quit)
        view.run_remaining()
        loop.exec()
        probe.stop()
        probe_report(f"sweep window running a 2 × 2 grid ({sweep_epochs} + {sweep_epochs} epochs a cell), "
                     "refreshing every second", probe, time.perf_counter() - started, load_before)
        view.close()
    window.close()
    app.processEvents()


def demo_sweep(workspace: Path, epochs: int) -> Path:
    """The 2 × 2 demo grid (sweeps/demo.toml) with ``epochs`` training and plug-in epochs, planned."""
    from engine.sweep.cells import write_sweep
    from engine.sweep.spec import parse_spec

    text = (ROOT / "sweeps" / "demo.toml").read_text(encoding="utf-8")
    text = text.replace('"optim.epochs" = 12', f'"optim.epochs" = {epochs}').replace("epochs = 10", f"epochs = {epochs}")
    spec = parse_spec(text, ROOT / "sweeps" / "demo.toml")
    folder = workspace / "sweeps" / spec.name
    write_sweep(folder, spec.path, spec.name, spec.cells)
    return folder


def measure_class_views(repeats: int = 5) -> None:
    """Fill and paint each per-class view at 100 and 1,000 classes; median seconds."""
    import numpy as np
    from PySide6.QtWidgets import QApplication

    from gui.class_views import ClassTable, ConfusionView
    from gui.plots import ClassBars

    app = QApplication.instance() or QApplication([sys.argv[0]])
    for classes in (100, 1000):
        rng = np.random.default_rng(0)
        names = [f"class {i}" for i in range(classes)]
        counts = [max(1, int(500 * 0.01 ** (i / (classes - 1)))) for i in range(classes)]
        confusion = rng.integers(0, 4, (classes, classes))
        recall = (confusion.diagonal() / confusion.sum(axis=1)).tolist()
        views = {"class table": (ClassTable(), lambda w, r: w.set_classes(names, counts, r, r)),
                 "bars": (ClassBars("recall"), lambda w, r: w.set_bars(names, counts, [("test", r)])),
                 "confusion": (ConfusionView(), lambda w, r: w.set_confusion(names, counts, confusion))}
        for name, (widget, fill) in views.items():
            widget.resize(900, 500)
            widget.show()
            times = []
            for k in range(repeats):
                shuffled = list(rng.permutation(recall))
                started = time.perf_counter()
                fill(widget, shuffled)
                widget.repaint()
                app.processEvents()
                times.append(time.perf_counter() - started)
            widget.close()
            print(f"{name} at {classes} classes: {1000 * statistics.median(times):.1f} ms per refresh "
                  f"(median of {repeats})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="start-ups to time")
    parser.add_argument("--epochs", type=int, default=6, help="demo epochs while probing the GUI")
    parser.add_argument("--sweep-epochs", type=int, default=2, help="training and plug-in epochs of each sweep cell")
    parser.add_argument("--load", type=int, default=2 * (os.cpu_count() or 1), help="busy processes alongside")
    parser.add_argument("--skip-startup", action="store_true", help="no start-up timing")
    parser.add_argument("--skip-stalls", action="store_true", help="no stall measurement")
    parser.add_argument("--view-repeats", type=int, default=5, help="refreshes per class view and size (0: none)")
    args = parser.parse_args()
    if not args.skip_startup:
        shown, engine = measure_startup(args.runs)
        print(f"window shown after {statistics.median(shown):.2f} s (median of {len(shown)}: "
              f"{', '.join(f'{s:.2f}' for s in shown)}), from spawning the interpreter to the first paint")
        print(f"engine (torch) loaded in the background after {statistics.median(engine):.2f} s")
    if not args.skip_stalls:
        measure_stalls(args.epochs, args.load, args.sweep_epochs)
    if args.view_repeats:
        measure_class_views(args.view_repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
