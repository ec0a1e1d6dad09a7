"""How long `explain` takes for one pair on a 1,000-account corpus, after the model is loaded.

    .venv/bin/python scripts/bench_explain.py [--model style] [--pairs 5]

Corpus: the 1,000 Reddit benchmark test accounts (`scripts/bench_quality.py`'s split), each its 16 newest
posts. Times `authorid.workflows.explain.explain` for seeded random pairs (files not written): from the corpus
alone (every account is embedded: the centre and the percentile need them), and with an index built once from
the corpus (`authorid explain ... --index IDX`: only the pair is embedded).
Results: benchmarks/results/explain.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchlib.results import save_stamped  # noqa: E402
from benchlib.settings import PROFILES, load_setting  # noqa: E402

OUT = REPO / "benchmarks" / "results" / "explain.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="style")
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--posts", type=int, default=16)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--cache", type=Path, default=REPO / "runs" / "bench_quality" / "cache")
    args = parser.parse_args()

    from authorid.data.arrow import read_columns
    from authorid.data.sampling import first_per_group
    from authorid.model import load_model
    from authorid.workflows.explain import explain

    test = load_setting("reddit", PROFILES["cpu"], args.cache).test
    columns = read_columns(test, ["account_id", "created_at"])
    ids = columns.column("account_id").to_numpy(zero_copy_only=False)
    times = columns.column("created_at").cast("int64").to_numpy(zero_copy_only=False)
    posts = test.select(first_per_group(ids, -times, args.posts))  # each account's newest posts
    accounts = sorted(set(ids))
    started = time.perf_counter()
    model = load_model(args.model)
    load_seconds = time.perf_counter() - started
    rng = np.random.default_rng(0)
    seconds = []
    for _ in range(args.pairs):
        a, b = rng.choice(len(accounts), 2, replace=False)
        started = time.perf_counter()
        explain(model, posts, accounts[a], accounts[b])
        seconds.append(time.perf_counter() - started)
    embed_started = time.perf_counter()
    model.embed_accounts(posts)
    embed_seconds = time.perf_counter() - embed_started
    # The fast path: an index built once from the corpus fixes the centre; each pair then embeds only itself.
    from authorid.workflows.index import build_account_index

    with tempfile.TemporaryDirectory() as work:
        build_started = time.perf_counter()
        build_account_index(model, args.model, posts, Path(work) / "idx")
        build_seconds = time.perf_counter() - build_started
        indexed = []
        for _ in range(args.pairs):
            a, b = rng.choice(len(accounts), 2, replace=False)
            started = time.perf_counter()
            explain(model, posts, accounts[a], accounts[b], index=Path(work) / "idx")
            indexed.append(time.perf_counter() - started)
    result = {
        "model": args.model,
        "corpus": f"{len(accounts):,} Reddit test accounts, their {args.posts} newest posts ({len(posts):,} posts)",
        "load_seconds": round(load_seconds, 2),
        "explain_seconds": [round(s, 2) for s in seconds],
        "median_seconds": round(float(np.median(seconds)), 2),
        "embedding_the_corpus_seconds": round(embed_seconds, 2),
        "index_build_seconds": round(build_seconds, 2),
        "with_index_seconds": [round(s, 2) for s in indexed],
        "with_index_median_seconds": round(float(np.median(indexed)), 2),
    }
    save_stamped(args.out, result, command="python scripts/bench_explain.py")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
