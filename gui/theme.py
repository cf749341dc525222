"""Light and dark themes: Fusion palettes, the app style sheet, and plots that follow them.

``"system"`` follows the desktop's colour scheme and keeps following it when it changes.
"""
from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from engine import workspace
from gui import plots

# key → menu text, translated where shown: QCoreApplication.translate("Theme", text)
THEMES = {"system": QT_TRANSLATE_NOOP("Theme", "Follow the system"), "light": QT_TRANSLATE_NOOP("Theme", "Light"),
          "dark": QT_TRANSLATE_NOOP("Theme", "Dark")}


def system_prefers_dark(app: QApplication) -> bool:
    return app.styleHints().colorScheme() == Qt.ColorScheme.Dark


def _palette(dark: bool) -> QPalette:
    if not dark:
        palette = QPalette(QColor("#f4f5f7"))
        palette.setColor(QPalette.ColorRole.Base, QColor("#ffffff"))
        palette.setColor(QPalette.ColorRole.Highlight, QColor("#2f6fb0"))
        return palette
    colors = {
        QPalette.ColorRole.Window: "#24272b", QPalette.ColorRole.WindowText: "#e6e6e6",
        QPalette.ColorRole.Base: "#1b1d20", QPalette.ColorRole.AlternateBase: "#2a2d31",
        QPalette.ColorRole.Text: "#e6e6e6", QPalette.ColorRole.Button: "#2f3237",
        QPalette.ColorRole.ButtonText: "#e6e6e6", QPalette.ColorRole.ToolTipBase: "#2f3237",
        QPalette.ColorRole.ToolTipText: "#e6e6e6", QPalette.ColorRole.Highlight: "#3d7cc9",
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.Link: "#6fa8ff",
        QPalette.ColorRole.PlaceholderText: "#8a8f96", QPalette.ColorRole.Light: "#3a3e44",
        QPalette.ColorRole.Mid: "#33363b", QPalette.ColorRole.Dark: "#16181a",
    }
    palette = QPalette()
    for role, color in colors.items():
        palette.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7c8087"))
    return palette


def apply_theme(app: QApplication, choice: str = "system") -> bool:
    """Apply ``choice`` (a key of THEMES) to the app and every plot; returns True when dark."""
    dark = system_prefers_dark(app) if choice == "system" else choice == "dark"
    app.setStyle("Fusion")
    app.setPalette(_palette(dark))
    style = workspace.resource("style.qss")
    app.setStyleSheet(style.read_text(encoding="utf-8") if style.exists() else "")
    plots.set_dark(dark)
    return dark
