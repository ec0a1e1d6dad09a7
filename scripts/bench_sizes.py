"""Does a model's calibrated P(same person) hold at every account size? (issue 15's size targets)

    .venv/bin/python scripts/bench_sizes.py [--models style,minilm] [--accounts 300]

The Reddit benchmark test accounts with at least 40 posts (never trained on; `scripts/bench_quality.py`'s
split) are cut in two halves by time: side A its oldest posts, side B its newest, each cut to 2, 5, 10 and 20
posts. For every pairing of sizes (A at one size, B at another) all A x B pairs are scored: N same-person
pairs, N(N-1) different-person ones. P(same) is the model's own calibration at the pairs' true prior 1/N (the
forum prior of N accounts, `Calibrator.predict(prior=...)`). Reported per pairing: the median cosine of same-
and different-person pairs (does the score drift with size?), ranking AUC, ECE over all pairs, and among pairs
given P >= 0.5 how many there are, their mean P and the share that are truly the same person.
Results: benchmarks/results/sizes.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchlib.machine import short_description  # noqa: E402
from benchlib.settings import PROFILES, load_setting  # noqa: E402

OUT = REPO / "benchmarks" / "results" / "sizes.json"
SIZES = (2, 5, 10, 20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="style")
    parser.add_argument("--accounts", type=int, default=300)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--cache", type=Path, default=REPO / "runs" / "bench_quality" / "cache")
    args = parser.parse_args()

    from authorid.metrics import expected_calibration_error, roc_auc
    from authorid.model import load_model
    from authorid.schema import posts_from_records

    test = load_setting("reddit", PROFILES["cpu"], args.cache).test
    order = (
        np.argsort(np.asarray(test["timestamp"]), kind="stable") if "timestamp" in test.column_names else None
    )
    ids, texts = test["account_id"], test["text"]
    posts_of: dict[str, list[str]] = {}
    for row in order if order is not None else range(len(ids)):
        posts_of.setdefault(ids[row], []).append(texts[row])  # oldest first
    accounts = [a for a, texts in posts_of.items() if len(texts) >= 2 * max(SIZES)][: args.accounts]
    n = len(accounts)
    results = json.loads(args.out.read_text()) if args.out.is_file() else {"models": {}}
    for spec in args.models.split(","):
        print(f"{spec} ...", file=sys.stderr, flush=True)
        model = load_model(spec)
        if model.calibration is None:
            raise SystemExit(f"{spec} has no calibration of its own: calibrate it first")
        sides = {}
        for side in ("A", "B"):
            for size in SIZES:
                records = [
                    {"post_id": f"{a}/{side}{i}", "account_id": a, "text": text}
                    for a in accounts
                    for i, text in enumerate(posts_of[a][:size] if side == "A" else posts_of[a][-size:])
                ]
                vectors = model.embed_accounts(posts_from_records(records)).rows(accounts)
                unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
                sides[side, size] = unit
        rows = {}
        truth = np.eye(n, dtype=bool)
        for size_a in SIZES:
            for size_b in SIZES:
                cosines = sides["A", size_a] @ sides["B", size_b].T
                p = model.calibration.predict(cosines.ravel(), prior=1.0 / n)
                y = truth.ravel().astype(int)
                flagged = p >= 0.5
                rows[f"{size_a}x{size_b}"] = {
                    "same_median_cosine": round(float(np.median(cosines[truth])), 4),
                    "different_median_cosine": round(float(np.median(cosines[~truth])), 4),
                    "auc": round(roc_auc(cosines.ravel(), y), 4),
                    "ece": round(expected_calibration_error(p, y), 5),
                    "flagged": int(flagged.sum()),
                    "flagged_mean_p": round(float(p[flagged].mean()), 4) if flagged.any() else None,
                    "flagged_same_share": round(float(y[flagged].mean()), 4) if flagged.any() else None,
                }
                print(f"  {size_a}x{size_b}: {rows[f'{size_a}x{size_b}']}", file=sys.stderr, flush=True)
        results["models"][spec] = rows
    results |= {
        "accounts": f"{n} Reddit benchmark test accounts with >= {2 * max(SIZES)} posts",
        "sizes": list(SIZES),
        "prior": f"1/{n}",
        "machine": short_description(),
        "updated": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python scripts/bench_sizes.py",
    }
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"results written to {args.out}")


if __name__ == "__main__":
    main()
