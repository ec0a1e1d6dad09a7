"""Does a model's calibrated P(same person) hold at every account size? (issue 15's size targets)

    .venv/bin/python scripts/bench_sizes.py [--model style] [--methods own,platt,platt-sizes] [--accounts 300]

The Reddit benchmark test accounts (never trained on; `scripts/bench_quality.py`'s split) with at least 40
posts: the first `--accounts` of them are the evaluated ones, cut in two halves by time: side A their oldest
posts, side B their newest, each cut to 2, 5, 10 and 20 posts. The *other* test accounts are the calibration
corpus: `own` is the model's shipped calibration, every other method is fitted on them as `authorid calibrate
MODEL CORPUS --method M` does (`authorid.workflows.calibrate.fit_calibration`).

For every pairing of sizes (A at one size, B at another) all A x B pairs are scored: N same-person pairs,
N(N-1) different-person ones, and P(same) is taken at their true prior 1/N (the forum prior,
`Calibrator.predict(prior=...)`). Reported per pairing: the median cosine of same- and different-person pairs
(does the score drift with size?), AUC, ECE over all pairs, and among pairs given P >= 0.5 how many there are,
their mean P and the share truly the same person (the issue's target: within 0.05).
Results: benchmarks/results/sizes.json.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchlib.results import save_stamped  # noqa: E402
from benchlib.settings import PROFILES, load_setting  # noqa: E402

OUT = REPO / "benchmarks" / "results" / "sizes.json"
SIZES = (2, 5, 10, 20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="style")
    parser.add_argument("--methods", default="own,platt,platt-sizes")
    parser.add_argument("--accounts", type=int, default=300)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--cache", type=Path, default=REPO / "runs" / "bench_quality" / "cache")
    args = parser.parse_args()

    from authorid.metrics import expected_calibration_error, roc_auc
    from authorid.model import load_model
    from authorid.schema import posts_from_records
    from authorid.workflows.calibrate import fit_calibration

    test = load_setting("reddit", PROFILES["cpu"], args.cache).test
    created = (
        test.with_format("arrow")["created_at"].to_numpy() if "created_at" in test.column_names else None
    )
    order = np.argsort(created, kind="stable") if created is not None else np.arange(len(test))
    ids, texts = test["account_id"], test["text"]
    posts_of: dict[str, list[str]] = {}
    for row in order:
        posts_of.setdefault(ids[row], []).append(texts[row])  # oldest first
    accounts = [a for a, t in posts_of.items() if len(t) >= 2 * max(SIZES)][: args.accounts]
    evaluated = set(accounts)
    calibration_corpus = test.filter(
        lambda batch: [a not in evaluated for a in batch["account_id"]], batched=True
    )
    n = len(accounts)

    model = load_model(args.model)
    sides = {}
    for side in ("A", "B"):
        for size in SIZES:
            records = [
                {"post_id": f"{a}/{side}{i}", "account_id": a, "text": text}
                for a in accounts
                for i, text in enumerate(posts_of[a][:size] if side == "A" else posts_of[a][-size:])
            ]
            vectors = model.embed_accounts(posts_from_records(records)).rows(accounts)
            sides[side, size] = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)

    results = {"calibrations": {}}
    truth = np.eye(n, dtype=bool)
    for method in args.methods.split(","):
        started = time.perf_counter()
        if method == "own":
            calibration = model.calibration
        else:
            calibration = fit_calibration(model, calibration_corpus, method=method, seed=0)
        fit_seconds = time.perf_counter() - started
        print(f"{method} ({fit_seconds:.0f} s to fit) ...", file=sys.stderr, flush=True)
        rows = {}
        for size_a in SIZES:
            for size_b in SIZES:
                cosines = sides["A", size_a] @ sides["B", size_b].T
                p = calibration.predict(cosines, prior=1.0 / n, sizes=(size_a, size_b))
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
        results["calibrations"][method] = {
            "fitted_on": "the model's shipped calibration"
            if method == "own"
            else calibration.info["pairs_from"],
            "fit_seconds": round(fit_seconds, 1),
            "pairings": rows,
        }
    results |= {
        "model": args.model,
        "accounts": f"{n} Reddit benchmark test accounts with >= {2 * max(SIZES)} posts (calibrated on the"
        f" other {len(posts_of) - n} test accounts)",
        "sizes": list(SIZES),
        "prior": f"1/{n}",
    }
    command = "python scripts/bench_sizes.py" + (
        ""
        if (args.model, args.methods) == ("style", "own,platt,platt-sizes")
        else f" --model {args.model} --methods {args.methods} --out {os.path.relpath(args.out.resolve(), REPO)}"
    )
    print(f"results written to {save_stamped(args.out, results, command=command)}")


if __name__ == "__main__":
    main()
