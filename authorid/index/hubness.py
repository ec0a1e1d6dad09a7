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

from collections.abc import Sequence

import numpy as np

from authorid.verification import cohort

#: Neighbours behind a candidate's density, and the smallest pool corrected (shared with verification's cohort).
K, MIN_POOL = cohort.K, cohort.MIN_POOL
#: Share of the density subtracted (CSLS's 1/2).
WEIGHT = 0.5
#: Candidates read by cosine before `link` re-orders them (a density moves a score by at most WEIGHT).
RERANK_DEPTH = 100

applies, top_k_mean, pool_densities = cohort.applies, cohort.top_k_mean, cohort.pool_densities


def index_densities(index, account_ids: Sequence[str], *, k: int = K) -> dict[str, float]:
    """Density of each enrolled account in `account_ids` within `index`: its K nearest other enrolled
    accounts, found by searching the index with the account's own vector."""
    unique = list(dict.fromkeys(account_ids))
    if not unique:
        return {}
    rows = np.fromiter((index.positions[a] for a in unique), dtype=np.int64, count=len(unique))
    scores, ids = index.search(index.vectors_at(rows), k + 1)
    densities = searched_densities(unique, scores, ids, k=k)
    return dict(zip(unique, np.nan_to_num(densities, nan=0.0).tolist(), strict=True))


def searched_densities(
    owners: Sequence[str], scores: np.ndarray, ids: np.ndarray, *, k: int = K
) -> np.ndarray:
    """Each search row's density: the mean of its first k scores (best first) whose id is neither missing nor
    the row's own account (`owners[i]`, which finds itself when it is enrolled); NaN for a row with none."""
    out = np.full(len(owners), np.nan)
    for row, (owner, row_scores, row_ids) in enumerate(zip(owners, scores, ids, strict=True)):
        others = [float(s) for s, i in zip(row_scores, row_ids, strict=True) if i is not None and i != owner]
        if others:
            out[row] = float(np.mean(others[:k]))
    return out


#: Enrolled accounts whose densities estimate an index's median density (`median_density`).
MEDIAN_SAMPLE = 500


def median_density(index, *, sample: int = MEDIAN_SAMPLE, seed: int = 0) -> float:
    """The median density of the index's enrolled accounts, from a seeded sample of `sample` of them (all when
    fewer): what a cohort-normalised score is centred on. Kept on the index object while its size stays the
    same, so a second `link` call on one loaded index does not search the sample again."""
    cached = getattr(index, "_median_density", None)
    if cached is not None and cached[0] == len(index):
        return cached[1]
    enrolled = list(index.positions)
    if len(enrolled) > sample:
        chosen = np.random.default_rng(seed).choice(len(enrolled), sample, replace=False)
        enrolled = [enrolled[i] for i in sorted(chosen)]
    value = float(np.median(list(index_densities(index, enrolled).values())))
    index._median_density = (len(index), value)
    return value


def corrected(cosines: np.ndarray, densities: np.ndarray) -> np.ndarray:
    """The CSLS score: each cosine less WEIGHT times its candidate's density (broadcasts over candidates)."""
    return np.asarray(cosines, dtype=np.float64) - WEIGHT * np.asarray(densities, dtype=np.float64)
