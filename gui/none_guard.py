"""Keep ``None``, ``True`` and ``False`` alive under shiboken6 6.12 on Python 3.11.

Every Qt method that returns nothing (``setItem``, ``setData``, ``update``…) hands Python a
``None`` without the reference that goes with it, and every emission of a ``Signal(bool)`` to a
Python slot does the same with ``True`` or ``False``. On Python 3.12 and later ``None`` is immortal
and nothing happens; on 3.11 each such call takes one reference from ``None``, and after some
hundred thousand calls the interpreter aborts with "Fatal Python error: none_dealloc: deallocating
None". Measured here (PySide6 6.12.0, Python 3.11.7): ``QStandardItem.setEditable`` 1,000 times
lowers ``sys.getrefcount(None)`` by 1,000; the GUI test suite drained ~100,000 of the ~145,000
references None had, and a long training run in the app drains a few thousand per epoch.

``keep_none_alive`` does what 3.12 does: it gives these three objects so many references (2^40)
that no session can use them up. It changes nothing else, and nothing on 3.12+. It is a
workaround for a bug in the binding, not in this code (a bare script of ``setEditable`` calls or
``Signal(bool)`` emissions aborts the same way): delete it once PySide6 fixes the leak or the app
requires Python 3.12. ``tests/test_gui_app.py`` runs 40,000 such calls in a fresh process.
"""
from __future__ import annotations

import ctypes
import sys

IMMORTAL = 1 << 40
SINGLETONS = (None, True, False)  # immortal from Python 3.12 on


def keep_none_alive() -> None:
    """Raise the reference counts of None, True and False out of reach (Python 3.11 and earlier;
    idempotent)."""
    if sys.version_info >= (3, 12):
        return
    for singleton in SINGLETONS:
        count = ctypes.c_ssize_t.from_address(id(singleton))  # ob_refcnt, the first field of every object
        if count.value < IMMORTAL:
            count.value += IMMORTAL
