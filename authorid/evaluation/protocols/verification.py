"""Verification: same person or not, for balanced pairs of (pseudo-)accounts, scored as PAN scores it.

Pairs: `authorid.verification.make_pairs` over the evaluation set (every same-person pair, as many
different-person pairs; with `hard_negatives`, different persons active in the same threads, or forums, first).
Probabilities: the model's own calibration when it has one. Otherwise cross-fitting: the persons are cut at
random (seeded) into two folds, pairs are made within each fold, and each fold's pairs are scored by a Platt
calibration (`authorid.verification.Calibrator`) fitted on the other fold's pairs, so no pair is scored by a
calibration that saw it or its accounts.

Metrics: `verification_metrics` (ROC AUC, c@1, F1, F0.5u, Brier complement, their mean "overall", Brier score,
EER, ECE) on the probabilities; ROC AUC and EER on the raw cosines too.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from authorid.encoders import AccountVectors
from authorid.evaluation.metrics_verification import eer, reliability_curve, roc_auc, verification_metrics
from authorid.evaluation.protocols.base import (
    DEFAULT_MIN_POSTS,
    EvaluationSet,
    ProtocolError,
    ProtocolResult,
    _column,
    embeddings_for,
    evaluation_set,
)


def person_folds(person_of: Mapping[str, str], seed: int) -> dict[str, int]:
    """Person -> fold 0 or 1: a seeded permutation of the sorted persons, cut in half."""
    persons = sorted(set(person_of.values()))
    order = np.random.default_rng([seed, 1]).permutation(len(persons))
    return {persons[i]: int(rank >= (len(persons) + 1) // 2) for rank, i in enumerate(order)}


def co_activity(chosen: EvaluationSet) -> dict[str, set[str]]:
    """Account -> accounts posting in the same threads (or forums when there are no threads)."""
    from authorid.verification import co_active_accounts

    column = next((c for c in ("thread_id", "forum") if c in chosen.posts.column_names), None)
    if column is None:
        raise ProtocolError("hard negatives need a thread_id or forum column; the corpus has neither")
    accounts = _column(chosen.posts, "account_id").to_pylist()
    return co_active_accounts(accounts, _column(chosen.posts, column).to_pylist())


def fold_pairs(
    person_of: Mapping[str, str],
    folds: Mapping[str, int],
    *,
    seed: int,
    hard_negatives: Mapping[str, set[str]] | None = None,
) -> list[tuple[list[str], list[str], np.ndarray]]:
    """Balanced pairs within each fold of persons: [(a ids, b ids, labels) of fold 0, ... of fold 1]."""
    from authorid.verification import make_pairs

    out = []
    for fold in (0, 1):
        members = {a: p for a, p in person_of.items() if folds[p] == fold}
        near = None
        if hard_negatives is not None:
            near = {a: {b for b in hard_negatives.get(a, set()) if b in members} for a in members}
        try:
            out.append(make_pairs(members, seed=seed + fold, hard_negatives=near))
        except ValueError as err:
            raise ProtocolError(f"too few accounts for verification pairs in fold {fold}: {err}") from err
    return out


def cosines(vectors: AccountVectors, a: list[str], b: list[str]) -> np.ndarray:
    va = vectors.vectors[[vectors.index_of(x) for x in a]]
    vb = vectors.vectors[[vectors.index_of(x) for x in b]]
    return np.sum(va * vb, axis=1).astype(np.float64)


def cross_fitted_calibrators(per_fold: list[tuple[np.ndarray, np.ndarray]], method: str = "platt") -> list:
    """Calibrator for fold f, fitted on the (cosines, labels) of the other fold."""
    from authorid.verification import Calibrator

    return [Calibrator(method=method).fit(*per_fold[1 - fold]) for fold in (0, 1)]


def verification_protocol(
    model: Any,
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
    vectors = embeddings_for(model, chosen, progress=progress, cache=cache).accounts()
    per_fold = [(cosines(vectors, a, b), labels) for a, b, labels in pairs]
    embedded = time.perf_counter()

    if model.calibration is not None:
        calibration = "the model's own calibration"
        probabilities = [model.calibration.predict(c) for c, _ in per_fold]
    else:
        calibration = "cross-fitted Platt: each fold of persons scored by a calibration fitted on the other"
        calibrators = cross_fitted_calibrators(per_fold)
        probabilities = [calibrators[f].predict(per_fold[f][0]) for f in (0, 1)]
    cos = np.concatenate([c for c, _ in per_fold])
    labels = np.concatenate([y for _, y in per_fold]).astype(np.int64)
    probs = np.clip(np.concatenate(probabilities).astype(np.float64), 0.0, 1.0)
    metrics = {
        "verification": verification_metrics(probs, labels),
        "cosine": {"roc_auc": roc_auc(cos, labels), "eer": eer(cos, labels)},
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
