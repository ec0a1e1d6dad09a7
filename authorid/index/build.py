"""`build_index` (choose exact or faiss by size), `load_index`, and `knn` (each vector's nearest others)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from authorid.encoders.account_vectors import AccountVectors
from authorid.index.base import VectorIndex, VectorIndexError, check_identity, read_meta
from authorid.index.exact import ExactIndex, top_k
from authorid.index.faiss_index import FaissIndex

#: Below this many vectors, "auto" builds an ExactIndex; at or above it, an HNSW FaissIndex.
EXACT_BELOW = 50_000
KINDS = ("auto", "exact", "hnsw", "ivf")


def build_index(
    vectors: AccountVectors,
    *,
    kind: str = "auto",
    model_identity: dict,
    model_spec: str | None = None,
    **params,
) -> VectorIndex:
    """An index holding `vectors`. kind: "auto" (exact below 50k vectors, else "hnsw"), "exact", "hnsw", "ivf".

    `params` go to FaissIndex (m, ef_construction, ef_search, nlist, nprobe). `model_identity` (from
    `StyleModel.identity()`) is recorded so that vectors of another model are refused later.
    """
    if kind not in KINDS:
        raise VectorIndexError(f"unknown index kind {kind!r}; valid: {', '.join(KINDS)}")
    if model_identity.get("dim") not in (None, vectors.dim):
        raise VectorIndexError(
            f"vectors have dimension {vectors.dim}, model {model_identity.get('name')!r} has {model_identity['dim']}"
        )
    if kind == "auto":
        kind = "exact" if len(vectors) < EXACT_BELOW else "hnsw"
        if kind == "exact":
            params = {}  # search parameters only matter once the collection is large enough for faiss
    if kind == "exact":
        if params:
            raise VectorIndexError(f"the exact index takes no parameters, got {', '.join(params)}")
        index: VectorIndex = ExactIndex(vectors.dim, model_identity=model_identity, model_spec=model_spec)
    else:
        index = FaissIndex(
            vectors.dim, kind=kind, model_identity=model_identity, model_spec=model_spec, **params
        )
    index.add(vectors)
    return index


def load_index(folder: str | Path, *, model_identity: dict | None = None) -> VectorIndex:
    """The index saved in `folder`; with `model_identity`, a one-line error if it was built with another model."""
    folder = Path(folder)
    meta = read_meta(folder)
    check_identity(meta["model"], model_identity, str(folder))
    loader = ExactIndex if meta["kind"] == "exact" else FaissIndex
    return loader.load_from(folder, meta)


def knn(vectors: AccountVectors | np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(scores, positions), each (n, k'): every vector's k nearest *other* vectors by inner product, best first.

    k' = min(k, n - 1). Exact (blocked matmul) below 50k vectors, HNSW (efSearch = max(64, 2k)) above, where a
    few neighbours may be approximate; positions are rows of `vectors`, -1 where HNSW found fewer.
    """
    matrix = (
        vectors.vectors if isinstance(vectors, AccountVectors) else np.ascontiguousarray(vectors, np.float32)
    )
    n = len(matrix)
    k = min(int(k), n - 1)
    if k < 1:
        return np.zeros((n, 0), dtype=np.float32), np.zeros((n, 0), dtype=np.int64)
    if n < EXACT_BELOW:
        scores, positions = [], []
        for start in range(0, n, 1024):
            block = matrix[start : start + 1024] @ matrix.T
            rows = np.arange(block.shape[0])
            block[rows, start + rows] = -np.inf  # never its own neighbour
            s, p = top_k(block, k)
            scores.append(s)
            positions.append(p)
        return np.concatenate(scores).astype(np.float32), np.concatenate(positions).astype(np.int64)
    import faiss

    index = faiss.IndexHNSWFlat(matrix.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efSearch = max(64, 2 * (k + 1))
    index.add(matrix)
    scores, positions = index.search(matrix, k + 1)
    # Drop each row's own position (usually first; absent when HNSW missed it, then drop the last).
    own = positions == np.arange(n)[:, None]
    drop = np.where(own.any(axis=1), own.argmax(axis=1), k)
    keep = np.ones_like(own)
    keep[np.arange(n), drop] = False
    return scores[keep].reshape(n, k), positions[keep].reshape(n, k).astype(np.int64)
