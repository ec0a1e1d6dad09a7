"""Attribution: which known author wrote this post (closed set), and is it a known author at all (open set).

Split: the corpus' own ``split`` column when it has ``train`` and ``test`` values (Reuters C50), else a seeded
per-author stratified cut of posts (`authorid.data.splits.split(posts, "closed-set", fractions=(0.8, 0, 0.2))`).
Closed set: `authorid.attribution.attribute` itself ranks every training author for each test post
(`attribution_method`, "auto" by default: a linear SVM fitted on the training posts for up to 100 authors, else
the centroid, ranked by the model's calibrated P(same person) when it has a calibration; `chosen_method`), so
the figures are what `authorid attribute` gives on the same split.

Open set: a seeded `unknown_fraction` of the authors is not enrolled; their test posts should be rejected. Run as
`attribute --threshold` runs: the method chosen for an open set of the authors left known, fitted on their
training posts alone; a post's best score is what the threshold reads (its best author's probability, or the
cosine for an uncalibrated centroid). The metrics are the closed-set ones over the known authors' test posts,
plus the AUROC of telling known from unknown authors' posts by that best score (`open_set_auroc`).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from authorid.attribution.attribute import METHODS, attribute
from authorid.data.splits import has_corpus_split, split
from authorid.evaluation.protocols.base import (
    ProtocolError,
    ProtocolResult,
    column,
    sample_eligible_accounts,
    select_accounts,
)
from authorid.metrics.attribution import attribution_metrics, open_set_auroc, per_author_report

#: Posts per author kept for testing in the seeded stratified split (no validation part is needed).
TEST_FRACTION = 0.2
#: The authors held out as unknown in the open-set evaluation.
DEFAULT_UNKNOWN_FRACTION = 0.25


#: The threshold the open-set run is given: any will do, as the AUROC reads every text's best score, but it makes
#: `attribute` choose (and check) what it chooses for an open set.
OPEN_SET_PROBE = 0.5


def attribution_protocol(
    model: Any,
    posts: Any,
    *,
    accounts: int | None = None,
    min_posts: int = 2,
    unknown_fraction: float = DEFAULT_UNKNOWN_FRACTION,
    attribution_method: str = "auto",
    ks: tuple[int, ...] = (1, 5),
    seed: int = 0,
    progress: bool = False,
) -> ProtocolResult:
    """Closed-set and open-set attribution of posts to authors; see the module docstring."""
    if not 0 <= unknown_fraction < 1:
        raise ProtocolError(f"unknown_fraction must be in [0, 1), got {unknown_fraction}")
    if attribution_method not in METHODS:
        raise ProtocolError(
            f"unknown attribution method {attribution_method!r}; choose one of {', '.join(METHODS)}"
        )
    started = time.perf_counter()
    chosen, counts = sample_eligible_accounts(posts, accounts=accounts, min_posts=min_posts, seed=seed)
    subset = select_accounts(posts, chosen)
    if has_corpus_split(subset):
        parts = split(subset, "closed-set", seed=seed, use_corpus_split=True)
    else:
        parts = split(subset, "closed-set", seed=seed, fractions=(1 - TEST_FRACTION, 0.0, TEST_FRACTION))
    train, test = parts.train, parts.test
    if test is None or test.num_rows == 0:
        raise ProtocolError("the closed-set split left no test posts; lower --min-posts or use more data")
    train_ids = sorted(set(column(train, "account_id").to_pylist()))
    test_author = np.asarray(column(test, "account_id").to_pylist(), dtype=object)
    test = test.select(np.flatnonzero(np.isin(test_author, train_ids)))  # only authors with a profile
    test_author = np.asarray(column(test, "account_id").to_pylist(), dtype=object)

    prepared = time.perf_counter()

    # `authorid attribute` itself scores both sets (audit 14: a centroid ranked by cosine here and by the
    # calibrated, size-aware P there), every known author ranked
    closed_run = attribute(
        model, train, test, method=attribution_method, top_k=len(train_ids), progress=progress
    )
    method = closed_run.params["method"]
    closed_scores = closed_run.probability_matrix(train_ids)  # a column per training author, sorted
    truth = np.searchsorted(train_ids, test_author)
    closed = attribution_metrics(closed_scores, truth, labels=list(range(len(train_ids))), ks=ks)
    predicted = closed_scores.argmax(axis=1)
    per_author = per_author_report(
        np.asarray(train_ids, dtype=object)[truth],
        np.asarray(train_ids, dtype=object)[predicted],
        labels=train_ids,
    )
    metrics: dict[str, Any] = {"closed_set": closed, "per_author": per_author}

    rng = np.random.default_rng(seed)
    n_unknown = int(round(unknown_fraction * len(train_ids)))
    unknown = sorted(np.asarray(train_ids)[rng.permutation(len(train_ids))[:n_unknown]].tolist())
    open_method = None
    if n_unknown >= 1 and len(train_ids) - n_unknown >= 2:
        known = [a for a in train_ids if a not in set(unknown)]
        is_known = np.isin(test_author, known)
        known_truth = np.searchsorted(known, test_author[is_known])
        # as `attribute --threshold` runs: the method "auto" picks for an open set, fitted on the known alone;
        # a text's best author's probability (or cosine, uncalibrated centroid) tells known from unknown
        rows = np.flatnonzero(np.isin(column(train, "account_id").to_pylist(), known))
        open_run = attribute(
            model,
            train.select(rows),
            test,
            method=attribution_method,
            top_k=len(known),
            open_set_threshold=OPEN_SET_PROBE,
            progress=progress,
        )
        open_method = open_run.params["method"]
        best = open_run.open_set_scores()
        metrics["open_set"] = attribution_metrics(
            open_run.probability_matrix(known)[is_known], known_truth, labels=list(range(len(known))), ks=ks
        ) | {
            "auroc_known_vs_unknown": open_set_auroc(best[is_known], best[~is_known]),
            "n_unknown_authors": n_unknown,
            "n_unknown_texts": int((~is_known).sum()),
        }
    finished = time.perf_counter()
    settings = {
        "accounts": len(chosen),
        "accounts_requested": accounts,
        "min_posts": int(min_posts),
        "seed": int(seed),
        **counts,
        "split": "corpus split column" if has_corpus_split(subset) else "seeded stratified per author",
        "test_fraction": None if has_corpus_split(subset) else TEST_FRACTION,
        "method": method,
        "method_asked": attribution_method,
        "open_set_method": open_method,
        "unknown_fraction": float(unknown_fraction),
        "ks": [int(k) for k in ks],
        "train_posts": train.num_rows,
        "test_posts": test.num_rows,
    }
    manifest = {
        "split": {k: v for k, v in parts.manifest.to_dict().items() if k != "assignment"},
        "train": sorted(column(train, "post_id").to_pylist()),
        "test": sorted(column(test, "post_id").to_pylist()),
        "unknown_authors": unknown,
    }
    plot_data = {"truth": truth, "predicted": predicted, "authors": train_ids}
    timing = {
        "prepare": prepared - started,
        "embed_and_score": finished - prepared,
        "total": finished - started,
    }
    return ProtocolResult("attribution", metrics, settings, manifest, plot_data, timing)
