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

An enrolled account's density depends on the enrolled accounts alone, so it is computed once per index content:
`index_densities` keeps the densities found so far on the index object while its size holds (an index only
grows), and, for an index loaded from a folder (`load_index` sets `index.folder`), in that generation's
DENSITY_FILE (NaN where not computed yet), written back after each call that computed new ones. The next `link`
on the same index reads them instead of searching again; `index add` writes a new generation, which starts
without one. Writing it is best effort: a read-only index is searched as before.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from authorid.io import atomic_write, save_npy
from authorid.verification import cohort

logger = logging.getLogger(__name__)

#: Neighbours behind a candidate's density, and the smallest pool corrected (shared with verification's cohort).
K, MIN_POOL = cohort.K, cohort.MIN_POOL
#: Share of the density subtracted (CSLS's 1/2).
WEIGHT = 0.5
#: Candidates read by cosine before `link` re-orders them (a density moves a score by at most WEIGHT).
RERANK_DEPTH = 100

applies, top_k_mean, pool_densities = cohort.applies, cohort.top_k_mean, cohort.pool_densities


def index_densities(index, account_ids: Sequence[str], *, k: int = K, skip: float = 0.0) -> dict[str, float]:
    """Density of each enrolled account in `account_ids` within `index`: its K nearest other enrolled
    accounts, found by searching the index with the account's own vector (once per index content: see the
    module docstring). `skip`: w, the weight of the density without the nearest, the K after it
    (`authorid.verification.cohort`; kept apart from the other)."""
    unique = list(dict.fromkeys(account_ids))
    if not unique:
        return {}
    rows = np.fromiter((index.positions[a] for a in unique), dtype=np.int64, count=len(unique))
    # only the variants with a weight are searched for (a plain density never reads the skipped one)
    variants = tuple(v for v, weight in ((0, 1 - skip), (1, skip)) if weight)
    known = find_densities(index, rows, variants, k=k)
    nearest, after = (known[v][rows] if v in known else 0.0 for v in (0, 1))
    return dict(zip(unique, cohort.mixed(nearest, after, skip).tolist(), strict=True))


def find_densities(
    index, rows: np.ndarray, variants: tuple[int, ...] = (0, 1), *, k: int = K
) -> dict[int, np.ndarray]:
    """{skipped: the densities of every enrolled account, NaN where not found yet} for each variant (0: the K
    nearest, 1: the K after the nearest), the accounts at `rows` found where they were not: one search serves
    every variant (`link` reads both, the first to rank candidates and the mix for their cohort scores)."""
    known = {skipped: _known_densities(index, k, skipped) for skipped in variants}
    missing = np.unique(np.concatenate([rows[np.isnan(known[skipped][rows])] for skipped in variants]))
    if len(missing):
        scores, ids = index.search(index.vectors_at(missing), k + 1 + max(variants))
        owners = [index.ids[r] for r in missing.tolist()]
        for skipped in variants:
            found = searched_densities(owners, scores, ids, k=k, skipped=skipped)
            known[skipped][missing] = np.nan_to_num(found, nan=0.0)
            _keep_densities(index, k, skipped, known[skipped])
    return known


def forget_densities(index) -> None:
    """Drop the densities kept on the index object (not its folder's file): the next call searches again, as on a
    freshly built index."""
    index._densities = None


def density_file(k: int, skipped: int = 0) -> str:
    """The file of an index generation holding its enrolled accounts' densities at K = k (`skipped` nearest left
    out)."""
    return f"densities-k{k}.npy" if not skipped else f"densities-k{k}-skip{skipped}.npy"


def _known_densities(index, k: int, skipped: int = 0) -> np.ndarray:
    """The densities of the index's rows found so far, NaN where not yet: on the index object while its size
    holds, else read from its generation folder's density file (a damaged or mis-sized file is ignored)."""
    kept = getattr(index, "_densities", None) or {}
    cached = kept.get((k, skipped))
    if cached is not None and cached[0] == len(index):
        return cached[1]
    known = np.full(len(index), np.nan)
    path = None if getattr(index, "folder", None) is None else Path(index.folder) / density_file(k, skipped)
    if path is not None and path.is_file():
        try:
            saved = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError) as err:
            logger.warning("%s: unreadable (%s); densities are searched again", path, err)
        else:
            if saved.shape == known.shape and saved.dtype.kind == "f":
                known = saved.astype(np.float64)
    index._densities = {**kept, (k, skipped): (len(index), known)}
    return known


