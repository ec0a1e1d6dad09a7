"""Clustering held-out Reddit accounts into persons: every method side by side, with the packaged model's own
calibration (issue 15's clustering target).

    .venv/bin/python scripts/bench_persons.py [--model style] [--methods average,mutual-knn,agglomerative,leiden]

The 1,000 Reddit benchmark test accounts (never trained on; `scripts/bench_quality.py`'s split) are each cut
in two halves by time, each half its 8 newest posts: 2,000 pseudo-accounts of 1,000 persons. Each method runs
through the product's clustering protocol (`authorid evaluate MODEL CORPUS --protocol clustering --method M
--max-posts 8`) as `authorid cluster` runs by default: from the calibrated decision threshold P >= 0.5, raised
until the clusters' pairwise precision reaches 0.9 with probability 0.9 (`--min-precision`, each pair right
with its P); one row more keeps P >= 0.5
as such. Reported: the threshold used and the expected precision, pairwise precision / recall, B-cubed
precision / recall / F1, the number of clusters and the largest one (the truth's largest group is 2).

`--calibrate-on-training N` adds the default method with a calibration a user fits, `authorid calibrate MODEL
CORPUS` on N Reddit training-pool accounts cut as the benchmark cuts (scripts/bench_ece.py's
`calibration_corpus`), read twice: its cosine fit alone, and its cohort fit (what `authorid cluster` reads in a
pool this size; `authorid/verification/cohort.py`).
`--validation-of SPLIT_MANIFEST` clusters instead the validation accounts of the training run that wrote that
split_manifest.json (`scripts/train_default_model.py` writes one beside the model it trains): persons the
benchmark is not measured on, on which to check a default before the test accounts are read, e.g.
`--validation-of runs/default_model/model/split_manifest.json --priors "" --methods average --out FILE`.
Results: benchmarks/results/persons.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchlib.results import save_stamped  # noqa: E402
from benchlib.settings import PROFILES, load_setting  # noqa: E402

OUT = REPO / "benchmarks" / "results" / "persons.json"
METHODS = ("average", "mutual-knn", "agglomerative", "leiden")
KEYS = (
    "pairwise_precision",
    "pairwise_recall",
    "bcubed_precision",
    "bcubed_recall",
    "bcubed_f1",
    "ari",
    "n_pred",
    "n_true",
)


def calibrated_on_training(model: str, setting, accounts: int, work: Path):
    """`authorid calibrate MODEL` (its default method) on `accounts` training-pool accounts cut as the
    benchmark cuts its test accounts; the Calibrator it wrote."""
    from bench_ece import calibration_corpus
    from benchlib.commands import authorid_json, write_jsonl

    from authorid.verification import Calibrator

    work.mkdir(parents=True, exist_ok=True)
    corpus, out = work / "calibration.jsonl", work / f"{model}-calibration.json"
    profile = PROFILES["cpu"]
    write_jsonl(
        corpus,
        calibration_corpus(
            setting.train, accounts, profile.reddit_min_posts, profile.reddit_posts_per_half, 0
        ),
    )
    # the model trained on these accounts (that is the rows' point): calibrate leaves them out unless told
    authorid_json(
        "calibrate", model, str(corpus), "-o", str(out), "--overwrite", "--include-training-accounts"
    )
    return Calibrator.load(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="style")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument(
        "--priors",
        default="0.003,0.01,0.03,0.1",
        help="also run the default method at these priors (comma-separated; default prior: 1 / (n - 1))",
    )
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument(
        "--calibrate-on-training",
        type=int,
        default=0,
        help="also run the default method with `authorid calibrate` fitted on this many training accounts",
    )
    parser.add_argument(
        "--validation-of",
        type=Path,
        default=None,
        help="a training run's split_manifest.json: cluster its validation accounts instead of the test accounts",
    )
    parser.add_argument("--work", type=Path, default=REPO / "runs" / "persons")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--cache", type=Path, default=REPO / "runs" / "bench_quality" / "cache")
    args = parser.parse_args()

    from authorid.clustering import DEFAULT_MIN_PRECISION
    from authorid.model import load_model
    from authorid.workflows.evaluate import evaluate

    setting = load_setting("reddit", PROFILES["cpu"], args.cache)
    model = load_model(args.model)
    accounts, posts = (
        "2,000 halves (8 newest posts each) of the 1,000 Reddit benchmark test accounts",
        setting.test,
    )
    if args.validation_of is not None:
        validation = set(json.loads(args.validation_of.read_text(encoding="utf-8"))["assignment"]["val"])
        posts = setting.train.filter(
            lambda batch: [a in validation for a in batch["account_id"]], batched=True
        )
        accounts = (
            f"{2 * len(validation):,} halves (8 newest posts each) of the validation accounts of"
            f" {args.validation_of}"
        )
    rows = {}
    shipped = model.calibration
    # (row name, method, prior (None: the forum's), calibration (None: the model's own), min_precision (None:
    # the protocol's default, `authorid cluster`'s))
    runs = [(method, method, None, None, None) for method in args.methods.split(",")]
    runs += [(f"average, P >= {args.threshold:g} (--min-precision 0)", "average", None, None, 0.0)]
    runs += [
        (f"average@prior={float(p):g}", "average", float(p), None, None) for p in args.priors.split(",") if p
    ]
    if args.calibrate_on_training:
        from bench_cohort import only  # the calibration holding one of its fits

        fitted = calibrated_on_training(args.model, setting, args.calibrate_on_training, args.work)
        runs += [
            (f"average, calibrate on training ({fit} fit)", "average", None, only(calibration), None)
            for fit, calibration in (("cosine", fitted), ("cohort", fitted.cohort))
        ]
    for name, method, prior, calibration, min_precision in runs:
        model.calibration = shipped if calibration is None else calibration
        print(f"{name} ...", file=sys.stderr, flush=True)
        run = evaluate(
            model,
            posts,
            protocol="clustering",
            max_posts=PROFILES["cpu"].reddit_posts_per_half,
            method=method,
            k=args.k,
            threshold=args.threshold,
            min_precision=min_precision,
            prior=prior,
            # the model's training_accounts.json lists the accounts it validated on too
            include_training_accounts=args.validation_of is not None,
        )
        entry = run["protocols"]["clustering"]
        metrics = entry["metrics"]["clustering"]
        rows[name] = {key: metrics.get(key) for key in (*KEYS, "largest_cluster", "largest_true_group")}
        rows[name]["prior"] = entry["settings"]["prior"]
        # one threshold per group clustered: the two folds of a cross-fitted calibration, else one
        rows[name]["threshold_used"] = entry["settings"]["thresholds_used"]
        rows[name]["expected_precision"] = entry["settings"]["expected_pairwise_precision"]
        rows[name]["calibration"] = entry["settings"]["calibration"]
        print(f"  {rows[name]}", file=sys.stderr, flush=True)
    result = {
        "model": args.model,
        "threshold": args.threshold,
        "min_precision": DEFAULT_MIN_PRECISION,
        "k": args.k,
        "accounts": accounts,
        "rows": rows,
    }
    command = f"python scripts/bench_persons.py --priors {shlex.quote(args.priors)}" + (
        f" --calibrate-on-training {args.calibrate_on_training}" if args.calibrate_on_training else ""
    )
    if args.validation_of is not None:
        command += f" --validation-of {args.validation_of}"
    if args.model != "style":
        command += f" --model {args.model}"
    if args.methods != ",".join(METHODS):
        command += f" --methods {args.methods}"
    if args.out != OUT:
        command += f" --out {args.out.relative_to(REPO) if args.out.is_relative_to(REPO) else args.out}"
    print(f"results written to {save_stamped(args.out, result, command=command)}")


if __name__ == "__main__":
    main()
