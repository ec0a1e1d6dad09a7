"""Does a model's calibrated P(same person) hold at every account size? (issue 15's size targets)

    .venv/bin/python scripts/bench_sizes.py [--model style] [--methods own,platt,platt-sizes] [--accounts 300]

The Reddit benchmark test accounts (never trained on; `scripts/bench_quality.py`'s split) with at least 40
posts: the first `--accounts` of them are the evaluated ones, cut in two halves by time: side A their oldest
posts, side B their newest, each cut to 2, 5, 10 and 20 posts. The *other* test accounts are the calibration
corpus: `own` is the model's shipped calibration, every other method is fitted on them as `authorid calibrate
MODEL CORPUS --method M` does (`authorid.workflows.calibrate.fit_calibration`).

For every pairing of sizes (A at one size, B at another) all A x B pairs are scored: N same-person pairs,
N(N-1) different-person ones, and P(same) is taken at their true prior 1/N (the forum prior,
`Calibrator.predict(prior=...)`); a size-aware calibration reads each side's post and character counts, as
`authorid score` passes them. Reported per pairing: the median cosine of same- and different-person pairs
(does the score drift with size?), AUC, ECE over all pairs, and among pairs given P >= 0.5 how many there are,
their mean P and the share truly the same person, with its 95% Wilson interval (the issue's target: the share
within 0.05 of the mean P; with a handful of such pairs only the interval says anything), and the chance that
the share would land within 0.05 were each of those pairs one person with exactly its P (a perfectly calibrated
model: how often the target can be met in that pairing at all). Per method, pooled over all pairings: the pairs
given P >= 0.5, how many of them the P's expect to be the same person (their sum) and how many are.

`M+cohort` reads method M's cohort-normalised fit (`authorid.verification.cohort`; `calibrate` fits it beside
the cosine fit; `own+cohort`: the shipped calibration's), each pair's cosine less its shift in the pool of the
pairing's two sides (2N accounts, each person's other account among them, as in a forum; the median density
over the sides at least as large as the fit's whole accounts, `cohort.reference_rows`), as `authorid score`
reads it in a pool of 50 or more.

`--every-account` (methods `own` and `own+cohort` only: they need no calibration corpus) evaluates at each
pairing every test account with enough posts for both of its sides, not the first 300 with 40: all 1,000 for
the pairings up to 10x10, the 400 with >= 40 posts at 20x20. Three times the pairs per pairing where the target
is read, at each pairing's own true prior; each side at each size is embedded once with every account that has
posts enough for it (the sides' size centre, `authorid/encoders/size_centre.py`, sees those accounts).
`--sizes 20,30,50 --every-account` asks the same of large accounts (every test account with 40 posts or more;
benchmarks/results/sizes_large.json).
Results: benchmarks/results/sizes.json (`--every-account`: sizes_every.json).
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
EVERY_OUT = REPO / "benchmarks" / "results" / "sizes_every.json"
#: The methods that read the model's own calibration, so need no calibration corpus (`--every-account`).
OWN_METHODS = ("own", "own+cohort")
SIZES = (2, 5, 10, 20)
DEFAULT_METHODS = "own,own+cohort,platt,platt-sizes,platt-sizes+cohort"


def chance_within(p: np.ndarray, margin: float = 0.05) -> float:
    """The chance that the share of these pairs truly one person lies within `margin` of their mean P, if each
    is one person with its own P, independently (Poisson binomial): what a perfectly calibrated model gets."""
    from scipy.stats import poisson_binom

    n, mean = len(p), float(np.mean(p))
    low, high = int(np.ceil((mean - margin) * n - 1e-9)), int(np.floor((mean + margin) * n + 1e-9))
    return float(poisson_binom.cdf(high, p) - (poisson_binom.cdf(low - 1, p) if low > 0 else 0.0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="style")
    parser.add_argument("--methods", default=DEFAULT_METHODS)
    parser.add_argument("--accounts", type=int, default=300)
    parser.add_argument("--out", type=Path, default=None, help=f"default {OUT.name} ({EVERY_OUT.name})")
    parser.add_argument(
        "--every-account",
        action="store_true",
        help="evaluate every test account with posts enough for a pairing (own and own+cohort only)",
    )
    parser.add_argument(
        "--embedding",
        choices=("per-size", "together"),
        default="per-size",
        help="per-size: each side at each size embedded on its own (a corpus of equal-sized accounts, centred on"
        " their own mean); together: all 8 sides in one corpus, as `authorid embed` would a forum of mixed sizes",
    )
    parser.add_argument(
        "--sizes",
        default=",".join(map(str, SIZES)),
        help="the post counts each side is cut to (default %(default)s; 20,30,50 with --every-account: large accounts)",
    )
    parser.add_argument("--cache", type=Path, default=REPO / "runs" / "bench_quality" / "cache")
    args = parser.parse_args()
    sizes = tuple(sorted(int(n) for n in args.sizes.split(",")))
    if args.every_account and args.methods == DEFAULT_METHODS:
        args.methods = ",".join(OWN_METHODS)
    if args.every_account and not set(args.methods.split(",")) <= set(OWN_METHODS):
        parser.error(
            f"--every-account evaluates {' and '.join(OWN_METHODS)} only (the others fit on test accounts)"
        )
    out = args.out or (EVERY_OUT if args.every_account else OUT)

    from authorid.metrics import expected_calibration_error, roc_auc
    from authorid.metrics.rates import rate_with_interval
    from authorid.model import load_model
    from authorid.schema import posts_from_records
    from authorid.verification import cohort
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
    if args.every_account:
        accounts = [a for a, t in posts_of.items() if len(t) >= min(sizes) + min(sizes)]
    else:
        accounts = [a for a, t in posts_of.items() if len(t) >= 2 * max(sizes)][: args.accounts]
        evaluated = set(accounts)
        calibration_corpus = test.filter(
            lambda batch: [a not in evaluated for a in batch["account_id"]], batched=True
        )
    # The accounts each side at each size is cut from: those with posts for it and the smallest other side.
    cut_from = {size: [a for a in accounts if len(posts_of[a]) >= size + min(sizes)] for size in sizes}

    model = load_model(args.model)
    cuts = {
        (side, size): [
            {"post_id": f"{a}/{side}{size}/{i}", "account_id": f"{a}/{side}{size}", "text": text}
            for a in cut_from[size]
            for i, text in enumerate(posts_of[a][:size] if side == "A" else posts_of[a][-size:])
        ]
        for side in ("A", "B")
        for size in sizes
    }
    if args.embedding == "together":
        everything = model.embed_accounts(
            posts_from_records([r for records in cuts.values() for r in records])
        )
    sides, chars = {}, {}
    for (side, size), records in cuts.items():
        embedded = (
            everything if args.embedding == "together" else model.embed_accounts(posts_from_records(records))
        )
        rows = embedded.positions([f"{a}/{side}{size}" for a in cut_from[size]])
        vectors = embedded.vectors[rows]
        unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        sides[side, size] = dict(zip(cut_from[size], unit, strict=True))
        chars[side, size] = dict(zip(cut_from[size], embedded.n_chars[rows], strict=True))
    # the accounts of each pairing: every account whose posts fill both of its sides
    paired = {
        (size_a, size_b): [a for a in accounts if len(posts_of[a]) >= size_a + size_b]
        for size_a in sizes
        for size_b in sizes
    }

    results = {"calibrations": {}}
    fitted: dict = {}
    for method in args.methods.split(","):
        started = time.perf_counter()
        base, _, reads = method.partition("+")
        if base == "own":
            calibration = model.calibration.cohort if reads == "cohort" else model.calibration
            if calibration is None:
                raise SystemExit(f"{method}: the model's calibration has no cohort fit")
        else:
            if base not in fitted:
                fitted[base] = fit_calibration(model, calibration_corpus, method=base, seed=0)
            calibration = fitted[base].cohort if reads == "cohort" else fitted[base]
        fit_seconds = time.perf_counter() - started
        print(f"{method} ({fit_seconds:.0f} s to fit) ...", file=sys.stderr, flush=True)
        rows = {}
        pooled = {"flagged": 0, "expected_same": 0.0, "same": 0}
        for size_a in sizes:
            for size_b in sizes:
                pair_accounts = paired[size_a, size_b]
                n = len(pair_accounts)
                side_a = np.stack([sides["A", size_a][a] for a in pair_accounts])
                side_b = np.stack([sides["B", size_b][a] for a in pair_accounts])
                cosines = side_a @ side_b.T
                chars_a = np.array([chars["A", size_a][a] for a in pair_accounts])
                chars_b = np.array([chars["B", size_b][a] for a in pair_accounts])
                pair_sizes = (size_a, size_b, chars_a[:, None], chars_b[None, :])
                truth = np.eye(n, dtype=bool)
                scores = cosines
                if reads == "cohort":
                    # every account has its twin in this pool: w = 1 at the pairs' prior (`cohort.skip_weight`)
                    skip = cohort.skip_weight(calibration, 1.0 / n, 2 * n)
                    # the median over the accounts as large as the fit's whole accounts, as `score` reads it
                    posts = np.r_[np.full(n, size_a), np.full(n, size_b)]
                    reference = cohort.reference_rows(posts, cohort.reference_posts(calibration))
                    pool = cohort.of_vectors(np.vstack([side_a, side_b]), skip=skip, reference=reference)
                    scores = cohort.normalised(cosines, (pool.excess[:n, None] + pool.excess[None, n:]) / 2)
                p = calibration.predict(scores, prior=1.0 / n, sizes=pair_sizes)
                y = truth.ravel().astype(int)
                flagged = p >= 0.5
                share = rate_with_interval(int(y[flagged].sum()), int(flagged.sum()))
                mean_p = float(p[flagged].mean()) if flagged.any() else None
                pooled["flagged"] += int(flagged.sum())
                pooled["expected_same"] += float(p[flagged].sum())
                pooled["same"] += int(y[flagged].sum())
                rows[f"{size_a}x{size_b}"] = {
                    "accounts": n,
                    "same_median_cosine": round(float(np.median(cosines[truth])), 4),
                    "different_median_cosine": round(float(np.median(cosines[~truth])), 4),
                    "auc": round(roc_auc(scores.ravel(), y), 4),
                    "ece": round(expected_calibration_error(p, y), 5),
                    "flagged": int(flagged.sum()),
                    "flagged_mean_p": round(float(p[flagged].mean()), 4) if flagged.any() else None,
                    "flagged_same_share": round(float(y[flagged].mean()), 4) if flagged.any() else None,
                    "flagged_same_share_interval": share["interval"],
                    # the 95% interval of the share reaches within 0.05 of the mean P (None: no pair given P >= 0.5)
                    "consistent_with_target": None
                    if mean_p is None
                    else bool(
                        share["interval"][0] <= mean_p + 0.05 and share["interval"][1] >= mean_p - 0.05
                    ),
                    # how often the target can be met here at all: the share's chance of lying within 0.05 of the
                    # mean P were each of these pairs one person with exactly its P
                    "within_if_calibrated": None if mean_p is None else round(chance_within(p[flagged]), 4),
                }
                print(f"  {size_a}x{size_b}: {rows[f'{size_a}x{size_b}']}", file=sys.stderr, flush=True)
        results["calibrations"][method] = {
            "fitted_on": "the model's shipped calibration" + (", its cohort fit" if reads == "cohort" else "")
            if base == "own"
            else calibration.info["pairs_from"] + (", its cohort fit" if reads == "cohort" else ""),
            "fit_seconds": round(fit_seconds, 1),
            "pooled": pooled | {"expected_same": round(pooled["expected_same"], 1)},
            "pairings": rows,
        }
    if args.every_account:
        counts = sorted({len(chosen) for chosen in paired.values()})
        described = (
            f"every Reddit benchmark test account with posts enough for both sides of a pairing ({counts[0]:,} to"
            f" {counts[-1]:,} accounts a pairing)"
        )
        prior = "1/(the pairing's accounts)"
    else:
        n = len(accounts)
        described = (
            f"{n} Reddit benchmark test accounts with >= {2 * max(sizes)} posts (calibrated on the"
            f" other {len(posts_of) - n} test accounts)"
        )
        prior = f"1/{n}"
    results |= {
        "model": args.model,
        "accounts": described,
        "sizes": list(sizes),
        "prior": prior,
        "embedding": args.embedding,
    }
    default_run = sizes == SIZES and (args.model, args.methods, args.embedding, out) == (
        "style",
        DEFAULT_METHODS,
        "per-size",
        OUT,
    )
    every_run = (
        args.every_account
        and sizes == SIZES
        and (args.model, args.methods, args.embedding, out)
        == (
            "style",
            ",".join(OWN_METHODS),
            "per-size",
            EVERY_OUT,
        )
    )
    if default_run:
        command = "python scripts/bench_sizes.py"
    elif every_run:
        command = "python scripts/bench_sizes.py --every-account"
    else:
        command = (
            f"python scripts/bench_sizes.py --model {args.model} --methods {args.methods} --embedding"
            f" {args.embedding}{' --every-account' if args.every_account else ''}"
            f"{f' --sizes {args.sizes}' if sizes != SIZES else ''} --out {os.path.relpath(out.resolve(), REPO)}"
        )
    print(f"results written to {save_stamped(out, results, command=command)}")


if __name__ == "__main__":
    main()
