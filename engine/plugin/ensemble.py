"""The ensemble trick of "No One Left Behind" and an automatic choice of its temperatures.

Du & Wu (CVPR 2023, arXiv 2303.03630) predict with ``½·[softmax(z_new/t1) + softmax(z_old/t2)]``:
the re-trained classifier (z_new) and the untouched original one (z_old). t1 and t2 are user
settings there. Beyond the paper, ``search_temperatures`` tries every pair of a grid on a
validation split, each by the ensemble's own rule (``engine.prediction.ensemble_probabilities``),
and keeps the one with the highest harmonic mean (HM) of per-class recalls.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from engine.metrics import ValidationScore
from engine.prediction import ensemble_probabilities

TEMPERATURE_GRID = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)


@dataclass(frozen=True)
class TemperatureChoice:
    t1: float
    t2: float
    hm: float  # on the validation split
    zero_recall: int
    mean_recall: float


def search_temperatures(new_logits: torch.Tensor, old_logits: torch.Tensor, labels: torch.Tensor,
                        grid: tuple[float, ...] = TEMPERATURE_GRID) -> TemperatureChoice:
    """The grid pair (t1, t2) whose ensemble scores best on ``labels`` (``ValidationScore``: HM,
    then fewer zero-recall classes, then mean recall), ties broken by the pair nearest to (1, 1)
    on a log scale (the plain average of the two models)."""
    best_key, best = None, None
    for t1 in grid:
        for t2 in grid:
            score = ValidationScore.of(ensemble_probabilities(new_logits, old_logits, t1, t2), labels)
            distance = abs(math.log(t1)) + abs(math.log(t2))
            key = (*score.key(), -distance)
            if best_key is None or key > best_key:
                best_key, best = key, TemperatureChoice(t1, t2, score.hm, score.zero_recall, score.mean_recall)
    assert best is not None, "the temperature grid is empty"
    return best
