"""`FaissIndex`: approximate inner-product search with faiss, HNSW or IVF, for large collections.

- "hnsw": `IndexHNSWFlat(d, M, METRIC_INNER_PRODUCT)` (Malkov & Yashunin 2018). No training; vectors can be
  added at any time. `ef_search` (faiss efSearch) trades recall for speed at query time.
- "ivf": an IVF index over a flat inner-product quantiser with `nlist` k-means cells (Jégou et al. 2011),
  trained on the first vectors enrolled (nlist defaults to 2·sqrt(n), at least 39 training points per cell
  as faiss recommends). `nprobe` cells are scanned per query; by default PROBE_SHARE of them (at least
  16), fixed when the cells are trained. Measured on Reddit-grown compact vectors (BENCHMARKS.md, one million
  accounts): 128 of 632 cells found 0.992 of the exact top 10 at 100k accounts in 1.7 ms, 512 of 2,000 found
  0.994 at 1M; a constant nprobe loses recall as nlist grows (16 of 1,264 cells found 0.67 at 100k).
  The cells store the vectors as float16 (`storage`, faiss `IndexIVFScalarQuantizer` QT_fp16): a scan is
  bound by the memory it reads, so half the bytes make it faster, and the index is half the size; a cosine
  comes back within 2e-4 of the float32 one (the 1M benchmark vectors). A query alone is split over
  faiss's threads by cell (`parallel_mode` 1); a batch is split by query. Together, at 1M accounts: 7.0 ms
  at nprobe 512 (recall 0.993), against 22 ms with float32 cells and one thread a query; the default 352 of
  2,000 cells: recall 0.991 in 4.2 ms (docs/scale.md).
- Growth: the cells are trained once. Enrolling more (`add`) keeps the share of the space each query scans,
  so recall holds, but every cell grows, and so does each query's time; past GROWTH_LIMIT times the trained
  size a rebuild (more cells) is advised (`needs_rebuild`).

faiss numbers vectors 0, 1, ... in enrolment order; `ids[i]` is the account of faiss id i.
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
from authorid.index.knn import default_nlist
from authorid.io import atomic_write
from authorid.vectors import AccountVectors

INDEX_FILE = "index.faiss"
KINDS = ("hnsw", "ivf")
#: How an IVF index's cells store the vectors.
STORAGES = ("float16", "float32")


#: An IVF index holding more than this many times the vectors its cells were trained on should be rebuilt.
GROWTH_LIMIT = 4


#: Share of an IVF index's cells scanned per query by default. The share that reaches recall@10 0.99 was the
#: same at 100k and 1M accounts (Reddit-grown compact vectors, ties counted as found): 352 of 2,000 cells gave
#: 0.9906 at 1M in 4.2 ms on 2 cores, 128 of 632 gave 0.9927 at 100k (BENCHMARKS.md, docs/scale.md).
PROBE_SHARE = 0.176


def default_nprobe(nlist: int) -> int:
    """IVF cells scanned per query when none is asked for: PROBE_SHARE of them, at least 16 (all, for small
    indexes)."""
    return min(nlist, max(16, round(nlist * PROBE_SHARE)))


class FaissIndex:
    def __init__(
        self,
        dim: int,
        *,
        kind: str = "hnsw",
        model_identity: dict,
        model_spec: str | None = None,
        m: int = 32,
        ef_construction: int = 80,
        ef_search: int = 512,  # recall@10 0.993 at 100k Reddit-grown accounts (64: 0.943), docs/scale.md
        nlist: int | None = None,
        nprobe: int | None = None,
        trained_on: int | None = None,
        storage: str = "float16",
    ) -> None:
        if kind not in KINDS:
            raise VectorIndexError(f"unknown faiss index kind {kind!r}; valid: {', '.join(KINDS)}")
        if storage not in STORAGES:
            raise VectorIndexError(f"unknown vector storage {storage!r}; valid: {', '.join(STORAGES)}")
        self.kind = kind
        self.dim = int(dim)
        self.model_identity = dict(model_identity)
        self.model_spec = model_spec
        self.params = {
            "m": m,
            "ef_construction": ef_construction,
            "ef_search": ef_search,
            "nlist": nlist,
            "nprobe": nprobe,
            "trained_on": trained_on,  # IVF: how many vectors the cells were trained on
            "storage": storage,  # IVF: how the cells store the vectors
        }
        self.ids: list[str] = []
        self.n_posts = np.zeros(0, dtype=np.int64)
        self.n_chars = np.zeros(0, dtype=np.int64)
        self.positions: dict[str, int] = {}
        self._index = None

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def ef_search(self) -> int:
        return int(self.params["ef_search"])

    @ef_search.setter
    def ef_search(self, value: int) -> None:
        self.params["ef_search"] = int(value)
        self._apply_search_params()

    @property
    def nprobe(self) -> int:
        if self.params["nprobe"] is None:  # before the cells are trained
            return default_nprobe(self.params["nlist"] or 1)
        return int(self.params["nprobe"])

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        self.params["nprobe"] = int(value)
        self._apply_search_params()

    @property
    def needs_rebuild(self) -> bool:
        """Whether an IVF index has grown past GROWTH_LIMIT times the vectors its cells were trained on."""
        trained_on = self.params.get("trained_on")
        return self.kind == "ivf" and bool(trained_on) and len(self) > GROWTH_LIMIT * trained_on

    def _apply_search_params(self) -> None:
        if self._index is None:
            return
        if self.kind == "hnsw":
            self._index.hnsw.efSearch = self.ef_search
        else:
            self._index.nprobe = self.nprobe

    def _create(self, training: np.ndarray) -> None:
        import faiss

        if self.kind == "hnsw":
            index = faiss.IndexHNSWFlat(self.dim, int(self.params["m"]), faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = int(self.params["ef_construction"])
        else:
            nlist = self.params["nlist"] or default_nlist(len(training))
            self.params["nlist"] = int(nlist)
            self.params["trained_on"] = len(training)
            if self.params["nprobe"] is None:
                self.params["nprobe"] = default_nprobe(int(nlist))
            quantiser = faiss.IndexFlatIP(self.dim)
            if self.params["storage"] == "float16":
                index = faiss.IndexIVFScalarQuantizer(
                    quantiser, self.dim, int(nlist), faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
                )
            else:
                index = faiss.IndexIVFFlat(quantiser, self.dim, int(nlist), faiss.METRIC_INNER_PRODUCT)
            index.train(training)
            # The IVF index points at the quantiser without owning it: keep it alive beside the index.
            self._quantiser = quantiser
        self._index = index
        self._apply_search_params()

    def train(self, matrix: np.ndarray) -> None:
        """Create the faiss index (IVF: train its cells on `matrix`, as the first `add` does) without adding."""
        if self._index is not None:
            raise VectorIndexError("the index is already trained")
        self._create(as_matrix(matrix, self.dim))

    def empty_copy(self) -> bytes:
        """The trained, still empty faiss index, serialised (what a worker adds a shard of vectors to)."""
        import faiss

        if self._index is None or len(self):
            raise VectorIndexError("empty_copy needs a trained index that holds no vectors yet")
        return faiss.serialize_index(self._index).tobytes()

    def merge_shard(
        self, shard: bytes, account_ids: list[str], n_posts: np.ndarray, n_chars: np.ndarray
    ) -> None:
        """Append a serialised IVF index made from `empty_copy` holding these accounts' vectors, in order:
        the cells' lists then hold the same vectors in the same order as one `add` of everything."""
        import faiss

        part = faiss.deserialize_index(np.frombuffer(shard, dtype=np.uint8))
        if part.ntotal != len(account_ids):
            raise VectorIndexError(f"a shard holds {part.ntotal} vectors for {len(account_ids)} accounts")
        self._index.merge_from(part, self._index.ntotal)
        start = len(self.ids)
        self.ids.extend(account_ids)
        self.positions.update({a: start + i for i, a in enumerate(account_ids)})
        self.n_posts = np.concatenate([self.n_posts, np.asarray(n_posts, dtype=np.int64)])
        self.n_chars = np.concatenate([self.n_chars, np.asarray(n_chars, dtype=np.int64)])

    def add(self, vectors: AccountVectors, *, on_duplicate: str = "raise") -> int:
        """Enrol `vectors` without rebuilding (IVF is trained on the first batch); returns how many were enrolled
        (`base.ON_DUPLICATE`: what an account already enrolled does)."""
        rows, replaced = new_rows(self, vectors, on_duplicate)
        self.remove(replaced)
        if not rows.size:
            return 0
        matrix = as_matrix(vectors.vectors[rows], self.dim)
        if self._index is None:
            self._create(matrix)
        self._index.add(matrix)
        start = len(self.ids)
        new_ids = [vectors.account_ids[i] for i in rows]
        self.ids.extend(new_ids)
        self.positions.update({a: start + i for i, a in enumerate(new_ids)})
        self.n_posts = np.concatenate([self.n_posts, vectors.n_posts[rows]])
        self.n_chars = np.concatenate([self.n_chars, enrolled_chars(vectors, rows)])
        return int(rows.size)

    def remove(self, account_ids: list[str]) -> int:
        """Remove the enrolled ones of `account_ids`; how many were removed. faiss numbers vectors in
        enrolment order and an HNSW graph cannot drop a node, so the vectors kept are enrolled again, in order:
        an IVF index into its trained cells (emptied), an HNSW one into a new graph."""
        keep = rows_kept(self, account_ids)
        removed = len(self) - len(keep)
        if not removed:
            return 0
        import faiss

        matrix = self.vectors_at(keep)  # IVF float16 cells give back what they store, so nothing is lost
        if self.kind == "ivf":
            emptied = faiss.clone_index(self._index)
            emptied.reset()
            self._index = emptied
            self._apply_search_params()
        else:
            self._index = None
            self._create(matrix)
        if len(matrix):
            self._index.add(matrix)
        keep_rows(self, keep)
        return removed

    def search(self, query_vectors: AccountVectors | np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids), each (n_queries, min(k, len(index))), best first; id None where faiss found fewer."""
        queries = as_matrix(query_vectors, self.dim)
        k = min(check_k(k), len(self))
        if self._index is None or k == 0:
            return np.full((len(queries), 0), -np.inf, dtype=np.float32), np.empty(
                (len(queries), 0), dtype=object
            )
        if self.kind == "ivf":
            import faiss

            # Fewer queries than threads: split each query's cells over the threads, else the queries.
            self._index.parallel_mode = int(len(queries) < faiss.omp_get_max_threads())
        scores, positions = self._index.search(queries, k)
        return scores, ids_matrix(self.ids, positions)

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        """A seeded sample of at most `n` enrolled vectors (read back from the faiss index)."""
        return self.vectors_at(sample_rows(self.positions, n, seed))

    def vectors_at(self, rows: np.ndarray) -> np.ndarray:
        """The enrolled vectors at `rows` (read back from the faiss index)."""
        import faiss

        if self.kind == "ivf":
            faiss.extract_index_ivf(self._index).make_direct_map()
        return (
            np.stack([self._index.reconstruct(int(r)) for r in rows]).astype(np.float32)
            if len(rows)
            else np.zeros((0, self.dim), dtype=np.float32)
        )

    def save(self, folder: str | Path, *, extras: Callable[[Path], None] | None = None) -> Path:
        """A new generation of `folder` (see `base.save_generation`); `extras(gen)` writes files kept with it."""
        import faiss

        if self._index is None:
            raise VectorIndexError("cannot save an empty faiss index")

        def write_vectors(target: Path) -> None:
            atomic_write(target / INDEX_FILE, lambda tmp: faiss.write_index(self._index, str(tmp)))

        return save_generation(folder, self, write_vectors, {"params": self.params}, extras=extras)

    @classmethod
    def load_from(cls, folder: Path, meta: dict) -> FaissIndex:
        import faiss

        index = cls(
            meta["dim"],
            kind=meta["kind"],
            model_identity=meta["model"],
            model_spec=meta.get("model_spec"),
            **meta.get("params", {}),
        )
        try:
            index._index = faiss.read_index(str(folder / INDEX_FILE))
        except RuntimeError as err:  # faiss reports a damaged file as a RuntimeError
            raise VectorIndexError(f"{folder / INDEX_FILE}: unreadable ({err}); rebuild the index") from None
        ids, n_posts, n_chars = read_ids(folder, meta["count"])
        if index._index.ntotal != len(ids) or index._index.d != index.dim:
            raise VectorIndexError(
                f"{folder / INDEX_FILE} holds {index._index.ntotal} vectors of dimension {index._index.d}; "
                f"index.json says {len(ids)} of dimension {index.dim}"
            )
        if index.kind == "ivf":  # indexes saved before `storage` existed stored float32
            index.params["storage"] = "float32" if isinstance(index._index, faiss.IndexIVFFlat) else "float16"
        index.ids = ids
        index.positions = {a: i for i, a in enumerate(ids)}
        index.n_posts = n_posts
        index.n_chars = n_chars
        index._apply_search_params()
        return index
