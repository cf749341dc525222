"""Focal loss: cross-entropy scaled down on well-classified samples by ``(1 − p_y)^γ``.

Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017 (arXiv 1708.02002). The
long-tail version used here is LDAM-DRW's baseline (Cao et al., NeurIPS 2019, arXiv 1906.07413,
github.com/kaidic/LDAM-DRW, ``losses.py`` ``FocalLoss``; ``cifar_train.py`` builds it with
``gamma=1``): per-sample loss ``w_y · (1 − p_y)^γ · (−log p_y)``, averaged over the batch
(a plain mean, not CE's weight-normalised mean), gradients flowing through the modulating factor.

γ = 1 by default: it is what LDAM-DRW's CIFAR-LT protocol ran and reported as "Focal", the
protocol this engine reproduces. The focal paper's γ = 2 was tuned for dense detection, where
easy background anchors outnumber objects by orders of magnitude; set ``gamma`` to 2 for it.

Class weights (Reweight, DRW): the paper's α-balanced form ``α_y (1 − p_y)^γ (−log p_y)`` is
followed. LDAM-DRW's code instead feeds the *weighted* CE into ``p = exp(−CE)``, which makes the
modulating factor ``1 − p_y^{w_y}``, so the weights would also change how "easy" a sample looks.
Without weights (rule "none") both are identical.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.methods.base import LossMethod, register


@register
class FocalLoss(LossMethod):
    name = "focal"
    title = "Focal loss"
    short_title = "Focal"
    citation = "Lin et al., Focal Loss for Dense Object Detection, ICCV 2017, arXiv 1708.02002"
    defaults = {"gamma": 1.0}
    param_ranges = {"gamma": (0.0, 10.0)}
    param_labels = {"gamma": "Focusing power γ"}
    param_help = {"gamma": "γ, focusing power of (1 − p)^γ (LDAM-DRW's CIFAR protocol: 1; focal paper: 2)"}

    def criterion(self, logits: torch.Tensor, labels: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        nll = F.cross_entropy(logits, labels, reduction="none")
        p_true = torch.exp(-nll)
        per_sample = (1.0 - p_true) ** self.params["gamma"] * nll
        if self.class_weights is not None:
            per_sample = self.class_weights[labels] * per_sample
        return per_sample.mean()
