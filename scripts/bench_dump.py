"""The whole Reddit dump end to end with the product's own commands: ingest -> (compress) -> embed -> index -> cluster.

    .venv/bin/python scripts/bench_dump.py [--engine local|ray] [--compress 256]

The sequence the README gives for a whole forum, each command timed from start to exit with its peak resident
memory (`/usr/bin/time -f %M`; with --engine ray the Ray workers' memory is not in that figure):

    authorid ingest reddit_college -o WORK/posts.parquet
    authorid compress style WORK/posts.parquet --dim 256 --calibrate -o WORK/model    (with --compress 256)
    authorid embed MODEL WORK/posts.parquet -o WORK/vectors.parquet [--engine ray]
    authorid index build MODEL --vectors WORK/vectors.parquet -o WORK/index [--engine ray]
    authorid cluster MODEL --vectors WORK/vectors.parquet -o WORK/clusters [--engine ray]

Results: one entry per engine in benchmarks/results/dump.json (machine, load, seconds and peak MB per step),
and, once both engines have run, how far apart their account vectors are (`--compare-only` recomputes it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchlib.commands import run_authorid  # noqa: E402
from benchlib.machine import machine, short_description  # noqa: E402
from benchlib.results import load_results  # noqa: E402

from authorid.io import atomic_write_text  # noqa: E402

OUT = REPO / "benchmarks" / "results" / "dump.json"


def step(*args: str) -> dict:
    """Run one `authorid` command under /usr/bin/time: its seconds and peak resident MB."""
    run = run_authorid(*args, peak=True)
    result = {
        "command": "authorid " + " ".join(args),
        "seconds": round(run.seconds, 1),
        "peak_mb": run.peak_mb,
    }
    if "--json" in args:  # the command's own summary (cluster: how many persons it found)
        result["summary"] = run.summary()
    return result


def vectors_difference(work: Path) -> dict | None:
    """The largest absolute difference between the local and ray runs' account vectors (same accounts, same
    order), when both runs' vectors files exist."""
    import numpy as np
    import pyarrow.parquet as pq

    paths = [work / engine / "vectors.parquet" for engine in ("local", "ray")]
    if not all(p.is_file() for p in paths):
        return None
    local, ray = (pq.read_table(p) for p in paths)
    same_accounts = local.column("account_id").to_pylist() == ray.column("account_id").to_pylist()
    a, b = (np.stack(t.column("vector").to_numpy(zero_copy_only=False)) for t in (local, ray))
    return {
        "accounts": local.num_rows,
        "same_accounts_in_order": same_accounts,
        "max_abs_difference": float(np.abs(a - b).max()) if same_accounts else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", choices=("local", "ray"), default="local")
    parser.add_argument("--compress", type=int, default=256, help="compact model dims (0: embed with style)")
    parser.add_argument("--work", type=Path, default=REPO / "runs" / "dump")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--compare-only", action="store_true", help="only compare the two engines' vectors already written"
    )
    args = parser.parse_args()
    if args.compare_only:
        everything = load_results(args.out)
        everything["vectors_local_vs_ray"] = vectors_difference(args.work)
        atomic_write_text(args.out, json.dumps(everything, indent=1) + "\n")
        print(everything["vectors_local_vs_ray"])
        return
    work = args.work / args.engine
    work.mkdir(parents=True, exist_ok=True)
    stamp = machine()
    posts, vectors = work / "posts.parquet", work / "vectors.parquet"
    engine = ["--engine", args.engine]
    steps = {"ingest": step("ingest", "reddit_college", "-o", str(posts), "--overwrite")}
    model = "style"
    if args.compress:
        model = str(work / "model")
        steps["compress"] = step(
            "compress",
            "style",
            str(posts),
            "--dim",
            str(args.compress),
            "--calibrate",  # the compact model's own calibration: cluster then decides at the forum prior
            "-o",
            model,
            "--overwrite",
        )
    steps["embed"] = step("embed", model, str(posts), "-o", str(vectors), "--overwrite", *engine)
    steps["index"] = step(
        "index", "build", model, "--vectors", str(vectors), "-o", str(work / "index"), "--overwrite", *engine
    )
    steps["cluster"] = step(
        "cluster",
        model,
        "--vectors",
        str(vectors),
        "-o",
        str(work / "clusters"),
        "--overwrite",
        "--json",
        *engine,
    )
    result = {
        "machine_at_start": stamp,
        "machine": short_description(),
        "command": f"scripts/bench_dump.py --engine {args.engine} --compress {args.compress}",
        "model": "style"
        if not args.compress
        else f"style compressed to {args.compress} dims by `authorid compress`",
        "steps": steps,
        "updated": datetime.now(UTC).isoformat(timespec="seconds"),
        "total_seconds": round(sum(s["seconds"] for s in steps.values()), 1),
        "peak_mb": max(s["peak_mb"] for s in steps.values()),
    }
    everything = load_results(args.out)  # one entry per engine, the other kept
    everything[args.engine] = result
    everything["vectors_local_vs_ray"] = vectors_difference(args.work)
    atomic_write_text(args.out, json.dumps(everything, indent=1) + "\n")
    print(f"total {result['total_seconds']} s, peak {result['peak_mb']} MB; results: {args.out}")


if __name__ == "__main__":
    main()
