"""What long tasks report while they run. Plain data: the CLI prints it, the GUI plots it."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Union

from engine.metrics import Metrics


@dataclass
class DatasetReady:
    """The data is loaded: class names and training counts, in the model's class order."""

    name: str
    class_names: list[str]
    class_counts: list[int]


@dataclass
class Progress:
    """A batch finished. ``epoch`` is 1-based; ``stage`` is "train", "eval" or a task's own word
    (for "features", ``epoch`` / ``epochs`` count the feature passes)."""

    epoch: int
    epochs: int
    batch: int
    batches: int
    stage: str = "train"
    stage_name: str = ""  # in a run of several stages: the one running, e.g. "2/2 classifier"


@dataclass
class EpochEnd:
    """An epoch finished: its learning rate, running train metrics and test metrics."""

    epoch: int
    epochs: int
    lr: float
    train: Metrics
    test: Metrics
    seconds: float
    is_best: bool = False
    stage: str = ""  # the stage's name
    stage_name: str = ""  # in a run of several stages: its place and name, e.g. "2/2 classifier"
    split: str = "test"  # the held-out split ``test`` measures: "val" when the dataset has a validation split


@dataclass
class RunStarted:
    """The run folder the run writes: created, or opened to resume."""

    run_dir: Path


@dataclass
class Message:
    """A line for the log pane or the terminal."""

    text: str
    level: str = "info"  # info | warning


@dataclass
class RunResult:
    """What a finished (or stopped) run leaves behind."""

    run_dir: Path | None
    stopped: bool
    epochs_done: int
    best_epoch: int | None = None
    best: dict = field(default_factory=dict)  # summary metrics of the best epoch
    final: Metrics | None = None  # the last epoch's held-out metrics (the validation split when there is one)
    test: Metrics | None = None  # with a validation split: best.pt measured once on the test split


Event = Union[DatasetReady, RunStarted, Progress, EpochEnd, Message]
EventSink = Callable[[Event], None]
StopFlag = Callable[[], bool]


def ignore_event(_event: Event) -> None:
    """The default sink."""


def never_stop() -> bool:
    return False


class RunStopped(Exception):
    """Raised inside a task when its stop flag was set; the task cleans up and returns."""
