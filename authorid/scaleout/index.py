"""An IVF index built on Ray: cells trained once, shards of vectors added in parallel tasks, then merged.

The cells are trained here on the whole collection exactly as `FaissIndex.add` trains them (faiss draws its
own seeded sample of training points), each task adds one contiguous shard to a copy of the trained empty
index, and the shards are merged in order: every cell then lists the same vectors in the same order as a
local build, so searches return the same links.
"""

from __future__ import annotations

import numpy as np

from authorid.index.base import VectorIndexError, as_matrix, enrolled_chars, new_rows
from authorid.index.faiss_index import FaissIndex
from authorid.scaleout.session import cluster_cpus, row_spans
from authorid.vectors import AccountVectors

#: Vectors per add task, at most.
SHARD_VECTORS = 100_000


def build_ivf_on_ray(
    ray,
    vectors: AccountVectors,
    *,
    model_identity: dict,
    model_spec: str | None = None,
    shards: int | None = None,
    **params,
) -> FaissIndex:
    """`build_index(vectors, kind="ivf", ...)` with the vectors added by Ray tasks, shard by shard."""
    if model_identity.get("dim") not in (None, vectors.dim):
        raise VectorIndexError(
            f"vectors have dimension {vectors.dim}, model {model_identity.get('name')!r} has {model_identity['dim']}"
        )
    index = FaissIndex(
        vectors.dim, kind="ivf", model_identity=model_identity, model_spec=model_spec, **params
    )
    new_rows(index, vectors, "raise")
    matrix = as_matrix(vectors.vectors, vectors.dim)
    index.train(matrix)
    n = len(matrix)
    shards = shards or max(2 * cluster_cpus(ray), -(-n // SHARD_VECTORS))
    spans = row_spans(n, shards)
    empty = ray.put(index.empty_copy())
    matrix_ref = ray.put(matrix)
    task = ray.remote(_add_shard)
    refs = [task.remote(empty, matrix_ref, start, stop) for start, stop in spans]
    for (start, stop), ref in zip(spans, refs, strict=True):
        rows = np.arange(start, stop)
        index.merge_shard(
            ray.get(ref),
            vectors.account_ids[start:stop],
            vectors.n_posts[rows],
            enrolled_chars(vectors, rows),
        )
    return index


def _add_shard(empty: bytes, matrix: np.ndarray, start: int, stop: int) -> bytes:
    import faiss

    faiss.omp_set_num_threads(1)  # one CPU per task: Ray runs as many tasks as the cluster has CPUs
    index = faiss.deserialize_index(np.frombuffer(empty, dtype=np.uint8))
    index.add(np.ascontiguousarray(matrix[start:stop]))
    return faiss.serialize_index(index).tobytes()
