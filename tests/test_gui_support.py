"""Fixtures and helpers shared by the GUI tests (imported by each tests/test_gui_*.py).

Every GUI test gets a temporary settings store, and ``no_leaked_threads`` checks after each
test that no worker thread is left running and no error box is left open.
"""
from __future__ import annotations

import pytest

from engine.config import DataConfig, ModelConfig, OptimConfig, RunConfig


@pytest.fixture
def gui_settings(tmp_path):
    from gui.settings import Settings

    return Settings.from_file(str(tmp_path / "settings.ini"))


@pytest.fixture(scope="session")
def engine_info():
    from gui.engine_info import load_engine_info

    return load_engine_info()


@pytest.fixture
def no_leaked_threads(qtbot):
    yield
    from gui import errors
    from gui.workers import live_threads

    qtbot.waitUntil(lambda: not live_threads(), timeout=30_000)
    for box in list(errors._open_boxes.values()):
        box.done(0)
    assert not live_threads()


@pytest.fixture
def window(qtbot, gui_settings):
    """The main window with the engine loaded; closed after the test."""
    from gui.main_window import MainWindow

    win = MainWindow(gui_settings)
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.loader.idle, timeout=60_000):
        win.start_engine_loading()
    yield win
    if win.isVisible():
        win.close()


def shown_panel(qtbot, panel, engine_info, size: tuple[int, int] = (1300, 850)):
    """``panel`` with the engine loaded, shown at ``size`` and closed after the test."""
    qtbot.addWidget(panel)
    panel.engine_ready(engine_info)
    panel.resize(*size)
    panel.show()
    return panel


def tiny_demo_config(tmp_path, epochs: int = 2, **overrides) -> RunConfig:
    """The offline demo, made tiny: ResNet-20 on the digits at their own 8×8, large batches, few epochs."""
    config = RunConfig(
        data=DataConfig(dataset="demo", imbalance_ratio=50.0, image_size=8),
        model=ModelConfig(arch="resnet20"),
        optim=OptimConfig(epochs=epochs, batch_size=128, lr=0.05, warmup_epochs=0),
        runs_dir=str(tmp_path / "runs"), experiment="gui-test", device="cpu", precision="fp32",
    )
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


def open_error_boxes() -> list:
    from gui import errors

    return list(errors._open_boxes.values())


def clipped_text(root) -> list[str]:
    """Every visible label, button, combo box and line edit under ``root`` whose text does not fit
    its width, or that reaches past the left or right edge of a parent (a scroll area's viewport)."""
    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QAbstractButton, QComboBox, QLabel, QLineEdit, QStyle, QStyleOptionFrame, QWidget

    problems = []
    for widget in root.findChildren(QWidget):
        if not widget.isVisibleTo(root) or not isinstance(widget, (QLabel, QAbstractButton, QComboBox, QLineEdit)):
            continue
        name = f"{type(widget).__name__} {widget.objectName() or getattr(widget, 'text', lambda: '')()!r}"
        if isinstance(widget, QComboBox):
            room, needed = combo_text_room(widget), widget.fontMetrics().horizontalAdvance(widget.currentText())
        elif isinstance(widget, QLineEdit):
            option = QStyleOptionFrame()
            widget.initStyleOption(option)
            room = widget.style().subElementRect(QStyle.SubElement.SE_LineEditContents, option, widget).width() - 4
            needed = widget.fontMetrics().horizontalAdvance(widget.text() or widget.placeholderText())
        elif isinstance(widget, QLabel) and widget.wordWrap():
            room = needed = 0
        else:
            room, needed = widget.width(), widget.sizeHint().width()
        if needed > room:
            problems.append(f"{name}: {room} px for {needed} px of text")
        left = widget.mapTo(root, QPoint(0, 0)).x()
        parent = widget.parentWidget()
        while parent is not None and parent is not root:
            parent_left = parent.mapTo(root, QPoint(0, 0)).x()
            if left < parent_left or left + widget.width() > parent_left + parent.width():
                problems.append(f"{name} reaches past its {type(parent).__name__}")
                break
            parent = parent.parentWidget()
    return problems


def combo_text_room(combo) -> int:
    """How many pixels of text ``combo`` shows before it cuts its text off."""
    from PySide6.QtWidgets import QStyle, QStyleOptionComboBox

    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    return combo.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                        QStyle.SubControl.SC_ComboBoxEditField, combo).width()
