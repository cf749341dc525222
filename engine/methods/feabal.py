"""FeaBal, the feature-balanced loss: tail-class logits lowered by a stimulus ∝ 1 / ‖feature‖.

Li, Cheung and Jiang, "Feature-Balanced Loss for Long-Tailed Visual Recognition", ICME 2022
(arXiv 2305.10772); official code github.com/juyongjiang/FBL (``loss.py`` ``FeaBalLoss``,
``train.py``). Each class gets a strength ``s_c = (log n_max − log n_c) / (log n_max − log n_min)``
(0 for the largest class, 1 for the smallest) and training uses
``CE(z_c − t · λ · s_c / ‖f‖, weight=class_weights)`` on *every* class column, with f the
backbone's feature vector. To win against the lowered tail logits, the network must grow the
feature norm of tail samples. λ = 60 is the official value for CIFAR-10/100-LT (README, ``run.sh``,
``--lambda_`` default). Evaluation uses the raw logits (the official validation passes t = 0).

The curriculum t grows quadratically with the 0-based epoch e. The official code uses
``t = (e / (epochs − 10))²`` for 200 epochs, i.e. ``(e / 190)²``, reaching 1 ten epochs before the
end and ≈1.10 on the last epoch. Here the ramp length is ``0.95 · total_epochs``: identical for
200 epochs, and the same shape for shorter runs, where ``epochs − 10`` would be zero or negative
(the run configuration scales its learning-rate decay points the same way). The official
``1e-12`` guard on the norm is kept. With equal class counts every strength is 0 (no stimulus),
where the official normalisation would divide by zero.
"""
from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F

from engine.methods.base import LossMethod, register

NORM_EPSILON = 1e-12  # the official code's guard on the feature norm
RAMP_FRACTION = 0.95  # t reaches 1 after this fraction of the run (190 of 200 epochs, as the official code)


@register
class FeatureBalancedLoss(LossMethod):
    name = "feabal"
    title = "Feature-balanced loss (FeaBal)"
    short_title = "FeaBal"
    citation = "Li, Cheung and Jiang, Feature-Balanced Loss for Long-Tailed Visual Recognition, ICME 2022"
    defaults = {"lambda": 60.0}
    param_ranges = {"lambda": (0.0, 1000.0)}
    param_labels = {"lambda": "Tail stimulus λ"}
    param_help = {"lambda": "λ, strength of the tail stimulus λ·s_c/‖f‖, ramped in as (epoch / (0.95·epochs))² "
                            "(official CIFAR: 60)"}

    def __init__(self, class_counts: torch.Tensor, params: Mapping[str, float] | None = None,
                 total_epochs: int = 200):
        super().__init__(class_counts, params, total_epochs)
        log_counts = self.class_counts.log()
        gap = log_counts.max() - log_counts
        span = gap.max()
        self.strengths = gap / span if span > 0 else torch.zeros_like(gap)

    def curriculum(self) -> float:
        """t for the current epoch: 0 at the start, 1 at 95 % of the run, quadratic in between."""
        return (self.epoch / (RAMP_FRACTION * self.total_epochs)) ** 2

    def criterion(self, logits: torch.Tensor, labels: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        feature_norm = features.flatten(1).norm(dim=1, keepdim=True)
        stimulus = self.curriculum() * self.params["lambda"] * self.strengths / (feature_norm + NORM_EPSILON)
        return F.cross_entropy(logits - stimulus, labels, weight=self.class_weights)
