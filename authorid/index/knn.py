"""Nearest neighbours by inner product: `top_k` of a score matrix, and `knn`, each vector's k nearest others.

Vectors are L2-normalised, so the inner product is the cosine. `knn` is exact below `EXACT_BELOW` vectors
(blocked numpy matmul, O(n^2 d)) and approximate above it (faiss `IndexHNSWFlat` with
`METRIC_INNER_PRODUCT`, Malkov & Yashunin 2018: about O(n log n), but it may miss a few true neighbours).
Clustering builds its graph from `knn`; the indexes use `top_k` for exact search.
"""

from __future__ import annotations

import numpy as np

from authorid.vectors import AccountVectors

#: Below this many vectors "auto" choices are exact: 50k x 50k x 384 is ~1e12 flops, seconds on 2 cores.
EXACT_BELOW = 50_000
#: HNSW graph degree and search breadth: M=32 and efSearch >= 128 keep recall@10 above ~0.95 on style vectors.
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
#: Rows scored per matmul block, bounding the (block x n) score matrix.
_BLOCK = 1024


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(top-k scores, their columns) per row of `scores`, best first; ties broken by the lower column."""
    k = min(k, scores.shape[1])
    part = (
        np.argpartition(-scores, k - 1, axis=1)[:, :k]
        if k < scores.shape[1]
        else np.tile(np.arange(scores.shape[1]), (scores.shape[0], 1))
    )
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -part_scores), axis=1)
    return np.take_along_axis(part_scores, order, axis=1), np.take_along_axis(part, order, axis=1)


def knn(
    vectors: AccountVectors | np.ndarray, k: int, *, exact: bool | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(scores (n, k') float32, positions (n, k') int64): each vector's k' = min(k, n - 1) nearest *other*
    vectors by inner product, best first (the order of `VectorIndex.search` and faiss).

    A row is never its own neighbour. Where HNSW finds fewer than k', positions are -1 and scores -inf.
    `exact` forces exact (True) or HNSW (False) search; None picks exact below `EXACT_BELOW` vectors.
    """
    matrix, k, exact = knn_plan(vectors, k, exact)
    n = len(matrix)
    if k < 1:
        return np.zeros((n, 0), dtype=np.float32), np.zeros((n, 0), dtype=np.int64)
    if exact:
        return exact_rows(matrix, 0, n, k)
    index = graph_index(matrix, k)
    # k + 1 because each row finds itself (or an exact duplicate of itself) among its nearest.
    scores, positions = index.search(matrix, k + 1)
    return drop_self(scores, positions, k)


def knn_plan(
    vectors: AccountVectors | np.ndarray, k: int, exact: bool | None
) -> tuple[np.ndarray, int, bool]:
    """(float32 matrix, k' = min(k, n - 1), whether to search exactly) for `knn` and its Ray twin."""
    matrix = (
        vectors.vectors if isinstance(vectors, AccountVectors) else np.ascontiguousarray(vectors, np.float32)
    )
    if k < 1:
        raise ValueError(f"k must be a positive number of neighbours, got {k}")
    return matrix, min(int(k), len(matrix) - 1), len(matrix) < EXACT_BELOW if exact is None else exact


def exact_rows(matrix: np.ndarray, start: int, stop: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """`knn`'s exact answer for rows start..stop of `matrix` (searched against every row), k <= n - 1."""
    scores, positions = [], []
    for first in range(start, stop, _BLOCK):
        block = matrix[first : min(first + _BLOCK, stop)] @ matrix.T
        rows = np.arange(block.shape[0])
        block[rows, first + rows] = -np.inf  # never its own neighbour
        s, p = top_k(block, k)
        scores.append(s)
        positions.append(p)
    if not scores:
        return np.zeros((0, k), dtype=np.float32), np.zeros((0, k), dtype=np.int64)
    return np.concatenate(scores).astype(np.float32), np.concatenate(positions).astype(np.int64)


def graph_index(matrix: np.ndarray, k: int):
    """The faiss HNSW index `knn` searches above EXACT_BELOW vectors, holding every row of `matrix`."""
    import faiss  # deferred: faiss loads OpenMP and BLAS; most callers never reach HNSW sizes

    index = faiss.IndexHNSWFlat(matrix.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.hnsw.efSearch = max(HNSW_EF_SEARCH, 2 * (k + 1))
    index.add(matrix)
    return index


def drop_self(
    scores: np.ndarray, positions: np.ndarray, k: int, first_row: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Remove each row's own position from its k + 1 results (wherever ties put it), keeping k columns;
    row i of the results is row first_row + i of the searched matrix."""
    n = positions.shape[0]
    is_self = positions == (first_row + np.arange(n))[:, None]
    # Where self was not returned (HNSW misses, exact duplicates ranked first) drop the last column instead.
    drop = np.where(is_self.any(axis=1), np.argmax(is_self, axis=1), k)
    keep = np.ones_like(is_self)
    keep[np.arange(n), drop] = False
    out_positions = positions[keep].reshape(n, k).astype(np.int64)
    out_scores = scores[keep].reshape(n, k).astype(np.float32)
    out_scores[out_positions < 0] = -np.inf
    return out_scores, out_positions
