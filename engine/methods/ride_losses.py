"""The arithmetic of RIDE's objectives, as plain functions of logits (no model, no state).

Wang et al., ICLR 2021 (arXiv 2010.01809); github.com/frank-xwang/RIDE-LongTailRecognition,
``model/loss.py`` (``RIDELoss``, ``RIDELossWithDistill``) and
``model/ldam_drw_resnets/ea_resnet_cifar.py`` (the router's labels and loss). All logits here
are already × s (the model applies s = 30).
"""
from __future__ import annotations

import torch
from torch.nn import functional as F

from engine.methods.ldam import ldam_margins  # noqa: F401 (RIDE's margins are LDAM's)


def diversity_temperatures(class_counts: torch.Tensor, reweight_factor: float = 0.05) -> torch.Tensor:
    """RIDE's per-class temperature after the reweight epoch: ``v_c / max v`` with
    ``v_c = C·π_c·f + 1 − f`` (``π`` the class frequencies, ``f`` the reweight factor)."""
    prior = class_counts.to(torch.float32) / class_counts.sum()
    values = len(prior) * prior * reweight_factor + 1 - reweight_factor
    return values / values.max()


def margined(logits: torch.Tensor, labels: torch.Tensor, margins: torch.Tensor, scale: float) -> torch.Tensor:
    """Subtract ``s · m_y`` from each row's target logit (LDAM on already-scaled logits)."""
    return logits - F.one_hot(labels, logits.shape[1]) * (scale * margins)


def ride_loss(expert_logits: torch.Tensor, labels: torch.Tensor, margins: torch.Tensor, scale: float,
              class_weights: torch.Tensor | None, temperature: torch.Tensor | float,
              diversity_factor: float, mean_temperature: float | None = None) -> torch.Tensor:
    """``Σ_e [ CE_w(z^e − s·m_y) + λ · T̄² · KL(softmax(z̄/T) ‖ softmax(z^e/T)) ]``.

    ``expert_logits`` is ``(E, N, C)``; ``z̄`` their mean, detached inside the KL; ``T`` a scalar or
    one temperature per class (``T̄`` their mean: pass it as ``mean_temperature`` to spare reading it
    from the device); the KL is summed over classes and averaged over
    the batch; ``λ`` is ``diversity_factor`` (−0.45 in the CIFAR configs). As in the official code,
    a factor of 0 applies every expert's individual term to the mean logits instead.
    """
    mean = expert_logits.mean(0)
    if mean_temperature is None:
        mean_temperature = float(temperature.mean()) if isinstance(temperature, torch.Tensor) else float(temperature)
    if isinstance(temperature, torch.Tensor):
        temperature = temperature.view(1, -1)
    with torch.no_grad():
        ensemble = F.softmax(mean / temperature, dim=1)
    total = mean.new_zeros(())
    for logits in expert_logits:
        individual = mean if diversity_factor == 0 else logits
        total = total + F.cross_entropy(margined(individual, labels, margins, scale), labels, weight=class_weights)
        kl = F.kl_div(F.log_softmax(logits / temperature, dim=1), ensemble, reduction="batchmean")
        total = total + diversity_factor * mean_temperature ** 2 * kl
    return total


def distillation_term(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """``T² · KL(softmax(teacher/T) ‖ softmax(student/T))``, batch mean, no gradient to the teacher."""
    teacher = F.softmax(teacher_logits.detach() / temperature, dim=1)
    student = F.log_softmax(student_logits / temperature, dim=1)
    return temperature ** 2 * F.kl_div(student, teacher, reduction="batchmean")


def router_targets(expert_logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """``(N, E − 1)`` float labels: router i should call on iff the ensemble of experts 0..i is
    wrong and some larger ensemble 0..j (j > i) is right."""
    correct = (expert_logits.cumsum(0).argmax(2) == labels).T  # (N, E): ensemble 0..i right
    later = correct.flip(1).cummax(1).values.flip(1)  # later[:, i]: some ensemble 0..j, j >= i, right
    return (~correct[:, :-1] & later[:, 1:]).float()


def router_loss(router_logits: torch.Tensor, targets: torch.Tensor, pos_weight: float = 100.0) -> torch.Tensor:
    """BCE-with-logits with ``pos_weight``, averaged over the batch and the E − 1 routers."""
    return F.binary_cross_entropy_with_logits(router_logits, targets, pos_weight=router_logits.new_full((1,), pos_weight))
