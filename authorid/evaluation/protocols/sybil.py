"""Sybil / account linking: find the other half of each account, and leave-one-out episode retrieval.

Linking (Khan et al. 2021, NAACL; the SYSML setting): every evaluated account is cut into pseudo-accounts
``acc#0`` (earlier posts when cut by time) and ``acc#1``; each ``#0`` half is a query ranked by cosine
similarity against all ``#1`` halves, so the candidate pool is the number of accounts.

Episode retrieval (Rivera-Soto et al. 2021, LUAR): every account's posts are cut into episodes of N posts
(`authorid.data.episodes.episodes_for_evaluation`, seeded); each episode queries every other episode, and the
relevant ones are those of the same person. Pool = episodes - 1.

Linking is ranked twice: by cosine (`linking`), and as `authorid link` ranks, by the cosine less half each
candidate's density among the other candidates (`linking_hubness`, `authorid.index.hubness`; pools of at least
`hubness.MIN_POOL` candidates).

Ranks are 1-based with pessimistic ties (`authorid.metrics.ranking`); R@k counts rank <= k.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from authorid.data.episodes import episodes_for_evaluation
from authorid.evaluation.protocols.base import (
    DEFAULT_MIN_POSTS,
    ProtocolError,
    ProtocolResult,
    evaluation_set,
)
from authorid.evaluation.protocols.scoring import (
    RANK_CHUNK,
    Scorer,
    Subject,
    VectorScorer,
    linking_ranks,
    scorer_for,
)
from authorid.index import hubness as hub
from authorid.metrics.ranking import mean_reciprocal_rank, ranks_of_true, recall_at_k
from authorid.vectors import AccountVectors

logger = logging.getLogger(__name__)

#: Posts per episode: 8 gives every account with >= 16 posts two episodes (LUAR uses 16 on larger accounts).
DEFAULT_EPISODE_POSTS = 8


def _ranking_summary(ranks: np.ndarray, pool: int, ks: Sequence[int]) -> dict[str, float]:
    metrics: dict[str, float] = {"mrr": mean_reciprocal_rank(ranks)}
    metrics |= {f"r@{k}": recall_at_k(ranks, int(k)) for k in ks}
    return metrics | {"pool_size": int(pool), "n_queries": int(ranks.size)}


def halves(person_of: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """(queries, candidates) aligned by person: each person's first and second pseudo-account, sorted by id.

    Persons with fewer than two pseudo-accounts are skipped; raises ProtocolError when none has two.
    """
    of_person: dict[str, list[str]] = {}
    for account in sorted(person_of):
        of_person.setdefault(person_of[account], []).append(account)
    linked = [accounts for _, accounts in sorted(of_person.items()) if len(accounts) >= 2]
    if not linked:
        raise ProtocolError("no person has two (pseudo-)accounts: nothing to link")
    return [a[0] for a in linked], [a[1] for a in linked]


def episode_ranks(vectors: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Leave-one-out: rank of the best same-label episode among all other episodes, for every episode.

    The query itself is excluded from its own pool (its score is set to -inf and it is not relevant).
    """
    vectors, labels = np.asarray(vectors), np.asarray(labels)
    n = len(labels)
    out = []
    for s in range(0, n, RANK_CHUNK):
        rows = np.arange(s, min(s + RANK_CHUNK, n))
        scores = (vectors[rows] @ vectors.T).astype(np.float64)
        scores[np.arange(len(rows)), rows] = -np.inf
        relevant = labels[rows, None] == labels[None, :]
        relevant[np.arange(len(rows)), rows] = False
        out.append(ranks_of_true(scores, relevant))
    return np.concatenate(out)


