"""Open-set account linking: each query account's top-k enrolled accounts, with `unknown` when none passes.

With a calibration, each candidate's cosine becomes P(same person) and passes when its decision is "same"
(probability above the calibration's threshold, outside its abstain band). Without one, the cosine itself
is the score and passes when it exceeds `threshold`; with neither, nothing is decided: the candidates are
ranked (decision "unscored") and no query is linked, since a raw cosine says nothing about P(same person). A
query's `link` is its best passing candidate, or "unknown" when none passes: the author may be nobody
enrolled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from authorid.index.base import UNKNOWN_CHARS, VectorIndex, VectorIndexError
from authorid.vectors import AccountVectors

UNKNOWN = "unknown"
COLUMNS = ("query_account", "rank", "account_id", "cosine", "probability", "decision", "link")


@dataclass
class Links:
    """One row per (query, rank); `link` repeats the query's answer on each of its rows."""

    rows: list[dict]
    calibrated: bool

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
) -> Links:
    """Search `queries` in `index` and decide for each (see the module docstring).

    `threshold` overrides the calibration's threshold (on probabilities) or sets one on cosines.
    """
    if len(queries) == 0:
        raise VectorIndexError("no query accounts: the query corpus is empty")
    if len(index) == 0:
        raise VectorIndexError("the index holds no accounts")
    scores, ids = index.search(queries, k)
    # a size-aware calibration reads both accounts' post and character counts
    sized = calibration is not None and getattr(calibration, "needs_sizes", False)
    query_chars = queries.n_chars if queries.n_chars is not None else np.full(len(queries), UNKNOWN_CHARS)
    rows = []
    for row, (query, query_scores, query_ids) in enumerate(
        zip(queries.account_ids, scores, ids, strict=True)
    ):
        found = np.array([i is not None for i in query_ids], dtype=bool)
        cosines = np.asarray(query_scores, dtype=np.float64)[found]
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
        for rank, (candidate, cosine, p, decision) in enumerate(
            zip(candidates, cosines, probabilities, decisions, strict=True), start=1
        ):
            rows.append(
                {
                    "query_account": query,
                    "rank": rank,
                    "account_id": candidate,
                    "cosine": round(float(cosine), 6),
                    "probability": None if p is None else round(float(p), 6),
                    "decision": decision,
                    "link": best,
                }
            )
    return Links(rows=rows, calibrated=calibration is not None)
