"""How well calibrated is the best CLI model on the Reddit benchmark, and how low can ECE go there?

    .venv/bin/python scripts/bench_ece.py [--model style] [--calibration-accounts 1000]

Issue 15 asks for ECE <= 0.015 on the Reddit benchmark's verification pairs (bench_quality's `cpu` profile:
1,000 held-out accounts cut in two halves by time, each half its 8 newest posts; 1,000 same-person and 1,000
different-person pairs) for the best model a user can build, with its own calibration. ECE is measured on a
finite sample, so a perfectly calibrated verifier does not score 0 there: this script measures that floor
beside the calibrations a user can have, all through the product's commands and metrics:

- `shipped`: the model's own calibration (`authorid score MODEL` without --calibration);
- `calibrate platt` / `calibrate isotonic`: `authorid calibrate MODEL FOLD.jsonl --method M` on the other fold
  of the benchmark's held-out persons (the pairs' two folds; each fold's halves given as accounts with their
  person_id, so calibrate pairs exactly such halves; no thread ids, so its negatives are random pairs as the
  benchmark's are), each fold scored with the calibration fitted on the other: never on its own pairs;
- `calibrate platt on training accounts`: the same command on `--calibration-accounts` Reddit training-pool
  accounts cut as the benchmark cuts (>= 20 posts, two halves by time, each its 8 newest posts). The shipped
  model was trained on these accounts, so its cosines separate them better than unseen ones: what calibrating
  on the model's own training accounts costs;
- `cross-fitted platt`: what BENCHMARKS.md's quality table reports (each fold of persons scored by a Platt
  calibration fitted on the other fold's pairs: `authorid.evaluation.protocols.cross_fitted_calibrators`);
- `in-sample platt`: a Platt calibration fitted on the very pairs it is scored on: the lowest ECE any two-number
  calibration of the cosine reaches on them (a bound, not something a user can have);
- `noise floor`: the ECE a perfectly calibrated verifier shows on these 2,000 pairs with these probabilities
  (`authorid.metrics.ece_noise_floor`: labels drawn from the probabilities themselves), its mean and 95th
  percentile.

The vectors come from `authorid embed MODEL halves.jsonl`, the scores from `authorid score --vectors --pairs
--prior 0.5` (the share of same-person pairs among the benchmark's pairs; `calibrate` fits at a forum's share).
Results: benchmarks/results/ece.json (BENCHMARKS.md, "How low can ECE go on the Reddit benchmark").
"""

from __future__ import annotations

import argparse
import csv
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
from benchlib.scoring import linking_task  # noqa: E402
from benchlib.settings import PROFILES, load_setting, sampled_accounts  # noqa: E402

from authorid.evaluation.protocols import cross_fitted_calibrators  # noqa: E402
from authorid.metrics import ece_noise_floor, expected_calibration_error, verification_metrics  # noqa: E402
from authorid.verification import Calibrator  # noqa: E402

OUT = REPO / "benchmarks" / "results" / "ece.json"
TARGET_ECE, TARGET_AUC = 0.015, 0.907


def calibration_corpus(train, n_accounts: int, min_posts: int, per_half: int, seed: int) -> list[dict]:
    """`n_accounts` seeded training-pool accounts with >= `min_posts` posts, cut as the benchmark cuts its test
    accounts: in two halves by time, each half its `per_half` newest posts. `authorid calibrate` cuts the kept
    posts in two by time again, which gives back exactly these halves."""
    chosen = sampled_accounts(train, n_accounts, min_posts, seed)
    records = []
    for account, posts in chosen.groupby("account_id", sort=True):
        middle = len(posts) // 2
        kept = [
            *posts.iloc[:middle].tail(per_half).itertuples(),
            *posts.iloc[middle:].tail(per_half).itertuples(),
        ]
        records += [
            {
                "post_id": str(r.post_id),
                "account_id": str(account),
                "text": r.text,
                "created_at": str(r.created_at),
            }
            for r in kept
        ]
    return records


