"""Start the desktop app: QApplication, theme, error path, window; then the engine.

The window is shown before torch is imported; the engine loads on a worker thread shortly after
the window has painted (``MainWindow.start_engine_loading``), so the window appears fast.
"""
from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Qt, QTimer, Slot
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from engine import workspace
from gui import errors, gc_guard, i18n, theme
from gui.none_guard import keep_none_alive
from gui.settings import APPLICATION, ORGANIZATION, Settings

ENGINE_DELAY_MS = 100  # let the window paint first: importing torch holds the interpreter lock at times


def create_application(argv: list[str], settings: Settings | None = None) -> QApplication:
    """The QApplication with name, icon, language (installed before any window), theme (following
    the system) and the error hook."""
    keep_none_alive()
    app = QApplication.instance() or QApplication(list(argv) or [sys.argv[0]])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setWindowIcon(QIcon(str(workspace.resource("icon.svg"))))
    settings = settings or Settings()
    i18n.install_translators(app, settings.get(i18n.LANGUAGE_KEY, i18n.SYSTEM))
    theme.apply_theme(app, settings.get("app/theme", "system"))
    follower = _SystemThemeFollower(app, settings)
    app.styleHints().colorSchemeChanged.connect(follower.follow)
    errors.install_excepthook()
    gc_guard.install(app)
    return app


class _SystemThemeFollower(QObject):
    """Re-applies the theme when the desktop switches light/dark and the user chose "system"."""

    def __init__(self, app: QApplication, settings: Settings):
        super().__init__(app)  # lives as long as the app
        self.app, self.settings = app, settings

    @Slot(Qt.ColorScheme)
    def follow(self, _scheme) -> None:
        if self.settings.get("app/theme", "system") == "system":
            theme.apply_theme(self.app, "system")


def show_main_window(settings: Settings | None = None):
    """Build and show the window; the engine starts loading once the event loop turns."""
    from gui.main_window import MainWindow

    window = MainWindow(settings)
    window.show()
    QTimer.singleShot(ENGINE_DELAY_MS, window.start_engine_loading)
    return window


def run_app(argv: list[str]) -> int:
    """``python main.py`` with no arguments: run the app until its window closes."""
    settings = Settings()
    app = create_application(argv, settings)
    window = show_main_window(settings)  # noqa: F841 (kept alive for the event loop)
    return app.exec()
