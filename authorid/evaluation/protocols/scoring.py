"""What a protocol scores: a StyleModel's account vectors (its posts embedded once, `PostEmbeddings`), or any
scorer.

A *scorer* answers for (pseudo-)account ids of the evaluation set: ``pair_scores(a, b)`` (one score per
pair, higher = more alike) and, when it can rank, ``score_matrix(a, b)`` (``supports_ranking = True``).
`VectorScorer` is the cosine of account vectors (what authorid's models give); a peer (a char n-gram
baseline, an impostors method) or a fusion of two scorers is anything with the same methods. A protocol's
*subject* is either a StyleModel (embedded here, with its post vectors cached for every grouping the
protocol needs) or a function from the `EvaluationSet` to a scorer (fitted on what it is given).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from authorid.data.arrow import read_columns
from authorid.index import hubness as hub
from authorid.metrics.ranking import ranks_of_true
from authorid.vectors import AccountVectors, characters_per_group

if TYPE_CHECKING:
    import datasets

    from authorid.evaluation.protocols.base import EvaluationSet

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
Subject = Any | Callable[["EvaluationSet"], Scorer]


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
    scorer: Scorer | AccountVectors,
    queries: Sequence[str],
    candidates: Sequence[str],
    *,
    hubness: bool = False,
) -> np.ndarray:
    """1-based rank of candidates[i] among all candidates for queries[i] (the scorer's score_matrix, or the
    cosine of account vectors). `hubness`: ranked by the score less half each candidate's density among the
    other candidates (`authorid.index.hubness`, what `authorid link` ranks by), the pool permitting."""
    if isinstance(scorer, AccountVectors):
        scorer = VectorScorer(scorer)
    candidates = list(candidates)
    density = 0.0
    if hubness and hub.applies(len(candidates)):
        density = hub.pool_densities(
            lambda start, stop: scorer.score_matrix(candidates[start:stop], candidates),
            len(candidates),
            chunk=RANK_CHUNK,
        )
    ranks = []
    for start in range(0, len(queries), RANK_CHUNK):
        stop = min(start + RANK_CHUNK, len(queries))
        scores = np.asarray(scorer.score_matrix(list(queries[start:stop]), candidates), dtype=np.float64)
        ranks.append(ranks_of_true(hub.corrected(scores, density), np.arange(start, stop)))
    return np.concatenate(ranks) if ranks else np.zeros(0, dtype=np.int64)


class PostEmbeddings:
    """The posts of one Dataset embedded once, pooled into any grouping of its rows (halves, episodes).

    Neural models embed every post once and pool with the model's own pooling (normalised mean, or its
    attention pooling); a count-based model builds each group's profile from its summed n-gram counts. Both
    go through `StyleModel.embed_groups`, the one pooling path `embed_accounts` uses too.
    """

    def __init__(self, model: Any, posts: datasets.Dataset, *, progress: bool = False):
        self.model, self.posts, self.progress = model, posts, progress
        self._vectors: np.ndarray | None = None
        self._texts: list[str] | None = None
        self._accounts: AccountVectors | None = None

    @property
    def texts(self) -> list[str]:
        if self._texts is None:
            self._texts = list(self.posts["text"])
        return self._texts

    def post_vectors(self) -> np.ndarray:
        if self._vectors is None:
            self._vectors = self.model.embed_posts(self.texts, progress=self.progress)
        return self._vectors

    def pool(self, names: Sequence[str], rows: Sequence[np.ndarray]) -> AccountVectors:
        """One vector per group: `rows[g]` are the post rows of group `names[g]`, pooled as the model pools
        an account (`StyleModel.embed_groups`), reusing the post vectors computed once."""
        names = list(names)
        n_posts = np.array([len(r) for r in rows], dtype=np.int64)
        flat = np.concatenate([np.asarray(r, dtype=np.int64) for r in rows]) if rows else np.zeros(0, int)
        groups = np.repeat(np.arange(len(names)), n_posts)
        texts = self.texts
        post_vectors = None if self.model.pools_counts else self.post_vectors()[flat]
        group_texts = [texts[i] for i in flat]
        vectors = self.model.embed_groups(group_texts, groups, len(names), post_vectors=post_vectors)
        return AccountVectors(names, vectors, n_posts, characters_per_group(group_texts, groups, len(names)))

    def accounts(self) -> AccountVectors:
        """One vector per account of the posts, accounts sorted by id (computed once)."""
        if self._accounts is not None:
            return self._accounts
        ids = np.asarray(read_columns(self.posts, ["account_id"]).column(0).to_pylist(), dtype=object)
        names, codes = np.unique(ids, return_inverse=True)
        order = np.argsort(codes, kind="stable")
        rows = np.split(order, np.cumsum(np.bincount(codes, minlength=len(names)))[:-1])
        self._accounts = self.pool(names.tolist(), rows)
        return self._accounts


def embeddings_for(
    model: Any, chosen: EvaluationSet, *, progress: bool = False, cache: dict | None = None
) -> PostEmbeddings:
    """The PostEmbeddings of an evaluation set, shared through `cache` by protocols that evaluate the same
    posts with the same model (`--protocol all` embeds the sybil cut once for linking, verification and
    clustering)."""
    if cache is None:
        return PostEmbeddings(model, chosen.posts, progress=progress)
    key = (id(model), json.dumps(chosen.manifest["posts"], sort_keys=True))
    if key not in cache:
        cache[key] = PostEmbeddings(model, chosen.posts, progress=progress)
    return cache[key]
