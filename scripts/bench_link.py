"""Benchmark: what the hubness correction costs `authorid link` (`authorid.index.link` with and without it).

The correction reads each candidate's density from the index (a search with the candidate's own vector), for
the top `hubness.RERANK_DEPTH` candidates of every query, so its cost grows with the queries, not the index
alone. Measured on synthetic gaussian-cluster vectors (`bench_index.synthetic`) of two shapes a user has: the
compact 256-d model in an IVF index of 100,000 accounts, and `style`'s 16,512-d vectors in an exact index of
10,000. Per shape: median wall time of one query account at a time, and the wall time of one batch of 1,000:
by cosine; corrected with every density searched (a fresh index); corrected with the densities already known
(`hubness_known`: the same index object after one batch, and a second `load_index` of a saved index, which reads
the densities the first `link` kept in its folder).

    .venv/bin/python scripts/bench_link.py
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from bench_index import IDENTITY, synthetic
from benchlib.machine import short_description

from authorid.encoders import AccountVectors
from authorid.index import build_index, link, load_index
from authorid.index import hubness as hub

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "results" / "link.json"
#: (index kind, enrolled accounts, dimensions)
SHAPES = (("ivf", 100_000, 256), ("exact", 10_000, 16_512))


def accounts(matrix: np.ndarray, prefix: str) -> AccountVectors:
    return AccountVectors(
        [f"{prefix}{i}" for i in range(len(matrix))], matrix, np.ones(len(matrix), dtype=np.int64)
    )


def timed(index, queries: AccountVectors, hubness: bool, *, cold: bool = True) -> float:
    """Seconds for one `link` call; `cold`: with no density known (the index's cache emptied first)."""
    if cold:
        hub.forget_densities(index)
    start = time.perf_counter()
    link(index, queries, k=10, hubness=hubness)
    return time.perf_counter() - start


def measure(kind: str, n: int, dim: int, *, single: int, batch: int, seed: int) -> dict:
    enrolled, centres = synthetic(n, dim, seed)
    queries = accounts(synthetic(batch, dim, seed + 1, centres)[0], "q")
    index = build_index(accounts(enrolled, "a"), kind=kind, model_identity={**IDENTITY, "dim": dim})
    row: dict = {"kind": kind, "n": n, "dim": dim, "params": getattr(index, "params", {})}
    for hubness in (False, True):
        one_at_a_time = [
            timed(index, queries.subset([queries.account_ids[i]]), hubness) for i in range(single)
        ]
        name = "hubness" if hubness else "cosine"
        row[name] = {
            "median_query_ms": float(np.median(one_at_a_time) * 1000),
            f"batch_{batch}_s": timed(index, queries, hubness),
        }
    row["query_ratio"] = row["hubness"]["median_query_ms"] / row["cosine"]["median_query_ms"]
    timed(index, queries, True)  # every candidate's density is known from here on
    known = [timed(index, queries.subset([queries.account_ids[i]]), True, cold=False) for i in range(single)]
    with tempfile.TemporaryDirectory() as folder:
        index.save(folder)
        timed(
            load_index(folder), queries, True, cold=False
        )  # finds the densities and keeps them in the folder
        reloaded = load_index(folder)
        row["hubness_known"] = {
            "median_query_ms": float(np.median(known) * 1000),
            f"batch_{batch}_s": timed(index, queries, True, cold=False),
            f"batch_{batch}_saved_index_s": timed(reloaded, queries, True, cold=False),
        }
    print(
        f"{kind} {n:,} x {dim}: one query {row['cosine']['median_query_ms']:.1f} -> "
        f"{row['hubness']['median_query_ms']:.1f} ms ({row['hubness_known']['median_query_ms']:.1f} known);"
        f" {batch:,} queries {row['cosine'][f'batch_{batch}_s']:.1f} -> {row['hubness'][f'batch_{batch}_s']:.1f} s"
        f" ({row['hubness_known'][f'batch_{batch}_saved_index_s']:.1f} from a saved index)",
        flush=True,
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--single", type=int, default=50, help="queries timed one at a time")
    parser.add_argument("--batch", type=int, default=1000, help="queries linked in one call")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    machine = short_description()  # with the load average at start
    rows = [measure(*shape, single=args.single, batch=args.batch, seed=args.seed) for shape in SHAPES]
    results = {
        "command": "python scripts/bench_link.py",
        "updated": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine,
        "rerank_depth": hub.RERANK_DEPTH,
        "k": hub.K,
        "single_queries": args.single,
        "batch": args.batch,
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"results written to {args.out}")


if __name__ == "__main__":
    main()
