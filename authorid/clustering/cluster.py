"""`cluster_accounts`: find the persons behind accounts without being told how many.

1. kNN graph: each account's k nearest accounts by cosine (`authorid.index.knn`: exact search for small n,
   faiss IVF searched cell by cell for large n).
2. Edge weights: P(same person) = `probability(cosine)` from a calibration (or, with `cohort_normalised`, of the
   cosine less its pair's cohort shift, `authorid.verification.cohort`); with no calibration the cosine
   itself, and then `threshold` is read as a cosine threshold (so 0.5 means cosine >= 0.5, not 50%).
3. Cut: drop edges below `threshold`, the decision threshold. With `min_precision` (and a calibration), the
   threshold is raised, step by step up THRESHOLD_STEPS, to the lowest one at which the clusters' pairwise
   precision reaches it with probability `confidence` (`report.chance_of_precision`, each pair right with its
   P). P >= 0.5 is the right decision for one pair; a cluster decides for every pair of its members, and the
   pairs it merges at P just above 0.5 are wrong nearly half the time (`style` on 2,000 Reddit halves: pairwise
   precision 0.88 at P >= 0.5). Asking only that the *expected* precision (the mean P of the pairs formed)
   reach the target, as until stop 40, delivers less than the target about half the time even with P
   calibrated: 0.897 at 0.903 expected on those halves. The chance is read off calibrated P alone, so it needs
   no truth and adapts to each corpus: with few pairs it asks a wide margin, with thousands almost none.
4. One of
   - "average" (default): average linkage over the kNN graph's edges: two groups merge only when the mean
     P(same person) over every pair of their members reaches the threshold, so one strong link between two
     groups (a - b strong, b - c strong, a - c weak) never chains them into one person. Groups larger than 64
     are compared on 64 members drawn at random (seeded), so a check costs at most 64 x 64 cosines.
   - "mutual-knn": keep edge i-j only if each is among the other's k nearest, then connected components.
     Mutual neighbours stop the chaining that makes plain single linkage glue unrelated accounts together
     through hubs (Maier, Hein & von Luxburg 2009; Brito et al. 1997).
   - "agglomerative": average linkage on 1 - P inside each connected component of the cut graph.
   - "leiden": Leiden maximising CPM with resolution = threshold (needs python-igraph and leidenalg).

The report warns (logging) when the largest cluster holds more than `GIANT_FRACTION` of the accounts: one
person behind a tenth of a forum is far likelier a chained graph than a truth.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp

from authorid.clustering import algorithms
from authorid.clustering.graph import cut, knn_matrix, mutual, symmetric
from authorid.clustering.report import (
    Cluster,
    ClusterReport,
    EvidencePair,
    chance_of_precision,
    expected_precision,
    pairs_formed,
)
from authorid.index.knn import EXACT_BELOW, knn
from authorid.vectors import AccountVectors, id_order
from authorid.verification import cohort

logger = logging.getLogger(__name__)

METHODS = ("average", "mutual-knn", "agglomerative", "leiden")
#: Warn when the largest cluster exceeds this share of the accounts (and GIANT_MIN_SIZE accounts).
GIANT_FRACTION = 0.1
GIANT_MIN_SIZE = 20
#: The pairwise precision `authorid cluster` asks of its clusters unless told otherwise (a calibrated model
#: only), and how sure it must be of reaching it: nine in ten of the same-person pairs it forms right, with
#: probability 0.9 if P is calibrated.
DEFAULT_MIN_PRECISION = 0.9
DEFAULT_CONFIDENCE = 0.9
#: The thresholds `min_precision` may raise the decision threshold to (those above the one given), lowest first.
THRESHOLD_STEPS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.99)
#: Evidence pairs kept per cluster, and members sampled to estimate the cohesion of a very large cluster.
EVIDENCE_PAIRS = 5
COHESION_SAMPLE = 500

Probability = Callable[..., np.ndarray]
#: Edge weight of cosines between accounts at rows rows_a and rows_b (broadcastable to the cosines' shape).
Weigh = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def cluster_accounts(
    vectors: AccountVectors,
    *,
    method: str = "average",
    k: int = 10,
    threshold: float = 0.5,
    probability: Probability | None = None,
    seed: int = 0,
    search: Callable[[AccountVectors, int], tuple[np.ndarray, np.ndarray]] | None = None,
    cohort_normalised: bool = False,
    skip: float = 0.0,
    reference_posts: int | None = None,
    min_precision: float | None = None,
    confidence: float = DEFAULT_CONFIDENCE,
) -> ClusterReport:
    """Group accounts into presumed persons (see the module docstring for the steps).

    probability: maps cosines (any shape) to calibrated P(same person), e.g. `Calibrator.predict`; when it
    takes `sizes=`, both accounts' post and character counts are passed (`AccountVectors.pair_sizes`: a
    size-aware calibration needs them); None reads `threshold` as a cosine threshold. k: neighbours per
    account in the graph. seed: Leiden's and the cohesion sample's seed. search: how the kNN graph is
    searched, (vectors, k) -> (cosines, positions) as `authorid.index.knn.knn` returns them (default;
    `authorid.scaleout.knn.knn_on_ray` runs it on Ray). cohort_normalised: `probability` reads
    cohort-normalised scores (a calibration's cohort fit, `Calibrator.for_pool`): each cosine less its pair's
    shift in this pool's cohort, whose densities are read from the kNN graph (`authorid.verification.cohort`;
    at least `cohort.MIN_POOL` accounts); `skip`: w, the weight of its densities that leave out each account's
    nearest (`cohort.skip_weight`); `reference_posts`: its median is read over the accounts with at least that
    many posts (`cohort.reference_posts` of the fit, `cohort.reference_rows`). min_precision: raise the
    threshold to the lowest of THRESHOLD_STEPS (from `threshold` up) whose clusters' pairwise precision reaches
    this with probability `confidence` (needs `probability`; 0.5 asks roughly that the expected precision reach
    it); the report's params record the threshold used and, for every step tried, the expected precision and
    that probability. None: `threshold` as given.
    """
    check_options(
        method,
        k,
        threshold,
        calibrated=probability is not None,
        min_precision=min_precision,
        confidence=confidence,
    )
    if len(vectors) == 0:
        raise ValueError("no accounts to cluster (the corpus is empty)")
    if cohort_normalised and (probability is None or not cohort.applies(len(vectors))):
        raise ValueError(
            f"cohort-normalised scores need a calibration and at least {cohort.MIN_POOL} accounts"
            f" ({len(vectors)} given)"
        )
    timing: dict[str, float] = {}
    n = len(vectors)
    start = time.perf_counter()
    # a cohort's densities read each account's K nearest: the graph keeps the first k of them
    depth = cohort.K + (1 if skip else 0)
    cosines, neighbours = (search or knn)(vectors, max(k, depth) if cohort_normalised else k)
    reference = cohort.reference_rows(vectors.n_posts, reference_posts) if cohort_normalised else None
    pool = cohort.Cohort.of_neighbours(cosines, skip=skip, reference=reference) if cohort_normalised else None
    cosines, neighbours = cosines[:, :k], neighbours[:, :k]
    weigh = _checked(probability, vectors, pool) if probability is not None else _identity
    timing["knn_s"] = time.perf_counter() - start

    start = time.perf_counter()
    finite = np.isfinite(cosines)
    weights = np.zeros_like(cosines)
    rows = np.broadcast_to(np.arange(n)[:, None], cosines.shape)
    weights[finite] = weigh(cosines[finite], rows[finite], neighbours[finite])
    directed = knn_matrix(np.where(finite, neighbours, -1), weights, n)
    timing["graph_s"] = time.perf_counter() - start

    def at(threshold: float) -> tuple[sp.csr_matrix, sp.csr_matrix, np.ndarray, list[Cluster]]:
        """(the cut graph, the graph the method read, labels, clusters) at this threshold."""
        start = time.perf_counter()
        union = cut(symmetric(directed), threshold)
        graph = cut(mutual(directed), threshold) if method == "mutual-knn" else union
        if method == "mutual-knn":
            raw = algorithms.components(graph)
        elif method == "average":
            raw = algorithms.group_average(vectors.vectors, graph, threshold, weigh, seed=seed)
        elif method == "agglomerative":
            raw = algorithms.agglomerative(vectors.vectors, graph, threshold, weigh)
        else:
            raw = algorithms.leiden(graph, threshold, seed=seed)
        timing["cluster_s"] = timing.get("cluster_s", 0.0) + time.perf_counter() - start
        start = time.perf_counter()
        labels = _relabel_by_size(raw, vectors.account_ids)
        clusters = _clusters(vectors, labels, graph, weigh, seed)
        timing["report_s"] = timing.get("report_s", 0.0) + time.perf_counter() - start
        return union, graph, labels, clusters

    steps = [threshold]
    if min_precision is not None:
        steps += [step for step in THRESHOLD_STEPS if step > threshold]
    tried: dict[float, float | None] = {}
    chances: dict[float, float | None] = {}

    def chance(index: int) -> tuple[float | None, tuple]:
        """The chance that the clusters at this step reach min_precision (None: no pair formed)."""
        result = at(steps[index])
        tried[steps[index]] = expected_precision(result[3])
        chances[steps[index]] = odds = (
            None if min_precision is None else chance_of_precision(result[3], min_precision)
        )
        return odds, result

    def reaches(odds: float | None) -> bool:  # no pair merged: none merged wrongly
        return min_precision is None or odds is None or odds >= confidence

    # The lowest step that reaches the target. Fewer pairs merge as the threshold rises, and those left have
    # higher P, so the chance rises with it (but for the steps of a count: of 10 pairs 0.9 allows one wrong, of 9
    # none, so it can dip where few pairs form): bisection, `low` a step that misses and `index` one that reaches
    # (the highest step is assumed to, and clustered only if it is the answer: it is kept even when it misses).
    # Each probe is one clustering of the same graph: at most 5 after the first, over the 11 steps.
    index = 0
    odds, chosen = chance(0)
    if not reaches(odds) and len(steps) > 1:
        low, index, best = 0, len(steps) - 1, None
        while index - low > 1:
            middle = (low + index) // 2
            middle_odds, middle_result = chance(middle)
            if reaches(middle_odds):
                index, best = middle, (middle_odds, middle_result)
            else:
                low = middle
        odds, chosen = best if best is not None else chance(index)
    union, graph, labels, clusters = chosen
    threshold = steps[index]

    largest_component = int(np.bincount(algorithms.components(union)).max())
    stats = {
        "n_accounts": n,
        "n_clusters": len(clusters),
        "n_multi_account": sum(c.size > 1 for c in clusters),
        "largest_cluster": clusters[0].size,
        "largest_component": largest_component,  # of the kNN graph cut at the threshold, before filtering
        "edges_cut_graph": int(union.nnz // 2),
        "edges_used": int(graph.nnz // 2),
        "pairs_formed": pairs_formed(clusters),
        "expected_pairwise_precision": expected_precision(clusters) if probability is not None else None,
        # the chance that at least min_precision of those pairs are right, P read as calibrated
        **({"chance_of_min_precision": odds} if min_precision is not None else {}),
    }
    if clusters[0].size > max(GIANT_FRACTION * n, GIANT_MIN_SIZE):
        logger.info(
            "the largest cluster holds %d of %d accounts (%.0f%%): the graph may be chaining unrelated accounts;"
            " raise the threshold or lower k",
            clusters[0].size,
            n,
            100 * clusters[0].size / n,
        )
    if min_precision is not None and not reaches(odds):  # info: `cluster` and `evaluate` say it themselves
        logger.info(
            "no threshold up to %g reaches a pairwise precision of %g with probability %g (%.3f at %g)",
            THRESHOLD_STEPS[-1],
            min_precision,
            confidence,
            odds,
            threshold,
        )
    params = {
        "method": method,
        "k": k,
        "threshold": threshold,
        "threshold_on": "probability" if probability is not None else "cosine",
        "scores": "cohort-normalised" if cohort_normalised else "cosine",
        # w: how much of each density leaves out the account's nearest (`cohort.skip_weight`)
        **({"cohort_nearest_skipped": round(float(skip), 4)} if cohort_normalised else {}),
        # the accounts whose densities set the cohort's median: posts at least this (None: every account)
        **(
            {"cohort_reference_posts": reference_posts if reference is not None else None}
            if cohort_normalised
            else {}
        ),
        "seed": seed,
        "exact_knn": n < EXACT_BELOW,
    }
    if min_precision is not None:
        params |= {
            "min_precision": min_precision,
            "confidence": confidence,
            # per step tried: the expected pairwise precision, and the chance of reaching min_precision
            "thresholds_tried": {
                f"{t:g}": None if p is None else round(p, 4) for t, p in sorted(tried.items())
            },
            "chances_tried": {
                f"{t:g}": None if p is None else round(p, 4) for t, p in sorted(chances.items())
            },
        }
    return ClusterReport(
        account_ids=list(vectors.account_ids),
        labels=labels,
        clusters=clusters,
        params=params,
        timing=timing,
        stats=stats,
    )


def check_options(
    method: str,
    k: int,
    threshold: float | None,
    *,
    calibrated: bool,
    min_precision: float | None = None,
    confidence: float = DEFAULT_CONFIDENCE,
) -> None:
    """The clustering settings, checked on their own (the CLI does so before it reads a corpus); `threshold`
    None: the calibration's own, or 0.5."""
    if method not in METHODS:
        raise ValueError(f"unknown clustering method {method!r}; choose one of {', '.join(METHODS)}")
    if k < 1:
        raise ValueError(f"k must be at least 1 neighbour, got {k}")
    if not 0.0 <= confidence < 1.0:  # 1: certainty, which no calibrated P below 1 ever gives (audit 15)
        raise ValueError(f"confidence {confidence} is a probability and must lie in [0, 1)")
    if min_precision is not None:
        if not 0.0 <= min_precision <= 1.0:
            raise ValueError(f"min_precision {min_precision} is a share of pairs and must lie in [0, 1]")
        if not calibrated:
            raise ValueError(
                "min_precision needs a calibration (P(same person) on every edge); without one the threshold"
                " is a cosine"
            )
    if threshold is None:
        return
    if calibrated and not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold {threshold} is a probability with a calibration and must lie in [0, 1]")
    if not calibrated and not -1.0 <= threshold <= 1.0:
        raise ValueError(f"threshold {threshold} is a cosine without a calibration and must lie in [-1, 1]")


