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
import platform
import resource
import time
from pathlib import Path

import numpy as np

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


def rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median_latency_ms(index, queries: np.ndarray) -> float:
    times = []
    for q in queries:
        start = time.perf_counter()
        index.search(q[None, :], 10)
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1_000_000, help="enrolled vectors")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--kinds", default="hnsw,ivf")
    parser.add_argument("--ef-search", type=int, default=64)
    parser.add_argument("--nprobe", type=int, default=16)
    parser.add_argument("--threads", type=int, default=0, help="faiss/BLAS threads (0: library default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/bench_index.json"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    import faiss

    if args.threads:
        faiss.omp_set_num_threads(args.threads)

    base_mb = rss_mb()
    vectors, centres = synthetic(args.n, args.dim, args.seed)
    queries, _ = synthetic(args.queries, args.dim, args.seed + 1, centres)
    enrolled = AccountVectors([f"a{i}" for i in range(args.n)], vectors, np.ones(args.n, dtype=np.int64))
    identity = {**IDENTITY, "dim": args.dim}
    results = {}
    logger.info("vectors: %d x %d (%.0f MB)", args.n, args.dim, vectors.nbytes / 2**20)

    start_mb = rss_mb()
    start = time.perf_counter()
    exact = build_index(enrolled, kind="exact", model_identity=identity)
    results["exact"] = {"build_s": time.perf_counter() - start, "memory_mb": rss_mb() - start_mb}
    _, truth = exact.search(queries, 10)
    results["exact"].update({"median_query_ms": median_latency_ms(exact, queries), "recall@10": 1.0})
    logger.info("exact: %s", results["exact"])
    del exact

    for kind in args.kinds.split(","):
        params = {"ef_search": args.ef_search} if kind == "hnsw" else {"nprobe": args.nprobe}
        start_mb = rss_mb()
        start = time.perf_counter()
        index = build_index(enrolled, kind=kind, model_identity=identity, **params)
        build_s = time.perf_counter() - start
        _, found = index.search(queries, 10)
        recall = float(np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)]))
        latency = median_latency_ms(index, queries)
        results[kind] = {
            "build_s": build_s,
            "memory_mb": rss_mb() - start_mb,
            "median_query_ms": latency,
            "recall@10": recall,
            "speedup_vs_exact": results["exact"]["median_query_ms"] / latency,
            "params": index.params,
        }
        logger.info("%s: %s", kind, results[kind])
        del index

    report = {
        "n": args.n,
        "dim": args.dim,
        "queries": args.queries,
        "seed": args.seed,
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpus": __import__("os").cpu_count(),
            "faiss_threads": faiss.omp_get_max_threads(),
            "faiss": faiss.__version__,
        },
        "vectors_mb": vectors.nbytes / 2**20,
        "rss_before_mb": base_mb,
        "results": results,
    }
    atomic_write_text(args.out, json.dumps(report, indent=2) + "\n")
    logger.info("wrote %s", args.out)


if __name__ == "__main__":
    main()
