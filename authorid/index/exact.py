"""`ExactIndex`: brute-force inner product over all enrolled vectors (numpy matmul), for small collections.

Exact top-k by cosine: scores = Q · Vᵀ in blocks of queries, then argpartition + sort per row. Cost is
O(n·d) per query; below ~50k accounts this is faster than building any approximate index.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from authorid.index.base import (
    VectorIndexError,
    as_matrix,
    check_k,
    enrolled_chars,
    ids_matrix,
    keep_rows,
    new_rows,
    read_ids,
    rows_kept,
    sample_rows,
    save_generation,
)
from authorid.index.knn import top_k
from authorid.io import atomic_write, save_npy
from authorid.vectors import AccountVectors

VECTORS_FILE = "vectors.npy"

#: Queries scored per matmul block, bounding the (block x n) score matrix.
_QUERY_BLOCK = 1024


class ExactIndex:
    kind = "exact"

    def __init__(self, dim: int, *, model_identity: dict, model_spec: str | None = None) -> None:
        self.dim = int(dim)
        self.model_identity = dict(model_identity)
        self.model_spec = model_spec
        self.ids: list[str] = []
        self.n_posts = np.zeros(0, dtype=np.int64)
        self.n_chars = np.zeros(0, dtype=np.int64)
        self.positions: dict[str, int] = {}
        self._vectors = np.zeros((0, self.dim), dtype=np.float32)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def vectors(self) -> np.ndarray:
        return self._vectors

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        """A seeded sample of at most `n` enrolled vectors."""
        return self._vectors[sample_rows(self.positions, n, seed)]

    def vectors_at(self, rows: np.ndarray) -> np.ndarray:
        """The enrolled vectors at `rows`."""
        return self._vectors[np.asarray(rows, dtype=np.int64)]

    def add(self, vectors: AccountVectors, *, on_duplicate: str = "raise") -> int:
        """Enrol `vectors`; returns how many were enrolled (`base.ON_DUPLICATE`: what an account already
        enrolled does)."""
        rows, replaced = new_rows(self, vectors, on_duplicate)
        self.remove(replaced)
        if rows.size:
            matrix = as_matrix(vectors.vectors[rows], self.dim)
            self._vectors = np.concatenate([self._vectors, matrix])
            self._enrol(
                [vectors.account_ids[i] for i in rows], vectors.n_posts[rows], enrolled_chars(vectors, rows)
            )
        return int(rows.size)

    def remove(self, account_ids: list[str]) -> int:
        """Remove the enrolled ones of `account_ids`; how many were removed."""
        keep = rows_kept(self, account_ids)
        removed = len(self) - len(keep)
        if removed:
            self._vectors = self._vectors[keep]
            keep_rows(self, keep)
        return removed

    def _enrol(self, ids: list[str], n_posts: np.ndarray, n_chars: np.ndarray) -> None:
        start = len(self.ids)
        self.ids.extend(ids)
        self.positions.update({a: start + i for i, a in enumerate(ids)})
        self.n_posts = np.concatenate([self.n_posts, np.asarray(n_posts, dtype=np.int64)])
        self.n_chars = np.concatenate([self.n_chars, np.asarray(n_chars, dtype=np.int64)])

    def search(self, query_vectors: AccountVectors | np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids), each (n_queries, min(k, len(index))), best first."""
        queries = as_matrix(query_vectors, self.dim)
        k = min(check_k(k), len(self)) or 1
        if not len(self):
            return np.full((len(queries), 0), -np.inf, dtype=np.float32), np.empty(
                (len(queries), 0), dtype=object
            )
        scores, columns = [], []
        for start in range(0, len(queries), _QUERY_BLOCK):
            s, c = top_k(queries[start : start + _QUERY_BLOCK] @ self._vectors.T, k)
            scores.append(s)
            columns.append(c)
        return np.concatenate(scores), ids_matrix(self.ids, np.concatenate(columns))

    def save(self, folder: str | Path, *, extras: Callable[[Path], None] | None = None) -> Path:
        """A new generation of `folder` (see `base.save_generation`); `extras(gen)` writes files kept with it."""

        def write_vectors(target: Path) -> None:
            atomic_write(target / VECTORS_FILE, lambda tmp: save_npy(tmp, self._vectors))

        return save_generation(folder, self, write_vectors, {}, extras=extras)

    @classmethod
    def load_from(cls, folder: Path, meta: dict) -> ExactIndex:
        """The index whose current generation's files are in `folder`."""
        index = cls(meta["dim"], model_identity=meta["model"], model_spec=meta.get("model_spec"))
        try:
            vectors = np.load(folder / VECTORS_FILE, allow_pickle=False)
        except (OSError, ValueError, EOFError) as err:
            raise VectorIndexError(
                f"{folder / VECTORS_FILE}: unreadable ({err}); rebuild the index"
            ) from None
        ids, n_posts, n_chars = read_ids(folder, meta["count"])
        if vectors.shape != (len(ids), index.dim):
            raise VectorIndexError(
                f"{folder / VECTORS_FILE} has shape {vectors.shape}, expected ({len(ids)}, {index.dim})"
            )
        if not np.isfinite(vectors).all():
            rows = np.flatnonzero(~np.isfinite(vectors).all(axis=1))
            raise VectorIndexError(
                f"{folder / VECTORS_FILE}: {len(rows):,} vectors hold NaN or infinite values (first: account"
                f" {ids[rows[0]]!r}): damaged; rebuild the index"
            )
        index._vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        index._enrol(ids, n_posts, n_chars)
        return index
