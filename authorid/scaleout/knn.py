"""The clustering kNN graph on Ray: the same neighbours as `authorid.index.knn.knn`, searched in shards.

The vectors go once into Ray's object store (workers read them without a copy). Below EXACT_BELOW vectors
each task scores its rows against all (exact, as `knn`); above, the IVF index `knn` would search is built
once here and each task searches its rows in a copy of it, so the neighbours are the ones `knn` finds.
"""

from __future__ import annotations

import numpy as np

from authorid.index.knn import exact_rows, graph_index, graph_rows, knn_plan
from authorid.scaleout.session import cluster_cpus, row_spans
from authorid.vectors import AccountVectors

#: Rows per search task, at most: enough tasks to keep every worker busy, few enough to amortise a task.
SHARD_ROWS = 50_000


def knn_on_ray(
    ray, vectors: AccountVectors | np.ndarray, k: int, *, exact: bool | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """`authorid.index.knn.knn(vectors, k, exact=exact)`, with the searches run as Ray tasks."""
    matrix, k, exact = knn_plan(vectors, k, exact)
    n = len(matrix)
    if k < 1:
        return np.zeros((n, 0), dtype=np.float32), np.zeros((n, 0), dtype=np.int64)
    shards = max(2 * cluster_cpus(ray), -(-n // SHARD_ROWS))
    spans = row_spans(n, shards)
    matrix_ref = ray.put(np.ascontiguousarray(matrix, dtype=np.float32))
    if exact:
        task = ray.remote(_exact_shard)
        refs = [task.remote(matrix_ref, start, stop, k) for start, stop in spans]
    else:
        import faiss

        graph = ray.put(faiss.serialize_index(graph_index(matrix)))
        task = ray.remote(_graph_shard)
        refs = [task.remote(graph, matrix_ref, start, stop, k) for start, stop in spans]
    parts = ray.get(refs)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _exact_shard(matrix: np.ndarray, start: int, stop: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    return exact_rows(matrix, start, stop, k)


def _graph_shard(graph: np.ndarray, matrix: np.ndarray, start: int, stop: int, k: int):
    import faiss

    faiss.omp_set_num_threads(1)  # one CPU per task: Ray runs as many tasks as the cluster has CPUs
    return graph_rows(faiss.deserialize_index(graph), matrix[start:stop], start, k)
