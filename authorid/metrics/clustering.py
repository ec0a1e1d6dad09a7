"""Metrics for clusterings with an unknown number of clusters (accounts -> persons).

Everything is computed from the sparse contingency table ``n_ij = #{items of true class i in predicted cluster
j}`` (only its non-zero cells), so 100k items cost one ``np.unique``, never O(n^2) pairs.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, v_measure_score

from authorid.metrics.checks import paired_labels

__all__ = ["bcubed", "clustering_metrics", "pairwise_prf"]


class _Contingency(NamedTuple):
    """The non-zero cells of the contingency table, and the class / cluster sizes."""

    cells: np.ndarray  # n_ij of each non-zero cell
    true_of_cell: np.ndarray  # a_i: size of the true class of each cell
    pred_of_cell: np.ndarray  # b_j: size of the predicted cluster of each cell
    true_sizes: np.ndarray  # a_i, once per true class
    pred_sizes: np.ndarray  # b_j, once per predicted cluster


def _contingency(labels_true: ArrayLike, labels_pred: ArrayLike) -> _Contingency:
    truth, pred = paired_labels(labels_true, labels_pred, ("labels_true", "labels_pred"))
    _, true_code, true_sizes = np.unique(truth, return_inverse=True, return_counts=True)
    _, pred_code, pred_sizes = np.unique(pred, return_inverse=True, return_counts=True)
    n_pred = pred_sizes.size
    cell_codes, cells = np.unique(true_code.astype(np.int64) * n_pred + pred_code, return_counts=True)
    return _Contingency(
        cells=cells,
        true_of_cell=true_sizes[cell_codes // n_pred],
        pred_of_cell=pred_sizes[cell_codes % n_pred],
        true_sizes=true_sizes,
        pred_sizes=pred_sizes,
    )


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def bcubed(labels_true: ArrayLike, labels_pred: ArrayLike) -> dict[str, float]:
    """B-cubed precision, recall and F1 (Bagga & Baldwin 1998; Amigó et al., Information Retrieval 2009).

    Per item ``e``: precision = share of ``e``'s predicted cluster that has ``e``'s true class, recall =
    share of ``e``'s true class that is in ``e``'s predicted cluster; both averaged over items, which from the
    contingency table is ``P = (1/n) sum_ij n_ij^2 / b_j`` and ``R = (1/n) sum_ij n_ij^2 / a_i``. F1 is their
    harmonic mean (Amigó's F with alpha = 0.5). Labels may be ints or strings; only equality matters.
    """
    table = _contingency(labels_true, labels_pred)
    squared = table.cells.astype(np.float64) ** 2
    n = table.cells.sum()
    precision = float(np.sum(squared / table.pred_of_cell) / n)
    recall = float(np.sum(squared / table.true_of_cell) / n)
    return {"precision": precision, "recall": recall, "f1": _f1(precision, recall)}


def _pairs(counts: np.ndarray) -> int:
    counts = counts.astype(np.int64)
    return int(np.sum(counts * (counts - 1) // 2))


def pairwise_prf(labels_true: ArrayLike, labels_pred: ArrayLike) -> dict[str, float]:
    """Pair-counting precision, recall and F1 over all ``n (n - 1) / 2`` item pairs.

    A pair is predicted positive when both items share a predicted cluster and truly positive when they share
    a true class: ``TP = sum_ij C(n_ij, 2)``, ``P = TP / sum_j C(b_j, 2)``, ``R = TP / sum_i C(a_i, 2)``.
    With no predicted pairs (all singletons) no wrong link was made and precision is 1.0; with no true pairs
    recall is 1.0, matching B-cubed on the same inputs.
    """
    table = _contingency(labels_true, labels_pred)
    true_positive = _pairs(table.cells)
    predicted_pairs = _pairs(table.pred_sizes)
    true_pairs = _pairs(table.true_sizes)
    precision = true_positive / predicted_pairs if predicted_pairs else 1.0
    recall = true_positive / true_pairs if true_pairs else 1.0
    return {"precision": precision, "recall": recall, "f1": _f1(precision, recall)}


def clustering_metrics(labels_true: ArrayLike, labels_pred: ArrayLike) -> dict[str, float]:
    """B-cubed and pairwise P/R/F1, ARI, NMI and V-measure (scikit-learn), and cluster counts.

    Keys: ``bcubed_precision, bcubed_recall, bcubed_f1, pairwise_precision, pairwise_recall, pairwise_f1, ari,
    nmi, v_measure, n_items, n_true, n_pred``. NMI uses the arithmetic mean of the entropies (scikit-learn's
    default; then it equals the V-measure).
    """
    truth, pred = np.asarray(labels_true), np.asarray(labels_pred)
    metrics: dict[str, float] = {f"bcubed_{k}": v for k, v in bcubed(truth, pred).items()}
    metrics |= {f"pairwise_{k}": v for k, v in pairwise_prf(truth, pred).items()}
    metrics["ari"] = float(adjusted_rand_score(truth, pred))
    metrics["nmi"] = float(normalized_mutual_info_score(truth, pred))
    metrics["v_measure"] = float(v_measure_score(truth, pred))
    metrics["n_items"] = int(truth.size)
    metrics["n_true"] = int(np.unique(truth).size)
    metrics["n_pred"] = int(np.unique(pred).size)
    return metrics
