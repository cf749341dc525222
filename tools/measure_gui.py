"""Measure the app's start-up time and its worst GUI stall during a demo run.

``python tools/measure_gui.py [--runs 3] [--epochs 4]``

1. Start-up: a fresh interpreter runs what ``python main.py`` runs (``create_application`` +
   ``show_main_window``); we time from spawning it to the window's first paint, and to the
   engine (torch) having loaded in the background.
2. Responsiveness: the worst stall while the engine imports in the background; then the main window trains the offline demo preset while a 10 ms QTimer probe
   (``tools.latency.LatencyProbe``) records how late the GUI thread serves it; the worst lateness
   is the longest the window could not react. The machine's load average is printed beside it,
   because on a shared machine other processes delay the GUI thread too.
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


def measure_stalls(epochs: int) -> None:
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
    loading = LatencyProbe(10)
    loading.start()
    loop = QEventLoop()
    window.loader.idle.connect(loop.quit)
    loop.exec()
    print(f"worst GUI stall while the engine loads in the background: {loading.stop():.1f} ms")
    train = window.train
    train.apply_preset(DEMO)
    train.form["epochs"].set_value(epochs)
    probe = LatencyProbe(10)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    probe.start()
    train.start()
    train.runner.idle.connect(loop.quit)
    loop.exec()
    worst = probe.stop()
    seconds = time.perf_counter() - started
    window.close()
    app.processEvents()
    print(f"demo run: {epochs} epochs in {seconds:.1f} s, {probe.ticks} probe ticks (10 ms)")
    print(f"worst GUI event-loop stall: {worst:.1f} ms, 99th percentile {probe.percentile(0.99):.1f} ms "
          f"(load average {load_before:.1f} → {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="start-ups to time")
    parser.add_argument("--epochs", type=int, default=4, help="demo epochs while probing the GUI")
    args = parser.parse_args()
    shown, engine = measure_startup(args.runs)
    print(f"window shown after {statistics.median(shown):.2f} s (median of {len(shown)}: "
          f"{', '.join(f'{s:.2f}' for s in shown)}), from spawning the interpreter to the first paint")
    print(f"engine (torch) loaded in the background after {statistics.median(engine):.2f} s")
    measure_stalls(args.epochs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
