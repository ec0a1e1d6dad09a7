"""Ranking / account-linking metrics over a (queries x candidates) similarity matrix.

Convention for ties (pessimistic): the rank of a query's true candidate is

    rank = 1 + #{wrong candidates scoring strictly higher} + #{wrong candidates scoring exactly the same}

so a model that gives every candidate the same score gets the worst rank, never the best. Ranks are 1-based
and R@k counts rank <= k (LUAR's evaluation had an off-by-one here).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["mean_reciprocal_rank", "ranking_metrics", "ranks_of_true", "recall_at_k"]


def score_matrix(scores: ArrayLike) -> np.ndarray:
    matrix = np.asarray(scores, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError(f"scores must be a 2-d (queries x candidates) matrix, got shape {matrix.shape}")
    if matrix.shape[0] == 0 or matrix.shape[1] == 0:
        raise ValueError(f"scores is empty (shape {matrix.shape}); need at least one query and one candidate")
    if np.isnan(matrix).any():
        raise ValueError("scores contains NaN")
    return matrix


def _relevance_matrix(true_index: ArrayLike, shape: tuple[int, int]) -> np.ndarray:
    """A boolean (queries x candidates) matrix from true indices, or a validated relevance matrix."""
    target = np.asarray(true_index)
    n_queries, n_candidates = shape
    if target.ndim == 2:
        if target.shape != shape:
            raise ValueError(f"relevance matrix has shape {target.shape} but scores has shape {shape}")
        if target.dtype != np.bool_:
            raise ValueError(f"a 2-d true_index must be a boolean relevance matrix, got dtype {target.dtype}")
        relevant = target
    elif target.ndim == 1:
        if target.shape[0] != n_queries:
            raise ValueError(f"true_index has {target.shape[0]} entries but scores has {n_queries} queries")
        if not np.issubdtype(target.dtype, np.integer):
            raise ValueError(f"true_index must hold integer candidate indices, got dtype {target.dtype}")
        if target.min() < 0 or target.max() >= n_candidates:
            raise ValueError(
                f"true_index must lie in [0, {n_candidates}), got [{target.min()}, {target.max()}]"
            )
        relevant = np.zeros(shape, dtype=bool)
        relevant[np.arange(n_queries), target] = True
    else:
        raise ValueError(f"true_index must be 1-d indices or a 2-d boolean matrix, got shape {target.shape}")
    without_relevant = np.flatnonzero(~relevant.any(axis=1))
    if without_relevant.size:
        raise ValueError(
            f"{without_relevant.size} queries have no relevant candidate (first: {without_relevant[0]})"
        )
    return relevant


def ranks_of_true(scores: ArrayLike, true_index: ArrayLike) -> np.ndarray:
    """1-based rank of each query's true candidate, ties counted pessimistically.

    ``scores[q, c]`` is the similarity of query ``q`` to candidate ``c`` (higher = more alike).
    ``true_index`` is either the index of each query's true candidate (shape ``(Q,)``) or a boolean relevance
    matrix (``(Q, C)``) when a query may have several true candidates (e.g. all accounts of one person); then
    the rank is that of the best-scoring relevant candidate:
    ``rank_q = 1 + #{c not relevant : scores[q, c] >= max_relevant_q}``.

    Returns an int64 array of shape ``(Q,)`` with values in ``[1, C]``. Vectorised: O(Q * C).
    """
    matrix = score_matrix(scores)
    relevant = _relevance_matrix(true_index, matrix.shape)
    best_relevant = np.where(relevant, matrix, -np.inf).max(axis=1)
    # Ties with a wrong candidate count against the query (">="): the pessimistic convention.
    beaten_by = (matrix >= best_relevant[:, None]) & ~relevant
    return 1 + beaten_by.sum(axis=1, dtype=np.int64)


def _ranks(ranks: ArrayLike) -> np.ndarray:
    values = np.asarray(ranks)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"ranks must be a non-empty 1-d array, got shape {values.shape}")
    if not np.issubdtype(values.dtype, np.number) or np.isnan(values.astype(np.float64)).any():
        raise ValueError("ranks must be numbers (1-based), without NaN")
    if values.min() < 1:
        raise ValueError(f"ranks are 1-based, got a rank of {values.min()}")
    return values


def mean_reciprocal_rank(ranks: ArrayLike) -> float:
    """Mean reciprocal rank: ``MRR = (1/Q) * sum_q 1 / rank_q`` (Voorhees, TREC-8 QA track, 1999)."""
    return float(np.mean(1.0 / _ranks(ranks).astype(np.float64)))


def recall_at_k(ranks: ArrayLike, k: int) -> float:
    """Recall at k: the fraction of queries whose true candidate ranks in the top k, ``mean(rank_q <= k)``.

    A true candidate at rank exactly k counts as found.
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    return float(np.mean(_ranks(ranks) <= k))


def ranking_metrics(scores: ArrayLike, true_index: ArrayLike, ks: Sequence[int] = (1, 8)) -> dict[str, float]:
    """MRR and R@k for a similarity matrix; see :func:`ranks_of_true` for the tie convention.

    Returns ``{"mrr", "r@<k>" for k in ks, "pool_size" (candidates per query), "n_queries"}``.
    """
    ranks = ranks_of_true(scores, true_index)
    metrics: dict[str, float] = {"mrr": mean_reciprocal_rank(ranks)}
    for k in ks:
        metrics[f"r@{k}"] = recall_at_k(ranks, k)
    metrics["pool_size"] = int(np.shape(scores)[1])
    metrics["n_queries"] = int(ranks.size)
    return metrics
