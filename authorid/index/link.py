"""Open-set account linking: each query account's top-k enrolled accounts, `unknown` when the first does not pass.

With a calibration, each candidate's cosine becomes P(same person) and passes when its decision is "same"
(probability above the calibration's threshold, outside its abstain band). Without one, the cosine itself
is the score and passes when it exceeds `threshold`; with neither, nothing is decided: the candidates are
ranked (decision "unscored") and no query is linked, since a raw cosine says nothing about P(same person). A
query's `link` is its first-ranked candidate when that one passes, or "unknown": the author may be nobody
enrolled. A passing candidate ranked lower is not linked (the ranking put it down as a hub), so the answer does
not depend on `k`.

Candidates are ranked by `score`: the cosine less half the candidate's neighbourhood density
(`authorid.index.hubness`), so an account close to everyone does not crowd every query's list; with
`hubness=False`, or fewer than `hubness.MIN_POOL` enrolled accounts, `score` is the cosine.

P(same person) is taken at `prior`, by default one account of the query's person among the enrolled accounts
(`default_prior`).

A calibration with a cohort fit (`authorid.verification.cohort`) is read through that fit when the index holds
at least `cohort.MIN_POOL` accounts: each pair's `cohort_score` is its cosine less the excess densities of the
query (its K nearest enrolled accounts other than itself, read from its own search) and of the candidate over
the index's median density (`hubness.median_density`, from a seeded sample of enrolled accounts). For a
twin-free fit each density leaves out the nearest in proportion to the query's expected accounts among the
enrolled, prior x enrolled (`cohort.skip_weight`: 1 at the default prior).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from authorid.index import hubness as hub
from authorid.index.base import UNKNOWN_CHARS, VectorIndex, VectorIndexError
from authorid.vectors import AccountVectors
from authorid.verification import cohort

UNKNOWN = "unknown"
COLUMNS = (
    "query_account",
    "rank",
    "account_id",
    "score",
    "cosine",
    "cohort_score",
    "probability",
    "decision",
    "sizes_calibrated",
    "link",
)


@dataclass
class Links:
    """One row per (query, rank); `link` repeats the query's answer on each of its rows."""

    rows: list[dict]
    calibrated: bool
    #: whether candidates were ranked with the hubness correction
    hubness: bool = False
    #: whether P(same person) was read from the calibration's cohort fit (column cohort_score)
    cohort: bool = False
    #: the share of same-person pairs every P assumed (None without a calibration)
    prior: float | None = None
    #: the accounts enrolled in the index linked against
    enrolled: int = 0
    #: why candidates were ranked by cosine though the correction was asked for (None: it was not)
    hubness_reason: str | None = None
    #: why a calibrated P was read from the cosine fit rather than the cohort fit (None: it was not)
    cosine_fit_reason: str | None = None
    #: queries whose best candidate pair has an account outside the sizes the calibration was fitted on
    outside_sizes: int = 0
    #: those sizes, as a summary line says them (None without a calibration that records them)
    sizes_seen: str | None = None
    #: where the calibration came from, as `authorid link` says it (set by the workflow; None: none read)
    calibration_from: str | None = None
    #: queries whose first two candidates have the same score (`ties_by_id` put them in id order)
    tied_best: int = 0

    @property
    def answers(self) -> dict[str, str]:
        """Query account -> linked account or "unknown"."""
        return {row["query_account"]: row["link"] for row in self.rows}

    def n_unknown(self) -> int:
        return sum(1 for link in self.answers.values() if link == UNKNOWN)


def check_probability_threshold(threshold: float) -> None:
    """With a calibration `--threshold` is a probability: outside [0, 1] it would pass every candidate (or
    none) while the output still says 'same'."""
    if not 0 <= threshold <= 1:
        raise ValueError(
            f"--threshold is a probability with a calibration and must lie in [0, 1], got {threshold}"
        )


