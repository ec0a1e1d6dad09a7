"""What a protocol scores: a StyleModel's account vectors, or any scorer.

A *scorer* answers for (pseudo-)account ids of the evaluation set: ``pair_scores(a, b)`` (one score per
pair, higher = more alike) and, when it can rank, ``score_matrix(a, b)`` (``supports_ranking = True``).
`VectorScorer` is the cosine of account vectors (what authorid's models give); a peer (a char n-gram
baseline, an impostors method) or a fusion of two scorers is anything with the same methods. A protocol's
*subject* is either a StyleModel (embedded here, with its post vectors cached for every grouping the
protocol needs) or a function from the `EvaluationSet` to a scorer (fitted on what it is given).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from authorid.evaluation.protocols.base import EvaluationSet, PostEmbeddings, embeddings_for
from authorid.metrics.ranking import ranks_of_true
from authorid.vectors import AccountVectors

#: Queries ranked at once: bounds the (queries x candidates) float64 matrix.
RANK_CHUNK = 1024


@runtime_checkable
class Scorer(Protocol):
    supports_ranking: bool

    def pair_scores(self, a: Sequence[str], b: Sequence[str]) -> np.ndarray: ...


class VectorScorer:
    """Cosine of account vectors (what `authorid score` and every protocol use for a StyleModel)."""

    supports_ranking = True

    def __init__(self, vectors: AccountVectors):
        self.vectors = vectors

    def score_matrix(self, a: Sequence[str], b: Sequence[str]) -> np.ndarray:
        return self.vectors.rows(a).astype(np.float64) @ self.vectors.rows(b).astype(np.float64).T

    def pair_scores(self, a: Sequence[str], b: Sequence[str]) -> np.ndarray:
        return self.vectors.pair_cosines(a, b)


#: A StyleModel, or a function that builds a scorer for an evaluation set.
Subject = Any | Callable[[EvaluationSet], Scorer]


def is_model(subject: Subject) -> bool:
    """True for a StyleModel-like subject (it embeds posts itself)."""
    return hasattr(subject, "embed_groups") and hasattr(subject, "calibration")


def scorer_for(
    subject: Subject, chosen: EvaluationSet, *, progress: bool = False, cache: dict | None = None
) -> tuple[Scorer, PostEmbeddings | None]:
    """(the scorer of `subject` on `chosen`, the model's post embeddings or None for a plain scorer)."""
    if is_model(subject):
        embeddings = embeddings_for(subject, chosen, progress=progress, cache=cache)
        return VectorScorer(embeddings.accounts()), embeddings
    if callable(subject):
        return subject(chosen), None
    raise TypeError(
        f"a protocol scores a StyleModel or a function EvaluationSet -> scorer, not {type(subject).__name__}"
    )


def calibration_of(subject: Subject):
    """The subject's own calibration (a StyleModel's, or a scorer's `calibration` attribute), else None."""
    return getattr(subject, "calibration", None)


def linking_ranks(
    scorer: Scorer | AccountVectors, queries: Sequence[str], candidates: Sequence[str]
) -> np.ndarray:
    """1-based rank of candidates[i] among all candidates for queries[i] (the scorer's score_matrix, or the
    cosine of account vectors)."""
    if isinstance(scorer, AccountVectors):
        scorer = VectorScorer(scorer)
    ranks = []
    for start in range(0, len(queries), RANK_CHUNK):
        stop = min(start + RANK_CHUNK, len(queries))
        scores = np.asarray(
            scorer.score_matrix(list(queries[start:stop]), list(candidates)), dtype=np.float64
        )
        ranks.append(ranks_of_true(scores, np.arange(start, stop)))
    return np.concatenate(ranks) if ranks else np.zeros(0, dtype=np.int64)