def _identity(cosines: np.ndarray, rows_a=None, rows_b=None) -> np.ndarray:
    """The weight without a calibration: the cosine itself."""
    return np.asarray(cosines, dtype=np.float32)


def _checked(probability: Probability, vectors: AccountVectors, pool: cohort.Cohort | None) -> Weigh:
    sized = _takes_sizes(probability)

    def weigh(cosines: np.ndarray, rows_a: np.ndarray, rows_b: np.ndarray) -> np.ndarray:
        if pool is not None:
            cosines = cohort.normalised(cosines, pool.shift(rows_a, rows_b))
        if sized:
            p = probability(cosines, sizes=vectors.pair_sizes(rows_a, rows_b))
        else:
            p = probability(cosines)
        out = np.asarray(p, dtype=np.float32).reshape(np.shape(cosines))
        if out.size and (np.nanmin(out) < 0 or np.nanmax(out) > 1 or np.isnan(out).any()):
            raise ValueError(
                "the calibration returned values outside [0, 1]; it must map cosines to probabilities"
            )
        return out

    return weigh


def _takes_sizes(probability: Probability) -> bool:
    """Whether `probability` accepts the accounts' post and character counts (`sizes=`, as `Calibrator.predict`
    does)."""
    try:
        parameters = inspect.signature(probability).parameters
    except (TypeError, ValueError):  # a builtin without a signature
        return False
    return "sizes" in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


