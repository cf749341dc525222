"""One epoch's running training metrics, accumulated on the device and read once.

``update`` is called every batch and never waits for the device: the loss sum, the confusion
counts (``engine.confusion_counts.ConfusionCounter``: a flat C·C vector up to 512 classes, the samples'
cells above) and the top-5 hits stay tensors on the training device, and every update does
O(batch) work (an ``index_add_`` of ones, not a ``bincount`` that allocates and scans C² cells per
batch: 23.7 ms against 0.3 ms per batch at 1,000 classes, issue 14). ``read`` copies them to the
host once per epoch and returns ``engine.metrics.Metrics``, the same numbers the per-batch
``bincount`` loop produced (tests/test_epoch_stats.py).

With ``calibration=True`` (evaluation) it also sums the NLL and the 15 ECE bins, so a test split
of any size is scored batch by batch without keeping its logits: ``engine.evaluation``. The
softmax runs in the logits' own precision; only the per-sample values are summed in float64.

Rows of logits holding NaN/inf are counted (``engine.finite.non_finite_rows``, no wait); one such
sample makes every value of the epoch NaN (``engine.metrics.not_numbers``): never a score.

Usage::

    stats = EpochStats(num_classes, device)
    for batch in ...:
        loss, logits = method.training_step(model, batch, stage)
        ...backward, step...
        stats.update(loss, logits, labels)
        if (i + 1) % FINITE_CHECK_EVERY == 0:
            check(float(stats.mean_loss()))                            # the one deliberate sync
    metrics = stats.read(class_counts)                                  # one sync per epoch
"""
from __future__ import annotations

import math

import torch

from engine.confusion_counts import ConfusionCounter
from engine.distributed.collectives import active, sum_over_ranks
from engine.finite import non_finite_rows
from engine.metrics import ECE_BINS, RECALL_FLOOR, Metrics, compute_metrics, not_numbers, topk_hits


class EpochStats:
    """Loss sum, confusion counts (row = true class), top-k hits and optionally calibration sums."""

    def __init__(self, num_classes: int, device: torch.device | str, top_k: int = 5, calibration: bool = False):
        self.num_classes, self.top_k = num_classes, top_k
        self.confusion = ConfusionCounter(num_classes, device)
        self.loss_sum = torch.zeros((), dtype=torch.float32, device=device)
        self.topk = torch.zeros((), dtype=torch.int64, device=device)
        self.non_finite = torch.zeros((), dtype=torch.int64, device=device)
        self.samples = 0  # a Python int: batch sizes are shapes, known without asking the device
        # NLL sum and per-bin (count, confidence sum, correct sum) of the top softmax probability
        self.calibration = torch.zeros(1 + 3 * ECE_BINS, dtype=torch.float64, device=device) if calibration else None

    def update(self, loss: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor) -> None:
        """Add one batch: ``loss`` is the batch mean; ``logits`` (B, C) and ``labels`` (B,)."""
        logits = logits.detach()
        count = labels.shape[0]
        self.loss_sum += loss.detach().float() * count
        self.confusion.add(labels, logits.argmax(1))
        self.topk += topk_hits(logits, labels, self.top_k)
        self.non_finite += non_finite_rows(logits).sum()
        if self.calibration is not None:
            self._calibrate(logits, labels)
        self.samples += count

    def _calibrate(self, logits: torch.Tensor, labels: torch.Tensor) -> None:
        """Add the batch's −log p(true class) and its ECE bins (``engine.metrics.calibration``'s rule:
        15 equal-width, right-closed bins of the top softmax probability), in float64."""
        if logits.dtype not in (torch.float32, torch.float64):
            logits = logits.float()
        log_probabilities = torch.log_softmax(logits, dim=1)  # B × C in the logits' precision
        labels = labels.to(torch.int64)
        self.calibration[0] -= log_probabilities.gather(1, labels[:, None]).to(torch.float64).sum()
        top, predicted = log_probabilities.max(dim=1)
        confidence = top.to(torch.float64).exp()
        index = (torch.ceil(confidence * ECE_BINS).long() - 1).clamp(0, ECE_BINS - 1)
        bins = self.calibration[1:].view(3, ECE_BINS)
        bins[0].index_add_(0, index, torch.ones_like(confidence))
        bins[1].index_add_(0, index, confidence)
        bins[2].index_add_(0, index, (predicted == labels).to(torch.float64))

    def sum_over_ranks(self) -> None:
        """Add every rank's sums and counts into this one's (a run of several processes, each on its
        shard; exact per-class counts, not averaged percentages). Nothing with one process."""
        if not active():
            return
        for total in (self.loss_sum, self.topk, self.non_finite, self.calibration):
            if total is not None:
                sum_over_ranks(total)
        self.confusion.sum_over_ranks()
        self.samples = int(sum_over_ranks(torch.tensor([self.samples], dtype=torch.int64)))

    def mean_loss(self) -> torch.Tensor:
        """The mean loss so far, still on the device (reading it waits: do so every few batches)."""
        return self.loss_sum / max(self.samples, 1)

    def finite(self) -> bool:
        """Whether the loss sum is still finite. This waits for the device: call it every few batches."""
        return bool(torch.isfinite(self.loss_sum))

    def read(self, train_counts: torch.Tensor, recall_floor: float = RECALL_FLOOR) -> Metrics:
        """The epoch's metrics (one copy from the device); all NaN when an output was not a number."""
        non_finite = int(self.non_finite)
        if non_finite:
            return not_numbers(self.num_classes, non_finite, recall_floor)
        nll = ece = math.nan
        if self.calibration is not None and self.samples:
            sums = self.calibration.cpu()
            bins = sums[1:].view(3, ECE_BINS)
            nll = float(sums[0]) / self.samples
            ece = float((bins[1] - bins[2]).abs().sum() / bins[0].sum())
        return compute_metrics(self.confusion.record(), train_counts, loss=float(self.loss_sum) / max(self.samples, 1),
                               top5_correct=int(self.topk), recall_floor=recall_floor, nll=nll, ece=ece)