def _keep_densities(index, k: int, skipped: int, known: np.ndarray) -> None:
    """Write the densities found so far to the index's generation folder, when it was loaded from one that
    still exists (another process may have replaced the generation since) and can be written."""
    folder = getattr(index, "folder", None)
    if folder is None or not Path(folder).is_dir() or len(known) != len(index):
        return
    try:
        atomic_write(Path(folder) / density_file(k, skipped), lambda tmp: save_npy(tmp, known))
    except OSError as err:  # a read-only index: the densities stay in memory for this process
        logger.info("densities not kept with the index (%s)", err)


#: A query found at this cosine or above under its own id is its own enrolled vector, not a namesake.
ITSELF_COSINE = 0.999


def searched_densities(
    owners: Sequence[str],
    scores: np.ndarray,
    ids: np.ndarray,
    *,
    k: int = K,
    skipped: int = 0,
    queries: bool = False,
) -> np.ndarray:
    """Each search row's density: the mean of its first k scores (best first) whose id is neither missing nor
    the row's own account (`owners[i]`, which finds itself when it is enrolled), after the first `skipped` of
    them; NaN for a row with none. `queries`: the rows are query accounts, which may share an enrolled
    account's id without being it (its other half, linked under its name): one is left out as itself only at
    ITSELF_COSINE or above (audit 12: a query's P rose by up to 0.06 when it was named as its twin)."""
    out = np.full(len(owners), np.nan)
    for row, (owner, row_scores, row_ids) in enumerate(zip(owners, scores, ids, strict=True)):
        others = [
            float(s)
            for s, i in zip(row_scores, row_ids, strict=True)
            if i is not None and (i != owner or (queries and s < ITSELF_COSINE))
        ]
        if others[skipped:]:
            out[row] = float(np.mean(others[skipped : skipped + k]))
    return out


def mixed_searched_densities(
    owners: Sequence[str], scores: np.ndarray, ids: np.ndarray, *, skip: float = 0.0, queries: bool = False
) -> np.ndarray:
    """`searched_densities` at K, with `skip` = w of the density without the nearest mixed in (as
    `index_densities` mixes them)."""
    densities = searched_densities(owners, scores, ids, queries=queries)
    if not skip:
        return densities
    return cohort.mixed(densities, searched_densities(owners, scores, ids, skipped=1, queries=queries), skip)


#: Enrolled accounts whose densities estimate an index's median density (`median_density`).
MEDIAN_SAMPLE = 500


def median_density(
    index, *, sample: int = MEDIAN_SAMPLE, seed: int = 0, skip: float = 0.0, least: int | None = None
) -> float:
    """The median density of the index's enrolled accounts (`skip` as `index_densities`), from a seeded sample
    of `sample` of them (all when fewer): what a cohort-normalised score is centred on. `least`: only the
    accounts with at least that many posts (`cohort.reference_rows`: all when fewer than cohort.MIN_POOL are).
    The sample's densities are kept with the index's others, so a second `link` call on one loaded index does
    not search it again."""
    enrolled = sorted(
        index.positions
    )  # by id: the sample is the same whatever order the accounts were enrolled in
    rows = cohort.reference_rows(index.n_posts, least)
    if rows is not None:
        enrolled = [account for account in enrolled if rows[index.positions[account]]]
    if len(enrolled) > sample:
        chosen = np.random.default_rng(seed).choice(len(enrolled), sample, replace=False)
        enrolled = [enrolled[i] for i in sorted(chosen)]
    return float(np.median(list(index_densities(index, enrolled, skip=skip).values())))


def corrected(cosines: np.ndarray, densities: np.ndarray) -> np.ndarray:
    """The CSLS score: each cosine less WEIGHT times its candidate's density (broadcasts over candidates)."""
    return np.asarray(cosines, dtype=np.float64) - WEIGHT * np.asarray(densities, dtype=np.float64)
