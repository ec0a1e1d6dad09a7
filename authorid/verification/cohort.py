"""Cohort normalisation: a pair's cosine less how close each of its two accounts sits to everyone else.

Some accounts sit near almost every other account (generic writing, little text): their cosines with strangers
run high, and a calibration of the raw cosine reads those as evidence. Speaker verification's answer is score
normalisation against a cohort of impostors (S-norm); the form used here is the symmetric CSLS of Conneau,
Lample et al. (2018), each side's excess density over the pool's median removed:

    score(a, b) = cos(a, b) - (r(a) - m) / 2 - (r(b) - m) / 2

r(x) is x's *density*, the mean cosine between x and its K nearest other accounts of the pool (the corpus being
scored or clustered); m is the pool's median density, so a typical account's score is its cosine and the score
stays on the cosine's scale as the pool grows (densities rise with the pool: median 0.126 among 200 Reddit
halves under `style`, 0.158 among 1,000). Below MIN_POOL accounts there is no cohort: K neighbours would be
most of the pool.

A calibration reads one kind of score: `Calibrator.cohort` is the same method fitted on these scores
(`authorid calibrate` fits both), used where a pool is at hand (`score`, `cluster`, `link`, `explain`); the
cosine fit serves everything else (pools under MIN_POOL accounts, `attribute`). Measured on 1,000 held-out
Reddit persons (2 halves each, `style`), a Platt fit on one fold applied to the other at the forum prior: AUC
0.9555 -> 0.9689, and clustering's pairwise precision 0.73 -> 0.95 at pairwise recall 0.066 -> 0.076
(docs/calibration.md).

**A person's other accounts are not its cohort.** An account's nearest neighbour is often its own person's other
account (its *twin*), and a density that counts the twin runs high exactly where the evidence is: a calibration
fitted on densities with twins, and read on pools with a different share of them, over-promised (stop 37,
docs/calibration.md). So the fit (`authorid calibrate`) measures each account's density without its person's
other accounts (a *twin-free* fit, `TWIN_FREE`), and in a pool, where persons are unknown, each density leaves
out the nearest neighbour in proportion to the twins an account expects there:

    r(x) = (1 - w) x mean of x's K nearest + w x mean of the K after the nearest,   w = min(1, prior x (N - 1))

prior being the share of same-person pairs the user states (`--prior`; by default 1 / (N - 1), one twin each,
so w = 1). On the cleaned pools of `bench_few_twins.py` and the per-size benchmark this was the only variant
better than counting the twin in every pool at once (docs/calibration.md, "Stop 38"). A calibration fitted
before twin-free fits existed reads its densities as before (w = 0; `skip_weight`).

**The median is read over accounts as large as the fit's.** The fit takes each density in excess of the median
density of its whole accounts; a small account's cosines are small, so a pool's median over accounts of every
size sits below that, every excess comes out higher than the fit expects, and P lower where the two accounts of a
pair differ in size. A fit records the fewest posts its whole accounts had (`info["reference_posts"]`), and a
pool's median is taken over its accounts with at least that many (`reference_rows`; every account where fewer than
MIN_POOL are that large, or the fit has no record). On every Reddit test account cut to 2-20 posts a side
(`bench_sizes.py --every-account`) this took the pairings whose flagged pairs come out within 0.05 of their mean
P from 6 of 16 to 10 (docs/calibration.md, "Per size").

`authorid.index.hubness` ranks `link`'s candidates with the one-sided form of the same correction and reads its
densities from here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: Neighbours behind an account's density (CSLS uses 10).
K = 10
#: The smallest pool with a cohort: K neighbours are then at most a fifth of it.
MIN_POOL = 5 * K


#: What a calibration's cohort fit records as `info["density"]` when its densities left out each account's own
#: person (`authorid.workflows.calibrate`): only such a fit reads pool densities that skip the nearest.
TWIN_FREE = "twin-free"


def reference_posts(fit) -> int | None:
    """The fewest posts a calibration's whole accounts had, which a pool's median reads (`reference_rows`);
    None for a fit without the record (fitted before stop 40: every account sets the median)."""
    least = (getattr(fit, "info", None) or {}).get("reference_posts")
    return int(least) if least else None


def reference_rows(n_posts: np.ndarray | None, least: int | None) -> np.ndarray | None:
    """Which accounts of a pool set its median density: those with at least `least` posts, when MIN_POOL of them
    are (None: every account; also with no `least` or no post counts)."""
    if not least or n_posts is None:
        return None
    rows = np.asarray(n_posts) >= least
    return rows if rows.sum() >= MIN_POOL else None


def applies(pool_size: int) -> bool:
    """Whether a pool of `pool_size` accounts has a cohort."""
    return int(pool_size) >= MIN_POOL


def skip_weight(fit, prior: float | None, pool_size: int) -> float:
    """w, the weight of the density that leaves out each account's nearest neighbour (see the module docstring),
    for the cohort fit `fit` read in a pool of `pool_size` accounts at `prior` (None: the forum default, one
    twin per account, w = 1). 0 for a fit whose densities counted twins (fitted before `TWIN_FREE`)."""
    if (getattr(fit, "info", None) or {}).get("density") != TWIN_FREE:
        return 0.0
    if prior is None:
        return 1.0
    return float(min(1.0, max(0.0, prior * (int(pool_size) - 1))))


def mixed(nearest: np.ndarray, after: np.ndarray, skip: float) -> np.ndarray:
    """A density with w = `skip` of it leaving out the nearest: (1 - w) x `nearest` (the mean of the K nearest)
    + w x `after` (the mean of the K after the nearest)."""
    return (1 - skip) * np.asarray(nearest, dtype=np.float64) + skip * np.asarray(after, dtype=np.float64)


def top_k_mean(scores: np.ndarray, k: int = K, *, skip: float = 0.0) -> np.ndarray:
    """Mean of each row's k largest scores (the row's own entry must already be excluded, e.g. -inf); with
    `skip` = w > 0, (1 - w) x that + w x the mean of the k after the largest (the nearest left out)."""
    # Only the mean of the top k is needed, not their order: one partition (`authorid.index.knn.top_k` also
    # sorts them, and importing it would lengthen the protocols' import chain past the architecture test's limit).
    scores = np.asarray(scores, dtype=np.float64)
    k = min(int(k), scores.shape[1] - (1 if skip else 0))
    if k < 1:
        raise ValueError("a density needs at least one other account in the pool")
    if not skip:
        return np.partition(scores, scores.shape[1] - k, axis=1)[:, scores.shape[1] - k :].mean(axis=1)
    top = np.partition(scores, scores.shape[1] - k - 1, axis=1)[:, scores.shape[1] - k - 1 :]
    total, nearest = top.sum(axis=1), top.max(axis=1)
    smallest = top.min(axis=1)
    return mixed((total - smallest) / k, (total - nearest) / k, skip)


def pool_densities(
    score_rows: Callable[[int, int], np.ndarray],
    n: int,
    *,
    k: int = K,
    chunk: int = 1024,
    diagonal: bool = True,
    skip: float = 0.0,
) -> np.ndarray:
    """Density of each of `n` accounts: `score_rows(start, stop)` returns the scores of accounts start..stop-1
    against the whole pool. `diagonal`: the pool is these n accounts, and each account's score against itself
    (column i of row i) is excluded; else `score_rows` has already excluded (-inf) what must not count. `skip`:
    w, the weight of the density without the nearest (`top_k_mean`)."""
    out = np.empty(n, dtype=np.float64)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        scores = np.array(score_rows(start, stop), dtype=np.float64)
        if diagonal:
            scores[np.arange(stop - start), np.arange(start, stop)] = -np.inf
        out[start:stop] = top_k_mean(scores, k, skip=skip)
    return out


@dataclass(frozen=True)
class Cohort:
    """The accounts of one pool, each with its density's excess over the pool's median (`excess[i]`)."""

    excess: np.ndarray
    #: the pool's median density (m)
    median: float

    @classmethod
    def of_densities(cls, densities: np.ndarray, reference: np.ndarray | None = None) -> Cohort:
        """Excess of `densities` over the median of `reference` (default: of the densities themselves)."""
        densities = np.asarray(densities, dtype=np.float64)
        median = float(np.median(densities if reference is None else reference))
        return cls(excess=densities - median, median=median)

    @classmethod
    def of_neighbours(
        cls, cosines: np.ndarray, *, skip: float = 0.0, reference: np.ndarray | None = None
    ) -> Cohort:
        """From each account's cosines with its nearest other accounts, best first (a kNN graph's rows; the
        first K count, -inf or NaN where a row has fewer neighbours). `skip`: w, the weight of the density
        without the nearest, which reads the K after it (the rows then need K + 1 neighbours). `reference`:
        the rows that set the median (`reference_rows`; None: all)."""
        cosines = np.asarray(cosines, dtype=np.float64)
        densities = _finite_mean(cosines[:, :K])
        if skip:
            densities = mixed(densities, _finite_mean(cosines[:, 1 : K + 1]), skip)
        return cls.of_densities(densities, None if reference is None else densities[reference])

    def shift(self, rows_a: np.ndarray, rows_b: np.ndarray) -> np.ndarray:
        """What `normalised` subtracts from the cosines of accounts rows_a x rows_b (broadcasting)."""
        return (self.excess[np.asarray(rows_a)] + self.excess[np.asarray(rows_b)]) / 2


def _finite_mean(top: np.ndarray) -> np.ndarray:
    """Each row's mean over its finite entries (0 for a row with none)."""
    finite = np.isfinite(top)
    return np.where(finite, top, 0.0).sum(axis=1) / np.maximum(finite.sum(axis=1), 1)


def of_vectors(
    vectors: np.ndarray, *, chunk: int = 1024, skip: float = 0.0, reference: np.ndarray | None = None
) -> Cohort | None:
    """The cohort of a pool of L2-normalised vectors (exact: every pair scored in blocks), or None below
    MIN_POOL accounts. `skip`: w (see the module docstring); `reference`: the rows that set the median
    (`reference_rows`; None: all)."""
    if not applies(len(vectors)):
        return None
    matrix = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    matrix = matrix / np.where(norms > 0, norms, 1.0)
    densities = pool_densities(
        lambda start, stop: matrix[start:stop] @ matrix.T, len(matrix), chunk=chunk, skip=skip
    )
    return Cohort.of_densities(densities, None if reference is None else densities[reference])


def normalised(cosines: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """The cohort-normalised score: each cosine less its pair's `Cohort.shift`."""
    return np.asarray(cosines, dtype=np.float64) - np.asarray(shift, dtype=np.float64)
