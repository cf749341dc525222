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


def tiny_demo_config(tmp_path, epochs: int = 2, **overrides) -> RunConfig:
    """The offline demo, made tiny: ResNet-20 on the digits at their own 8×8, large batches, few epochs."""
    config = RunConfig(
        data=DataConfig(dataset="demo", imbalance_ratio=50.0, image_size=8),
        model=ModelConfig(arch="resnet20"),
        optim=OptimConfig(epochs=epochs, batch_size=128, lr=0.05, warmup_epochs=0),
        runs_dir=str(tmp_path / "runs"), experiment="gui-test", device="cpu", amp=False,
    )
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


def open_error_boxes() -> list:
    from gui import errors

    return list(errors._open_boxes.values())
