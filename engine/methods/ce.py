"""Plain cross-entropy, the baseline every long-tail method is compared with.

The CE baseline of LDAM-DRW's CIFAR-LT protocol (Cao et al., NeurIPS 2019, arXiv 1906.07413,
github.com/kaidic/LDAM-DRW, ``cifar_train.py``: ``nn.CrossEntropyLoss(weight=per_cls_weights)``).
The train rule's class weights (Reweight, DRW) become CE's ``weight=``, so "CE + DRW" and
"CE + Reweight" are this module plus a rule. No hyperparameters.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.methods.base import LossMethod, register


@register
class CrossEntropy(LossMethod):
    name = "ce"
    title = "Cross-entropy (CE)"
    short_title = "CE"
    citation = "Standard softmax cross-entropy; CIFAR-LT protocol of Cao et al., NeurIPS 2019"

    def criterion(self, logits: torch.Tensor, labels: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits, labels, weight=self.class_weights)
