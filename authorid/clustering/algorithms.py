"""Partition a thresholded similarity graph into persons: each function returns one int label per account.

All four read a symmetric sparse graph whose weights are P(same person) (or cosines) at or above the
decision threshold; none is told the number of persons.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from authorid.errors import AuthoridError

#: Largest connected component agglomerative clustering accepts (it needs a dense m x m distance matrix).
AGGLOMERATIVE_MAX = 20_000


class MissingDependencyError(AuthoridError):
    """A clustering method whose optional package is not installed."""


def components(graph: sp.csr_matrix) -> np.ndarray:
    """Connected components of the (undirected) graph: one label per node."""
    _, labels = connected_components(graph, directed=False)
    return labels.astype(np.int64)


def agglomerative(
    vectors: np.ndarray,
    graph: sp.csr_matrix,
    threshold: float,
    probability: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
) -> np.ndarray:
    """Average linkage with distance 1 - P(same person), stopped at distance 1 - threshold.

    Run separately inside each connected component of `graph` (the kNN graph cut at the threshold): two
    components share no edge at or above the threshold among their k nearest neighbours, so average linkage
    would merge them only through pairs the kNN search did not list; that approximation makes the method
    O(sum of m^2) instead of O(n^2). With P = cosine this is scikit-learn's AgglomerativeClustering with
    metric="cosine", linkage="average", distance_threshold = 1 - threshold. A merge needs average
    P > threshold (scikit-learn merges strictly below the distance threshold).
    """
    from sklearn.cluster import AgglomerativeClustering

    component_of = components(graph)
    sizes = np.bincount(component_of)
    if sizes.max() > AGGLOMERATIVE_MAX:
        raise ValueError(
            f"agglomerative clustering would need a {sizes.max():,} x {sizes.max():,} distance matrix (one "
            f"connected component that large; at most {AGGLOMERATIVE_MAX:,}): use --method average or "
            "leiden, or a higher threshold"
        )
    labels = np.arange(len(component_of), dtype=np.int64)
    for component in np.flatnonzero(sizes > 1):
        members = np.flatnonzero(component_of == component)
        if len(members) == 2:  # already a pair at or above the threshold; linkage would agree (unless tie)
            labels[members] = members[0]
            continue
        block = vectors[members]
        distance = 1.0 - np.asarray(
            probability(block @ block.T, members[:, None], members[None, :]), dtype=np.float64
        )
        distance = np.clip((distance + distance.T) / 2, 0.0, None)
        np.fill_diagonal(distance, 0.0)
        model = AgglomerativeClustering(
            n_clusters=None, metric="precomputed", linkage="average", distance_threshold=1.0 - threshold
        )
        local = model.fit_predict(distance)
        labels[members] = _first_member(members, local)
    return labels


#: Passes over the candidate edges of `group_average` (a merge can make a rejected edge acceptable later).
GROUP_AVERAGE_PASSES = 3
#: Members per group that `group_average` compares: groups up to this size are compared on every pair, larger
#: ones on this many members drawn at random (seeded, with replacement), so one check costs at most 64 x 64
#: cosines however large the groups grow. The mean P over 64 draws has a standard error of at most
#: 0.5 / sqrt(64) ~ 0.06 and far less in practice: P is near 0 for most pairs of different people.
GROUP_AVERAGE_MEMBERS = 64


def group_average(
    vectors: np.ndarray,
    graph: sp.csr_matrix,
    threshold: float,
    probability: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
    seed: int = 0,
) -> np.ndarray:
    """Average linkage over the graph's edges only: two groups merge when the mean P(same person) over their
    member pairs is at least `threshold`, never through one strong edge alone.

    The candidate merges are the edges of the kNN graph cut at the threshold, strongest first (the graph is
    sparse, so this scales to millions of accounts). A chain a - b - c whose ends are unlike (P(a, c) low)
    stays split where connected components, and so mutual kNN, would join it. A few passes let a merge that
    became acceptable after others happen.

    Each check is bounded: two single accounts merge on their edge's own weight (it is the mean over their one
    pair); a group larger than GROUP_AVERAGE_MEMBERS is represented by that many of its members drawn at random
    (seeded); a rejected pair of groups is not checked again until one of them changes.
    """
    n = graph.shape[0]
    parent = list(range(n))
    members: list[list[int]] = [[i] for i in range(n)]
    version = [0] * n  # bumped when a group grows: a rejection cached under older versions is stale
    rejected: dict[tuple[int, int], tuple[int, int]] = {}
    rng = np.random.default_rng(seed)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def drawn(group: list[int]) -> np.ndarray:
        if len(group) <= GROUP_AVERAGE_MEMBERS:
            return np.asarray(group)
        return np.array(itemgetter(*rng.integers(len(group), size=GROUP_AVERAGE_MEMBERS).tolist())(group))

    def mean_weight(a: list[int], b: list[int]) -> float:
        rows_a, rows_b = drawn(a), drawn(b)
        cosines = vectors[rows_a] @ vectors[rows_b].T
        return float(probability(cosines, rows_a[:, None], rows_b[None, :]).mean())

    upper = sp.triu(graph, k=1).tocoo()
    order = np.argsort(-upper.data, kind="stable")
    edges = list(
        zip(upper.row[order].tolist(), upper.col[order].tolist(), upper.data[order].tolist(), strict=True)
    )
    for _ in range(GROUP_AVERAGE_PASSES):
        merged = False
        for i, j, weight in edges:
            a, b = root(i), root(j)
            if a == b:
                continue
            if len(members[a]) == 1 and len(members[b]) == 1:
                mean = weight
            else:
                key, stamp = (a, b) if a < b else (b, a), (version[min(a, b)], version[max(a, b)])
                if rejected.get(key) == stamp:
                    continue
                mean = mean_weight(members[a], members[b])
                if mean < threshold:
                    rejected[key] = stamp
            if mean >= threshold:
                if len(members[a]) < len(members[b]):
                    a, b = b, a
                parent[b] = a
                members[a] += members[b]
                members[b] = []
                version[a] += 1
                merged = True
        if not merged:
            break
    return np.array([root(i) for i in range(n)], dtype=np.int64)


def _first_member(members: np.ndarray, local: np.ndarray) -> np.ndarray:
    """For each member, the smallest global index of its local cluster (a label unique across components)."""
    first = np.full(local.max() + 1, np.iinfo(np.int64).max)
    np.minimum.at(first, local, members)
    return first[local]


def leiden(graph: sp.csr_matrix, resolution: float, seed: int = 0) -> np.ndarray:
    """Leiden (Traag, Waltman & van Eck 2019) maximising the Constant Potts Model on the weighted graph.

    CPM quality = sum over clusters c of (W_c - resolution * n_c (n_c - 1) / 2), W_c the total edge weight
    inside c: a cluster is kept only where its members' mean pairwise weight (missing pairs count 0) beats the
    resolution, here the decision threshold, so there is no resolution limit to merge persons as modularity has.
    """
    try:
        import igraph
        import leidenalg
    except ImportError as exc:
        raise MissingDependencyError(
            f"--method leiden needs the packages python-igraph and leidenalg ({exc.name} is not installed): "
            "pip install python-igraph leidenalg, or use --method average"
        ) from None
    upper = sp.triu(graph, k=1).tocoo()
    network = igraph.Graph(
        n=graph.shape[0], edges=list(zip(upper.row.tolist(), upper.col.tolist(), strict=True))
    )
    network.es["weight"] = upper.data.tolist()
    partition = leidenalg.find_partition(
        network,
        leidenalg.CPMVertexPartition,
        weights="weight",
        resolution_parameter=resolution,
        seed=seed,
    )
    return np.asarray(partition.membership, dtype=np.int64)
