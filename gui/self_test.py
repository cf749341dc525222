"""The app's self-test: ``LongTailStudio --self-test [--report FILE]`` (or ``python main.py --self-test``).

It runs headless (offscreen Qt), inside the packaged bundle or from source, and exercises what a
packaging mistake breaks first: the bundle's data paths, torch and torchvision's compiled ops
(``torchvision.ops.nms``, the image codecs), the main window with its engine loaded and its
icon plugin, shown once in Chinese (the zh_CN catalogue and Qt's own), a tiny training epoch on the bundled demo digits, a prediction of one bundled digit
with the model just trained, and a foreign checkpoint (``module.`` prefixes, an ``fc.`` head)
through the key remapper. Inside a bundle it finally checks that nothing was written into it.

Everything it trains or saves goes to a temporary workspace (and a temporary settings file),
removed afterwards; the user's workspace and settings are not touched. The JSON report (default
``<workspace>/logs/self-test.json``) lists every check with ``ok``, ``seconds``, ``details`` and,
on failure, ``error`` and ``traceback``; a screenshot of the window is saved beside it as
``<report>-window.png``. The exit status is 0 when every check passed, 1 otherwise.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from engine import workspace

REPORT_NAME = "self-test.json"
_CJK = re.compile(r"[\u4e00-\u9fff]")
WINDOW_TABS = ["Train", "Inference", "Compare", "Runs"]
ENGINE_TIMEOUT_S = 180.0
TINY_EPOCH_IMAGE_SIZE = 16  # a quarter of the demo's pixels: the epoch takes seconds on 2 CPU cores

Check = Callable[[], dict[str, Any]]


@dataclass
class CheckResult:
    name: str
    ok: bool
    seconds: float
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    traceback: str | None = None


def run_checks(checks: Sequence[tuple[str, Check]]) -> list[CheckResult]:
    """Run every check in order; one that raises is recorded as failed and the rest still run."""
    results = []
    for name, check in checks:
        started = time.perf_counter()
        try:
            details = check() or {}
        except Exception as exc:  # the report records every failure; nothing may stop the other checks
            formatted = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            results.append(CheckResult(name, False, time.perf_counter() - started,
                                       error=f"{type(exc).__name__}: {exc}", traceback=formatted))
        else:
            results.append(CheckResult(name, True, time.perf_counter() - started, details))
    return results


def build_report(results: Sequence[CheckResult], seconds: float) -> dict[str, Any]:
    return {
        "ok": bool(results) and all(result.ok for result in results),
        "frozen": is_frozen(),
        "executable": sys.executable,
        "code_root": str(workspace.CODE_ROOT),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "seconds": round(seconds, 2),
        "checks": [asdict(result) for result in results],
    }


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def run_self_test(argv: Sequence[str]) -> int:
    """``--self-test`` entry point (main.py strips the flag): run every check, write the report."""
    parser = argparse.ArgumentParser(prog="--self-test", description="Check the app headless and write a JSON report.")
    parser.add_argument("--report", type=Path, default=None,
                        help=f"where to write the JSON report (default: <workspace>/logs/{REPORT_NAME})")
    args = parser.parse_args(list(argv))
    report_path = (args.report or workspace.logs_dir() / REPORT_NAME).expanduser().resolve()
    report_path.parent.mkdir(parents=True, exist_ok=True)
    screenshot = report_path.with_name(f"{report_path.stem}-window.png")

    os.environ["QT_QPA_PLATFORM"] = "offscreen"  # headless by definition, even under a desktop session
    started = time.perf_counter()
    bundle_before = _bundle_files() if is_frozen() else None
    with tempfile.TemporaryDirectory(prefix="lts-self-test-", ignore_cleanup_errors=True) as scratch, \
            _temporary_workspace(Path(scratch) / "workspace"):
        state = _SelfTest(Path(scratch), screenshot)
        checks = [("bundle_paths", state.bundle_paths), ("torch", state.torch_and_torchvision),
                  ("main_window", state.main_window), ("train", state.train_tiny_epoch),
                  ("predict", state.predict_bundled_image), ("foreign_checkpoint", state.foreign_checkpoint)]
        if bundle_before is not None:
            checks.append(("bundle_untouched", lambda: _compare_bundle(bundle_before, _bundle_files())))
        results = run_checks(checks)
    report = build_report(results, time.perf_counter() - started)
    report_path.write_text(json.dumps(report, indent=2), encoding="utf-8")
    for result in results:
        print(f"{'ok  ' if result.ok else 'FAIL'} {result.name:<20} {result.seconds:6.2f}s"
              + (f"  {result.error}" if result.error else ""))
    print(f"self-test {'passed' if report['ok'] else 'FAILED'}; report: {report_path}")
    return 0 if report["ok"] else 1


@contextmanager
def _temporary_workspace(path: Path) -> Iterator[Path]:
    previous = os.environ.get("LTS_WORKSPACE")
    os.environ["LTS_WORKSPACE"] = str(path)
    try:
        yield path
    finally:
        if previous is None:
            os.environ.pop("LTS_WORKSPACE", None)
        else:
            os.environ["LTS_WORKSPACE"] = previous


class _SelfTest:
    """The checks, sharing the QApplication and the run that the tiny epoch trains."""

    def __init__(self, scratch: Path, screenshot: Path):
        self.scratch = scratch
        self.screenshot = screenshot
        self.app = None
        self.run_dir: Path | None = None

    # --- 0: where the bundle keeps its files ----------------------------------------------
    def bundle_paths(self) -> dict[str, Any]:
        from data import demo

        code_root = workspace.CODE_ROOT
        if is_frozen():
            bundle = Path(getattr(sys, "_MEIPASS")).resolve()
            _require(code_root == bundle, f"engine.workspace.CODE_ROOT is {code_root}, not the bundle's {bundle}")
        from gui import i18n

        for name in ("digits.npz", "style.qss", "icon.svg"):
            _require(workspace.resource(name).is_file(), f"bundled resource {workspace.resource(name)} is missing")
        catalogue = i18n.catalogue_path(i18n.CHINESE)
        _require(catalogue.is_file(), f"the translation catalogue {catalogue} is missing")
        _require(demo.DIGITS_FILE.resolve() == workspace.resource("digits.npz").resolve(),
                 f"the demo reads {demo.DIGITS_FILE}, not {workspace.resource('digits.npz')}")
        user_data = workspace.workspace_root().resolve()
        _require(not user_data.is_relative_to(code_root), f"the workspace {user_data} lies inside {code_root}")
        return {"code_root": str(code_root), "workspace": str(user_data),
                "resources": sorted(p.name for p in (code_root / "resources").iterdir()),
                "translations": sorted(p.name for p in catalogue.parent.glob("*.qm"))}

    # --- 1: torch and torchvision's compiled extensions -----------------------------------
    def torch_and_torchvision(self) -> dict[str, Any]:
        import io

        import numpy as np
        import torch
        import torchvision
        from PIL import Image
        from torchvision.io import decode_png
        from torchvision.ops import nms

        from engine.devices import describe_device, pick_device

        boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 11.0, 11.0], [20.0, 20.0, 30.0, 30.0]])
        kept = nms(boxes, torch.tensor([0.9, 0.8, 0.7]), iou_threshold=0.5).tolist()
        # boxes 0 and 1 overlap with IoU 81 / 119 = 0.68 > 0.5, so the lower-scored box 1 goes
        _require(kept == [0, 2], f"torchvision.ops.nms kept {kept}, expected [0, 2]")
        pixels = (np.arange(4 * 5 * 3, dtype=np.uint8) * 4).reshape(4, 5, 3)  # height, width, RGB
        png = io.BytesIO()
        Image.fromarray(pixels).save(png, format="PNG")
        decoded = decode_png(torch.frombuffer(bytearray(png.getvalue()), dtype=torch.uint8))
        _require(torch.equal(decoded, torch.from_numpy(pixels).permute(2, 0, 1)),
                 "torchvision.io.decode_png (the image extension) gave other pixels than Pillow wrote")
        return {"torch": torch.__version__, "torchvision": torchvision.__version__,
                "cuda_build": torch.version.cuda, "device": describe_device(pick_device("auto")),
                "threads": torch.get_num_threads(), "nms_kept": kept}

    # --- 2: the main window in Chinese, engine loaded, screenshot ---------------------------
    def main_window(self) -> dict[str, Any]:
        from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer
        from PySide6.QtGui import QIcon

        from gui import i18n
        from gui.app import create_application, show_main_window
        from gui.settings import Settings

        settings = Settings.from_file(str(self.scratch / "settings.ini"))
        settings.set(i18n.LANGUAGE_KEY, i18n.CHINESE)  # the packaged catalogues load: the app starts in Chinese once
        self.app = create_application([sys.argv[0]], settings)
        _require(i18n.installed_language() == i18n.CHINESE,
                 f"the zh_CN catalogue did not load ({i18n.catalogue_path(i18n.CHINESE)}; see the app log)")
        _require(len(i18n.installed_catalogues()) == 2,
                 f"Qt's qtbase_zh_CN.qm did not load from {i18n.qt_translations_dir()}")
        started = time.perf_counter()
        window = show_main_window(settings)
        shown_s = time.perf_counter() - started
        try:
            loop = QEventLoop()
            window.loader.idle.connect(loop.quit)
            QTimer.singleShot(int(ENGINE_TIMEOUT_S * 1000), loop.quit)
            loop.exec()
            engine_s = time.perf_counter() - started
            device = window.device_label.text()
            _require(not window.loader.is_running(), f"the engine did not load within {ENGINE_TIMEOUT_S:.0f}s")
            _require(window.train.start_button.isEnabled(), f"Start stays disabled after loading the engine ({device})")
            tabs = [window.tabs.tabText(i) for i in range(window.tabs.count())]
            expected = [QCoreApplication.translate("MainWindow", tab) for tab in WINDOW_TABS]
            _require(tabs == expected and all(_CJK.search(tab) for tab in tabs),
                     f"the window's tabs are {tabs}, expected {expected} in Chinese")
            icon = QIcon(str(workspace.resource("icon.svg"))).pixmap(64, 64)
            _require(not icon.isNull(), "the SVG app icon does not render (Qt's svg icon plugin is missing)")
            self.app.processEvents()
            image = window.grab().toImage()
            _require(image.save(str(self.screenshot)), f"cannot write the screenshot {self.screenshot}")
            colours = {image.pixel(x, y) for x in range(0, image.width(), 16) for y in range(0, image.height(), 16)}
            _require(len(colours) > 8, f"the window rendered almost blank ({len(colours)} colours)")
        finally:
            window.close()
        return {"language": i18n.installed_language(), "catalogues": i18n.installed_catalogues(), "tabs": tabs, "device_label": device, "shown_seconds": round(shown_s, 3),
                "engine_ready_seconds": round(engine_s, 3), "screenshot": str(self.screenshot),
                "size": [image.width(), image.height()], "qt_platform": self.app.platformName()}

    # --- 3: one tiny epoch on the bundled demo ----------------------------------------------
    def train_tiny_epoch(self) -> dict[str, Any]:
        import math

        from engine.presets import preset
        from engine.runs import RunFolder
        from engine.trainer import train

        config = preset("demo")
        config.data.image_size = TINY_EPOCH_IMAGE_SIZE
        config.optim.epochs, config.optim.warmup_epochs = 1, 0
        config.device = "cpu"
        config.experiment = "self-test"
        result = train(config)
        self.run_dir = Path(result.run_dir)
        run = RunFolder(self.run_dir)
        _require(result.epochs_done == 1 and not result.stopped, f"trained {result.epochs_done} epochs, expected 1")
        _require(self.run_dir.is_relative_to(workspace.workspace_root()), f"the run went to {self.run_dir}")
        _require(run.checkpoint("best") is not None, f"no best checkpoint in {self.run_dir}")
        _require(all(math.isfinite(v) for v in (result.final.loss, result.final.top1)),
                 "the epoch's metrics are not finite")
        return {"run": str(self.run_dir), "train_images": sum(run.class_counts()), "test_top1": result.final.top1,
                "test_hm": result.final.hm, "history_rows": len(run.history())}

    # --- 4: predict one bundled image with the model just trained ---------------------------
    def predict_bundled_image(self) -> dict[str, Any]:
        import torch
        from PIL import Image

        from data.demo import load_demo
        from engine.inference import Predictor
        from engine.runs import RunFolder

        _require(self.run_dir is not None, "no model: the train check failed")
        checkpoint = RunFolder(self.run_dir).checkpoint("best")
        predictor = Predictor.from_checkpoint(checkpoint, device="cpu")
        digits = load_demo(image_size=predictor.image_size)
        image = digits.test_images[0]
        path = self.scratch / f"digit-{digits.class_names[int(digits.test_labels[0])]}.png"
        Image.fromarray(image.permute(1, 2, 0).numpy()).save(path)
        [prediction] = predictor.predict_paths([path], topk=len(digits.class_names))
        _require(prediction.error is None, f"prediction failed: {prediction.error}")
        labels = [label for label, _ in prediction.topk]
        total = sum(probability for _, probability in prediction.topk)
        _require(sorted(labels) == sorted(digits.class_names), f"predicted labels {labels}")
        _require(abs(total - 1.0) < 1e-4, f"the class probabilities sum to {total}")
        direct = predictor.predict_tensor(image[None])[0]
        _require(digits.class_names[int(direct.argmax())] == labels[0], "the file and the tensor predict differently")
        _require(torch.allclose(direct.max(), torch.tensor(prediction.topk[0][1]), atol=1e-5),
                 "the file's top probability differs from the tensor's")
        return {"image": path.name, "true_label": digits.class_names[int(digits.test_labels[0])],
                "top3": [[label, round(p, 4)] for label, p in prediction.topk[:3]]}

    # --- 5: a foreign checkpoint through the remapper ---------------------------------------
    def foreign_checkpoint(self) -> dict[str, Any]:
        import torch

        from engine.checkpoints import build_model_from_checkpoint, load_checkpoint
        from models import build_model

        torch.manual_seed(0)
        original = build_model("resnet20", num_classes=7).eval()
        foreign = {"module." + key.replace("linear.", "fc.", 1): value for key, value in original.state_dict().items()}
        path = self.scratch / "foreign-resnet20.pth"
        torch.save({"epoch": 3, "state_dict": foreign}, path)
        checkpoint = load_checkpoint(path)
        _require((checkpoint.meta.get("arch"), checkpoint.meta.get("num_classes")) == ("resnet20", 7),
                 f"inferred {checkpoint.meta.get('arch')} with {checkpoint.meta.get('num_classes')} classes")
        _require(set(checkpoint.state_dict) == set(original.state_dict()), "remapped keys differ from the model's")
        rebuilt = build_model_from_checkpoint(checkpoint).eval()
        images = torch.rand(2, 3, 32, 32)
        with torch.no_grad():
            _require(torch.allclose(rebuilt(images).logits, original(images).logits, atol=1e-5),
                     "the remapped model computes differently")
        return {"source": checkpoint.source, "notes": checkpoint.notes, "described": checkpoint.describe()}


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def _bundle_files() -> dict[str, tuple[int, int]]:
    """Every file of the frozen bundle (the folder of the executable): relative path → (size, mtime)."""
    root = Path(sys.executable).resolve().parent
    listing = {}
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = Path(folder, name)
            stat = path.lstat()
            listing[str(path.relative_to(root))] = (stat.st_size, stat.st_mtime_ns)
    return listing


def _compare_bundle(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> dict[str, Any]:
    added = sorted(set(after) - set(before))
    changed = sorted(name for name in set(after) & set(before) if after[name] != before[name])
    removed = sorted(set(before) - set(after))
    _require(not (added or changed or removed),
             f"the self-test wrote into the bundle: added {added[:5]}, changed {changed[:5]}, removed {removed[:5]}")
    return {"files": len(after)}
