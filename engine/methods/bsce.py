"""Balanced softmax cross-entropy (BSCE): CE on ``logits + log n_c``.

Ren et al., "Balanced Meta-Softmax for Long-Tailed Visual Recognition", NeurIPS 2020
(arXiv 2007.10740); official code github.com/jiawei-ren/BalancedMetaSoftmax-Classification,
``loss/BalancedSoftmaxLoss.py``: ``cross_entropy(logits + log(sample_per_class), labels)``.
Training fits ``softmax(z + log n)`` to the long-tailed label distribution, so the raw logits
``z`` estimate the balanced posterior; evaluation and inference use ``z`` unchanged.
No hyperparameters. The official loss takes no class weights; here a train rule's weights
(Reweight, DRW) are passed to CE's ``weight=`` like every cross-entropy-based loss in the engine,
and with the rule "none" the loss is exactly the official one.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.methods.base import LossMethod, register


@register
class BalancedSoftmaxCE(LossMethod):
    name = "bsce"
    title = "Balanced softmax CE (BSCE)"
    short_title = "BSCE"
    citation = "Ren et al., Balanced Meta-Softmax for Long-Tailed Visual Recognition, NeurIPS 2020, arXiv 2007.10740"

    def criterion(self, logits: torch.Tensor, labels: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits + self.class_counts.log(), labels, weight=self.class_weights)
