"""LADE: balanced-softmax CE plus the label-distribution-disentangling regulariser.

Hong et al., "Disentangling Label Distribution for Long-tailed Visual Recognition", CVPR 2021
(arXiv 2012.00321); official code github.com/hyperconnect/LADE (``loss/PriorCELoss.py``,
``loss/LADELoss.py``, ``config/CIFAR100_LT/lade.yaml``). The loss is
``PriorCE + α · LADE``:

- PriorCE ("LADE-CE"): ``CE(logits + log π_c)``, π the training label prior.
- LADE: for each class c, with the batch's n_c samples of class c and its N samples in all,
  the regularised Donsker–Varadhan bound
  ``B_c = mean_{i: y_i=c} z_ic − S_c − λ·S_c²``, ``S_c = logsumexp_i(z_ic − log π_c − log C) − log N``,
  and the regulariser ``−Σ_c π_c · B_c``. As in the official code the sum runs over every class:
  a class absent from the batch has a zero first term but still contributes ``S_c``.

Defaults, CIFAR-100-LT at imbalance ratio 100: ``alpha`` 0.1 and ``remine_lambda`` 0.01, the
official README's command for that setting (``--cifar_imb_ratio 0.01 --remine_lambda 0.01
--alpha 0.1``). ``lade.yaml`` holds ``remine_lambda: 0.1``, but that file is set up for
``cifar_imb_ratio: 0.1`` (ratio 10) and the README overrides λ for ratio 100.
The official code adds 1e-9 inside its logarithms; counts are ≥ 1 here, so it is left out.
The train rule's class weights, if any, weight the PriorCE term (the official code has none);
the regulariser is already weighted by π. Evaluation uses the raw logits, as the official code.

Several GPUs: the official code wraps the network in ``nn.DataParallel`` and computes both terms
on the logits DataParallel gathered, i.e. over the **global** batch (256 on ImageNet-LT). In a run
of several processes here every rank gathers the logits (with their gradient) and labels of all
ranks and computes that same loss (``engine.distributed.collectives.gather_rows_with_grad``).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from engine.distributed.collectives import gather_rows, gather_rows_with_grad
from engine.methods.base import LossMethod, register


@register
class LADELoss(LossMethod):
    name = "lade"
    title = "LADE"
    short_title = "LADE"
    citation = ("Hong et al., Disentangling Label Distribution for Long-tailed Visual Recognition, "
                "CVPR 2021, arXiv 2012.00321")
    defaults = {"alpha": 0.1, "remine_lambda": 0.01}
    param_ranges = {"alpha": (0.0, 10.0), "remine_lambda": (0.0, 10.0)}
    param_labels = {"alpha": "Regulariser weight α", "remine_lambda": "Bound penalty λ"}
    param_help = {
        "alpha": "α, weight of the LADE regulariser added to the prior CE (official CIFAR-100-LT: 0.1)",
        "remine_lambda": "λ of the regularised DV bound, penalising S_c² (official CIFAR-100-LT, ratio 100: 0.01)",
    }

    def criterion(self, logits: torch.Tensor, labels: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        logits, labels = gather_rows_with_grad(logits.float()), gather_rows(labels)  # the global batch
        prior = self.class_counts / self.class_counts.sum()
        log_prior = prior.log()
        prior_ce = F.cross_entropy(logits + log_prior, labels, weight=self.class_weights)
        return prior_ce + self.params["alpha"] * self._regulariser(logits, labels, prior, log_prior)

    def _regulariser(self, logits: torch.Tensor, labels: torch.Tensor, prior: torch.Tensor,
                     log_prior: torch.Tensor) -> torch.Tensor:
        batch, num_classes = logits.shape
        own = F.one_hot(labels, num_classes).to(logits.dtype)
        in_batch = own.sum(dim=0)
        own_mean = (logits * own).sum(dim=0) / in_batch.clamp(min=1.0)
        spread = torch.logsumexp(logits - log_prior - math.log(num_classes), dim=0) - math.log(batch)
        bound = own_mean - spread - self.params["remine_lambda"] * spread ** 2
        return -(prior * bound).sum()
