"""Screenshots of each page mid-use, for the docs: ``python tools/screenshots.py [out-folder]``.

Runs offscreen in a temporary workspace: trains the offline demo for a few epochs (the Train
page is captured while the run is still going), predicts a handful of digit images (one of them
a broken file) with the model just trained, and runs the GML plug-in on it (Compare).
Then the 100-class case: a CIFAR-100-LT run (ratio 100) on generated data in CIFAR-100's real
layout (tests/datagen.py), its per-class views, the plug-in on it, and the Runs page.
Last, the per-class views at 1,000 classes on generated numbers.
Writes docs/screenshot-{train,train-dark,inference,compare}.png,
docs/screenshot-{train-100,classes-100,confusion-100,loss-lr,compare-100,runs}.png and
docs/screenshot-{bars,classes}-1000.png (``--100``: the 100- and 1,000-class scenes only).
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
WORKSPACE = tempfile.mkdtemp(prefix="lts-screenshots-")
os.environ["LTS_WORKSPACE"] = WORKSPACE

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from PySide6.QtCore import QEventLoop, Qt, QTimer  # noqa: E402

SIZE = (1440, 900)
TRAIN_EPOCHS, CAPTURE_AFTER = 12, 8  # capture the Train page mid-run
C100_PER_CLASS, C100_TEST, C100_EPOCHS = 300, 20, 6  # generated CIFAR-100-LT: 300 → 3 images per class


def wait_until(condition, timeout_s: float = 600) -> None:
    loop, timer = QEventLoop(), QTimer()
    timer.timeout.connect(lambda: condition() and loop.quit())
    timer.start(50)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    timer.stop()
    if not condition():
        raise TimeoutError("the screenshot scene did not get ready in time")


def digit_images(folder: Path) -> list[Path]:
    """A few demo digits upscaled to 64×64 PNGs, one greyscale JPEG, and a broken file."""
    data = np.load(ROOT / "resources" / "digits.npz")
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k, index in enumerate((0, 11, 25, 33, 47, 58, 64, 77)):
        grey = (data["images"][index].astype(np.float32) * (255 / 16)).astype(np.uint8)
        image = Image.fromarray(255 - grey, "L").resize((64, 64), Image.Resampling.BILINEAR)
        path = folder / (f"digit_{k}.jpg" if k == 3 else f"digit_{k}.png")
        image.save(path) if path.suffix == ".jpg" else image.convert("RGB").save(path)
        paths.append(path)
    broken = folder / "scan_broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 4)
    return paths + [broken]


def settle(ms: int = 300) -> None:
    """Let deferred redraws (the bars follow the curves by a moment) land before a capture."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def save(widget, path: Path) -> None:
    settle()
    widget.grab().save(str(path))
    print(f"wrote {path}")


def main(out: Path) -> int:
    from engine.presets import DEMO, preset
    from gui import theme
    from gui.app import create_application, show_main_window
    from gui.settings import Settings

    out.mkdir(parents=True, exist_ok=True)
    only_100 = "--100" in sys.argv  # the 100-class scenes alone
    settings = Settings.from_file(str(Path(WORKSPACE) / "settings.ini"))
    settings.set("app/theme", "light")
    app = create_application([sys.argv[0]], settings)
    window = show_main_window(settings)
    window.resize(*SIZE)
    wait_until(lambda: not window.loader.is_running() and window.train.start_button.isEnabled())
    if only_100:
        hundred_classes(window, out)
        window.close()
        return 0

    train = window.train
    train.apply_preset(DEMO)
    train.form["epochs"].set_value(TRAIN_EPOCHS)
    train.start()
    wait_until(lambda: len(train.history) >= CAPTURE_AFTER)
    save(window, out / "screenshot-train.png")
    theme.apply_theme(app, "dark")
    save(window, out / "screenshot-train-dark.png")
    theme.apply_theme(app, "light")
    wait_until(lambda: not train.is_running())
    run_dir = Path(train.resume_target)
    checkpoint = str(run_dir / "checkpoints" / "best.pt")

    inference = window.inference
    window.tabs.setCurrentWidget(inference)
    inference.set_model(checkpoint)
    inference.predict([str(p) for p in digit_images(Path(WORKSPACE) / "images")])
    wait_until(lambda: not inference.is_running() and inference.table.rowCount() == 9)
    inference.table.selectRow(1)
    save(window, out / "screenshot-inference.png")

    compare = window.compare
    window.tabs.setCurrentWidget(compare)
    compare.form["pretrained"].set_value(checkpoint)
    compare.form["dataset"].set_value("demo")
    compare.form["imbalance_ratio"].set_value(preset(DEMO).data.imbalance_ratio)
    compare.form["epochs"].set_value(10)
    compare.start()
    wait_until(lambda: not compare.is_running() and compare.series)
    compare.add_runs([str(run_dir)])
    save(window, out / "screenshot-compare.png")
    hundred_classes(window, out)
    window.close()
    return 0


