"""Partition a thresholded similarity graph into persons: each function returns one int label per account.

All four read a symmetric sparse graph whose weights are P(same person) (or cosines) at or above the
decision threshold; none is told the number of persons.
"""

from __future__ import annotations

from collections.abc import Callable

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


def group_average(
    vectors: np.ndarray,
    graph: sp.csr_matrix,
    threshold: float,
    probability: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
) -> np.ndarray:
    """Average linkage over the graph's edges only: two groups merge when the mean P(same person) over *every*
    pair of their members is at least `threshold`, never through one strong edge alone.

    The candidate merges are the edges of the kNN graph cut at the threshold, strongest first (the graph is
    sparse, so this scales to millions of accounts: each check costs |A| x |B| cosines of two small groups).
    A chain a - b - c whose ends are unlike (P(a, c) low) stays split where connected components, and so
    mutual kNN, would join it. A few passes let a merge that became acceptable after others happen.
    """
    n = graph.shape[0]
    parent = np.arange(n)
    members: dict[int, list[int]] = {i: [i] for i in range(n)}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    upper = sp.triu(graph, k=1).tocoo()
    order = np.argsort(-upper.data, kind="stable")
    edges = list(zip(upper.row[order].tolist(), upper.col[order].tolist(), strict=True))
    for _ in range(GROUP_AVERAGE_PASSES):
        merged = False
        for i, j in edges:
            a, b = root(i), root(j)
            if a == b:
                continue
            rows_a, rows_b = np.asarray(members[a]), np.asarray(members[b])
            cosines = vectors[rows_a] @ vectors[rows_b].T
            mean = float(np.mean(probability(cosines, rows_a[:, None], rows_b[None, :])))
            if mean >= threshold:
                if len(members[a]) < len(members[b]):
                    a, b = b, a
                parent[b] = a
                members[a] += members.pop(b)
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
