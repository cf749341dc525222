"""LDAM: label-distribution-aware margins on a cosine classifier (LDAM-DRW = this + the DRW rule).

Cao et al., "Learning Imbalanced Datasets with Label-Distribution-Aware Margin Loss", NeurIPS
2019 (arXiv 1906.07413); official code github.com/kaidic/LDAM-DRW (``losses.py`` ``LDAMLoss``,
``cifar_train.py``: ``LDAMLoss(max_m=0.5, s=30)`` with the ``NormedLinear`` head when the loss is
LDAM). The head outputs cosines; class c gets the margin ``m_c ∝ n_c^(-1/4)``, scaled so the
rarest class has ``max_margin`` (0.5), and the loss is
``CE(s · (cos − m_y on the target column only), weight=class_weights)`` with ``s = 30``.
The paper writes the margin as C/n_c^(1/4) with C tuned; the code's normalisation to a maximum
of 0.5 is what was run, and is followed. Evaluation and inference rank by ``s · cos``
(``logit_scale = s``): the ranking is the cosine ranking, and softmax gets the trained scale.
Deferred re-weighting (DRW) lives in ``engine/rules.py``; it sets ``class_weights`` from epoch 160.
"""
from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F

from engine.methods.base import LossMethod, register


def ldam_margins(class_counts: torch.Tensor, max_margin: float = 0.5) -> torch.Tensor:
    """LDAM's margins ``m_c ∝ n_c^(−1/4)``, the rarest class getting ``max_margin`` (RIDE uses them too)."""
    inverse_fourth_root = class_counts.to(torch.float32) ** -0.25
    return inverse_fourth_root * (max_margin / inverse_fourth_root.max())


@register
class LDAMLoss(LossMethod):
    name = "ldam"
    title = "LDAM (cosine head)"
    short_title = "LDAM"
    citation = ("Cao et al., Learning Imbalanced Datasets with Label-Distribution-Aware Margin Loss, "
                "NeurIPS 2019, arXiv 1906.07413")
    head = "cosine"
    defaults = {"max_margin": 0.5, "scale": 30.0}
    param_ranges = {"max_margin": (0.0, 2.0), "scale": (1.0, 100.0)}
    param_labels = {"max_margin": "Largest margin", "scale": "Cosine scale s"}
    param_help = {
        "max_margin": "margin of the rarest class; the others get max_margin·(n_min/n_c)^(1/4) (paper code: 0.5)",
        "scale": "s, the scale of the cosine logits in training and evaluation (paper code: 30)",
    }

    def __init__(self, class_counts: torch.Tensor, params: Mapping[str, float] | None = None,
                 total_epochs: int = 200):
        super().__init__(class_counts, params, total_epochs)
        self.margins = ldam_margins(self.class_counts, self.params["max_margin"])
        self.logit_scale = self.params["scale"]

    def criterion(self, logits: torch.Tensor, labels: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        margined = logits - F.one_hot(labels, logits.shape[1]) * self.margins
        return F.cross_entropy(self.logit_scale * margined, labels, weight=self.class_weights)
