"""Cohort-normalised scores against plain cosines, under one calibration fitted by the product (issue 15).

    .venv/bin/python scripts/bench_cohort.py [--model style]

The persons of the 1,000 Reddit benchmark test accounts (never trained on; `scripts/bench_quality.py`'s split)
are cut into two seeded folds of 500. `fit_calibration`, what `authorid calibrate MODEL CORPUS` runs, is fitted
on fold A's accounts (it cuts them into sybil halves and sizes itself) and holds two fits of one method: on
cosines, and on cohort-normalised scores (`authorid/verification/cohort.py`). Fold B's accounts are cut into
two halves by time, each its 8 newest posts: 1,000 pseudo-accounts of 500 persons, the pool. Then, with each fit:
- verification: every pair of the pool (499,500 pairs, 500 of one person) at the forum prior 1/999, each pair
  scored as `authorid score` scores it (`authorid.workflows.score.score_pairs`): AUC, the pairs given
  P >= 0.5 with their mean P and the share truly one person, recall at precision 0.9 and ECE; the same with the
  model's own calibration (its cosine and cohort fits, fitted when it was trained), when it has one;
- clustering: the product's clustering protocol (`authorid cluster`'s path: the "average" method at P >= 0.5,
  k = 10) at the forum prior and at 3 and 10 times it;
- linking: each person's older half (`#0`) linked against an exact index of the 500 newer halves
  (`authorid.index.link`, `authorid link`'s path: hubness-ranked top 10, the link the first-ranked candidate
  when it is called "same"; until stop 45 the first candidate called "same" at any rank), with P at `link`'s
  default prior (1/500: one of the enrolled accounts is the query's person's) and at the calibration's own
  (about 1/31, `link`'s default until stop 29): how many queries get a link, how many of those are right, and
  the links' mean P.
Results: benchmarks/results/cohort.json.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchlib.results import save_stamped  # noqa: E402
from benchlib.settings import PROFILES, load_setting  # noqa: E402

OUT = REPO / "benchmarks" / "results" / "cohort.json"
PRIOR_FACTORS = (1, 3, 10)
KEYS = ("pairwise_precision", "pairwise_recall", "bcubed_precision", "bcubed_recall", "bcubed_f1")


def verification_row(vectors, person_of: dict, fit, prior: float) -> dict:
    """Every pair of the pool scored as `authorid score` scores it with `fit` forced (its kind of score)."""
    from sklearn.metrics import roc_auc_score

    from authorid.metrics import expected_calibration_error
    from authorid.workflows.score import score_pairs

    ids = list(vectors.account_ids)
    first, second = np.triu_indices(len(ids), k=1)
    rows = [{"account_a": ids[i], "account_b": ids[j]} for i, j in zip(first, second, strict=True)]
    scored = score_pairs(vectors, rows, only(fit), prior=prior)
    p = np.array([float(r["probability"]) for r in scored])
    persons = np.array([person_of[a] for a in ids], dtype=object)
    y = (persons[first] == persons[second]).astype(int)
    order = np.argsort(-p, kind="stable")
    hits = np.cumsum(y[order])
    precise = np.flatnonzero(hits / np.arange(1, len(p) + 1) >= 0.9)
    called = p >= 0.5
    return {
        "pairs": int(len(p)),
        "same_person_pairs": int(y.sum()),
        "auc": float(roc_auc_score(y, p)),
        "ece": float(expected_calibration_error(p, y)),
        "given_p_0_5": int(called.sum()),
        "their_mean_p": float(p[called].mean()) if called.any() else None,
        "their_share_same": float(y[called].mean()) if called.any() else None,
        "recall_at_precision_0_9": float(hits[precise.max()] / y.sum()) if len(precise) else 0.0,
    }


def linking_row(vectors, person_of: dict, fit, prior: float | None) -> dict:
    """Older halves linked against an index of the newer halves, as `authorid link` links them (`prior` None:
    link's default)."""
    from authorid.index import build_index, link

    queries = vectors.subset([a for a in vectors.account_ids if a.endswith("#0")])
    enrolled = vectors.subset([a for a in vectors.account_ids if a.endswith("#1")])
    index = build_index(enrolled, kind="exact", model_identity={"name": "bench_cohort"})
    links = link(index, queries, k=10, calibration=only(fit), prior=prior)
    answers = {q: a for q, a in links.answers.items() if a != "unknown"}
    right = sum(1 for q, a in answers.items() if person_of[q] == person_of[a])
    chosen = [r["probability"] for r in links.rows if answers.get(r["query_account"]) == r["account_id"]]
    return {
        "queries": len(queries),
        "enrolled": len(enrolled),
        "prior": links.prior,
        "linked": len(answers),
        "right": right,
        "precision": right / len(answers) if answers else None,
        "recall": right / len(queries),
        "mean_p": float(np.mean(chosen)) if chosen else None,
        "probability_from": "cohort_score" if links.cohort else "cosine",
    }


def only(fit):
    """A calibration holding `fit` alone: its cosine fit, or its cohort fit as the calibration's cohort."""
    if not fit.reads_cohort:
        out = copy.copy(fit)
        out.cohort = None
        return out
    holder = copy.copy(fit)  # for_pool(pool) then returns the cohort fit itself
    holder.info = {}
    holder.cohort = fit
    return holder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="style")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--cache", type=Path, default=REPO / "runs" / "bench_quality" / "cache")
    args = parser.parse_args()

    from authorid.evaluation.protocols.base import evaluation_set
    from authorid.model import load_model
    from authorid.workflows.calibrate import fit_calibration
    from authorid.workflows.evaluate import evaluate

    setting = load_setting("reddit", PROFILES["cpu"], args.cache)
    model = load_model(args.model)
    shipped = model.calibration  # the model's own (fitted when it was trained), scored on the same pool below
    test = setting.test
    accounts = sorted(set(test["account_id"]))
    folds = np.random.default_rng(15).permutation(len(accounts))
    fold_a = {accounts[i] for i in folds[: len(accounts) // 2]}
    posts_a = test.filter(lambda r: r["account_id"] in fold_a)
    posts_b = test.filter(lambda r: r["account_id"] not in fold_a)
    print(f"calibrating on {len(fold_a)} accounts ...", file=sys.stderr, flush=True)
    calibration = fit_calibration(model, posts_a, seed=0)
    fits = {"cosine": calibration, "cohort": calibration.cohort}

    max_posts = PROFILES["cpu"].reddit_posts_per_half
    chosen = evaluation_set(posts_b, max_posts=max_posts, seed=0)
    vectors = model.embed_accounts(chosen.posts)
    prior = 1 / (len(vectors) - 1)
    rows: dict = {"verification": {}, "clustering": {}, "linking": {}}
    for name, fit in fits.items():
        rows["verification"][name] = verification_row(vectors, chosen.person_of, fit, prior)
        print(f"  verification {name}: {rows['verification'][name]}", file=sys.stderr, flush=True)
        for label, link_prior in (("link's default", None), ("the calibration's own", fit.fit_prior)):
            key = f"{name}@{label}"
            rows["linking"][key] = linking_row(vectors, chosen.person_of, fit, link_prior)
            print(f"  linking {key}: {rows['linking'][key]}", file=sys.stderr, flush=True)
        model.calibration = only(fit)
        for factor in PRIOR_FACTORS:
            run = evaluate(
                model,
                posts_b,
                protocol="clustering",
                max_posts=max_posts,
                prior=factor * prior,
                min_precision=0.0,  # P >= 0.5 as such: the scores are compared, not cluster's raised threshold
                include_training_accounts=True,  # the test accounts: none is a training account
            )
            metrics = run["protocols"]["clustering"]["metrics"]["clustering"]
            entry = {key: metrics.get(key) for key in (*KEYS, "largest_cluster")}
            entry |= {
                "prior": factor * prior,
                "calibration": run["protocols"]["clustering"]["settings"]["calibration"],
            }
            rows["clustering"][f"{name}@{factor}x"] = entry
            print(f"  clustering {name} x{factor}: {entry}", file=sys.stderr, flush=True)
    if shipped is not None:
        own = {"shipped cosine": shipped, "shipped cohort": shipped.cohort}
        for name, fit in own.items():
            if fit is not None:
                rows["verification"][name] = verification_row(vectors, chosen.person_of, fit, prior)
                print(f"  verification {name}: {rows['verification'][name]}", file=sys.stderr, flush=True)
    result = {
        "model": args.model,
        "calibration": {
            "accounts": calibration.info["accounts"],
            "pairs_from": calibration.info["pairs_from"],
            "method": calibration.method,
            "cohort_pool": calibration.cohort.info["pool"],
        },
        "pool": {
            "pseudo_accounts": len(vectors),
            "persons": len(set(chosen.person_of.values())),
            "prior": prior,
        },
        "rows": rows,
    }
    command = f"python scripts/bench_cohort.py --model {args.model}"
    print(f"results written to {save_stamped(args.out, result, command=command)}")


if __name__ == "__main__":
    main()