def pair_scores(scorer: Scorer | AccountVectors, queries: Sequence[str], candidates: Sequence[str]) -> dict:
    """Scores of same-person pairs (query i, candidate i) and different-person pairs (i, j != i)."""
    if isinstance(scorer, AccountVectors):
        scorer = VectorScorer(scorer)
    same = np.asarray(scorer.pair_scores(list(queries), list(candidates)), dtype=np.float64)
    # One different-person candidate per query (the next one round), so both classes have equal counts.
    others = list(candidates[1:]) + list(candidates[:1])
    different = (
        np.asarray(scorer.pair_scores(list(queries), others), dtype=np.float64)
        if len(queries) > 1
        else np.zeros(0)
    )
    return {"same": same, "different": different}


def sybil_protocol(
    subject: Subject,
    posts: Any,
    *,
    accounts: int | None = None,
    min_posts: int = DEFAULT_MIN_POSTS,
    by: str | None = None,
    max_posts: int | None = None,
    episode_posts: int = DEFAULT_EPISODE_POSTS,
    ks: Sequence[int] = (1, 8),
    seed: int = 0,
    progress: bool = False,
    cache: dict | None = None,
) -> ProtocolResult:
    """Account linking of halves and episode retrieval for `subject` (a StyleModel or a scorer) on `posts`.

    Settings as in `evaluation_set` (always cut); `episode_posts` is N for episode retrieval; `ks` the R@k.
    """
    started = time.perf_counter()
    chosen = evaluation_set(
        posts, accounts=accounts, min_posts=min_posts, by=by, max_posts=max_posts, seed=seed, cut=True
    )
    queries, candidates = halves(chosen.person_of)
    prepared = time.perf_counter()
    scorer, embeddings = scorer_for(subject, chosen, progress=progress, cache=cache)
    if not scorer.supports_ranking:
        raise ProtocolError("the sybil protocol ranks candidates: the scorer needs score_matrix")
    linking = linking_ranks(scorer, queries, candidates)
    corrected = (
        linking_ranks(scorer, queries, candidates, hubness=True) if hub.applies(len(candidates)) else None
    )
    embedded = time.perf_counter()

    persons = [chosen.person_of[a] for a in chosen.posts["account_id"]]
    episodes = episodes_for_evaluation(persons, episode_posts, seed, min_episodes=2)
    metrics: dict[str, Any] = {"linking": _ranking_summary(linking, len(candidates), ks)}
    if corrected is not None:  # what `authorid link` ranks by (`authorid.index.hubness`)
        metrics["linking_hubness"] = _ranking_summary(corrected, len(candidates), ks) | {"k": hub.K}
    else:
        logger.warning(
            "linking_hubness not measured: the hubness correction needs %d candidates or more, this pool has %d"
            " (`authorid link` does not apply it below that either, so it ranks as `linking`)",
            hub.MIN_POOL,
            len(candidates),
        )
    plot_data: dict[str, Any] = {
        "linking_ranks": linking,
        "scores": pair_scores(scorer, queries, candidates),
    }
    episode_manifest: list = []
    if embeddings is not None and len({e.label for e in episodes}) >= 2:
        names = [f"{e.account}@{i}" for i, e in enumerate(episodes)]
        episode_vectors = embeddings.pool(names, [e.indices for e in episodes])
        labels = np.array([e.label for e in episodes])
        ranks = episode_ranks(episode_vectors.vectors, labels)
        metrics["episodes"] = _ranking_summary(ranks, len(episodes) - 1, ks) | {
            "n_accounts": len(set(labels.tolist()))
        }
        plot_data["episode_ranks"] = ranks
        post_ids = chosen.posts["post_id"]
        episode_manifest = [[e.account, sorted(post_ids[i] for i in e.indices.tolist())] for e in episodes]
    settings = chosen.settings | {"episode_posts": int(episode_posts), "ks": [int(k) for k in ks]}
    manifest = chosen.manifest | {"queries": queries, "candidates": candidates, "episodes": episode_manifest}
    finished = time.perf_counter()
    timing = {
        "prepare": prepared - started,
        "embed_and_link": embedded - prepared,
        "episodes": finished - embedded,
        "total": finished - started,
    }
    return ProtocolResult("sybil", metrics, settings, manifest, plot_data, timing)