def hundred_classes(window, out: Path) -> None:
    """A CIFAR-100-LT run on generated data: the Train page mid-run, its per-class views, the
    plug-in on its best checkpoint next to it on Compare, and the Runs page with a settings diff."""
    from engine.config import DataConfig, ModelConfig, OptimConfig, RunConfig
    from gui.train_form import fill_form
    from tests.datagen import write_cifar

    write_cifar(Path(WORKSPACE) / "datasets", "cifar100", C100_PER_CLASS, C100_TEST)
    train = window.train
    window.tabs.setCurrentWidget(train)
    config = RunConfig(data=DataConfig(dataset="cifar100", imbalance_ratio=100),
                       model=ModelConfig(arch="resnet20"),
                       optim=OptimConfig(epochs=C100_EPOCHS, batch_size=128, lr=0.1, warmup_epochs=1),
                       experiment="cifar100-lt-ce", device="cpu")
    train.preset.setCurrentText("CIFAR-100-LT · CE")  # the family of settings shown (shortened to seconds)
    train.base_config = config
    fill_form(train.form, config)
    train.start()
    wait_until(lambda: len(train.history) >= C100_EPOCHS - 2)
    train.views.setCurrentIndex(0)
    save(window, out / "screenshot-train-100.png")
    wait_until(lambda: not train.is_running())
    run_dir = Path(train.resume_target)
    train.views.setCurrentIndex(1)
    train.class_table.sort_by(4, Qt.SortOrder.AscendingOrder)  # by recall: the classes left behind first
    save(window, out / "screenshot-classes-100.png")
    train.class_table.sort_by(0, Qt.SortOrder.AscendingOrder)
    train.views.setCurrentIndex(2)
    train.confusion.pairs.selectRow(0)
    train.confusion.pairs.cellClicked.emit(0, 0)  # the most confused pair: zoomed to, its classes named
    save(window, out / "screenshot-confusion-100.png")
    train.confusion.show_whole()
    train.views.setCurrentIndex(3)
    save(window, out / "screenshot-loss-lr.png")
    train.views.setCurrentIndex(0)

    compare = window.compare
    window.tabs.setCurrentWidget(compare)
    compare.clear_series()
    compare.form["pretrained"].set_value(str(run_dir / "checkpoints" / "best.pt"))
    compare.form["dataset"].set_value("cifar100")
    compare.form["imbalance_ratio"].set_value(100)
    compare.form["epochs"].set_value(10)
    compare.start()
    wait_until(lambda: not compare.is_running() and compare.series)
    compare.views.setCurrentIndex(1)  # each class's change from the old classifier to the new one
    save(window, out / "screenshot-compare-100.png")
    compare.views.setCurrentIndex(0)

    runs = window.runs
    window.tabs.setCurrentWidget(runs)
    runs.refresh()
    train_runs = [s.name for s in runs.summaries.values() if s.kind == "train"]
    runs.select(train_runs[:2])
    save(window, out / "screenshot-runs.png")
    thousand_classes(window, out)


def thousand_classes(window, out: Path) -> None:
    """The per-class views at 1,000 classes, on generated numbers (no 1,000-class dataset is bundled):
    counts falling from 1,280 to 5 as in ImageNet-LT, recall rising with the count, some classes
    at zero, a confusion matrix whose rare classes are mostly taken for frequent ones."""
    from engine.events import DatasetReady, EpochEnd
    from engine.metrics import compute_metrics
    import torch

    rng = np.random.default_rng(0)
    classes = 1000
    counts = [max(5, int(1280 * (5 / 1280) ** (i / (classes - 1)))) for i in range(classes)]
    names = [f"class {i:03d}" for i in range(classes)]
    test = 20
    confusion = np.zeros((classes, classes), dtype=np.int64)
    for c in range(classes):
        right = rng.binomial(test, min(0.95, 0.15 + 0.8 * np.log(counts[c]) / np.log(1280)) * (rng.random() > 0.04))
        confusion[c, c] = right
        wrong = rng.integers(0, max(1, c // 2 + 1), test - right)  # mistaken for more frequent classes
        np.add.at(confusion[c], wrong, 1)
    metrics = compute_metrics(torch.from_numpy(confusion), torch.tensor(counts))
    train = window.train
    window.tabs.setCurrentWidget(train)
    train.history, train.class_names, train.class_counts = [], [], []
    train.on_dataset(DatasetReady("generated-1000", names, counts))
    train.on_epoch(EpochEnd(1, 1, 0.1, metrics, metrics, 1.0))
    train.redraws.flush()
    train.views.setCurrentIndex(0)
    save(window, out / "screenshot-bars-1000.png")
    train.views.setCurrentIndex(1)
    train.class_table.sort_by(4, Qt.SortOrder.AscendingOrder)
    train.class_table.search.setText("class 9")
    save(window, out / "screenshot-classes-1000.png")
    train.class_table.search.clear()
    train.views.setCurrentIndex(0)


if __name__ == "__main__":
    folders = [a for a in sys.argv[1:] if not a.startswith("--")]
    sys.exit(main(Path(folders[0]) if folders else ROOT / "docs"))
