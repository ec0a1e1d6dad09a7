"""Ray against the local engine: the product's own commands on Reddit posts, timed side by side, outputs compared.

    .venv/bin/python scripts/bench_ray.py [--posts 50000]

Steps (each an `authorid` command run as a user would, timed from start to exit, model loading and Ray's
start-up included):
1. `authorid ingest reddit_college --limit POSTS` (the first POSTS posts of the dump, whole accounts mostly);
2. `authorid embed style` with `--engine local`, `--engine ray` (a local Ray cluster started by the command,
   every CPU of this machine) and `--engine ray --ray-address` of a simulated two-node cluster (two Ray nodes of
   one CPU each on this machine, `ray.cluster_utils.Cluster`), the vectors compared;
3. `authorid index build --kind ivf` from the local vectors, local vs ray, the links of 1,000 accounts compared;
4. `authorid cluster` from the local vectors, local vs ray, the assignments compared.
Results: benchmarks/results/ray.json (machine, load at start, times, ratios ray / local, equality).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchlib.commands import run_authorid  # noqa: E402
from benchlib.machine import machine  # noqa: E402
from benchlib.results import save_stamped  # noqa: E402

OUT = REPO / "benchmarks" / "results" / "ray.json"


def timed(*args: str) -> float:
    """Seconds one `authorid` command takes; stops the benchmark with its output when it fails."""
    return round(run_authorid(*args).seconds, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=50_000)
    parser.add_argument("--work", type=Path, default=REPO / "runs" / "bench_ray")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    from ray.cluster_utils import Cluster

    from authorid.index import load_index
    from authorid.vectors import AccountVectors

    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    stamp = machine()
    posts = work / "posts.parquet"
    seconds: dict[str, float] = {}
    seconds["ingest"] = timed(
        "ingest", "reddit_college", "--limit", str(args.posts), "-o", str(posts), "--overwrite"
    )

    vectors = {name: work / f"vectors-{name}.parquet" for name in ("local", "ray", "ray-2-nodes")}
    seconds["embed_local"] = timed("embed", "style", str(posts), "-o", str(vectors["local"]), "--overwrite")
    seconds["embed_ray"] = timed(
        "embed", "style", str(posts), "-o", str(vectors["ray"]), "--overwrite", "--engine", "ray"
    )
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    cluster.add_node(num_cpus=1)
    try:
        seconds["embed_ray_2_nodes"] = timed(
            "embed", "style", str(posts), "-o", str(vectors["ray-2-nodes"]), "--overwrite",
            "--engine", "ray", "--ray-address", cluster.address,
        )  # fmt: skip
    finally:
        cluster.shutdown()
    local = AccountVectors.from_parquet(vectors["local"])
    gaps = {}
    for name in ("ray", "ray-2-nodes"):
        other = AccountVectors.from_parquet(vectors[name])
        assert other.account_ids == local.account_ids, f"{name}: other accounts or order"
        gaps[name] = float(np.abs(other.vectors - local.vectors).max())

    indexes = {name: work / f"index-{name}" for name in ("local", "ray")}
    for name, engine in (("local", "local"), ("ray", "ray")):
        seconds[f"index_ivf_{name}"] = timed(
            "index", "build", "style", "--vectors", str(vectors["local"]), "-o", str(indexes[name]),
            "--kind", "ivf", "--overwrite", "--engine", engine,
        )  # fmt: skip
    queries = local.vectors[np.random.default_rng(0).permutation(len(local))[:1000]]
    links = [load_index(indexes[name]).search(queries, 10)[1] for name in ("local", "ray")]
    same_links = float((links[0] == links[1]).all(axis=1).mean())

    clusters = {name: work / f"clusters-{name}" for name in ("local", "ray")}
    for name in ("local", "ray"):
        seconds[f"cluster_{name}"] = timed(
            "cluster", "style", "--vectors", str(vectors["local"]), "-o", str(clusters[name]),
            "--overwrite", "--engine", name,
        )  # fmt: skip
    assignments = [
        sorted(map(tuple, csv.reader((clusters[name] / "assignments.csv").open())))
        for name in ("local", "ray")
    ]
    n_posts = int(local.n_posts.sum())
    result = {
        "what": "the product's commands on the first POSTS Reddit posts, --engine local vs ray, outputs compared",
        "machine_at_start": stamp,
        "posts": n_posts,
        "accounts": len(local),
        "dim": local.dim,
        "seconds": seconds,
        "ratio_ray_to_local": {
            "embed": round(seconds["embed_ray"] / seconds["embed_local"], 3),
            "embed_2_nodes": round(seconds["embed_ray_2_nodes"] / seconds["embed_local"], 3),
            "index_ivf": round(seconds["index_ivf_ray"] / seconds["index_ivf_local"], 3),
            "cluster": round(seconds["cluster_ray"] / seconds["cluster_local"], 3),
        },
        "posts_per_second": {
            "embed_local": round(n_posts / seconds["embed_local"], 1),
            "embed_ray": round(n_posts / seconds["embed_ray"], 1),
            "embed_ray_2_nodes": round(n_posts / seconds["embed_ray_2_nodes"], 1),
        },
        "equal": {
            "vectors_max_abs_difference": gaps,
            "ivf_links_identical_share": same_links,
            "cluster_assignments_identical": assignments[0] == assignments[1],
        },
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }
    path = save_stamped(args.out, result, command=f"scripts/bench_ray.py --posts {args.posts}")
    print(f"results: {path}")


if __name__ == "__main__":
    main()
