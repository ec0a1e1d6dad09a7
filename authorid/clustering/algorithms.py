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
#: Members per group that `group_average` compares: groups up to this size are compared on every pair, larger
#: ones on a sample of this many members (seeded, with replacement), so one check costs at most 64 x 64
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
    pair); a group larger than GROUP_AVERAGE_MEMBERS is represented by a sample of that many of its members
    (`_merged_sample`), kept with the group and updated when it merges, so a check draws nothing; a rejected
    pair of groups is not checked again until one of them has grown enough to move the mean (`_outgrown`).
    At a million accounts these took the grouping from 634 s to 215 s, and the last from 27 to 14 s on a 200k
    subset (docs/scale.md).
    """
    n = graph.shape[0]
    parent = list(range(n))
    size = [1] * n
    sample: list[np.ndarray] = [np.array([i]) for i in range(n)]  # the members a group is compared on
    rejected: dict[tuple[int, int], tuple[int, int]] = {}  # rejected pair of groups -> sizes that recheck it
    rng = np.random.default_rng(seed)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    gathered: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # a large group's sample and its vectors

    def sample_vectors(group: int) -> np.ndarray:
        rows = sample[group]
        if size[group] <= GROUP_AVERAGE_MEMBERS:
            return vectors[rows]
        cached = gathered.get(group)
        if (
            cached is None or cached[0] is not rows
        ):  # a group absorbing single accounts rarely changes its sample
            cached = gathered[group] = (rows, vectors[rows])
        return cached[1]

    def mean_weight(a: int, b: int) -> float:
        rows_a, rows_b = sample[a], sample[b]
        cosines = sample_vectors(a) @ sample_vectors(b).T
        weights = np.asarray(probability(cosines, rows_a[:, None], rows_b[None, :]))
        return float(weights.sum()) / weights.size

    upper = sp.triu(graph, k=1).tocoo()
    order = np.argsort(-upper.data, kind="stable")
    edges = list(
        zip(upper.row[order].tolist(), upper.col[order].tolist(), upper.data[order].tolist(), strict=True)
    )
    for _ in range(GROUP_AVERAGE_PASSES):
        merged = False
        rejected_edges = []  # what the next pass checks again: an edge inside a group stays inside it
        for i, j, weight in edges:
            a, b = root(i), root(j)
            if a == b:
                continue
            if size[a] == 1 and size[b] == 1:
                mean = weight
            else:
                key = (a, b) if a < b else (b, a)
                sizes = rejected.get(key)
                if sizes and size[key[0]] <= sizes[0] and size[key[1]] <= sizes[1]:
                    rejected_edges.append((i, j, weight))
                    continue
                mean = mean_weight(a, b)
                if mean < threshold:  # not checked again until a group outgrows what this check saw
                    rejected[key] = (_outgrown(size[key[0]]), _outgrown(size[key[1]]))
            if mean < threshold:
                rejected_edges.append((i, j, weight))
                continue
            if size[a] < size[b]:
                a, b = b, a
            parent[b] = a
            sample[a] = _merged_sample(sample[a], size[a], sample[b], size[b], rng)
            size[a] += size[b]
            sample[b] = sample[b][:0]
            gathered.pop(b, None)
            merged = True
        if not merged:
            break
        edges = rejected_edges
    return np.array([root(i) for i in range(n)], dtype=np.int64)


def _outgrown(size: int) -> int:
    """The size past which a group rejected at `size` members is compared again: any growth while its pairs are
    all compared (the mean is exact), then a growth of one member in GROUP_AVERAGE_MEMBERS, which moves the
    mean P by less than the sample's own error (`group_average` rechecks a giant group's rejected neighbours
    when it has grown by 1/64, not at every one of the thousands of accounts it absorbs)."""
    if size <= GROUP_AVERAGE_MEMBERS:
        return size
    return size + size // GROUP_AVERAGE_MEMBERS


def _merged_sample(
    rows_a: np.ndarray, size_a: int, rows_b: np.ndarray, size_b: int, rng: np.random.Generator
) -> np.ndarray:
    """The members group a + b is compared on, from a's and b's: all of them while there are at most
    GROUP_AVERAGE_MEMBERS, else GROUP_AVERAGE_MEMBERS slots, each a uniform draw from a + b's members.

    A small group's rows are all its members. Once a group is large, each slot keeps a's draw or takes one of
    b's with probability size_b / (size_a + size_b): every slot stays a uniform draw from the union, and a
    group that absorbs thousands of single accounts one at a time keeps distinct members in its sample
    (redrawing all slots from the old sample at each merge would collapse it onto a few members).
    """
    total = size_a + size_b
    if total <= GROUP_AVERAGE_MEMBERS:
        return np.concatenate([rows_a, rows_b])
    slots = GROUP_AVERAGE_MEMBERS
    if size_a <= slots:  # a's rows are its members: draw its slots from them
        rows_a = rows_a[rng.integers(len(rows_a), size=slots)]
    replaced = rng.random(slots) < size_b / total
    if not replaced.any():
        return rows_a  # the same array: its gathered vectors stay valid
    out = rows_a.copy()
    out[replaced] = rows_b[rng.integers(len(rows_b), size=int(replaced.sum()))]
    return out


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
