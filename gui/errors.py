"""The one error path: worker failures and uncaught exceptions end here.

A :class:`errors.UserError` shows its message only (the user can fix it); anything else
shows a short message with the traceback behind "Show Details…". Every report is appended to
``<workspace>/logs/app.log``. Boxes open non-modally (``open()``), so no nested event loop
runs and tests never block; an identical message that is still on screen is not repeated.
"""
from __future__ import annotations

import sys
import threading
import time
import traceback
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from errors import UserError
from engine import workspace

LOG_FILE = "app.log"
_open_boxes: dict[str, QMessageBox] = {}


def log_path() -> Path:
    return workspace.logs_dir() / LOG_FILE


def write_log(text: str) -> None:
    """Append one entry to the app log; logging must never raise into the caller."""
    try:
        with open(log_path(), "a", encoding="utf-8") as handle:
            handle.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {text.rstrip()}\n")
    except OSError:
        pass


def format_traceback(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def message_text(error: BaseException) -> str:
    """A user error's message in the user's language: translated when the engine made it from one of
    its templates (``engine.knobs.ConfigError.templated``), else as the engine wrote it (English)."""
    template = getattr(error, "template", "")
    if not template:
        return getattr(error, "message", None) or str(error)
    return QCoreApplication.translate("Settings", template).format(**error.values)


def report_error(exc: BaseException, parent: QWidget | None = None, context: str = "",
                 details: str | None = None) -> QMessageBox | None:
    """Log ``exc`` and show it; returns the box (``None`` when the same one is already open)."""
    user_error = isinstance(exc, UserError)
    message = str(exc) or type(exc).__name__
    if getattr(exc, "template", ""):
        message = f"{exc.field_name}: {message_text(exc)}"
    if not user_error:
        message = f"{type(exc).__name__}: {message}"
    if context:
        headline = QCoreApplication.translate("Errors", "{0} failed").format(context)
    elif user_error:
        headline = QCoreApplication.translate("Errors", "Please check")
    else:
        headline = QCoreApplication.translate("Errors", "Something went wrong")
    details = (getattr(exc, "details", None) or None) if user_error else (details or format_traceback(exc))
    write_log(f"{headline}: {message}" + (f"\n{details}" if details else ""))
    key = f"{headline}\n{message}"
    if key in _open_boxes or QApplication.instance() is None:
        return None
    box = QMessageBox(QMessageBox.Icon.Warning if user_error else QMessageBox.Icon.Critical, "Long-Tail Studio",
                      headline, QMessageBox.StandardButton.Ok, parent)
    box.setInformativeText(message if user_error else "{0}\n\n{1}".format(
        message, QCoreApplication.translate("Errors", "The details are also in {0}.").format(log_path())))
    if details:
        box.setDetailedText(details)
    box.setObjectName("errorBox")
    _open_boxes[key] = box
    box.finished.connect(_BoxCloser(key, box).close)
    box.open()
    return box


class _BoxCloser(QObject):
    """Forgets a box when it closes (a slot object, so no lambda holds the box)."""

    def __init__(self, key: str, box: QMessageBox):
        super().__init__(box)
        self.key = key

    @Slot(int)
    def close(self, _result: int) -> None:
        box = _open_boxes.pop(self.key, None)
        if box is not None:
            box.deleteLater()


class _Relay(QObject):
    """Carries exceptions raised on other threads to the GUI thread."""

    raised = Signal(object)

    @Slot(object)
    def show(self, exc: BaseException) -> None:
        report_error(exc, QApplication.activeWindow())


_relay: _Relay | None = None


def install_excepthook() -> None:
    """Route uncaught exceptions (GUI thread and Python threads) to :func:`report_error`."""
    global _relay
    _relay = _Relay()
    _relay.raised.connect(_relay.show)

    def hook(kind, exc, tb):
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        exc = exc if exc is not None else kind()
        exc.__traceback__ = exc.__traceback__ or tb
        app = QApplication.instance()
        if app is not None and QThread.currentThread() is app.thread():
            report_error(exc, QApplication.activeWindow())
        else:
            _relay.raised.emit(exc)

    sys.excepthook = hook
    threading.excepthook = lambda args: hook(args.exc_type, args.exc_value, args.exc_traceback)
