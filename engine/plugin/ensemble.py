"""The ensemble trick of "No One Left Behind" and an automatic choice of its temperatures.

Du & Wu (CVPR 2023, arXiv 2303.03630) predict with ``½·[softmax(z_new/t1) + softmax(z_old/t2)]``:
the re-trained classifier (z_new) and the untouched original one (z_old). t1 and t2 are user
settings there. Beyond the paper, ``search_temperatures`` tries every pair of a grid on a
held-out split, each by the ensemble's own rule (``engine.prediction.ensemble_probabilities``),
and keeps the one with the highest harmonic mean (HM) of per-class recalls.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from engine.metrics import class_recalls, harmonic_mean
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
    """The grid pair (t1, t2) whose ensemble has the highest HM on ``labels``.

    HM is 0 as soon as one class has zero recall, which is common on a small validation split,
    so ties are broken by fewer zero-recall classes, then by mean recall, then by the pair
    nearest to (1, 1) on a log scale (the plain average of the two models). Classes without a
    validation sample are left out of every score.
    """
    num_classes = new_logits.shape[1]
    labels = labels.cpu()
    best_key, best = None, None
    for t1 in grid:
        for t2 in grid:
            predictions = ensemble_probabilities(new_logits, old_logits, t1, t2).argmax(dim=1).cpu()
            recalls = class_recalls(labels, predictions, num_classes)
            recalls = recalls[~torch.isnan(recalls)]
            choice = TemperatureChoice(t1, t2, harmonic_mean(recalls), int((recalls == 0).sum()),
                                       float(recalls.mean()))
            distance = abs(math.log(t1)) + abs(math.log(t2))
            key = (choice.hm, -choice.zero_recall, choice.mean_recall, -distance)
            if best_key is None or key > best_key:
                best_key, best = key, choice
    assert best is not None, "the temperature grid is empty"
    return best
