"""Weight balancing's second stage as a plug-in repair: class-balanced loss, strong weight decay, MaxNorm.

Alshammari et al., "Long-Tailed Recognition via Weight Balancing", CVPR 2022 (arXiv 2203.14197);
official code github.com/ShadeAlsha/LTR-weight-balancing (read at e89f2927; nothing copied),
``demo2_second-stage-training.py`` with ``utils/class_balanced_loss.py`` and
``utils/regularizers.py``. Stage 2 fine-tunes only the classifier (weight and bias) of the
stage-1 model (CE with weight decay 5e-3: the ``cifar100-wb-stage1`` preset of the ordinary
trainer) with:

- the loss ``CB_loss(..., "softmax", beta=0.9999, gamma=2.0)``, which is **not** softmax
  cross-entropy: it is binary cross-entropy on the softmax probabilities against the one-hot
  label, weighted per sample by the true class's class-balanced weight
  ``w_c = (1 − β)/(1 − β^{n_c})`` (normalised to sum to C) and averaged over all B·C entries:
  ``L = mean_{i,c} w_{y_i}·[−1{c=y_i}·log p_ic − 1{c≠y_i}·log(1 − p_ic)]``, each log clamped at
  −100 as PyTorch's ``binary_cross_entropy`` does. **The focal γ = 2 it is given is unused**: only
  the loss's "focal" branch reads γ, so there is no focal term (γ = 0). The train rule's class
  weights are ignored (the CB weights are the method's own);
- SGD lr 0.01, momentum 0.9, weight decay 0.1 (bias included), cosine over 10 epochs, batch 64,
  instance sampling (the ``plugin-wb`` preset);
- MaxNorm (``engine.hooks.MaxNorm``, the plug-in's ``max_norm`` = 0.1): each class's weight norm
  capped at ``min + 0.1·(max − min)`` of the stage-1 class norms (the official threshold is
  relative, ``setPerLayerThresh``). The official loop projects once per epoch, the paper (and the
  first author, issue #5) after every step; the preset projects after every step and
  ``max_norm_every = "epoch"`` gives the code's rule.

Deviations: the official backbone is a torchvision ResNet-34 with a 3×3 stem (the project's
CIFAR presets use ResNet-32), its cosine schedule steps before each epoch (the last epoch runs at
lr 0), its frozen backbone's BatchNorm statistics keep updating in train mode (the plug-in trains
on cached features of a frozen backbone), and it keeps the epoch with the best *test* accuracy
(the plug-in reports its last epoch).
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import torch
import torch.nn.functional as F

from engine.methods.base import LossMethod, register
from engine.rules import effective_number_weights

LOG_CLAMP = -100.0  # torch.nn.functional.binary_cross_entropy clamps each log at −100


def class_balanced_softmax_bce(logits: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """The official CB "softmax" loss: BCE of softmax(z) against one-hot labels, weighted by the
    true class's weight, mean over the B·C entries. Computed from log-probabilities (so it also runs
    under autocast, where ``binary_cross_entropy`` is refused) in float64, where a clamped log has a
    zero gradient rather than NaN."""
    log_p = F.log_softmax(logits.float(), dim=1).double()  # float64: e^−100 and its reciprocal are finite
    log_not_p = torch.log(torch.clamp_min(-torch.expm1(log_p), math.exp(LOG_CLAMP)))  # log(1 − p) ≥ −100
    one_hot = F.one_hot(labels, logits.shape[1]).to(log_p.dtype)
    entries = -(one_hot * log_p.clamp_min(LOG_CLAMP) + (1 - one_hot) * log_not_p)
    return (weights[labels].to(log_p.dtype)[:, None] * entries).mean().float()


@register
class WeightBalancing(LossMethod):
    name = "wb"
    title = "WB: weight balancing, stage 2"
    short_title = "WB"
    citation = "Alshammari et al., Long-Tailed Recognition via Weight Balancing, CVPR 2022, arXiv 2203.14197"
    repair_only = True
    repair_heads = ("linear", "lws")  # weight decay and MaxNorm act on the norms of a plain classifier
    defaults = {"beta": 0.9999}
    param_help = {"beta": "β of the class-balanced weights (1 − β)/(1 − β^n) (official: 0.9999)"}
    param_labels = {"beta": "Class-balance β"}
    param_ranges = {"beta": (0.0, 0.999999)}

    def __init__(self, class_counts: torch.Tensor, params: Mapping[str, float] | None = None,
                 total_epochs: int = 200):
        super().__init__(class_counts, params, total_epochs)
        self.balanced_weights = effective_number_weights(self.class_counts, self.params["beta"])

    def criterion(self, logits: torch.Tensor, labels: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        return class_balanced_softmax_bce(logits, labels, self.balanced_weights)
