"""Sybil / account linking: rank the other half of each person's accounts among all candidates.

Each person with at least two (pseudo-)accounts contributes one query (its first account, in order of first
appearance) and one true candidate (its second). Every person's second account is a candidate for every query,
so the pool size is the number of persons: the task gets harder as the pool grows, and the pool is reported.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from authorid.metrics.ranking import ranking_metrics
from authorid.vectors import AccountVectors


def query_candidate_pairs(
    vectors: AccountVectors, person_of: Mapping[str, str]
) -> tuple[list[str], list[str]]:
    """(query account ids, candidate account ids), aligned: candidate i is query i's true match."""
    accounts_of: dict[str, list[str]] = {}
    for account in vectors.account_ids:
        if account not in person_of:
            raise ValueError(f"account {account!r} has no person_id")
        accounts_of.setdefault(person_of[account], []).append(account)
    linked = [accounts for accounts in accounts_of.values() if len(accounts) >= 2]
    if not linked:
        raise ValueError(
            "no person has two accounts: nothing to link (cut accounts with the sybil split first)"
        )
    return [a[0] for a in linked], [a[1] for a in linked]


def sybil_linking_metrics(
    vectors: AccountVectors, person_of: Mapping[str, str], ks: tuple[int, ...] = (1, 8)
) -> dict[str, float]:
    """MRR, R@k (1-based ranks), pool size and query count, ranking candidates by cosine similarity."""
    queries, candidates = query_candidate_pairs(vectors, person_of)
    return ranking_metrics(vectors.rows(queries) @ vectors.rows(candidates).T, np.arange(len(queries)), ks=ks)
