"""Clustering (accounts -> persons, number of persons unknown), scored against the known persons.

Ground truth: `person_id` when the corpus knows persons owning several accounts, else the sybil cut (each
account's two halves are one person). `authorid.clustering.cluster_accounts` groups the (pseudo-)accounts;
its edges are calibrated probabilities: the model's own calibration, or else (cross-fitting, as in the
verification protocol) each fold of persons is clustered on its own with a Platt calibration fitted on the
other fold's pairs, and the two folds' clusters are put side by side (no cluster spans the folds, which makes
the task a little easier than one pool of all accounts: say so when comparing with other work).

Metrics: `clustering_metrics` (B-cubed and pairwise P/R/F1, ARI, NMI, V-measure, true vs predicted persons).
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

import numpy as np

from authorid.clustering import DEFAULT_CONFIDENCE, DEFAULT_MIN_PRECISION, Cluster, cluster_accounts
from authorid.clustering.report import expected_precision
from authorid.evaluation.protocols.base import (
    DEFAULT_MIN_POSTS,
    ProtocolError,
    ProtocolResult,
    evaluation_set,
)
from authorid.evaluation.protocols.pairs import cross_fitted_calibrators, fold_pairs, person_folds
from authorid.evaluation.protocols.scoring import Subject, VectorScorer, calibration_of, scorer_for
from authorid.metrics.clustering import clustering_metrics
from authorid.verification import cohort
from authorid.verification.calibrator import forum_prior


def clustering_protocol(
    subject: Subject,
    posts: Any,
    *,
    accounts: int | None = None,
    min_posts: int = DEFAULT_MIN_POSTS,
    by: str | None = None,
    max_posts: int | None = None,
    method: str = "average",
    k: int = 10,
    threshold: float = 0.5,
    min_precision: float | None = DEFAULT_MIN_PRECISION,
    confidence: float = DEFAULT_CONFIDENCE,
    prior: float | None = None,
    seed: int = 0,
    progress: bool = False,
    cache: dict | None = None,
) -> ProtocolResult:
    """Cluster the evaluation set's (pseudo-)accounts into persons and score the partition. P(same person) is
    taken at `prior` (None: 1 / (pseudo-accounts - 1), as `authorid cluster` does), and the threshold raised
    from `threshold` until the clusters' pairwise precision reaches `min_precision` with probability
    `confidence` (`cluster_accounts`; None: not raised), as `authorid cluster` does by default.

    `subject`: a StyleModel, or a function returning a `VectorScorer` (clustering needs account vectors).
    """
    started = time.perf_counter()
    chosen = evaluation_set(
        posts, accounts=accounts, min_posts=min_posts, by=by, max_posts=max_posts, seed=seed
    )
    scorer, _ = scorer_for(subject, chosen, progress=progress, cache=cache)
    if not isinstance(scorer, VectorScorer):
        raise ProtocolError("the clustering protocol needs account vectors (a StyleModel or a VectorScorer)")
    vectors = scorer.vectors
    embedded = time.perf_counter()
    folds = person_folds(chosen.person_of, seed)
    own = calibration_of(subject)
    prior = prior if prior is not None else forum_prior(len(chosen.person_of))
    normalised = False
    if own is not None:
        own = own.for_pool(len(chosen.person_of))  # its cohort fit, when it has one (as `authorid cluster`)
        normalised = own.reads_cohort
        calibration = f"the model's own calibration at prior {prior:.3g}" + (
            ", cohort-normalised" if normalised else ""
        )
        groups = [(sorted(chosen.person_of), partial(own.predict, prior=prior))]
    else:
        calibration = (
            "cross-fitted Platt: each fold of persons clustered with a calibration fitted on the other"
        )
        pairs = fold_pairs(chosen.person_of, folds, seed=seed)
        per_fold = [(vectors.pair_cosines(a, b), labels) for a, b, labels in pairs]
        calibrators = cross_fitted_calibrators(per_fold)
        groups = [
            (
                sorted(a for a, p in chosen.person_of.items() if folds[p] == fold),
                partial(calibrators[fold].predict, prior=prior),
            )
            for fold in (0, 1)
        ]
    ids: list[str] = []
    labels: list[np.ndarray] = []
    used: list[dict] = []  # each group's clustering parameters (the threshold min_precision chose)
    chances: list[float | None] = []
    formed: list[Cluster] = []  # every group's clusters, for the expected precision of them all
    offset = 0
    for members, probability in groups:
        report = cluster_accounts(
            vectors.subset(members),
            method=method,
            k=max(1, min(k, len(members) - 1)),
            threshold=threshold,
            probability=probability,
            seed=seed,
            cohort_normalised=normalised,
            skip=cohort.skip_weight(own, prior, len(chosen.person_of)) if normalised else 0.0,
            reference_posts=cohort.reference_posts(own) if normalised else None,
            min_precision=min_precision,
            confidence=confidence,
        )
        used.append(report.params)
        chances.append(report.stats.get("chance_of_min_precision"))
        formed += report.clusters
        ids += report.account_ids
        labels.append(np.asarray(report.labels) + offset)
        offset += int(np.max(report.labels)) + 1
    predicted = np.concatenate(labels)
    truth = np.array([chosen.person_of[a] for a in ids], dtype=object)
    metrics = {"clustering": clustering_metrics(truth, predicted)}
    true_sizes = np.unique(truth, return_counts=True)[1]
    metrics["clustering"] |= {
        "largest_cluster": int(np.bincount(predicted).max()),
        "largest_true_group": int(true_sizes.max()),
    }
    finished = time.perf_counter()
    settings = chosen.settings | {
        "method": method,
        "k": int(k),
        "threshold_from": float(threshold),  # raised from it to min_precision: thresholds_used
        "min_precision": min_precision,
        "confidence": confidence if min_precision is not None else None,
        "thresholds_used": [params["threshold"] for params in used],  # one per group (fold) clustered
        "expected_pairwise_precision": expected_precision(formed),
        # per group: the chance its clusters' pairs reach min_precision, P read as calibrated
        "chances_of_min_precision": chances,
        "thresholds_tried": [params.get("thresholds_tried") for params in used],
        "prior": prior,
        "calibration": calibration,
    }
    manifest = chosen.manifest | {"folds": dict(sorted(folds.items()))}
    plot_data = {
        "cluster_sizes": np.bincount(predicted),
        "true_sizes": true_sizes,
    }
    timing = {"embed": embedded - started, "cluster": finished - embedded, "total": finished - started}
    return ProtocolResult("clustering", metrics, settings, manifest, plot_data, timing)