def link(
    index: VectorIndex,
    queries: AccountVectors,
    *,
    k: int = 10,
    calibration=None,
    threshold: float | None = None,
    hubness: bool = True,
    prior: float | None = None,
) -> Links:
    """Search `queries` in `index` and decide for each (see the module docstring).

    `threshold` overrides the calibration's threshold (on probabilities) or sets one on cosines.
    `hubness`: rank by the hubness-corrected score (when the index holds at least `hubness.MIN_POOL`
    accounts) rather than by the cosine. `prior`: the share of same-person pairs among a query's pairs with the
    enrolled accounts, which every P is moved to (`Calibrator.predict`); None: 1 / (enrolled accounts), at most
    one account of the query's person among them (`default_prior`).
    """
    if calibration is not None and threshold is not None:
        check_probability_threshold(threshold)
    if len(queries) == 0:
        raise VectorIndexError("no query accounts: the query corpus is empty")
    if len(index) == 0:
        raise VectorIndexError("the index holds no accounts")
    hubness_reason = None
    if hubness and not hub.applies(len(index)):
        hubness, hubness_reason = (
            False,
            f"candidates ranked by cosine: {len(index):,} enrolled accounts are too few for the hubness correction"
            f" (it needs {hub.MIN_POOL})",
        )
    reason = None
    if calibration is not None:
        # its cohort fit, when it has one and the index is large enough for a cohort
        reason = calibration.cosine_fit_reason(len(index))
        calibration = calibration.for_pool(len(index))
        prior = default_prior(len(index)) if prior is None else prior
    normalised = calibration is not None and calibration.reads_cohort
    # w: a query expects prior x (enrolled accounts) of its person's accounts in the index (`cohort.skip_weight`)
    skip = cohort.skip_weight(calibration, prior, len(index) + 1) if normalised else 0.0
    # one candidate more than listed: a tie at the k-th place is seen and broken by id (`ties_by_id`)
    listed = k + 1
    depth = max(listed, hub.RERANK_DEPTH) if hubness else listed
    scores, ids = index.search(queries, max(depth, hub.K + 1 + (1 if skip else 0)) if normalised else depth)
    found = ids[ids != None].tolist()  # noqa: E711
    if hubness and skip:  # one search of the candidates' neighbours for both kinds of density
        hub.find_densities(index, np.fromiter((index.positions[c] for c in set(found)), dtype=np.int64))
    densities = hub.index_densities(index, found) if hubness else {}  # ranks the candidates
    if normalised:  # each account's density among the enrolled accounts (a query's from its own search)
        cohort_densities = hub.index_densities(index, found, skip=skip)
        median = hub.median_density(index, skip=skip, least=cohort.reference_posts(calibration))
        query_excess = (
            np.nan_to_num(
                hub.mixed_searched_densities(queries.account_ids, scores, ids, skip=skip, queries=True),
                nan=median,
            )
            - median
        )
    if hubness:
        scores, ids, ranking = _reranked(scores, ids, listed, densities)
    else:
        scores, ids = scores[:, :listed], ids[:, :listed]
        ranking = scores
    # a size-aware calibration reads both accounts' post and character counts
    sized = calibration is not None and getattr(calibration, "needs_sizes", False)
    query_chars = queries.n_chars if queries.n_chars is not None else np.full(len(queries), UNKNOWN_CHARS)
    if calibration is not None:
        # a pair's P is extrapolated unless both accounts are of sizes the calibration was fitted on
        query_inside = calibration.within_sizes(queries.n_posts, query_chars)
    rows = []
    tied_best = 0
    for row, (query, query_scores, query_ids) in enumerate(
        zip(queries.account_ids, scores, ids, strict=True)
    ):
        found = np.array([i is not None for i in query_ids], dtype=bool)
        cosines = np.asarray(query_scores, dtype=np.float64)[found]
        ranked_by = np.asarray(ranking[row], dtype=np.float64)[found]
        candidates = [i for i in query_ids if i is not None]
        order = ties_by_id(ranked_by, candidates)[:k]  # the extra candidate only settled a tie at the cut
        tied_best += len(candidates) > 1 and round(ranked_by[0], TIE_DECIMALS) == round(
            ranked_by[1], TIE_DECIMALS
        )
        cosines, ranked_by, candidates = cosines[order], ranked_by[order], [candidates[i] for i in order]
        if calibration is not None:
            enrolled = np.fromiter((index.positions[c] for c in candidates), dtype=np.int64)
            sizes = None
            if sized:
                sizes = (
                    queries.n_posts[row],
                    index.n_posts[enrolled],
                    query_chars[row],
                    index.n_chars[enrolled],
                )
            if normalised:
                excess = np.array([cohort_densities[c] for c in candidates]) - median
                read = cohort.normalised(cosines, (query_excess[row] + excess) / 2)
            else:
                read = cosines
            probabilities = (
                calibration.predict(read, sizes=sizes, prior=prior) if len(cosines) else np.zeros(0)
            )
            if threshold is None:
                decisions = list(calibration.decide(probabilities))
            else:
                decisions = ["same" if p > threshold else "different" for p in probabilities]
            inside = query_inside[row] & calibration.within_sizes(
                index.n_posts[enrolled], index.n_chars[enrolled]
            )
            calibrated_sizes = ["yes" if i else "no" for i in inside]
        elif threshold is None:
            probabilities = [None] * len(cosines)
            decisions = ["unscored"] * len(cosines)
            calibrated_sizes = [""] * len(cosines)
        else:
            probabilities = [None] * len(cosines)
            decisions = ["same" if c > threshold else "different" for c in cosines]
            calibrated_sizes = [""] * len(cosines)
        # the first-ranked candidate or nobody: a candidate ranked lower is a hub the ranking put down (audit 12:
        # those links were all wrong), and the answer must not depend on how many candidates are listed (-k)
        best = candidates[0] if decisions and decisions[0] == "same" else UNKNOWN
        normalised_scores = read if normalised else [None] * len(cosines)
        for rank, (candidate, score, cosine, n, p, decision, sized_ok) in enumerate(
            zip(
                candidates,
                ranked_by,
                cosines,
                normalised_scores,
                probabilities,
                decisions,
                calibrated_sizes,
                strict=True,
            ),
            start=1,
        ):
            rows.append(
                {
                    "query_account": query,
                    "rank": rank,
                    "account_id": candidate,
                    "score": round(float(score), 6),
                    "cosine": round(float(cosine), 6),
                    "cohort_score": None if n is None else round(float(n), 6),
                    "probability": None if p is None else round(float(p), 6),
                    "decision": decision,
                    "sizes_calibrated": sized_ok,
                    "link": best,
                }
            )
    calibrated = calibration is not None
    return Links(
        rows=rows,
        calibrated=calibrated,
        hubness=hubness,
        cohort=normalised,
        prior=prior if calibrated else None,
        enrolled=len(index),
        hubness_reason=hubness_reason,
        cosine_fit_reason=reason,
        outside_sizes=sum(1 for r in rows if r["rank"] == 1 and r["sizes_calibrated"] == "no"),
        sizes_seen=calibration.sizes_seen() if calibrated and "account_posts" in calibration.info else None,
        tied_best=tied_best,
    )


