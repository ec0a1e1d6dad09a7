"""`authorid cluster` where few accounts have a twin: is the expected pairwise precision it prints delivered?

    .venv/bin/python scripts/bench_few_twins.py [--model style] [--every 10] [--draws 10]
        [--pools forum,forum-halves,benchmark,benchmark-spread]

Every clustering figure in BENCHMARKS.md is read where each account's twin is in the pool (2,000 halves of 1,000
persons), which is how the calibration's cohort fit is fitted too. A forum is not like that. Four pools are built
where only one account in `--every` has a twin, and `authorid cluster MODEL POOL --prior P` is run on each at
the true share P of same-person pairs; the pairs its clusters form are counted against the expected pairwise
precision it printed:

- `forum`: the Reddit accounts with 16-60 posts that MODEL never trained on (its `training_accounts.json`),
  shuffled (seed 0), the first 300 left aside and the next 488 kept, each whole; of every `--every`-th one,
  the alternate posts become a second account `NAME#1`, its twin. Accounts keep their natural sizes (8-60 posts),
  so a twin (a half) is smaller than most accounts: among pairs of two accounts of 20 posts or more the share of
  twins is about a third of the pool's.
- `forum-halves`: the same accounts, each cut to its alternate posts (one half, chosen seeded, for the accounts
  without a twin; both for the others): every account a half, so twins are sized as the rest.
- `benchmark`: the 1,000 Reddit benchmark test persons cut as the clustering benchmark cuts them (two halves
  by time, the 8 newest posts of each); every `--every`-th person keeps both halves, the others one (seeded).
  Only the share of persons with a twin differs from the benchmark's pool.
- `benchmark-spread`: the same persons, each half its alternate posts, 8 of them spaced evenly across the
  person's whole history: halves that span a history, as the forum pools' accounts do, at the benchmark's size.

The forum pools are written as the raw corpus holds them; `cluster` cleans them as `authorid ingest` does (as
every verb cleans a corpus that is not an ingested Parquet file). The benchmark pools come from the ingested
corpus.

Each of `--draws` draws gives the twins to a different tenth of the accounts (i % every == draw). The formed
pairs are also split by whether both accounts have 20 posts or more. Results: benchmarks/results/few_twins.json.
"""

from __future__ import annotations

import argparse
import collections
import csv
import gzip
import itertools
import json
import os
import random
import shlex
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchlib.commands import authorid_json  # noqa: E402
from benchlib.results import save_stamped  # noqa: E402
from benchlib.settings import PROFILES, corpus_file, load_setting  # noqa: E402

from authorid.account_hashes import training_accounts_mask  # noqa: E402
from authorid.model import load_model  # noqa: E402

OUT = REPO / "benchmarks" / "results" / "few_twins.json"
POOLS = ("forum", "forum-halves", "benchmark", "benchmark-spread")
SIZES = (16, 60)  #: posts per account kept in the forum pool
SKIP, KEEP = 300, 488  #: forum pool: accounts left aside (e.g. to fit a fusion on), accounts kept
BIG = 20  #: a formed pair is "big" when both its accounts have at least this many posts
TWIN = "#"  #: an account's twin is NAME#1 beside NAME#0: the person is the name before it


