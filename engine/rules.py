"""Train rules: None, Resample, Reweight and DRW (deferred re-weighting).

As in LDAM-DRW's ``cifar_train.py`` (Cao et al., NeurIPS 2019, arXiv 1906.07413,
github.com/kaidic/LDAM-DRW):

- none: instance sampling, no class weights.
- resample: class-balanced sampling (``data/samplers.py``), no class weights. (In LDAM-DRW's
  script the resample loader is built but never used; here it really samples class-balanced.)
- reweight: effective-number class weights from the first epoch on.
- drw: no weights before ``drw_epoch``, the same weights from it on. LDAM-DRW picks
  ``betas[epoch // 160]`` on 0-based epochs, so the weights start at 0-based epoch 160 (the
  161st epoch), the epoch its learning rate drops ×0.01. Before that β = 0 makes every weight 1,
  the same as no weights. The trainer passes its first decay epoch, which is 160 of 200.

Effective-number weights (Cui et al., "Class-Balanced Loss Based on Effective Number of
Samples", CVPR 2019, arXiv 1901.05555): ``w_c = (1 − β) / (1 − β^n_c)``, normalised to sum to the
number of classes C, with β = 0.9999.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from errors import UserError

if TYPE_CHECKING:
    from engine.methods.base import Method

# name → title: the choices of ``method.train_rule``
RULES = {"none": "None", "resample": "Resample (class-balanced sampling)", "reweight": "Reweight (effective number)",
         "drw": "DRW (deferred re-weighting)"}


class TrainRule:
    """Which sampler an epoch uses and which class weights the loss gets."""

    def __init__(self, name: str, class_counts: torch.Tensor, beta: float = 0.9999, drw_epoch: int = 160):
        name = name.lower()
        if name not in RULES:
            raise UserError(f"unknown train rule {name!r}; choose one of {', '.join(RULES)}")
        if name in ("reweight", "drw") and (class_counts < 1).any():
            empty = int(torch.nonzero(class_counts < 1)[0])
            raise UserError(f"class {empty} has no training image, so {name} cannot weight it; "
                            "remove the empty class or choose another train rule")
        self.name = name
        self.drw_epoch = drw_epoch
        self.weights = effective_number_weights(class_counts, beta)

    def sampler(self, epoch: int) -> str:
        """The sampler name for a 0-based epoch: ``"instance"`` or ``"class_balanced"``."""
        return "class_balanced" if self.name == "resample" else "instance"

    def class_weights(self, epoch: int) -> torch.Tensor | None:
        """Per-class loss weights for a 0-based epoch, or None when the rule weights nothing."""
        if self.name == "reweight" or (self.name == "drw" and epoch >= self.drw_epoch):
            return self.weights
        return None

    def apply(self, method: Method, epoch: int) -> None:
        """Set ``method.class_weights`` for this epoch, on the device of the method's tensors."""
        weights = self.class_weights(epoch)
        method.class_weights = None if weights is None else weights.to(method.class_counts.device)


def effective_number_weights(class_counts: torch.Tensor, beta: float) -> torch.Tensor:
    """``(1 − β) / (1 − β^n_c)`` normalised to sum to C, in float32."""
    counts = class_counts.to(torch.float64)
    weights = (1.0 - beta) / (1.0 - torch.pow(beta, counts))
    return (weights / weights.sum() * len(counts)).to(torch.float32)
