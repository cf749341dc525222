"""The app in its users' language (docs/i18n.md): which language a setting means, the window built
under zh_CN and under en_US, View → Language applied on restart, and a catalogue that cannot load."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QLocale, Qt
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from gui import errors, i18n, language_menu
from gui.main_window import MainWindow
from test_gui_support import engine_info, gui_settings, no_leaked_threads, shown_panel, tiny_demo_config  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u4e00-\u9fff]")


def chinese(text: str) -> bool:
    return bool(CJK.search(text))


@pytest.fixture
def zh_window(qtbot, qapp, gui_settings):
    """The main window built after the zh_CN catalogues were installed (as create_application does)."""
    gui_settings.set(i18n.LANGUAGE_KEY, i18n.CHINESE)
    assert i18n.install_translators(qapp, gui_settings.get(i18n.LANGUAGE_KEY)) == i18n.CHINESE
    window = MainWindow(gui_settings)
    qtbot.addWidget(window)
    return window


@pytest.mark.parametrize("choice, system, language", [
    ("system", "zh_CN", "zh_CN"), ("system", "zh_SG", "zh_CN"), ("system", "zh_TW", "en"),
    ("system", "en_US", "en"), ("system", "de_DE", "en"), ("zh_CN", "en_US", "zh_CN"), ("en", "zh_CN", "en")])
def test_the_language_follows_the_system_unless_chosen(choice, system, language):
    assert i18n.resolve(choice, QLocale(system)) == language


def test_the_window_built_under_zh_CN_shows_chinese_tabs_menus_forms_buttons_and_qt_dialogs(zh_window):
    assert [zh_window.tabs.tabText(i) for i in range(4)] == ["训练", "推理", "比较", "运行记录"]
    assert [zh_window.train.views.tabText(i) for i in range(4)] == ["被落下的类别", "类别", "混淆矩阵", "损失和学习率"]
    assert all(chinese(action.text()) for action in zh_window.menuBar().actions())
    assert all(chinese(a.text()) for a in zh_window.menuBar().actions()[0].menu().actions() if a.text())
    assert chinese(zh_window.train.start_button.text()) and chinese(zh_window.train.stop_button.text())
    assert chinese(zh_window.train.start_button.toolTip())
    train_form = zh_window.train.form
    assert train_form["lr"].label == "学习率" and train_form["epochs"].label == "训练轮数"
    assert train_form["batch_size"].label == "批大小" and train_form["t1"].label == "温度 t1"
    assert chinese(train_form["lr"].tooltip)
    inference = zh_window.inference
    assert inference.export_button.text() == "导出 CSV…"
    assert [inference.table.horizontalHeaderItem(c).text() for c in range(5)] == [
        "文件", "Top-1", "Top-1 %", "Top-5（概率 %）", "消息"]
    view_menu = zh_window.menuBar().actions()[1].menu()
    assert "语言(&L)" in [action.text() for action in view_menu.actions()]
    assert [a.text() for a in zh_window.language_menu.group.actions()] == ["跟随系统", "English", "简体中文"]
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
    assert buttons.button(QDialogButtonBox.StandardButton.Cancel).text() == "取消"  # Qt's own catalogue


def test_method_names_and_metric_symbols_stay_as_written_in_chinese(zh_window):
    translate = QCoreApplication.translate
    assert translate("Settings", "Cross-entropy (CE)") == "交叉熵 (CE)"
    assert translate("Settings", "HM") == "HM" and translate("Settings", "GM") == "GM"
    assert translate("Settings", "Lowest recall") == "最低召回率"
    assert [zh_window.inference.table.horizontalHeaderItem(c).text() for c in (1, 2)] == ["Top-1", "Top-1 %"]


def test_the_window_built_under_en_US_shows_no_chinese(qtbot, qapp, gui_settings):
    gui_settings.set(i18n.LANGUAGE_KEY, i18n.ENGLISH)
    assert i18n.install_translators(qapp, i18n.ENGLISH) == i18n.ENGLISH
    window = MainWindow(gui_settings)
    qtbot.addWidget(window)
    assert window.train.form["lr"].label == "Learning rate"
    assert window.inference.export_button.text() == "Export CSV…"
    assert [a.text() for a in window.language_menu.group.actions()] == ["System", "English", "简体中文"]
    assert [window.tabs.tabText(i) for i in range(4)] == ["Train", "Inference", "Compare", "Runs"]
    assert [a.text() for a in window.menuBar().actions()] == ["&File", "&View", "&Help"]
    assert window.train.start_button.text() == "Start"
    assert QCoreApplication.translate("InferencePanel", "%n image(s) predicted", "", 1) == "1 image predicted"


def test_choosing_a_language_stores_it_and_applies_it_at_the_next_start(qtbot, qapp, gui_settings, monkeypatch):
    window = MainWindow(gui_settings)
    qtbot.addWidget(window)
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *args: asked.append(args[2]) or QMessageBox.StandardButton.No)
    chinese_action = next(a for a in window.language_menu.group.actions() if a.data() == i18n.CHINESE)
    chinese_action.trigger()
    assert gui_settings.get(i18n.LANGUAGE_KEY) == i18n.CHINESE
    assert asked == ["The language changes when Long-Tail Studio starts again. Restart now?"]
    assert window.train.form["lr"].label == "Learning rate"  # this window stays as it was built
    # the next start (gui.app.create_application) installs the stored language before the window
    assert i18n.install_translators(qapp, gui_settings.get(i18n.LANGUAGE_KEY)) == i18n.CHINESE
    again = MainWindow(gui_settings)
    qtbot.addWidget(again)
    assert again.train.form["lr"].label == "学习率"
    assert next(a for a in again.language_menu.group.actions() if a.isChecked()).data() == i18n.CHINESE


def test_restart_now_closes_the_window_and_starts_the_app_again(qtbot, gui_settings, monkeypatch):
    window = MainWindow(gui_settings)
    qtbot.addWidget(window)
    window.show()
    started = []
    monkeypatch.setattr(QMessageBox, "question", lambda *args: QMessageBox.StandardButton.Yes)
    monkeypatch.setattr(language_menu.QProcess, "startDetached", lambda *args: started.append(args) or (True, 1))
    next(a for a in window.language_menu.group.actions() if a.data() == i18n.ENGLISH).trigger()
    assert not window.isVisible()
    assert started == [(sys.executable, list(sys.argv), started[0][2])]


def test_a_missing_catalogue_is_logged_and_the_app_shows_the_english_source(qapp, tmp_path, monkeypatch):
    monkeypatch.setattr(i18n, "TRANSLATIONS_DIR", tmp_path)
    assert i18n.install_translators(qapp, i18n.CHINESE) == i18n.ENGLISH
    assert i18n.installed_catalogues() == []
    assert f"cannot load {tmp_path / 'long_tail_studio_zh_CN.qm'}" in errors.log_path().read_text(encoding="utf-8")


def test_measure_tool_counts_chinese_english_and_kept_words():
    sys.path.insert(0, str(ROOT / "tools"))
    from measure_i18n import kind

    assert [kind(t) for t in ("学习率", "Learning rate", "HM", "Top-1 %", "12", "CE.pt", "&Quit", "<b>训练</b>")] == [
        "chinese", "english", "neutral", "neutral", "neutral", "neutral", "english", "chinese"]


def test_the_common_engine_messages_reach_the_field_translated(zh_window):
    from engine.knobs import ConfigProblems, range_error

    error = range_error("lr", 20.0, 1e-7, 10.0)
    assert str(error) == "lr: 20 is outside the sensible range 1e-07 to 10"  # the engine and the CLI: English
    field = zh_window.train.form.flag(ConfigProblems([error]))
    assert field.key == "lr" and field.editor.toolTip().startswith("⚠ 20 超出合理范围 1e-07 到 10")
    assert errors.message_text(range_error("epochs", "x", 0, 5)) == "必须是数字，而不是 'x'"


def test_a_chinese_demo_run_titles_its_live_plots_and_class_table_in_chinese(qtbot, qapp, gui_settings, engine_info,
                                                                              tmp_path):
    from gui.train_panel import TrainPanel

    assert i18n.install_translators(qapp, i18n.CHINESE) == i18n.CHINESE
    panel = shown_panel(qtbot, TrainPanel(gui_settings), engine_info)
    config = tiny_demo_config(tmp_path, epochs=1)
    panel.base_config = config
    panel.fill(config)
    panel.start()
    with qtbot.waitSignal(panel.runner.idle, timeout=240_000):
        pass
    qtbot.waitUntil(lambda: panel.bars.bar_count() == 10, timeout=10_000)  # the views redraw one per turn
    titles = [plot.title for plot in panel.plots.values()] + [panel.bars.title]
    assert all(chinese(title) for title in titles), titles
    model = panel.class_table.view.model()
    headers = [str(model.headerData(c, Qt.Orientation.Horizontal)) for c in range(model.columnCount())]
    assert headers == ["#", "类别", "训练图像数", "分组", "召回率 %", "精确率 %"]
    groups = {str(model.data(model.index(row, 3))) for row in range(model.rowCount())}
    assert groups and groups <= {"多数", "中等", "少数"}  # many / medium / few
    assert chinese(panel.progress.format())
