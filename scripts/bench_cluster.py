"""Scale benchmark for `authorid.clustering.cluster_accounts`: wall time and peak memory from 1k to all accounts.

    .venv/bin/python scripts/bench_cluster.py --out runs/bench_cluster.json

Account vectors of reddit_college come from a StylometricEncoder(dim=256) fitted on a seeded sample of posts
(`--fit-posts`; fitting the SVD on all 574k posts is too slow on a small machine) and are cached as Parquet
(`--vectors`). Each size n is a seeded random subset of the accounts, clustered in a fresh process so that
its peak RSS (VmHWM, which includes faiss's C++ allocations) is its own.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from benchlib.machine import machine

from authorid.io import atomic_write_text

logger = logging.getLogger("bench_cluster")


def build_vectors(path: Path, fit_posts: int, seed: int) -> None:
    from authorid.data.readers import read_posts
    from authorid.encoders import StylometricEncoder

    start = time.perf_counter()
    posts, _ = read_posts("reddit_college")
    sample = posts.shuffle(seed=seed).select(range(min(fit_posts, len(posts))))
    encoder = StylometricEncoder(dim=256, seed=seed).fit(sample)
    vectors = encoder.embed_accounts(posts)
    vectors.to_parquet(path)
    logger.info("embedded %d accounts in %.0f s", len(vectors), time.perf_counter() - start)


def _peak_rss_kb() -> int:
    """This process's peak resident memory (VmHWM). Not ru_maxrss: Linux carries that across exec, so a child
    would report the parent's peak (here: the 6 GB of embedding the corpus)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _reset_peak_rss() -> None:
    """Reset VmHWM to the current RSS (Linux: writing 5 to /proc/self/clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        logger.warning("cannot reset the peak RSS; it will include loading the vectors")


def run_one(vectors_path: Path, n: int, method: str, k: int, threshold: float, seed: int) -> dict:
    """Cluster a random n-account subset; runs in its own process (see the module docstring)."""
    from authorid.clustering import cluster_accounts
    from authorid.encoders import AccountVectors

    vectors = AccountVectors.from_parquet(vectors_path)
    rows = np.sort(np.random.default_rng(seed).choice(len(vectors), size=min(n, len(vectors)), replace=False))
    subset = AccountVectors(
        [vectors.account_ids[i] for i in rows], vectors.vectors[rows], vectors.n_posts[rows]
    )
    del vectors
    gc.collect()
    _reset_peak_rss()  # so the peak below is clustering's, not loading's
    before = _peak_rss_kb()
    start = time.perf_counter()
    report = cluster_accounts(subset, method=method, k=k, threshold=threshold, seed=seed)
    wall = time.perf_counter() - start
    peak = _peak_rss_kb()
    return {
        "n": len(subset),
        "method": method,
        "wall_s": round(wall, 3),
        "peak_rss_mb": round(peak / 1024, 1),
        "rss_growth_mb": round((peak - before) / 1024, 1),
        "timing": {key: round(value, 3) for key, value in report.timing.items()},
        "stats": report.stats,
        "exact_knn": report.params["exact_knn"],
    }


def cluster_in_subprocess(
    vectors_path: Path,
    n: int,
    *,
    method: str = "mutual-knn",
    k: int = 10,
    threshold: float = 0.9,
    seed: int = 0,
) -> dict:
    """`run_one` in a fresh Python process (see the module docstring: its peak RSS is then its own)."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--vectors",
        str(vectors_path),
        "--one",
        str(n),
        "--method",
        method,
        "--k",
        str(k),
        "--threshold",
        str(threshold),
        "--seed",
        str(seed),
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise RuntimeError(f"clustering {n} accounts failed (exit {done.returncode}): {tail}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    for method in sorted({r["method"] for r in results}):
        rows = [r for r in results if r["method"] == method]
        left.loglog([r["n"] for r in rows], [r["wall_s"] for r in rows], "o-", label=method)
        right.semilogx([r["n"] for r in rows], [r["peak_rss_mb"] for r in rows], "o-", label=method)
    left.set(xlabel="accounts", ylabel="wall time (s)", title="cluster_accounts time")
    right.set(xlabel="accounts", ylabel="peak RSS (MB)", title="peak memory")
    left.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("runs/bench_cluster.json"))
    parser.add_argument("--vectors", type=Path, default=Path("runs/reddit_stylometric256.parquet"))
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000, 10**9])
    parser.add_argument("--methods", nargs="+", default=["mutual-knn"])
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--threshold", type=float, default=0.9)
    parser.add_argument("--fit-posts", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: run one size, print JSON
    parser.add_argument("--method", help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.one is not None:
        result = run_one(args.vectors, args.one, args.method, args.k, args.threshold, args.seed)
        sys.stdout.write(json.dumps(result) + "\n")
        return
    started = machine()
    if not args.vectors.is_file():
        build_vectors(args.vectors, args.fit_posts, args.seed)
    results = []
    for method in args.methods:
        for n in args.sizes:
            results.append(
                cluster_in_subprocess(
                    args.vectors, n, method=method, k=args.k, threshold=args.threshold, seed=args.seed
                )
            )
            logger.info("%s", results[-1])
            report = {
                "results": results,
                "args": {k: str(v) for k, v in vars(args).items()},
                "machine": started,
            }
            atomic_write_text(args.out, json.dumps(report, indent=2) + "\n")
    plot(results, args.out.with_suffix(".png"))
    for r in results:
        logger.info(
            "%-12s n=%7d  %8.2f s  %8.1f MB  largest cluster %d",
            r["method"],
            r["n"],
            r["wall_s"],
            r["peak_rss_mb"],
            r["stats"]["largest_cluster"],
        )


if __name__ == "__main__":
    main()
