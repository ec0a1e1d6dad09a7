"""Verification: same person or not, for balanced pairs of (pseudo-)accounts, scored as PAN scores it.

The subject is a StyleModel (cosines of its account vectors) or any scorer (its pair scores).
Pairs: `authorid.verification.make_pairs` over the evaluation set (every same-person pair, as many
different-person pairs; with `hard_negatives`, different persons active in the same threads, or forums, first).
Probabilities: the model's own calibration when it has one (its cohort fit, reading each pair's cosine less its
cohort shift among the evaluated accounts, when it has one and they are 50 or more, as `authorid score` reads
it). Otherwise cross-fitting: the persons are cut at
random (seeded) into two folds, pairs are made within each fold, and each fold's pairs are scored by a Platt
calibration (`authorid.verification.Calibrator`) fitted on the other fold's pairs, so no pair is scored by a
calibration that saw it or its accounts.

Metrics: `verification_metrics` (ROC AUC, c@1, F1, F0.5u, Brier complement, their mean "overall", Brier score,
EER, ECE) on the probabilities; ROC AUC and EER on the raw cosines too.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from authorid.evaluation.protocols.base import (
    DEFAULT_MIN_POSTS,
    ProtocolResult,
    account_characters,
    account_sizes,
    evaluation_set,
)
from authorid.evaluation.protocols.pairs import (
    co_activity,
    cross_fitted_calibrators,
    fold_pairs,
    person_folds,
)
from authorid.evaluation.protocols.scoring import Subject, calibration_of, scorer_for
from authorid.metrics.rates import rate_over_pairs, rate_with_interval, small_sample_warning
from authorid.metrics.verification import eer, reliability_curve, roc_auc, verification_metrics
from authorid.verification import Calibrator, cohort
from authorid.verification.decisions import decide


def verification_protocol(
    subject: Subject,
    posts: Any,
    *,
    accounts: int | None = None,
    min_posts: int = DEFAULT_MIN_POSTS,
    by: str | None = None,
    max_posts: int | None = None,
    hard_negatives: bool = False,
    seed: int = 0,
    progress: bool = False,
    cache: dict | None = None,
) -> ProtocolResult:
    """PAN-style verification of (pseudo-)account pairs; see the module docstring."""
    started = time.perf_counter()
    chosen = evaluation_set(
        posts, accounts=accounts, min_posts=min_posts, by=by, max_posts=max_posts, seed=seed
    )
    folds = person_folds(chosen.person_of, seed)
    near = co_activity(chosen) if hard_negatives else None
    pairs = fold_pairs(chosen.person_of, folds, seed=seed, hard_negatives=near)
    prepared = time.perf_counter()
    scorer, _ = scorer_for(subject, chosen, progress=progress, cache=cache)
    per_fold = [(np.asarray(scorer.pair_scores(a, b), dtype=np.float64), labels) for a, b, labels in pairs]
    embedded = time.perf_counter()

    own = calibration_of(subject)
    read = [c for c, _ in per_fold]  # what the calibration reads: cosines, or cohort-normalised scores
    if own is not None:
        # P moved to the share of same-person pairs among these pairs (a calibration is fitted at a forum's)
        share = float(np.mean(np.concatenate([y for _, y in per_fold])))
        own, read = _read_in_pool(own, scorer, pairs, read, share)
        posts, chars = account_sizes(chosen.posts), account_characters(chosen.posts)
        at = {"prior": share} if isinstance(own, Calibrator) else {}
        calibration = (
            "the model's own calibration"
            + (", its cohort fit" if own.reads_cohort else "")
            + (f", at the pairs' prior {share:.3f}" if at else "")
        )
        probabilities = [
            own.predict(
                c,
                sizes=(
                    [posts[x] for x in a],
                    [posts[x] for x in b],
                    [chars[x] for x in a],
                    [chars[x] for x in b],
                ),
                **at,
            )
            for c, (a, b, _) in zip(read, pairs, strict=True)
        ]
    else:
        calibration = "cross-fitted Platt: each fold of persons scored by a calibration fitted on the other"
        calibrators = cross_fitted_calibrators(per_fold)
        probabilities = [calibrators[f].predict(per_fold[f][0]) for f in (0, 1)]
    cos = np.concatenate([c for c, _ in per_fold])
    labels = np.concatenate([y for _, y in per_fold]).astype(np.int64)
    probs = np.clip(np.concatenate(probabilities).astype(np.float64), 0.0, 1.0)
    # each pair's two persons, in the order of `labels`: pairs that share a person widen the intervals
    person_a = [chosen.person_of[x] for a, _, _ in pairs for x in a]
    person_b = [chosen.person_of[x] for _, b, _ in pairs for x in b]
    metrics = {
        "verification": verification_metrics(probs, labels),
        "cosine": {"roc_auc": roc_auc(cos, labels), "eer": eer(cos, labels)},
        "operating_point": operating_point(probs, labels, own, persons=(person_a, person_b)),
    }
    settings = chosen.settings | {
        "calibration": calibration,
        "hard_negatives": bool(hard_negatives),
        "pairs_per_fold": [int(len(y)) for _, y in per_fold],
    }
    manifest = chosen.manifest | {
        "pairs": [[list(a), list(b), y.tolist()] for a, b, y in pairs],
        "folds": dict(sorted(folds.items())),
    }
    finished = time.perf_counter()
    plot_data = {
        "scores": {"same": cos[labels == 1], "different": cos[labels == 0]},
        "roc": (cos, labels),
        "reliability": reliability_curve(probs, labels),
    }
    timing = {
        "prepare": prepared - started,
        "embed": embedded - prepared,
        "score": finished - embedded,
        "total": finished - started,
    }
    return ProtocolResult("verification", metrics, settings, manifest, plot_data, timing)


def _read_in_pool(own, scorer, pairs, cosines: list[np.ndarray], prior: float):
    """(the calibration's fit for this pool, what it reads per fold): its cohort fit and each pair's cosine less
    its cohort shift among the evaluated accounts when it has one and they are enough (as `authorid score` reads
    it at `prior`, `authorid.verification.cohort`), else the calibration itself and the cosines."""
    vectors = getattr(scorer, "vectors", None)
    fit = own.for_pool(len(vectors)) if vectors is not None else own
    if not fit.reads_cohort:
        return own, cosines
    pool = cohort.of_vectors(
        vectors.vectors,
        skip=cohort.skip_weight(fit, prior, len(vectors)),
        reference=cohort.reference_rows(vectors.n_posts, cohort.reference_posts(fit)),
    )
    return fit, [
        cohort.normalised(c, pool.shift(vectors.positions(a), vectors.positions(b)))
        for c, (a, b, _) in zip(cosines, pairs, strict=True)
    ]


def operating_point(
    probabilities: np.ndarray, labels: np.ndarray, calibration: Any, persons: tuple | None = None
) -> dict:
    """FPR and TPR of the "same" decisions at the calibration's threshold and abstain band (0.5 and none for
    cross-fitted probabilities), each with its 95% Wilson interval and pair count, and a small-sample warning.
    `persons`: each pair's two persons, so that pairs sharing one widen the interval (`rate_over_pairs`)."""
    threshold = getattr(calibration, "threshold", 0.5) if calibration is not None else 0.5
    band = getattr(calibration, "abstain_band", None) if calibration is not None else None
    same = decide(probabilities, threshold, band) == "same"
    if persons is None:
        fpr = rate_with_interval(same[labels == 0].sum(), (labels == 0).sum())
        tpr = rate_with_interval(same[labels == 1].sum(), (labels == 1).sum())
    else:
        a, b = (np.asarray(p, dtype=object) for p in persons)
        fpr = rate_over_pairs(same[labels == 0], a[labels == 0], b[labels == 0])
        tpr = rate_over_pairs(same[labels == 1], a[labels == 1], b[labels == 1])
    return {
        "threshold": float(threshold),
        "fpr": fpr["rate"],
        "fpr_95_low": fpr["interval"][0] if fpr["n"] else None,
        "fpr_95_high": fpr["interval"][1] if fpr["n"] else None,
        "different_person_pairs": fpr["n"],
        "tpr": tpr["rate"],
        "tpr_95_low": tpr["interval"][0] if tpr["n"] else None,
        "tpr_95_high": tpr["interval"][1] if tpr["n"] else None,
        "same_person_pairs": tpr["n"],
        "different_person_pairs_worth": fpr.get("effective_n"),
        "warning": small_sample_warning(fpr, tpr),
    }