def forum_accounts(model: str) -> dict[str, list[dict]]:
    """The forum pool's accounts, each with its posts (dicts with text and timestamp), in pool order."""
    posts: dict[str, list[dict]] = collections.defaultdict(list)
    with gzip.open(corpus_file("reddit_college"), "rt", encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            posts[record["author"]].append({"text": record["text"], "timestamp": record["timestamp"]})
    names = sorted(a for a, p in posts.items() if SIZES[0] <= len(p) <= SIZES[1])
    seen = training_accounts_mask(load_model(model).path, names)
    fresh = [a for a, s in zip(names, seen, strict=True) if not s] if seen is not None else names
    random.Random(0).shuffle(fresh)
    return {a: posts[a] for a in fresh[SKIP : SKIP + KEEP]}


def benchmark_persons(cache: Path, spread: bool = False) -> dict[str, list[list[dict]]]:
    """The clustering benchmark's persons, each as its two halves by time (8 newest posts of each); `spread`:
    its alternate posts instead, 8 of each spaced evenly across the person's whole history."""
    import numpy as np

    setting = load_setting("reddit", PROFILES["cpu"], cache)
    half = PROFILES["cpu"].reddit_posts_per_half
    posts: dict[str, list[dict]] = collections.defaultdict(list)
    test = setting.test
    for account, text, created in zip(test["account_id"], test["text"], test["created_at"], strict=True):
        posts[account].append({"text": text, "timestamp": str(created)})
    out = {}
    for person in sorted(posts):
        ordered = sorted(posts[person], key=lambda p: p["timestamp"])
        if spread:
            out[person] = [
                [side[i] for i in np.linspace(0, len(side) - 1, half).round().astype(int)]
                for side in (ordered[0::2], ordered[1::2])
            ]
            continue
        out[person] = [
            [ordered[i] for i in rows[-half:]] for rows in np.array_split(np.arange(len(ordered)), 2)
        ]
    return out


def write_pool(pool: str, source, every: int, draw: int, path: Path) -> tuple[int, int]:
    """Write one draw's pool to `path`; returns (accounts, true pairs)."""
    accounts = twins = 0
    pick = random.Random(draw)
    with gzip.open(path, "wt", encoding="utf-8") as out:
        for i, (name, posts) in enumerate(source.items()):
            twinned = i % every == draw
            if pool == "forum":
                parts = [posts[0::2], posts[1::2]] if twinned else [posts]
                names = [0, 1] if twinned else [0]
            elif pool == "forum-halves":  # every account a half: a twin is no smaller than any other account
                names = [0, 1] if twinned else [pick.randrange(2)]
                parts = [posts[h::2] for h in names]
            else:
                names = [0, 1] if twinned else [pick.randrange(2)]
                parts = [posts[h] for h in names]
            for h, part in zip(names, parts, strict=True):
                for record in part:
                    out.write(json.dumps({"author": f"{name}{TWIN}{h}", **record}) + "\n")
            accounts += len(parts)
            twins += twinned
    return accounts, twins


def formed_pairs(folder: Path, posts_of: dict[str, int]) -> dict:
    """Pairs the clusters form, how many are one person's, and the same for pairs of two big accounts."""
    members: dict[str, list[str]] = collections.defaultdict(list)
    with (folder / "assignments.csv").open() as fh:
        for row in csv.DictReader(fh):
            members[row["cluster_id"]].append(row["account_id"])
    counts = {"pairs": 0, "right": 0, "big_pairs": 0, "big_right": 0}
    for accounts in members.values():
        for a, b in itertools.combinations(accounts, 2):
            right = a.split(TWIN)[0] == b.split(TWIN)[0]
            big = min(posts_of[a], posts_of[b]) >= BIG
            counts["pairs"] += 1
            counts["right"] += right
            counts["big_pairs"] += big
            counts["big_right"] += big and right
    return counts


def run_pool(pool: str, source, args, work: Path) -> dict:
    draws = []
    for draw in range(args.draws):
        corpus = work / f"{pool}_{draw}.jsonl.gz"
        accounts, twins = write_pool(pool, source, args.every, draw, corpus)
        posts_of: dict[str, int] = collections.Counter()
        with gzip.open(corpus, "rt", encoding="utf-8") as fh:
            for line in fh:
                posts_of[json.loads(line)["author"]] += 1
        prior = twins / (accounts * (accounts - 1) / 2)
        out = work / f"clusters_{pool}_{draw}"
        said = authorid_json("cluster", args.model, str(corpus), "-o", str(out), "--prior", f"{prior:.6g}")
        row = {
            "draw": draw,
            "accounts": accounts,
            "true_pairs": twins,
            "prior": prior,
            "threshold": said["params"]["threshold"],
            "expected_pairwise_precision": said["stats"]["expected_pairwise_precision"],
            **formed_pairs(out, posts_of),
        }
        print(json.dumps({"pool": pool, **row}), flush=True)
        draws.append(row)
    formed = sum(d["pairs"] for d in draws)
    expected = sum((d["expected_pairwise_precision"] or 0) * d["pairs"] for d in draws)
    return {
        "draws": draws,
        "pairs": formed,
        "right": sum(d["right"] for d in draws),
        "big_pairs": sum(d["big_pairs"] for d in draws),
        "big_right": sum(d["big_right"] for d in draws),
        # the expected precision of all draws' pairs together: each draw's, weighted by the pairs it formed
        "expected_pairwise_precision": expected / formed if formed else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="style")
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--draws", type=int, default=10)
    parser.add_argument("--pools", default=",".join(POOLS))
    parser.add_argument("--cache", type=Path, default=REPO / "runs" / "bench_quality" / "cache")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    pools = [p for p in args.pools.split(",") if p]
    if unknown := set(pools) - set(POOLS):
        parser.error(f"unknown pool(s) {sorted(unknown)}; choose from {', '.join(POOLS)}")
    if not 1 <= args.draws <= args.every:
        parser.error(f"--draws must be 1..--every ({args.every}): each draw twins a different 1/{args.every}")
    work = Path(tempfile.mkdtemp(prefix="few_twins_"))
    result = {"model": args.model, "every": args.every, "big_posts": BIG, "pools": {}}
    for pool in pools:
        if pool.startswith("benchmark"):
            source = benchmark_persons(args.cache, spread=pool == "benchmark-spread")
        else:
            source = forum_accounts(args.model)
        result["pools"][pool] = run_pool(pool, source, args, work)
    command = "python scripts/bench_few_twins.py" + "".join(
        f" {flag} {shlex.quote(str(value))}"
        for flag, value, default in (
            ("--model", args.model, "style"),
            ("--every", args.every, 10),
            ("--draws", args.draws, 10),
            ("--pools", args.pools, ",".join(POOLS)),
        )
        if value != default
    )
    print(f"results written to {save_stamped(args.out, result, command=command)}")


if __name__ == "__main__":
    main()
