"""The confusion statistics at any class count: exact per-class counts, a dense matrix only while it is small.

Every metric of ``engine.metrics`` needs three vectors of a confusion matrix, not the matrix:
the row sums (test images per true class), the column sums (predictions per class) and the
diagonal (correct predictions per class). A :class:`ConfusionCounts` holds those three exactly,
plus the most confused pairs (true class, predicted class, count; off the diagonal, most frequent
first), plus the whole ``(C, C)`` matrix only up to ``DENSE_LIMIT`` classes.

Why 512: a dense int64 matrix costs 8·C² bytes: 2 MiB at 512 classes, 8 MiB at ImageNet-LT's
1,000 and 530 MB at iNaturalist's 8,142. Above about 500 classes the app's heatmap would show
more than one cell per screen pixel (its plot is at most ~1,000 px wide, and the classes are
ordered so that the cells that matter spread over the whole matrix), and the confusion CSV written
at best and last passes a quarter of a million cells; the ranked list of confused pairs is what a
reader can use there. So CIFAR-100 (100) and Places-LT (365) keep the matrix; ImageNet-LT and
iNaturalist keep the vectors and the ``TOP_PAIRS`` most confused pairs.

:class:`ConfusionCounter` accumulates on the device without waiting for it: a flat ``C·C``
count vector (``index_add_``, O(batch) per update) up to the limit, above it the cells
``true·C + predicted`` of every sample (O(samples) memory, counted once with ``torch.unique``
when read). Both give the same record for the same predictions (tests/test_confusion.py).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from engine.distributed.collectives import gather_rows, sum_over_ranks

DENSE_LIMIT = 512  # classes up to which the full matrix is kept (see the module docstring)
TOP_PAIRS = 1000  # most confused pairs a record keeps


@dataclass
class ConfusionCounts:
    """Exact per-class counts of a confusion matrix (row = true class), its most confused
    off-diagonal pairs, and the matrix itself when ``num_classes <= DENSE_LIMIT``."""

    support: torch.Tensor  # int64 (C,): images per true class
    predicted: torch.Tensor  # int64 (C,): predictions per class
    correct: torch.Tensor  # int64 (C,): the diagonal
    pairs: torch.Tensor  # int64 (K, 3): true, predicted, count; most frequent first
    matrix: torch.Tensor | None = None  # int64 (C, C) up to DENSE_LIMIT classes

    @property
    def num_classes(self) -> int:
        return int(self.support.shape[0])

    @property
    def total(self) -> int:
        return int(self.support.sum())

    @classmethod
    def from_matrix(cls, matrix: torch.Tensor) -> ConfusionCounts:
        """A record of a dense ``(C, C)`` matrix (kept when C is at most ``DENSE_LIMIT``)."""
        matrix = matrix.to(torch.int64).cpu()
        classes = matrix.shape[0]
        off = matrix.clone()
        off.fill_diagonal_(0)
        flat = off.flatten()
        nonzero = torch.nonzero(flat).flatten()
        return cls(matrix.sum(1), matrix.sum(0), matrix.diagonal().clone(),
                   _ranked_pairs(nonzero, flat[nonzero], classes),
                   matrix if classes <= DENSE_LIMIT else None)

    @classmethod
    def from_cells(cls, cells: torch.Tensor, num_classes: int) -> ConfusionCounts:
        """A record of the cells ``true·C + predicted`` of every sample (any class count)."""
        cells, counts = torch.unique(cells.to(torch.int64).cpu(), return_counts=True)
        true, predicted = cells // num_classes, cells % num_classes
        support = torch.bincount(true, weights=counts.double(), minlength=num_classes).to(torch.int64)
        columns = torch.bincount(predicted, weights=counts.double(), minlength=num_classes).to(torch.int64)
        diagonal = true == predicted
        correct = torch.zeros(num_classes, dtype=torch.int64).index_add_(0, true[diagonal], counts[diagonal])
        matrix = None
        if num_classes <= DENSE_LIMIT:
            matrix = torch.zeros(num_classes * num_classes, dtype=torch.int64).index_add_(0, cells, counts)
            matrix = matrix.reshape(num_classes, num_classes)
        return cls(support, columns, correct, _ranked_pairs(cells[~diagonal], counts[~diagonal], num_classes), matrix)


def _ranked_pairs(cells: torch.Tensor, counts: torch.Tensor, num_classes: int) -> torch.Tensor:
    """``(K, 3)`` rows (true, predicted, count) of the ``TOP_PAIRS`` largest counts; ties by cell order."""
    order = torch.argsort(-counts, stable=True)[:TOP_PAIRS]  # cells arrive sorted, so ties keep (true, predicted) order
    cells, counts = cells[order], counts[order]
    return torch.stack([cells // num_classes, cells % num_classes, counts], dim=1) if len(cells) else \
        torch.zeros(0, 3, dtype=torch.int64)


class ConfusionCounter:
    """Accumulates (true, predicted) pairs on a device; :meth:`record` reads them once."""

    def __init__(self, num_classes: int, device: torch.device | str):
        self.num_classes, self.device = num_classes, device
        self.dense = num_classes <= DENSE_LIMIT
        self._flat = torch.zeros(num_classes * num_classes, dtype=torch.int64, device=device) if self.dense else None
        self._cells: list[torch.Tensor] = []

    def add(self, labels: torch.Tensor, predictions: torch.Tensor) -> None:
        """Count one batch; never waits for the device."""
        cells = labels.to(torch.int64) * self.num_classes + predictions.to(torch.int64)
        if self.dense:
            self._flat.index_add_(0, cells, torch.ones_like(cells))
        else:
            self._cells.append(cells)

    def sum_over_ranks(self) -> None:
        """Every rank's counts on every rank (a run of several processes): the flat vector summed,
        or the sparse cells gathered."""
        if self.dense:
            sum_over_ranks(self._flat)
        else:
            cells = torch.cat(self._cells) if self._cells else torch.zeros(0, dtype=torch.int64, device=self.device)
            self._cells = [gather_rows(cells)]

    def record(self) -> ConfusionCounts:
        if self.dense:
            return ConfusionCounts.from_matrix(self._flat.cpu().reshape(self.num_classes, self.num_classes))
        cells = torch.cat(self._cells) if self._cells else torch.zeros(0, dtype=torch.int64)
        return ConfusionCounts.from_cells(cells, self.num_classes)
