"""`authorid cluster` where few accounts have a twin: is its expected pairwise precision met? (stop 35, open)

    .venv/bin/python scripts/bench_few_twins.py [--model style] [--every 10] [--prior TRUE|default]

Every clustering figure in BENCHMARKS.md is read where each account's twin is in the pool (2,000 halves of
1,000 persons), which is how the calibration's cohort fit is fitted too. A forum is not like that. This script
builds a pool that is: the Reddit accounts with 16-60 posts that MODEL never trained on (its
`training_accounts.json`), shuffled (seed 0), the first 300 left aside and the next 488 kept; every `--every`-th
of them has its alternate posts moved to a new account `NAME_alt`, the only true pairs. It then runs
`authorid cluster MODEL POOL` (at the true share of same-person pairs, and at the default prior) and counts how
many of the pairs each clustering forms are true, against the expected precision `cluster` printed. The same
accounts with every one split (`--every 1`) are the benchmark's kind of pool. Results: printed as JSON.
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
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchlib.commands import authorid_json  # noqa: E402
from benchlib.settings import corpus_file  # noqa: E402

from authorid.account_hashes import training_accounts_mask  # noqa: E402
from authorid.model import load_model  # noqa: E402

SIZES = (16, 60)  #: posts per account kept
SKIP, KEEP = 300, 488  #: accounts left aside (e.g. to fit a fusion on), accounts in the pool


def pool(model: str, every: int, path: Path) -> int:
    """Write the pool to `path`; returns the number of true pairs."""
    posts: dict[str, list[dict]] = collections.defaultdict(list)
    with gzip.open(corpus_file("reddit_college"), "rt", encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            posts[record["author"]].append(record)
    names = sorted(a for a, p in posts.items() if SIZES[0] <= len(p) <= SIZES[1])
    seen = training_accounts_mask(load_model(model).path, names)
    fresh = [a for a, s in zip(names, seen, strict=True) if not s] if seen is not None else names
    random.Random(0).shuffle(fresh)
    kept = fresh[SKIP : SKIP + KEEP]
    with gzip.open(path, "wt", encoding="utf-8") as out:
        for i, account in enumerate(kept):
            for j, record in enumerate(posts[account]):
                author = f"{account}_alt" if i % every == 0 and j % 2 else account
                out.write(
                    json.dumps({"author": author, "text": record["text"], "timestamp": record["timestamp"]})
                )
                out.write("\n")
    return len(range(0, len(kept), every))


def precision(folder: Path) -> tuple[int, int]:
    """(pairs the clusters form, how many are an account and its `_alt`)."""
    members: dict[str, list[str]] = collections.defaultdict(list)
    with (folder / "assignments.csv").open() as fh:
        for row in csv.DictReader(fh):
            members[row["cluster_id"]].append(row["account_id"])
    pairs = [p for accounts in members.values() for p in itertools.combinations(accounts, 2)]
    right = sum(a + "_alt" == b or b + "_alt" == a for a, b in pairs)
    return len(pairs), right


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="style")
    parser.add_argument("--every", type=int, default=10)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="few_twins_"))
    corpus = work / "pool.jsonl.gz"
    true_pairs = pool(args.model, args.every, corpus)
    accounts = KEEP + true_pairs
    rows = []
    for prior in (true_pairs / (accounts * (accounts - 1) / 2), None):
        out = work / f"clusters_{prior}"
        extra = [] if prior is None else ["--prior", f"{prior:.6g}"]
        said = authorid_json("cluster", args.model, str(corpus), "-o", str(out), *extra)
        formed, right = precision(out)
        rows.append(
            {
                "prior": prior if prior is not None else "default, 1/(accounts - 1)",
                "expected_pairwise_precision": said["stats"]["expected_pairwise_precision"],
                "threshold": said["params"]["threshold"],
                "pairs": formed,
                "right": right,
                "precision": round(right / formed, 3) if formed else None,
            }
        )
    print(
        json.dumps(
            {"model": args.model, "accounts": accounts, "true_pairs": true_pairs, "rows": rows}, indent=1
        )
    )


if __name__ == "__main__":
    main()
