"""Logit-adjusted cross-entropy: CE on ``logits + τ·log π_c``, with π the training label prior.

Menon et al., "Long-tail learning via logit adjustment", ICLR 2021 (arXiv 2007.07314); official
code github.com/google-research/google-research/tree/master/logit_adjustment (``utils.py``,
``build_loss_fn``: ``logits + log(base_probs**tau + 1e-12)``; ``main.py``: ``--tau`` default 1.0).
τ = 1 is the paper's and the code's default; with τ = 1 the loss equals balanced softmax CE,
because adding the constant ``log Σ n`` to every logit leaves softmax unchanged. Evaluation uses
the raw logits (the paper's "loss" mode; no post-hoc shift). The 1e-12 guard of the official
code is left out: every class has at least one training image, so log π is finite. A train
rule's class weights, if any, are CE's ``weight=`` (the official code has none).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.methods.base import LossMethod, register


@register
class LogitAdjustedCE(LossMethod):
    name = "logit_adjust"
    title = "Logit-adjusted CE"
    short_title = "LA"
    citation = "Menon et al., Long-tail learning via logit adjustment, ICLR 2021, arXiv 2007.07314"
    defaults = {"tau": 1.0}
    param_ranges = {"tau": (0.0, 10.0)}
    param_labels = {"tau": "Prior shift τ"}
    param_help = {"tau": "τ, the strength of the prior shift log π_c added to the logits (paper: 1)"}

    def criterion(self, logits: torch.Tensor, labels: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        log_prior = (self.class_counts / self.class_counts.sum()).log()
        return F.cross_entropy(logits + self.params["tau"] * log_prior, labels, weight=self.class_weights)
