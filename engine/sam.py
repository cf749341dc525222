"""Sharpness-aware minimisation (SAM) as an optimiser switch for any training stage.

Foret et al., "Sharpness-Aware Minimization for Efficiently Improving Generalization", ICLR 2021
(arXiv 2010.01412); the PyTorch implementation followed is github.com/davda54/sam ``sam.py``,
which the long-tail study that motivates it here vendors unchanged (Rangwani et al., "Escaping
Saddle Points for Effective Generalization on Class-Imbalanced Data", NeurIPS 2022,
github.com/val-iisc/Saddle-LongTail). One step on a batch:

1. the gradient ``g = ∇L(w)`` of the loss alone (the base optimiser's weight decay is not in it);
2. ``ε = ρ·g / (‖g‖₂ + 1e-12)``, ‖g‖ one norm over every parameter that has a gradient (frozen
   parameters have none and are never perturbed); adaptive SAM (ASAM, ``adaptive``):
   ``ε = ρ·w²·g / (‖|w|·g‖₂ + 1e-12)``;
3. ``w ← w + ε``, a second forward and backward pass on the same batch gives ``∇L(w + ε)``;
4. ``w`` is restored exactly and the base optimiser (SGD with its momentum, Nesterov and weight
   decay, taken at ``w``) steps with ``∇L(w + ε)``.

Where the implementations differ, this follows davda/Saddle-LongTail (weight decay in the base
SGD at ``w``; the official JAX code puts an L2 term in the loss of both passes). BatchNorm
running statistics come from the first pass only (the official JAX code keeps the first pass's
state; davda's tip sets the BN momentum to 0 in the second pass, which is what
:func:`first_pass_statistics` does); Saddle-LongTail lets both passes update them. Nothing here
reads a value on the host: the norms stay on the device (tests/test_no_sync.py).
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn

SAM_EPSILON = 1e-12  # davda's guard in the denominator


class SharpnessAware:
    """The perturbation of one SAM step around a base optimiser's parameters."""

    def __init__(self, optimizer: torch.optim.Optimizer, rho: float, adaptive: bool = False):
        self.optimizer, self.rho, self.adaptive = optimizer, float(rho), bool(adaptive)
        self._moved: list[torch.Tensor] = []
        self._saved: list[torch.Tensor] = []

    @torch.no_grad()
    def perturb(self) -> None:
        """``w ← w + ε`` from the gradients now in ``.grad`` (remembering ``w``)."""
        params = [p for group in self.optimizer.param_groups for p in group["params"] if p.grad is not None]
        if not params:
            self._moved, self._saved = [], []
            return
        grads = [p.grad for p in params]
        if self.adaptive:  # ASAM's T_w = |w|: the norm of |w|·g, the step w²·g
            sizes = [p.abs() for p in params]
            grads = torch._foreach_mul(grads, sizes)
        norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.float()) for g in grads]))
        steps = torch._foreach_mul(grads, (self.rho / (norm + SAM_EPSILON)).to(grads[0].dtype))
        if self.adaptive:
            torch._foreach_mul_(steps, sizes)
        self._saved = [p.detach().clone() for p in params]
        self._moved = params
        torch._foreach_add_(params, steps)

    @torch.no_grad()
    def restore(self) -> None:
        """Put back the weights :meth:`perturb` moved, bit for bit."""
        for param, saved in zip(self._moved, self._saved):
            param.copy_(saved)
        self._moved, self._saved = [], []


@contextlib.contextmanager
def first_pass_statistics(model: nn.Module) -> Iterator[None]:
    """BatchNorm layers keep their running statistics during the block (momentum 0): the second
    pass normalises with its batch statistics as usual but leaves the running ones as the first
    pass set them."""
    layers = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training]
    momenta = [layer.momentum for layer in layers]
    for layer in layers:
        layer.momentum = 0.0
    try:
        yield
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum
