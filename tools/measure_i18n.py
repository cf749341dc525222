"""How much of the main window speaks the system's language: ``LANG=zh_CN.UTF-8 python tools/measure_i18n.py``.

Starts the app as ``python main.py`` does (offscreen, a temporary workspace and settings, the
language left at "System", so ``LANG`` decides), loads the engine, shows every tab in turn and
walks its visible widgets: labels, buttons, group titles, combo boxes, tab titles, table headers,
plot titles and axis labels, and the menu bar with its menus. Each text is counted as Chinese (it
has a CJK character), English (ASCII letters only) or neutral (numbers, symbols, and the words
that stay as written: method names, metric symbols, dataset and architecture names, file names).
Prints the share of Chinese among the Chinese + English texts, the tab titles (the window's and
its pages') and the English
texts left; ``--json FILE`` writes the same, ``--screenshots FOLDER`` saves each page as
``page-<n>.png`` (Chinese text needs a CJK font installed: docs/i18n.md).
The numbers are in docs/i18n.md.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# words kept as written in every language (docs/i18n.md's glossary): never counted as English
KEPT = set("""Acc HM GM LR ECE CE BSCE LDAM DRW GML LADE MiSLAS RIDE PaCo FeaBal cRT LWS WB SAM ASAM SGD Adam
Focal ResNet ResNeXt CIFAR ImageNet LT Places iNaturalist ImageNet_LT Top fp bf GPU CPU CUDA PNG SVG PDF CSV DPI
Long Tail Studio Nesterov MaxNorm BatchNorm softmax logits x d k t n max min norm mixup AutoAugment Cutout SimCLR
RandAugment""".split())
PATH_LIKE = re.compile(r"^[\w.~:\\/-]*[\\/][\w.~:\\/ -]*$|^[\w.-]+\.(pt|pth|tar|ckpt|png|jpg|csv|json|toml)$")


def kind(text: str) -> str:
    """``chinese``, ``english`` or ``neutral`` for one visible text."""
    text = re.sub(r"<[^>]+>", " ", text).replace("&", "").strip()
    if CJK.search(text):
        return "chinese"
    if not text or PATH_LIKE.match(text):
        return "neutral"
    words = re.findall(r"[A-Za-z_]+", text)
    return "english" if any(word not in KEPT for word in words) else "neutral"


def visible_texts(window) -> list[str]:
    """The texts of every visible widget on the current page, the menu bar and the status bar."""
    import pyqtgraph as pg
    from PySide6.QtWidgets import (QAbstractButton, QComboBox, QGroupBox, QLabel, QLineEdit, QTableView,
                                   QTabBar)

    texts: list[str] = []
    for widget in window.findChildren(object):
        if not hasattr(widget, "isVisible") or not widget.isVisible():
            continue
        if isinstance(widget, QLabel):
            texts.append(widget.text())
        elif isinstance(widget, QAbstractButton):
            texts.append(widget.text())
        elif isinstance(widget, QGroupBox):
            texts.append(widget.title())
        elif isinstance(widget, QComboBox):
            texts.append(widget.currentText())
        elif isinstance(widget, QLineEdit) and not widget.text():
            texts.append(widget.placeholderText())
        elif isinstance(widget, QTabBar):
            texts += [widget.tabText(i) for i in range(widget.count())]
        elif isinstance(widget, QTableView) and widget.model() is not None:
            model = widget.model()
            texts += [str(model.headerData(c, widget.horizontalHeader().orientation()) or "")
                      for c in range(model.columnCount()) if not widget.isColumnHidden(c)]
        elif isinstance(widget, pg.PlotWidget):
            item = widget.getPlotItem()
            texts.append(item.titleLabel.text)
            texts += [axis.labelText for axis in (item.getAxis("left"), item.getAxis("bottom"))]
    for action in window.menuBar().actions():
        texts.append(action.text())
        texts += [sub.text() for sub in action.menu().actions() if sub.text()]
    return [text for text in texts if text and text.strip()]


def measure(window) -> dict:
    texts: list[str] = []
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        window.repaint()
        texts += visible_texts(window)
    counted = {"chinese": [], "english": [], "neutral": []}
    for text in dict.fromkeys(texts):  # each distinct text once
        counted[kind(text)].append(text)
    chinese, english = len(counted["chinese"]), len(counted["english"])
    from PySide6.QtWidgets import QTabWidget

    tabs = [bar.tabText(i) for bar in [window.tabs, *window.tabs.findChildren(QTabWidget)] for i in range(bar.count())]
    return {"lang": os.environ.get("LANG", ""), "texts": chinese + english, "chinese": chinese, "english": english,
            "neutral": len(counted["neutral"]), "chinese_share": round(chinese / max(1, chinese + english), 3),
            "tabs": tabs, "chinese_tabs": sum(bool(CJK.search(tab)) for tab in tabs),
            "english_texts": counted["english"], "neutral_texts": counted["neutral"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the numbers here")
    parser.add_argument("--screenshots", type=Path, help="save each page here as page-<n>.png")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lts-i18n-") as scratch:
        os.environ["LTS_WORKSPACE"] = str(Path(scratch) / "workspace")
        from PySide6.QtCore import QEventLoop, QTimer

        from gui.app import create_application
        from gui.main_window import MainWindow
        from gui.settings import Settings

        settings = Settings.from_file(str(Path(scratch) / "settings.ini"))
        app = create_application([sys.argv[0]], settings)
        window = MainWindow(settings)
        window.resize(1440, 900)
        window.show()
        loop = QEventLoop()
        window.loader.idle.connect(loop.quit)
        QTimer.singleShot(120_000, loop.quit)
        window.start_engine_loading()
        loop.exec()
        app.processEvents()
        result = measure(window)
        if args.screenshots:
            args.screenshots.mkdir(parents=True, exist_ok=True)
            for index in range(window.tabs.count()):
                window.tabs.setCurrentIndex(index)
                app.processEvents()
                window.grab().save(str(args.screenshots / f"page-{index + 1}.png"))
        window.close()
    print(f"LANG={result['lang']}: {result['chinese']} of {result['texts']} texts Chinese "
          f"({100 * result['chinese_share']:.1f} %), {result['neutral']} neutral; "
          f"tabs {result['tabs']} ({result['chinese_tabs']} Chinese)")
    for text in result["english_texts"]:
        print(f"  English: {text[:90]!r}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