#: Scores equal to this many decimals (those the links CSV shows) are a tie.
TIE_DECIMALS = 6


def ties_by_id(scores: np.ndarray, candidates: list[str]) -> list[int]:
    """Positions of `candidates` best score first, equal scores (to TIE_DECIMALS) by account id. The search
    breaks a tie by enrolment order, so an account enrolled twice under two names (a sock puppet pasting its
    posts into both) was linked to whichever the file listed first (audit 15); by id, the same accounts give
    the same link whatever the order."""
    rounded = np.round(np.asarray(scores, dtype=np.float64), TIE_DECIMALS)
    return sorted(range(len(candidates)), key=lambda i: (-rounded[i], candidates[i]))


def default_prior(enrolled: int) -> float:
    """P(same person)'s prior when one account is linked against `enrolled` accounts: at most one of them is
    its person's. At the calibration's own prior (about 1/31) `link` linked 324 of 500 held-out Reddit halves
    against the 500 other halves, 56% of them rightly, at a mean P of 0.80; at 1/500, 94 at 83%, mean P 0.84
    (`style`, its cohort fit; BENCHMARKS.md, `scripts/bench_cohort.py`)."""
    return 1.0 / max(int(enrolled), 2)


def _reranked(scores: np.ndarray, ids: np.ndarray, k: int, densities: dict[str, float]):
    """(cosines, ids, corrected scores) of each query's top k candidates by the corrected score, read from
    its top `RERANK_DEPTH` by cosine; ties keep the cosine order. `densities`: each candidate's in the index."""
    found = ids != None  # noqa: E711 (an object array: faiss's missing neighbours are None)
    density = np.zeros(ids.shape)
    density[found] = [densities[i] for i in ids[found].tolist()]
    ranking = np.where(found, hub.corrected(scores, density), -np.inf)
    order = np.argsort(-ranking, axis=1, kind="stable")[:, :k]
    return tuple(np.take_along_axis(np.asarray(a), order, axis=1) for a in (scores, ids, ranking))
