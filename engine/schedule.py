"""Learning-rate schedules, as a pure function of the epoch (so resuming needs no state).

``step`` is LDAM-DRW's ``adjust_learning_rate`` (github.com/kaidic/LDAM-DRW, train.py): with
1-based epoch e, lr = base·e/5 for e ≤ 5, base·0.0001 for e > 180, base·0.01 for e > 160, else
base. ``cosine`` keeps the same warm-up and then follows half a cosine to zero (without warm-up
it is MiSLAS stage 2's ``lr·½(1 + cos(π·e/E))`` for 0-based e); ``constant`` keeps ``lr``.
"""
from __future__ import annotations

import math

from engine.config import OptimConfig


def learning_rate(optim: OptimConfig, epoch: int) -> float:
    """The learning rate of 0-based ``epoch``."""
    e = epoch + 1
    if optim.warmup_epochs and e <= optim.warmup_epochs:
        return optim.lr * e / optim.warmup_epochs
    if optim.schedule == "constant":
        return optim.lr
    if optim.schedule == "cosine":
        span = max(1, optim.epochs - optim.warmup_epochs)
        return optim.lr * 0.5 * (1 + math.cos(math.pi * (e - optim.warmup_epochs - 1) / span))
    factor = 1.0
    for decay_epoch, decay_factor in zip(optim.decay_epochs(), optim.decay_factors):
        if e > decay_epoch:
            factor = decay_factor
    return optim.lr * factor
