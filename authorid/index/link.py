"""Open-set account linking: each query account's top-k enrolled accounts, with `unknown` when none passes.

With a calibration, each candidate's cosine becomes P(same person) and passes when its decision is "same"
(probability above the calibration's threshold, outside its abstain band). Without one, the cosine itself
is the score and passes when it exceeds `threshold`; with neither, nothing is decided: the candidates are
ranked (decision "unscored") and no query is linked, since a raw cosine says nothing about P(same person). A
query's `link` is its best passing candidate, or "unknown" when none passes: the author may be nobody
enrolled.

Candidates are ranked by `score`: the cosine less half the candidate's neighbourhood density
(`authorid.index.hubness`), so an account close to everyone does not crowd every query's list; with
`hubness=False`, or fewer than `hubness.MIN_POOL` enrolled accounts, `score` is the cosine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from authorid.index import hubness as hub
from authorid.index.base import UNKNOWN_CHARS, VectorIndex, VectorIndexError
from authorid.vectors import AccountVectors

UNKNOWN = "unknown"
COLUMNS = ("query_account", "rank", "account_id", "score", "cosine", "probability", "decision", "link")


@dataclass
class Links:
    """One row per (query, rank); `link` repeats the query's answer on each of its rows."""

    rows: list[dict]
    calibrated: bool
    #: whether candidates were ranked with the hubness correction
    hubness: bool = False

    @property
    def answers(self) -> dict[str, str]:
        """Query account -> linked account or "unknown"."""
        return {row["query_account"]: row["link"] for row in self.rows}

    def n_unknown(self) -> int:
        return sum(1 for link in self.answers.values() if link == UNKNOWN)


def link(
    index: VectorIndex,
    queries: AccountVectors,
    *,
    k: int = 10,
    calibration=None,
    threshold: float | None = None,
    hubness: bool = True,
) -> Links:
    """Search `queries` in `index` and decide for each (see the module docstring).

    `threshold` overrides the calibration's threshold (on probabilities) or sets one on cosines.
    `hubness`: rank by the hubness-corrected score (when the index holds at least `hubness.MIN_POOL`
    accounts) rather than by the cosine.
    """
    if len(queries) == 0:
        raise VectorIndexError("no query accounts: the query corpus is empty")
    if len(index) == 0:
        raise VectorIndexError("the index holds no accounts")
    hubness = hubness and hub.applies(len(index))
    scores, ids = index.search(queries, max(k, hub.RERANK_DEPTH) if hubness else k)
    ranking = scores
    if hubness:
        scores, ids, ranking = _reranked(index, scores, ids, k)
    # a size-aware calibration reads both accounts' post and character counts
    sized = calibration is not None and getattr(calibration, "needs_sizes", False)
    query_chars = queries.n_chars if queries.n_chars is not None else np.full(len(queries), UNKNOWN_CHARS)
    rows = []
    for row, (query, query_scores, query_ids) in enumerate(
        zip(queries.account_ids, scores, ids, strict=True)
    ):
        found = np.array([i is not None for i in query_ids], dtype=bool)
        cosines = np.asarray(query_scores, dtype=np.float64)[found]
        ranked_by = np.asarray(ranking[row], dtype=np.float64)[found]
        candidates = [i for i in query_ids if i is not None]
        if calibration is not None:
            sizes = None
            if sized:
                enrolled = np.fromiter((index.positions[c] for c in candidates), dtype=np.int64)
                sizes = (
                    queries.n_posts[row],
                    index.n_posts[enrolled],
                    query_chars[row],
                    index.n_chars[enrolled],
                )
            probabilities = calibration.predict(cosines, sizes=sizes) if len(cosines) else np.zeros(0)
            if threshold is None:
                decisions = list(calibration.decide(probabilities))
            else:
                decisions = ["same" if p > threshold else "different" for p in probabilities]
        elif threshold is None:
            probabilities = [None] * len(cosines)
            decisions = ["unscored"] * len(cosines)
        else:
            probabilities = [None] * len(cosines)
            decisions = ["same" if c > threshold else "different" for c in cosines]
        best = next((c for c, d in zip(candidates, decisions, strict=True) if d == "same"), UNKNOWN)
        for rank, (candidate, score, cosine, p, decision) in enumerate(
            zip(candidates, ranked_by, cosines, probabilities, decisions, strict=True), start=1
        ):
            rows.append(
                {
                    "query_account": query,
                    "rank": rank,
                    "account_id": candidate,
                    "score": round(float(score), 6),
                    "cosine": round(float(cosine), 6),
                    "probability": None if p is None else round(float(p), 6),
                    "decision": decision,
                    "link": best,
                }
            )
    return Links(rows=rows, calibrated=calibration is not None, hubness=hubness)


def _reranked(index: VectorIndex, scores: np.ndarray, ids: np.ndarray, k: int):
    """(cosines, ids, corrected scores) of each query's top k candidates by the corrected score, read from
    its top `RERANK_DEPTH` by cosine; ties keep the cosine order."""
    found = ids != None  # noqa: E711 (an object array: faiss's missing neighbours are None)
    densities = hub.index_densities(index, ids[found].tolist())
    density = np.zeros(ids.shape)
    density[found] = [densities[i] for i in ids[found].tolist()]
    ranking = np.where(found, hub.corrected(scores, density), -np.inf)
    order = np.argsort(-ranking, axis=1, kind="stable")[:, :k]
    return tuple(np.take_along_axis(np.asarray(a), order, axis=1) for a in (scores, ids, ranking))
