"""The similarity graph behind clustering: kNN lists (`authorid.index.knn`) as a sparse matrix, and its filters."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def knn_matrix(neighbours: np.ndarray, weights: np.ndarray, n: int) -> sp.csr_matrix:
    """The directed kNN graph as an (n, n) CSR matrix: entry (i, j) = weight of j among i's neighbours."""
    rows = np.repeat(np.arange(n), neighbours.shape[1])
    cols = neighbours.reshape(-1)
    data = weights.reshape(-1).astype(np.float64)
    valid = cols >= 0
    return sp.csr_matrix((data[valid], (rows[valid], cols[valid])), shape=(n, n))


def mutual(directed: sp.csr_matrix) -> sp.csr_matrix:
    """Keep edge i-j only if j is among i's neighbours and i among j's (Maier, Hein & von Luxburg 2009).

    This is what stops chaining: a hub that is everyone's near neighbour keeps only the few it ranks back.
    """
    both = directed.copy()
    both.data[:] = 1.0
    both = both.multiply(both.T)  # 1 where both directions exist
    return sp.csr_matrix(directed.multiply(both))


def symmetric(directed: sp.csr_matrix) -> sp.csr_matrix:
    """Edge i-j if either lists the other (the union graph), weight the larger of the two directions."""
    return sp.csr_matrix(directed.maximum(directed.T))


def cut(graph: sp.csr_matrix, threshold: float) -> sp.csr_matrix:
    """Drop edges whose weight is below `threshold` (the decision threshold on P(same person))."""
    graph = sp.csr_matrix(graph, copy=True)
    graph.data[graph.data < threshold] = 0
    graph.eliminate_zeros()
    return graph
