"""Layout with fresh settings (no saved splitter sizes): every page's left pane opens as wide as
its fields want, no text is cut off at common window sizes, and the pane follows its contents
when they grow after the window is shown."""
from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication, QComboBox

from gui import theme
from gui.forms import ChoiceField
from gui.main_window import MainWindow
from gui.train_panel import TrainPanel
from test_gui_support import (clipped_text, combo_text_room, engine_info, gui_settings,  # noqa: F401
                              no_leaked_threads)

pytestmark = pytest.mark.usefixtures("no_leaked_threads")


@pytest.fixture
def app_style(qapp):
    """The app's own theme (Fusion, palette, style sheet), as the app starts with; undone after."""
    style_sheet = qapp.styleSheet()
    theme.apply_theme(qapp, "light")
    yield qapp
    qapp.setStyleSheet(style_sheet)


def option_overflow(combo: QComboBox) -> list[str]:
    """The options of ``combo`` that would be cut off when chosen."""
    room = combo_text_room(combo)
    return [combo.itemText(i) for i in range(combo.count())
            if combo.fontMetrics().horizontalAdvance(combo.itemText(i)) > room]


@pytest.mark.parametrize("size", [(1280, 800), (1440, 900), (1600, 1000)])
def test_fresh_windows_show_every_field_whole(qtbot, app_style, gui_settings, engine_info, size):
    window = MainWindow(gui_settings)
    qtbot.addWidget(window)
    window.on_engine_ready(engine_info)
    window.resize(*size)
    window.show()
    for panel in window.panels():
        window.tabs.setCurrentWidget(panel)
        qtbot.waitExposed(panel)
        QApplication.processEvents()
        assert clipped_text(panel) == [], f"{type(panel).__name__} at {size}"
        left = panel.main_split.widget(0) if hasattr(panel, "main_split") else panel.split.widget(0)
        assert left.width() == left.minimumSizeHint().width() == left.sizeHint().width()  # exactly its contents
        for field in panel.form.fields.values():
            if isinstance(field, ChoiceField):
                assert option_overflow(field.editor) == [], f"{field.key} at {size}"
    hint = window.train.form["imbalance_ratio"].hint
    assert hint.text() == "ratio n_max/n_min = 10 (factor 0.1)"
    assert hint.width() >= hint.sizeHint().width()
    window.close()


def test_the_form_pane_widens_when_its_contents_grow_after_showing(qtbot, qapp, gui_settings, engine_info):
    style_sheet = qapp.styleSheet()
    qapp.setStyleSheet("")  # style-sheet fonts do not follow setFont; the fields must see the new font
    try:
        panel = TrainPanel(gui_settings)
        qtbot.addWidget(panel)
        panel.engine_ready(engine_info)
        panel.resize(1440, 900)
        panel.show()
        qtbot.waitExposed(panel)
        before = panel.main_split.sizes()[0]
        font = panel.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)  # a larger desktop font, as after a settings change
        panel.setFont(font)
        qtbot.waitUntil(lambda: panel.main_split.sizes()[0] > before)
        QApplication.processEvents()
        hint = panel.form["imbalance_ratio"].hint
        assert hint.width() >= hint.sizeHint().width()
        assert clipped_text(panel.main_split.widget(0)) == []
    finally:
        qapp.setStyleSheet(style_sheet)
