"""Shared test set-up: offscreen Qt, a temporary workspace, few CPU threads."""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads: spin-waiting stalls a busy 2-core box
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(min(2, os.cpu_count() or 1))

from gui.none_guard import keep_none_alive  # noqa: E402

keep_none_alive()  # as the app does: shiboken6 6.12 on Python 3.11 drops a reference to None per void call

SHARED_CHECKPOINTS = ROOT.parent / "shared" / "checkpoints"


@pytest.fixture(scope="session", autouse=True)
def session_workspace(tmp_path_factory) -> Path:
    """A workspace for what runs before a test's own (module-scoped fixtures), so nothing the session
    does touches the user's files."""
    with pytest.MonkeyPatch.context() as patch:
        root = tmp_path_factory.mktemp("session-workspace")
        patch.setenv("LTS_WORKSPACE", str(root))
        yield root


@pytest.fixture(autouse=True)
def workspace(tmp_path_factory, monkeypatch) -> Path:
    """Every test gets its own empty workspace, so nothing touches the user's files."""
    root = tmp_path_factory.mktemp("workspace")
    monkeypatch.setenv("LTS_WORKSPACE", str(root))
    return root


@pytest.fixture(scope="session", autouse=True)
def bf16_measured_slower():
    """Tests run as on a machine where bf16 convolutions measured slower than fp32, so "auto" precision
    is fp32 and nothing is timed (engine/precision_probe.py), module-scoped fixtures included; a bf16
    test asks for bf16 itself."""
    from engine import precision_probe

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(precision_probe, "measure", lambda shapes, threads: {
            shape: precision_probe.KernelTimes(fp32=1.0, bf16=2.0) for shape in shapes})
        yield


@pytest.fixture(autouse=True)
def garbage_collected_on_the_gui_thread(request):
    """Qt tests collect garbage on the GUI thread only, as the app does (gui/gc_guard.py)."""
    if "qtbot" not in request.fixturenames and "qapp" not in request.fixturenames:
        yield
        return
    from gui import gc_guard

    guard = gc_guard.install(request.getfixturevalue("qapp"))
    yield
    guard.uninstall()


@pytest.fixture(autouse=True)
def english_app(request):
    """Qt tests run in English, whatever the machine's language: the app's English catalogue is
    installed as ``python main.py`` on an English system does; a test that switches the language
    (tests/test_i18n.py) is switched back afterwards."""
    if "qtbot" not in request.fixturenames and "qapp" not in request.fixturenames:
        yield
        return
    from gui import i18n

    app = request.getfixturevalue("qapp")
    i18n.install_translators(app, i18n.ENGLISH)  # a no-op unless a test switched the language
    yield
    i18n.install_translators(app, i18n.ENGLISH)


@pytest.fixture
def shared_checkpoint():
    """Path to one of the earlier project's real checkpoints (skips if ../shared is absent)."""
    def get(name: str) -> Path:
        path = SHARED_CHECKPOINTS / name
        if not path.exists():
            pytest.skip(f"{path} not available")
        return path
    return get
