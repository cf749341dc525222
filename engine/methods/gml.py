"""The Geometric Mean Loss (GML) of "No One Left Behind".

Du and Wu, "No One Left Behind: Improving the Worst Categories in Long-Tailed Learning",
CVPR 2023 (arXiv 2303.03630). GML maximises the geometric mean of the per-class recalls,
estimated on each batch:

1. adjusted probabilities ``p̃ = softmax(z + log N_c)``, N_c the training count of class c;
2. ``p̃`` of the true class, clamped to [1e-5, 1];
3. each class present in the batch gets the recall estimate ``r_c`` = the mean of those values
   over its samples; classes absent from the batch are skipped;
4. loss = mean over the present classes of ``−log r_c`` (= −log of their geometric mean).

The paper uses it to re-train only the classifier of a pre-trained model (``engine/plugin.py``);
it also trains from scratch like any method. It ignores the train rule's class weights: every
present class already counts equally, which is the balancing a re-weighting would add.
Evaluation uses the raw logits (the ``log N`` shift is a training device, as in balanced softmax).

In a run of several processes the recall estimates are taken over the **global** batch: every
rank gathers the logits (with their gradient) and labels of all ranks and computes the same
loss (``engine.distributed.collectives.gather_rows_with_grad``), so two processes at global batch
B train as one process at B. With per-GPU estimates a class would be averaged over a quarter or
an eighth of its batch samples and, at the batch sizes of the large benchmarks, absent from most
GPUs' shares. There is no official rule to follow (below); this is LADE's, whose official code
estimates on the DataParallel-gathered global batch.

Official code: none found. The Awesome-LongTailed-Learning list (github.com/Vanint) gives the
paper without a code link, and searching public code for the title and the loss found only
third-party adaptations to other tasks. This module follows the paper's definition as restated
in the project's SPEC.
"""
from __future__ import annotations

import torch

from engine.distributed.collectives import gather_rows, gather_rows_with_grad
from engine.methods.base import LossMethod, register

MIN_PROBABILITY = 1e-5  # the paper's clamp on p̃, which keeps −log finite


@register
class GeometricMeanLoss(LossMethod):
    name = "gml"
    title = "Geometric mean loss (GML)"
    short_title = "GML"
    citation = ("Du and Wu, No One Left Behind: Improving the Worst Categories in Long-Tailed Learning, "
                "CVPR 2023, arXiv 2303.03630")

    def criterion(self, logits: torch.Tensor, labels: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        logits, labels = gather_rows_with_grad(logits), gather_rows(labels)  # the global batch (one process: as is)
        adjusted = torch.softmax(logits.float() + self.class_counts.log(), dim=1)
        p_true = adjusted.gather(1, labels[:, None]).squeeze(1).clamp(MIN_PROBABILITY, 1.0)
        # Per-class sums and counts by index_add and a weighted mean over the present classes: no
        # bincount, no boolean-mask indexing, so no shape depends on the data (no host sync on a GPU).
        num_classes = logits.shape[1]
        per_class_sum = p_true.new_zeros(num_classes).index_add(0, labels, p_true)
        per_class_count = p_true.new_zeros(num_classes).index_add(0, labels, torch.ones_like(p_true))
        present = per_class_count > 0
        recall_estimate = torch.where(present, per_class_sum / per_class_count.clamp_min(1.0), 1.0)
        weights = present.to(p_true.dtype)  # an absent class adds −log 1 = 0 with weight 0
        return -(recall_estimate.log() * weights).sum() / weights.sum()
