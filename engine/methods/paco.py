"""PaCo: parametric contrastive learning with a momentum encoder, a key queue and class centres.

Cui, Zhong, Liu, Yu and Jia, "Parametric Contrastive Learning", ICCV 2021 (arXiv 2107.12028);
official code github.com/dvlab-research/Parametric-Contrastive-Learning, folder ``PaCo/LT``
(``losses.py`` ``PaCoLoss``, ``moco/builder.py``, ``paco_cifar.py``, ``sh/CIFAR100_train_imb0.01.sh``).
The model is the ``momentum_contrast`` family (``models/paco.py``).

The loss follows the official ``PaCoLoss``, the code rather than the paper's text wherever they
might part: the log-prior shift of the centre logits, ``supt``, the row-max shift and the 1e-9 /
1e-12 guards are the code's. For each anchor i of the B queries q (L2-normalised projections),
one row of logits:

- class part ``(z_i + log π) / supt`` (z = class-centre logits, π = training class frequencies,
  ``supt`` = 1), not divided by the temperature;
- sample part ``q_i · F_j / τ`` over ``F = [q_1..q_B, k_1..k_B, queue_1..queue_K]``.

The row max is subtracted; positives weigh β for the true class centre and α for every sample of
the anchor's class except the anchor itself (its own key is a positive); the normaliser weighs
every class 1 and every sample except the anchor γ. The loss is the positive-weighted mean of the
log-likelihoods, negated, times τ / base_τ (= 1), averaged over anchors. CIFAR-100-LT values:
α 0.01, β 1, γ 1, τ 0.05, K 1024, m 0.999, projection 32-d.

Order of the momentum update: the official forward first moves the key encoder, then encodes the
keys. Here the stage's EMA hook (``engine.hooks.EMA``) moves it right after each optimiser step. The sequence of
key encoders the keys are computed with is the same (the official first update is a no-op, since
both encoders start equal), and the key encoder in every checkpoint is then the one the next
step uses, so resuming needs nothing else. The queue is filled in :meth:`training_step`, after
the loss has read it, as in the official forward.

Several GPUs, as the official code runs (DistributedDataParallel only, ``paco_lt.py``): every
rank's keys and labels are gathered (no gradient, the official ``concat_all_gather``) and all of
them join the queue, in rank order, so every rank's queue holds the same global batch of keys;
the sample part of the contrast set is the rank's own queries and keys plus that queue, and the
loss is the mean over the rank's anchors, which DDP averages. The momentum update runs on every
rank after the step, on parameters DDP keeps equal, so the key encoders stay in step without a
collective. Not reproduced: the official shuffle of the key batch across GPUs before the key
encoder (MoCo's shuffle-BN); here each rank's key encoder normalises its own share of the batch.

Prediction: the class-centre logits of the query encoder, no post-hoc adjustment (the log π
shift is part of the training loss only), as the official ``_inference``.

Re-training a classifier on its own (the GML plug-in's head stage, on cached features or one
plain view): the class part of the loss alone, since there is no key view to contrast.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import torch
from torch.nn import functional as F

from errors import UserError
from engine.batch import Batch
from engine.distributed.collectives import gather_rows
from engine.hooks import EMA
from engine.methods.base import Method, register
from models import LTModel, ModelSpec

if TYPE_CHECKING:
    from engine.config import RunConfig
    from engine.stages import Stage

QUEUE_EPOCHS = 16  # epochs the queue may take to replace its random initial keys (check_fit)
VIEWS = ("paco_query", "paco_key")

LOG_PRIOR_EPS = 1e-9  # official: log(π + 1e-9)
NORMALISER_EPS = 1e-12  # official: log(Σ w·exp + 1e-12)


def paco_loss(centre_logits: torch.Tensor, log_prior: torch.Tensor, queries: torch.Tensor,
              contrast: torch.Tensor, labels: torch.Tensor, contrast_labels: torch.Tensor, *,
              alpha: float, beta: float, gamma: float, temperature: float, supt: float = 1.0,
              base_temperature: float | None = None) -> torch.Tensor:
    """PaCo's loss. ``centre_logits`` (B, C), ``log_prior`` (C,), ``queries`` (B, D) normalised,
    ``contrast`` (N, D) whose first B rows are the queries themselves, ``labels`` (B,),
    ``contrast_labels`` (N,). Computed in float32."""
    batch, num_classes = centre_logits.shape
    class_part = (centre_logits.float() + log_prior) / supt
    sample_part = queries.float() @ contrast.float().T / temperature
    logits = torch.cat([class_part, sample_part], dim=1)
    logits = logits - logits.max(dim=1, keepdim=True).values.detach()
    not_self = torch.ones_like(sample_part)
    anchors = torch.arange(batch, device=sample_part.device)
    not_self[anchors, anchors] = 0.0  # the anchor's own query column
    same_class = (labels[:, None] == contrast_labels[None, :]).float() * not_self
    positives = torch.cat([beta * F.one_hot(labels, num_classes).float(), alpha * same_class], dim=1)
    weights = torch.cat([torch.ones_like(class_part), gamma * not_self], dim=1)
    log_prob = logits - torch.log((logits.exp() * weights).sum(dim=1, keepdim=True) + NORMALISER_EPS)
    mean_log_prob = (positives * log_prob).sum(dim=1) / positives.sum(dim=1)
    base = temperature if base_temperature is None else base_temperature
    return -(temperature / base) * mean_log_prob.mean()


@register
class PaCo(Method):
    name = "paco"
    title = "Parametric contrastive learning (PaCo)"
    short_title = "PaCo"
    citation = ("Cui et al., Parametric Contrastive Learning, ICCV 2021, arXiv 2107.12028; "
                "github.com/dvlab-research/Parametric-Contrastive-Learning")
    families: ClassVar[tuple[str, ...]] = ("momentum_contrast",)
    sources: ClassVar[tuple[str, ...]] = ("images", "features")
    repairs_classifier: ClassVar[bool] = True  # the class centres, with the class part of the loss
    repeatable_step: ClassVar[bool] = False  # each step enqueues its keys (SAM's second pass would enqueue again)
    defaults: ClassVar[dict[str, float]] = {
        "alpha": 0.01, "beta": 1.0, "gamma": 1.0, "temperature": 0.05, "supt": 1.0,
        "key_momentum": 0.999, "queue_size": 1024.0, "projection_dim": 32.0, "sim_query": 0.0,
    }
    param_labels: ClassVar[dict[str, str]] = {
        "alpha": "Sample positive weight α", "beta": "Centre positive weight β",
        "gamma": "Sample normaliser weight γ", "temperature": "Temperature τ", "supt": "Centre-logit divisor",
        "key_momentum": "Key encoder momentum m", "queue_size": "Queue size K",
        "projection_dim": "Projection dimension", "sim_query": "SimCLR query view (1 = on)"}
    param_help: ClassVar[dict[str, str]] = {
        "alpha": "weight of same-class samples (queries, keys, queue) as positives",
        "beta": "weight of the true class centre as a positive",
        "gamma": "weight of the samples in the softmax normaliser (class centres weigh 1)",
        "temperature": "τ of the sample logits q·k/τ",
        "supt": "divisor of the class-centre logits (+ log prior)",
        "key_momentum": "m: the key encoder moves by θ_k ← m·θ_k + (1 − m)·θ_q after each step",
        "queue_size": "K, keys kept in the queue (any size; the queue wraps around)",
        "projection_dim": "dimension of the MLP projection the contrast works in",
        "sim_query": "1: the query view is the SimCLR view too (PaCo's Places-LT script, aug sim_sim); 0: its "
                     "own view (CIFAR: AutoAugment + Cutout; ImageNet-LT, iNaturalist: RandAugment)",
    }
    param_ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "alpha": (0.0, 10.0), "beta": (1e-6, 10.0), "gamma": (0.0, 10.0), "temperature": (1e-3, 10.0),
        "supt": (1e-3, 100.0), "key_momentum": (0.0, 1.0), "queue_size": (1.0, 1 << 20),
        "projection_dim": (1.0, 4096.0), "sim_query": (0, 1),
    }
    whole_params = ("queue_size", "projection_dim", "sim_query")

    def __init__(self, class_counts: torch.Tensor, params=None, total_epochs: int = 400):
        super().__init__(class_counts, params, total_epochs)
        prior = self.class_counts / self.class_counts.sum()
        self.log_prior = torch.log(prior + LOG_PRIOR_EPS)

    def check_fit(self, train_images: int) -> None:
        """The queue starts as random keys with random labels (false positives of every class) and
        the training split replaces ``n`` of its ``K`` keys per epoch, so the random ones stay K / n
        epochs (the paper: 1,024 keys on CIFAR-100-LT's 10,847 images, a tenth of an epoch). More
        than ``QUEUE_EPOCHS`` epochs is refused: a queue that long is mostly stale or random keys."""
        queue = int(self.params["queue_size"])
        if queue > QUEUE_EPOCHS * train_images:
            raise UserError(f"{self.title}: queue_size = {queue:,} on {train_images:,} training images keeps its "
                            f"random initial keys (false positives of every class) for about "
                            f"{queue // train_images} epochs; use at most {QUEUE_EPOCHS * train_images:,} "
                            "(the paper: 1,024 on CIFAR-100-LT's 10,847 images)")

    def model_spec(self, base: ModelSpec) -> ModelSpec:
        """The ``momentum_contrast`` wrapper around the run's CIFAR ResNet, sized by K and the projection."""
        return base.replace(family="momentum_contrast", head="linear").with_options(
            proj_dim=int(self.params["projection_dim"]), queue_size=int(self.params["queue_size"]))

    def stages(self, run: RunConfig) -> list[Stage]:
        """One stage on two views: PaCo's query and key augmentations (plain images when the
        run turns augmentation off); after every step the key encoder moves by EMA."""
        from engine.stages import Stage

        views = (VIEWS[1], VIEWS[1]) if self.params["sim_query"] else VIEWS
        key_encoder = EMA(self.params["key_momentum"], target="encoder_k", source="encoder_q")
        return [Stage("train", run.optim, views=views if run.data.augment else ("none", "none"),
                      hooks=(key_encoder,))]

    def on_stage_start(self, stage: Stage, model: LTModel) -> None:
        """The key encoder never trains by gradient, whatever the stage unfroze."""
        model.encoder_k.requires_grad_(False)

    def loss_terms(self) -> dict[str, float]:
        p = self.params
        return {"alpha": p["alpha"], "beta": p["beta"], "gamma": p["gamma"],
                "temperature": p["temperature"], "supt": p["supt"]}

    def training_step(self, model: LTModel, batch: Batch, stage: Stage) -> tuple[torch.Tensor, torch.Tensor]:
        """Query view through the query encoder, key view through the key encoder; loss over
        ``[queries, keys, queue]``; then the keys join the queue. A batch without a key view
        (cached features, or one plain view) trains the class centres with the class part alone."""
        if batch.features is not None or len(batch.views) < 2:
            out = model.classify(batch.features) if batch.features is not None else model(batch.views[0])
            return self.centre_loss(out.logits, batch.labels), out.logits
        query_view, key_view = batch.views
        labels = batch.labels
        out = model(query_view)
        queries = out.extras["embedding"]
        keys = model.keys(key_view)
        contrast = torch.cat([queries.float(), keys.float(), model.queue], dim=0)  # a copy: enqueue may follow
        contrast_labels = torch.cat([labels, labels, model.queue_labels])
        loss = paco_loss(out.logits, self.log_prior, queries, contrast, labels, contrast_labels, **self.loss_terms())
        model.enqueue(gather_rows(keys), gather_rows(labels))  # every rank's keys, in rank order
        return loss, out.logits

    def centre_loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The loss without samples: β-weighted cross-entropy of ``(z + log π) / supt``."""
        return F.cross_entropy((logits.float() + self.log_prior) / self.params["supt"], labels)