def _relabel_by_size(raw: np.ndarray, account_ids: Sequence[str]) -> np.ndarray:
    """Renumber clusters 0.. by decreasing size, ties by the smallest account id in the cluster: not by where its
    accounts stand in the corpus, so the same posts in another order get the same ids (audit 16: a shuffled
    file gave two groups of one size each other's ids, and `--previous` carried an id to the other half of a
    split pair)."""
    _, inverse, counts = np.unique(raw, return_inverse=True, return_counts=True)
    id_rank = np.empty(len(raw), dtype=np.int64)
    id_rank[id_order(account_ids)] = np.arange(len(raw))
    smallest = np.full(len(counts), len(raw), dtype=np.int64)
    np.minimum.at(smallest, inverse, id_rank)
    order = np.lexsort((smallest, -counts))
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[inverse].astype(np.int64)


def _clusters(
    vectors: AccountVectors, labels: np.ndarray, graph: sp.csr_matrix, weigh: Weigh, seed: int
) -> list[Cluster]:
    ids = vectors.account_ids
    members_of = np.split(np.argsort(labels, kind="stable"), np.cumsum(np.bincount(labels))[:-1])
    evidence = _evidence(vectors, labels, graph)
    rng = np.random.default_rng(seed)
    clusters = []
    for cluster_id, members in enumerate(members_of):
        cohesion = None
        if len(members) > 1:
            sample = (
                members if len(members) <= COHESION_SAMPLE else rng.choice(members, COHESION_SAMPLE, False)
            )
            block = vectors.vectors[sample]
            upper = np.triu_indices(len(sample), k=1)
            cohesion = float(np.mean(weigh((block @ block.T)[upper], sample[upper[0]], sample[upper[1]])))
        clusters.append(
            Cluster(
                id=cluster_id,
                members=[ids[i] for i in members],
                cohesion=cohesion,
                evidence=evidence.get(cluster_id, []),
            )
        )
    return clusters


def _evidence(
    vectors: AccountVectors, labels: np.ndarray, graph: sp.csr_matrix
) -> dict[int, list[EvidencePair]]:
    """The EVIDENCE_PAIRS strongest graph edges inside each cluster, strongest first."""
    upper = sp.triu(graph, k=1).tocoo()
    inside = labels[upper.row] == labels[upper.col]
    rows, cols, weights = upper.row[inside], upper.col[inside], upper.data[inside]
    order = np.lexsort((-weights, labels[rows]))
    out: dict[int, list[EvidencePair]] = {}
    ids = vectors.account_ids
    for position in order:
        i, j = int(rows[position]), int(cols[position])
        pairs = out.setdefault(int(labels[i]), [])
        if len(pairs) < EVIDENCE_PAIRS:
            cosine = float(vectors.vectors[i] @ vectors.vectors[j])
            pairs.append(
                EvidencePair(a=ids[i], b=ids[j], probability=float(weights[position]), cosine=cosine)
            )
    return out