def read_scores(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return (
        np.array([float(r["cosine"]) for r in rows]),
        np.array([float(r["probability"]) for r in rows]),
    )


def summary(probabilities: np.ndarray, labels: np.ndarray, **extra) -> dict:
    metrics = verification_metrics(np.clip(probabilities, 0.0, 1.0), labels)
    keep = ("auc", "ece", "ece_floor", "ece_floor_high", "brier_score", "c@1")
    out = {k: round(float(metrics[k]), 4) for k in keep}
    out["mean_p_same"] = round(float(probabilities[labels == 1].mean()), 4)
    out["mean_p_different"] = round(float(probabilities[labels == 0].mean()), 4)
    out["meets_target"] = bool(metrics["ece"] <= TARGET_ECE and metrics["auc"] >= TARGET_AUC)
    return out | extra


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="style")
    parser.add_argument("--calibration-accounts", type=int, default=1000)
    parser.add_argument("--work", type=Path, default=REPO / "runs" / "ece")
    parser.add_argument("--cache", type=Path, default=REPO / "runs" / "bench_quality" / "cache")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    profile = PROFILES["cpu"]
    setting = load_setting("reddit", profile, args.cache, seed=args.seed)
    task = linking_task(
        setting.test,
        min_posts=profile.reddit_min_posts,
        max_posts=profile.reddit_posts_per_half,
        seed=args.seed,
    )
    posts = task.chosen.posts
    halves_file = args.work / "halves.jsonl"
    write_jsonl(
        halves_file,
        (
            {"post_id": str(p), "account_id": str(a), "text": t}
            for p, a, t in zip(posts["post_id"], posts["account_id"], posts["text"], strict=True)
        ),
    )
    pairs_file = args.work / "pairs.csv"
    folds, labels = [], []
    with pairs_file.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["account_a", "account_b"])
        for fold, (a, b, y) in enumerate(task.pairs):
            writer.writerows(zip(a, b, strict=True))
            folds += [fold] * len(y)
            labels.append(np.asarray(y, dtype=np.int64))
    folds, labels = np.array(folds), np.concatenate(labels)
    calibration_file = args.work / "calibration.jsonl"
    write_jsonl(
        calibration_file,
        calibration_corpus(
            setting.train,
            args.calibration_accounts,
            profile.reddit_min_posts,
            profile.reddit_posts_per_half,
            args.seed,
        ),
    )

    vectors = args.work / f"{args.model}-halves.parquet"
    authorid("embed", args.model, str(halves_file), "-o", str(vectors), "--overwrite")

    # P at the share of same-person pairs among the scored pairs (a calibration is fitted at a forum's share)
    share = f"{labels.mean():.6g}"

    def scored(name: str, *calibration: str) -> tuple[np.ndarray, np.ndarray]:
        out = args.work / f"{args.model}-{name}.csv"
        authorid(
            "score", args.model, "--vectors", str(vectors), "--pairs", str(pairs_file), *calibration,
            "--prior", share, "-o", str(out), "--overwrite",
        )  # fmt: skip
        return read_scores(out)

    rows: dict[str, dict] = {}
    cosines, shipped = scored("shipped")
    rows["shipped"] = summary(shipped, labels, how="the model's own calibration")

    # Each fold of held-out persons scored with `authorid calibrate` fitted on the other fold's halves.
    person_of = task.chosen.person_of
    fold_of_person = {person_of[x]: f for f, (a, _, _) in enumerate(task.pairs) for x in a}
    fold_files = [args.work / f"fold{f}.jsonl" for f in (0, 1)]
    for f, path in enumerate(fold_files):
        write_jsonl(
            path,
            (
                {"post_id": str(p), "account_id": str(a), "person_id": person_of[a], "text": t}
                for p, a, t in zip(posts["post_id"], posts["account_id"], posts["text"], strict=True)
                if fold_of_person.get(person_of[a]) == f
            ),
        )
    for method in ("platt", "isotonic", "platt-sizes"):
        probabilities = np.empty_like(cosines)
        pairs_fit = []
        for f in (0, 1):
            fitted = args.work / f"{args.model}-fold{1 - f}-{method}.json"
            info = authorid(
                "calibrate",
                args.model,
                str(fold_files[1 - f]),
                "--method",
                method,
                "-o",
                str(fitted),
                "--overwrite",
            )
            pairs_fit.append(info.get("info", {}).get("pairs_fit"))
            _, scored_p = scored(f"{method}-fold{f}", "--calibration", str(fitted))
            probabilities[folds == f] = scored_p[folds == f]
        rows[f"calibrate {method}"] = summary(
            probabilities,
            labels,
            how=f"authorid calibrate --method {method} on the other fold of held-out persons",
            calibration_pairs=pairs_fit,
        )
    fitted = args.work / f"{args.model}-training-platt.json"
    info = authorid(
        "calibrate",
        args.model,
        str(calibration_file),
        "--method",
        "platt",
        "-o",
        str(fitted),
        "--overwrite",
        "--include-training-accounts",  # the row's point: calibrate left them out by default from stop 35 on
    )
    _, probabilities = scored("training-platt", "--calibration", str(fitted))
    rows["calibrate platt on training accounts"] = summary(
        probabilities,
        labels,
        how=f"authorid calibrate on {args.calibration_accounts} of the model's training accounts",
        calibration_pairs=info.get("info", {}).get("pairs_fit"),
    )
    per_fold = [(cosines[folds == f], labels[folds == f]) for f in (0, 1)]
    calibrators = cross_fitted_calibrators(per_fold)
    cross = np.empty_like(cosines)
    for f in (0, 1):
        cross[folds == f] = calibrators[f].predict(per_fold[f][0])
    rows["cross-fitted platt"] = summary(cross, labels, how="BENCHMARKS.md's quality table")
    in_sample = Calibrator("platt").fit(cosines, labels).predict(cosines)
    rows["in-sample platt"] = summary(
        in_sample, labels, how="fitted on the scored pairs themselves (a bound)"
    )
    floor = ece_noise_floor(np.clip(in_sample, 0.0, 1.0))
    results = {
        "model": args.model,
        "pairs": {"same": int(labels.sum()), "different": int((labels == 0).sum())},
        "targets": {"ece_max": TARGET_ECE, "auc_min": TARGET_AUC},
        "rows": rows,
        "noise_floor": {"mean": round(floor.mean, 4), "p95": round(floor.high, 4), "draws": floor.draws},
        "noise_floor_share_meeting_target": round(
            float(np.mean(_floor_draws(np.clip(in_sample, 0.0, 1.0)) <= TARGET_ECE)), 3
        ),
        "seconds": round(time.perf_counter() - started, 1),
    }
    save_stamped(args.out, results, command=f"python scripts/bench_ece.py --model {args.model}")
    print(json.dumps(results, indent=1))
    print(f"results: {args.out}")


def _floor_draws(probabilities: np.ndarray, draws: int = 1000) -> np.ndarray:
    """ECE of `draws` label draws from the probabilities themselves (the share of a perfect calibration's
    measurements that would meet the target)."""
    rng = np.random.default_rng(1)
    draw = lambda: rng.random(probabilities.size) < probabilities  # noqa: E731
    return np.array([expected_calibration_error(probabilities, draw()) for _ in range(draws)])


if __name__ == "__main__":
    main()
