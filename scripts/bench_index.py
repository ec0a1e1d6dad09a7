"""Benchmark: link queries against N enrolled account vectors, faiss (HNSW, IVF-Flat) vs exact search.

Synthetic vectors: `--dim`-d gaussian clusters (N / 20 centres, noise 0.6 per dimension), L2-normalised, seeded.
Reported per index: build time, resident memory growth, median single-query latency, recall@10 against exact
search on the same queries, and the latency ratio to exact search measured in the same run.

    .venv/bin/python scripts/bench_index.py --n 1000000 --out runs/bench_index.json
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np
from benchlib.machine import machine, rss_mb

from authorid.encoders import AccountVectors
from authorid.index import build_index
from authorid.io import atomic_write_text

logger = logging.getLogger("bench_index")
IDENTITY = {"name": "synthetic", "kind": "neural", "fingerprint": "bench"}


def synthetic(
    n: int, dim: int, seed: int, centres: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    if centres is None:
        centres = rng.normal(size=(max(n // 20, 1), dim)).astype(np.float32)
    vectors = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 100_000):  # in blocks: no float64 copy of the whole collection
        stop = min(n, start + 100_000)
        block = centres[rng.integers(len(centres), size=stop - start)]
        block = block + 0.6 * rng.standard_normal(size=block.shape, dtype=np.float32)
        vectors[start:stop] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return vectors, centres


def median_latency_ms(index, queries: np.ndarray, k: int = 10) -> float:
    """Median wall time of one query at a time (what a linking request costs), in milliseconds."""
    times = []
    for q in queries:
        start = time.perf_counter()
        index.search(q[None, :], k)
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1000)


def search_params(kind: str, *, ef_search: int = 64, nprobe: int | None = None) -> dict:
    """The search parameter each faiss kind takes (HNSW: efSearch; IVF: nprobe, None: the index's default)."""
    return {"ef_search": ef_search} if kind == "hnsw" else {"nprobe": nprobe}


def latency_and_recall(
    enrolled: AccountVectors,
    queries: np.ndarray,
    *,
    kinds: tuple[str, ...] = ("hnsw", "ivf"),
    identity: dict | None = None,
    ef_search: int = 64,
    nprobe: int | None = None,
    k: int = 10,
) -> dict[str, dict]:
    """Per index kind ("exact" always, then `kinds`): build time, resident memory growth, median single-query
    latency of a top-k search, recall@k against exact search on the same queries, and the latency ratio to
    exact search measured in this same call."""
    identity = identity or {**IDENTITY, "dim": enrolled.dim}
    results: dict[str, dict] = {}
    start_mb = rss_mb()
    start = time.perf_counter()
    exact = build_index(enrolled, kind="exact", model_identity=identity)
    results["exact"] = {"build_s": time.perf_counter() - start, "memory_mb": rss_mb() - start_mb}
    _, truth = exact.search(queries, k)
    results["exact"].update({"median_query_ms": median_latency_ms(exact, queries, k), f"recall@{k}": 1.0})
    logger.info("exact: %s", results["exact"])
    del exact
    for kind in kinds:
        start_mb = rss_mb()
        start = time.perf_counter()
        index = build_index(
            enrolled,
            kind=kind,
            model_identity=identity,
            **search_params(kind, ef_search=ef_search, nprobe=nprobe),
        )
        build_s = time.perf_counter() - start
        _, found = index.search(queries, k)
        recall = float(np.mean([len(set(t) & set(f)) / k for t, f in zip(truth, found, strict=True)]))
        latency = median_latency_ms(index, queries, k)
        results[kind] = {
            "build_s": build_s,
            "memory_mb": rss_mb() - start_mb,
            "median_query_ms": latency,
            f"recall@{k}": recall,
            "speedup_vs_exact": results["exact"]["median_query_ms"] / latency,
            "params": index.params,
        }
        logger.info("%s: %s", kind, results[kind])
        del index
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1_000_000, help="enrolled vectors")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--kinds", default="hnsw,ivf")
    parser.add_argument("--ef-search", type=int, default=64)
    parser.add_argument("--nprobe", type=int, default=None, help="IVF cells per query (default: the index's)")
    parser.add_argument("--threads", type=int, default=0, help="faiss/BLAS threads (0: library default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/bench_index.json"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    import faiss

    if args.threads:
        faiss.omp_set_num_threads(args.threads)

    started = machine()
    base_mb = rss_mb()
    vectors, centres = synthetic(args.n, args.dim, args.seed)
    queries, _ = synthetic(args.queries, args.dim, args.seed + 1, centres)
    enrolled = AccountVectors([f"a{i}" for i in range(args.n)], vectors, np.ones(args.n, dtype=np.int64))
    logger.info("vectors: %d x %d (%.0f MB)", args.n, args.dim, vectors.nbytes / 2**20)
    results = latency_and_recall(
        enrolled,
        queries,
        kinds=tuple(args.kinds.split(",")),
        ef_search=args.ef_search,
        nprobe=args.nprobe,
    )

    report = {
        "n": args.n,
        "dim": args.dim,
        "queries": args.queries,
        "seed": args.seed,
        "machine": started | {"faiss_threads": faiss.omp_get_max_threads()},
        "vectors_mb": vectors.nbytes / 2**20,
        "rss_before_mb": base_mb,
        "results": results,
    }
    atomic_write_text(args.out, json.dumps(report, indent=2) + "\n")
    logger.info("wrote %s", args.out)


if __name__ == "__main__":
    main()
