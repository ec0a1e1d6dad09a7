"""Closed-set and open-set authorship attribution metrics.

Closed set: each query text has one true author among ``A`` candidate authors; ``scores`` is ``(Q, A)``.
Top-k accuracy shares the pessimistic tie rule of :func:`authorid.metrics.ranking.ranks_of_true`
(a wrong author tied with the true one ranks above it); scikit-learn's ``top_k_accuracy_score`` breaks ties by
column order instead, so the two agree whenever scores have no ties.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import f1_score, precision_recall_fscore_support

from authorid.metrics.checks import paired_labels
from authorid.metrics.ranking import ranks_of_true, recall_at_k, score_matrix
from authorid.metrics.verification import roc_auc

__all__ = [
    "accuracy",
    "attribution_metrics",
    "macro_f1",
    "open_set_auroc",
    "per_author_report",
    "top_k_accuracy",
]


def _predictions(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    return paired_labels(y_true, y_pred, ("y_true", "y_pred"))


def accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Fraction of texts attributed to their true author, ``mean(y_pred == y_true)``."""
    truth, pred = _predictions(y_true, y_pred)
    return float(np.mean(truth == pred))


def macro_f1(y_true: ArrayLike, y_pred: ArrayLike, labels: Sequence | None = None) -> float:
    """Unweighted mean over authors of the per-author F1 (scikit-learn ``f1_score(average="macro")``).

    Averages over ``labels`` when given, else over every author in ``y_true`` or ``y_pred``; an author that is
    never predicted nor true of any text in ``labels`` scores F1 = 0 (``zero_division=0``).
    """
    truth, pred = _predictions(y_true, y_pred)
    return float(f1_score(truth, pred, labels=labels, average="macro", zero_division=0))


def per_author_report(
    y_true: ArrayLike, y_pred: ArrayLike, labels: Sequence | None = None
) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and support (number of true texts) per author, keyed by ``str(author)``.

    Authors are ``labels`` when given, else the sorted union of ``y_true`` and ``y_pred``; 0 / 0 gives 0.
    """
    truth, pred = _predictions(y_true, y_pred)
    authors = np.unique(np.concatenate([truth, pred])) if labels is None else np.asarray(labels)
    precision, recall, f_score, support = precision_recall_fscore_support(
        truth, pred, labels=authors, zero_division=0
    )
    return {
        str(author): {
            "precision": float(p),
            "recall": float(r),
            "f1": float(f),
            "support": int(s),
        }
        for author, p, r, f, s in zip(authors, precision, recall, f_score, support, strict=True)
    }


def top_k_accuracy(scores: ArrayLike, true_index: ArrayLike, k: int) -> float:
    """Fraction of texts whose true author is among the ``k`` best-scoring authors (ties pessimistic)."""
    return recall_at_k(ranks_of_true(scores, true_index), k)


def attribution_metrics(
    scores: ArrayLike,
    true_index: ArrayLike,
    labels: Sequence[int] | None = None,
    ks: Sequence[int] = (1, 5),
) -> dict[str, float]:
    """Closed-set attribution metrics from a ``(texts x authors)`` score matrix; prediction = arg-max column.

    ``labels`` (author column indices) restricts / extends the authors macro-F1 averages over, as in
    :func:`macro_f1`. Keys: ``accuracy, macro_f1, top@<k>`` for k in ks, ``n_texts, n_authors``.
    ``accuracy`` counts arg-max hits (first column wins a tie), ``top@1`` counts a tie with a wrong author
    as a miss.
    """
    matrix = score_matrix(scores)
    truth = np.asarray(true_index)
    if truth.ndim != 1:
        raise ValueError(f"true_index must be 1-d (one true author column per text), got shape {truth.shape}")
    ranks = ranks_of_true(matrix, truth)
    predicted = matrix.argmax(axis=1)
    metrics: dict[str, float] = {
        "accuracy": accuracy(truth, predicted),
        "macro_f1": macro_f1(truth, predicted, labels=labels),
    }
    for k in ks:
        metrics[f"top@{k}"] = recall_at_k(ranks, k)
    metrics["n_texts"] = int(matrix.shape[0])
    metrics["n_authors"] = int(matrix.shape[1])
    return metrics


def open_set_auroc(max_scores_known: ArrayLike, max_scores_unknown: ArrayLike) -> float:
    """AUROC of telling texts by known authors from texts by unknown ones by their best attribution score.

    Positive = known author; equals ``P(max score of a random known text > that of a random unknown text)``,
    ties 1/2 (the open-set recognition AUROC of Neal et al., ECCV 2018). Raises ValueError if either is empty.
    """
    known = np.asarray(max_scores_known, dtype=np.float64).ravel()
    unknown = np.asarray(max_scores_unknown, dtype=np.float64).ravel()
    if known.size == 0 or unknown.size == 0:
        raise ValueError(
            f"need texts by known and unknown authors, got {known.size} known and {unknown.size} unknown"
        )
    labels = np.concatenate([np.ones(known.size, dtype=np.int64), np.zeros(unknown.size, dtype=np.int64)])
    return roc_auc(np.concatenate([known, unknown]), labels)
