"""Hubness correction for linking: a candidate close to many enrolled accounts is discounted.

In a high-dimensional space some accounts are *hubs*: they sit near almost everyone (generic writing, little
text), so they crowd the top of many queries' candidate lists and push true matches down. CSLS (Conneau,
Lample et al. 2018, "Word translation without parallel data") discounts each candidate c by its neighbourhood
density r(c), the mean cosine between c and its K nearest *other* enrolled accounts:

    score(q, c) = cos(q, c) - r(c) / 2

CSLS proper is 2 cos(q, c) - r(q) - r(c); r(q) is the same for every candidate of one query, so both rank
alike, and this form stays on the cosine's scale. The density is read from the enrolled accounts alone (an
index, or the candidate pool of a benchmark), never from the queries, so a query's own other half cannot
raise its match's density.

The correction orders candidates; it does not change a pair's cosine, its calibrated probability or its
decision. Below MIN_POOL enrolled accounts it is not applied: ten neighbours would be most of the pool, and
the density would measure the pool, not the candidate.

Measured on the Reddit benchmark (1,000 held-out accounts, halves of 8 posts), the packaged `style` model:
MRR 0.417 by cosine, 0.446 corrected (K = 10; K = 5..20 within 0.003); BENCHMARKS.md has the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

#: Neighbours behind a candidate's density (CSLS uses 10).
K = 10
#: Share of the density subtracted (CSLS's 1/2).
WEIGHT = 0.5
#: The smallest pool corrected: K neighbours are then at most a fifth of it.
MIN_POOL = 5 * K
#: Candidates read by cosine before `link` re-orders them (a density moves a score by at most WEIGHT).
RERANK_DEPTH = 100


def applies(pool_size: int) -> bool:
    """Whether a pool of `pool_size` enrolled accounts is corrected."""
    return int(pool_size) >= MIN_POOL


def top_k_mean(scores: np.ndarray, k: int = K) -> np.ndarray:
    """Mean of each row's k largest scores (the row's own entry must already be excluded, e.g. -inf)."""
    # Only the mean of the top k is needed, not their order: one partition (knn.top_k also sorts them, and
    # importing it would lengthen the protocols' import chain past the architecture test's limit).
    scores = np.asarray(scores, dtype=np.float64)
    k = min(int(k), scores.shape[1])
    if k < 1:
        raise ValueError("a density needs at least one other account in the pool")
    return np.partition(scores, scores.shape[1] - k, axis=1)[:, scores.shape[1] - k :].mean(axis=1)


def pool_densities(
    score_rows: Callable[[int, int], np.ndarray], n: int, *, k: int = K, chunk: int = 1024
) -> np.ndarray:
    """Density of each of `n` pooled accounts: `score_rows(start, stop)` returns the (stop - start, n) scores
    of accounts start..stop-1 against the whole pool; each account's score against itself is excluded."""
    out = np.empty(n, dtype=np.float64)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        scores = np.array(score_rows(start, stop), dtype=np.float64)
        scores[np.arange(stop - start), np.arange(start, stop)] = -np.inf
        out[start:stop] = top_k_mean(scores, k)
    return out


def index_densities(index, account_ids: Sequence[str], *, k: int = K) -> dict[str, float]:
    """Density of each enrolled account in `account_ids` within `index`: its K nearest other enrolled
    accounts, found by searching the index with the account's own vector."""
    unique = list(dict.fromkeys(account_ids))
    if not unique:
        return {}
    rows = np.fromiter((index.positions[a] for a in unique), dtype=np.int64, count=len(unique))
    scores, ids = index.search(index.vectors_at(rows), k + 1)
    out = {}
    for account, row_scores, row_ids in zip(unique, scores, ids, strict=True):
        others = [
            float(s) for s, i in zip(row_scores, row_ids, strict=True) if i is not None and i != account
        ]
        out[account] = float(np.mean(others[:k])) if others else 0.0
    return out


def corrected(cosines: np.ndarray, densities: np.ndarray) -> np.ndarray:
    """The CSLS score: each cosine less WEIGHT times its candidate's density (broadcasts over candidates)."""
    return np.asarray(cosines, dtype=np.float64) - WEIGHT * np.asarray(densities, dtype=np.float64)
