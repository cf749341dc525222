"""View → Language: System / English / 简体中文, stored in the settings and applied on restart.

Choosing a language stores it (``app/language``) and asks whether to restart now; yes closes the
window as usual (asking first during a run) and starts the app again with the same arguments.
"""
from __future__ import annotations

import os
import sys

from PySide6.QtCore import QCoreApplication, QObject, QProcess, Slot
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMainWindow, QMenu, QMessageBox

from gui import i18n
from gui.settings import Settings


class LanguageMenu(QObject):
    """The Language sub-menu of ``parent_menu``; ``window`` (its parent) closes for a restart. It
    holds no Python reference to the window: a reference cycle would leave the window to the cyclic
    garbage collector, which tears pyqtgraph's items apart in any order."""

    def __init__(self, window: QMainWindow, parent_menu: QMenu, settings: Settings):
        super().__init__(window)
        self.settings = settings
        self.menu = parent_menu.addMenu(self.tr("&Language"))
        self.group = QActionGroup(self)
        current = self.chosen()
        for key, name in i18n.LANGUAGES.items():
            action = QAction(QCoreApplication.translate("Language", name), self, checkable=True)
            action.setData(key)
            action.setChecked(key == current)
            self.group.addAction(action)
            self.menu.addAction(action)
        self.group.triggered.connect(self.choose)

    def chosen(self) -> str:
        return self.settings.get(i18n.LANGUAGE_KEY, i18n.SYSTEM)

    @Slot(QAction)
    def choose(self, action: QAction) -> None:
        key = action.data()
        if key == self.chosen():
            return
        self.settings.set(i18n.LANGUAGE_KEY, key)
        self.settings.sync()
        answer = QMessageBox.question(
            self.parent(), self.tr("Language"),
            self.tr("The language changes when Long-Tail Studio starts again. Restart now?"),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        if answer == QMessageBox.StandardButton.Yes:
            self.restart()

    def restart(self) -> bool:
        """Close the window (it may refuse, e.g. when a run is not to be stopped); if it closed,
        start the app again with the same arguments. Returns whether it restarts."""
        if not self.parent().close():
            return False
        program, arguments = restart_command()
        return QProcess.startDetached(program, arguments, os.getcwd())[0]


def restart_command() -> tuple[str, list[str]]:
    """How this app was started: the bundle's executable, or Python with main.py and the arguments."""
    if getattr(sys, "frozen", False):
        return sys.executable, sys.argv[1:]
    return sys.executable, list(sys.argv)
