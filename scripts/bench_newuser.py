"""The new user's checks of issue 15, with the product's own commands: how often does `score` call two
different people "same", and how often does it find one person's two halves?

    .venv/bin/python scripts/bench_newuser.py [--models minilm,style]

Accounts: the Reddit benchmark's 1,000 test accounts (never trained on; `scripts/bench_quality.py`'s split,
`cpu` profile), shuffled with a fixed seed.
- different: the first 40 accounts, whole, and all 780 pairs of them (40 different users).
- halves: the next 200 accounts, each cut in two by time (oldest half / newest half, two pseudo-accounts), and
  their 200 same-user pairs.
- calibration: `--calibration-accounts` (300) of the other test accounts, as `authorid calibrate MODEL
  calibration.jsonl -o cal.json` reads them (minilm embeds ~60 posts/s here: more would cost minutes each).
Each model embeds each case once (`authorid embed`) and runs `authorid score MODEL --vectors V --pairs PAIRS
--calibration cal.json` on both pair lists, at the calibration's own prior (score's default) and with
`--prior 1/(accounts listed - 1)` (each account has at most one other of the same person among those listed).
Targets (issue 15): at most 2% of the 780 different-user
pairs called "same"; at least 30% of the 200 same-user pairs called "same".
Results: benchmarks/results/newuser.json.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchlib.commands import authorid_json as authorid  # noqa: E402
from benchlib.commands import write_jsonl  # noqa: E402
from benchlib.results import save_stamped  # noqa: E402
from benchlib.settings import PROFILES, load_setting  # noqa: E402

OUT = REPO / "benchmarks" / "results" / "newuser.json"
N_DIFFERENT, N_HALVES = 40, 200


def write_pairs(path: Path, pairs: list[tuple[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["account_a", "account_b"])
        writer.writerows(pairs)


def decisions(path: Path) -> dict:
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    called = [r["decision"] for r in rows]
    return {
        "pairs": len(rows),
        "same": called.count("same"),
        "abstain": called.count("abstain"),
        "share_same": round(called.count("same") / len(rows), 4),
        "mean_probability": round(float(np.mean([float(r["probability"]) for r in rows])), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="minilm,style")
    parser.add_argument("--work", type=Path, default=REPO / "runs" / "newuser")
    parser.add_argument("--cache", type=Path, default=REPO / "runs" / "bench_quality" / "cache")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--calibration-accounts", type=int, default=300)
    parser.add_argument("--method", default=None, help="calibrate's --method (default: calibrate's own)")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)

    test = load_setting("reddit", PROFILES["cpu"], args.cache).test
    rows = test.to_list() if hasattr(test, "to_list") else [test[i] for i in range(len(test))]
    posts_of: dict[str, list[dict]] = {}
    for row in sorted(rows, key=lambda r: (str(r.get("created_at") or ""), r["post_id"])):
        posts_of.setdefault(row["account_id"], []).append(row)  # oldest first
    accounts = sorted(a for a, p in posts_of.items() if len(p) >= 2)
    np.random.default_rng(15).shuffle(accounts)
    different = accounts[:N_DIFFERENT]
    halves = accounts[N_DIFFERENT : N_DIFFERENT + N_HALVES]
    calibration_accounts = accounts[N_DIFFERENT + N_HALVES :][: args.calibration_accounts]

    def record(row: dict, account: str) -> dict:
        return {"post_id": row["post_id"], "account_id": account, "text": row["text"]}

    files = {name: args.work / f"{name}.jsonl" for name in ("different", "halves", "calibration")}
    write_jsonl(files["different"], [record(r, a) for a in different for r in posts_of[a]])
    half_records = []
    for a in halves:
        posts, middle = posts_of[a], len(posts_of[a]) // 2
        half_records += [record(r, f"{a}/old") for r in posts[:middle]]
        half_records += [record(r, f"{a}/new") for r in posts[middle:]]
    write_jsonl(files["halves"], half_records)
    write_jsonl(files["calibration"], [record(r, a) for a in calibration_accounts for r in posts_of[a]])
    pair_files = {"different": args.work / "different_pairs.csv", "halves": args.work / "halves_pairs.csv"}
    write_pairs(pair_files["different"], list(itertools.combinations(different, 2)))
    write_pairs(pair_files["halves"], [(f"{a}/old", f"{a}/new") for a in halves])

    results = {
        "accounts": {
            "different": len(different),
            "halves": len(halves),
            "calibration": len(calibration_accounts),
            "posts_per_account_median": {
                "different": float(np.median([len(posts_of[a]) for a in different])),
                "halves": float(np.median([len(posts_of[a]) / 2 for a in halves])),
            },
        },
        "targets": {"different_share_same_max": 0.02, "halves_share_same_min": 0.30},
        "models": {},
    }
    listed = {"different": len(different), "halves": 2 * len(halves)}
    for model in args.models.split(","):
        start = time.perf_counter()
        calibration = args.work / f"{model}-calibration.json"
        fitted = authorid(
            "calibrate",
            model,
            str(files["calibration"]),
            "-o",
            str(calibration),
            "--overwrite",
            *(["--method", args.method] if args.method else []),
        )
        row: dict = {
            "calibration": {k: fitted.get(k) for k in ("method", "threshold", "prior") if k in fitted}
        }
        for case in ("different", "halves"):
            vectors = args.work / f"{model}-{case}.parquet"
            authorid("embed", model, str(files[case]), "-o", str(vectors), "--overwrite")
            # At the calibration's own prior (score's default), then at the listing's prior: 1 / (accounts - 1),
            # each account having at most one other of the same person among those listed.
            for prior_name, prior in (("calibration_prior", None), ("listing_prior", 1 / (listed[case] - 1))):
                scored = args.work / f"{model}-{case}-{prior_name}.csv"
                authorid(
                    "score",
                    model,
                    "--vectors",
                    str(vectors),
                    "--pairs",
                    str(pair_files[case]),
                    "--calibration",
                    str(calibration),
                    "-o",
                    str(scored),
                    "--overwrite",
                    *(["--prior", f"{prior:.6g}"] if prior is not None else []),
                )
                row.setdefault(prior_name, {})[case] = {
                    **decisions(scored),
                    "prior": None if prior is None else round(prior, 6),
                }
        for prior_name in ("calibration_prior", "listing_prior"):
            part = row[prior_name]
            part["meets_targets"] = (
                part["different"]["share_same"] <= results["targets"]["different_share_same_max"]
                and part["halves"]["share_same"] >= results["targets"]["halves_share_same_min"]
            )
        row["seconds"] = round(time.perf_counter() - start, 1)
        print(model, json.dumps(row), flush=True)
        results["models"][model] = row
    command = f"python scripts/bench_newuser.py --models {args.models}"
    if args.method:
        command += f" --method {args.method} --out {os.path.relpath(args.out.resolve(), REPO)}"
    save_stamped(args.out, results, command=command)
    print(f"results: {args.out}")


if __name__ == "__main__":
    main()
