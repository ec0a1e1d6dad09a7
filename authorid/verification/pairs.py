"""Labelled account pairs for calibration: same person (1) and different persons (0), balanced and seeded."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping

import numpy as np

logger = logging.getLogger(__name__)

#: Threads with more accounts than this are skipped when collecting hard negatives: everyone is in them.
MAX_THREAD_ACCOUNTS = 200


def make_pairs(
    person_of: Mapping[str, str],
    *,
    n_pairs: int | None = None,
    seed: int = 0,
    hard_negatives: Mapping[str, set[str]] | None = None,
    negatives_per_positive: int = 1,
) -> tuple[list[str], list[str], np.ndarray]:
    """(accounts a, accounts b, labels): same-person (1) / different-person (0) account pairs.

    Positives are drawn from all unordered pairs of accounts of one person (all of them when `n_pairs` is
    None, else n_pairs // 2 at random); `negatives_per_positive` times as many negatives (1: balanced), without
    repeats, or as many as exist when fewer do (at least as many as positives). `hard_negatives` maps an
    account to accounts of other persons active in the same threads or forum: up to one such pair per positive
    is used first, and random different-person pairs fill the rest. Pairs come shuffled; the same seed gives
    the same pairs.
    Raises ValueError when no person has two accounts or there is only one person.
    """
    rng = np.random.default_rng(seed)
    accounts = sorted(person_of)
    accounts_of: dict[str, list[str]] = {}
    for account in accounts:
        accounts_of.setdefault(str(person_of[account]), []).append(account)
    if len(accounts_of) < 2:
        raise ValueError(
            f"need accounts of at least 2 persons to make different-person pairs, got {len(accounts_of)}"
        )
    positives = [pair for group in accounts_of.values() for pair in itertools.combinations(group, 2)]
    if not positives:
        raise ValueError(
            "no person has two accounts: no same-person pairs (cut accounts into sybil pseudo-accounts)"
        )
    n_positive = len(positives) if n_pairs is None else min(len(positives), max(int(n_pairs) // 2, 1))
    if n_pairs is not None and n_positive < n_pairs // 2:
        logger.info("only %d same-person pairs exist; using %d pairs in all", len(positives), 2 * n_positive)
    chosen = rng.choice(len(positives), size=n_positive, replace=False)
    positives = [positives[i] for i in np.sort(chosen)]

    if int(negatives_per_positive) < 1:
        raise ValueError(f"negatives_per_positive must be at least 1, got {negatives_per_positive}")
    wanted = n_positive * int(negatives_per_positive)
    if negatives_per_positive > 1:  # never more than exist
        wanted = min(wanted, _different_person_pairs(accounts_of))
    # at most one hard negative per positive, as in balanced pairs: the rest are pairs as a forum draws them
    negatives = _hard_negatives(person_of, hard_negatives, rng, n_positive) if hard_negatives else []
    n_hard = len(negatives)
    negatives += _random_negatives(accounts, person_of, rng, wanted - n_hard, set(negatives))
    if len(negatives) < n_positive:
        raise ValueError(
            f"only {len(negatives)} different-person pairs exist for {n_positive} same-person pairs"
        )
    logger.info("pairs: %d same-person, %d different-person (%d hard)", n_positive, len(negatives), n_hard)

    pairs = positives + negatives
    labels = np.array([1] * len(positives) + [0] * len(negatives), dtype=np.int64)
    order = rng.permutation(len(pairs))
    return [pairs[i][0] for i in order], [pairs[i][1] for i in order], labels[order]


def _different_person_pairs(accounts_of: Mapping[str, list[str]]) -> int:
    """How many unordered pairs of accounts belong to two different persons."""
    sizes = np.array([len(group) for group in accounts_of.values()], dtype=np.int64)
    return int((sizes.sum() ** 2 - (sizes**2).sum()) // 2)


def _hard_negatives(
    person_of: Mapping[str, str], hard: Mapping[str, set[str]], rng: np.random.Generator, limit: int
) -> list[tuple[str, str]]:
    candidates = sorted(
        {
            (min(a, b), max(a, b))
            for a, others in hard.items()
            if a in person_of
            for b in others
            if b in person_of and person_of[b] != person_of[a]
        }
    )
    if len(candidates) > limit:
        candidates = [candidates[i] for i in np.sort(rng.choice(len(candidates), size=limit, replace=False))]
    return candidates


def _random_negatives(
    accounts: list[str],
    person_of: Mapping[str, str],
    rng: np.random.Generator,
    count: int,
    taken: set[tuple[str, str]],
) -> list[tuple[str, str]]:
    """`count` distinct different-person pairs by rejection sampling (each draw succeeds with p ~ 1 - 1/persons)."""
    found: list[tuple[str, str]] = []
    seen = set(taken)
    n = len(accounts)
    max_distinct = n * (n - 1) // 2
    attempts = 0
    while len(found) < count and attempts < 50 * count + 1000 and len(seen) < max_distinct:
        attempts += 1
        i, j = rng.integers(n, size=2)
        a, b = accounts[min(i, j)], accounts[max(i, j)]
        if i == j or person_of[a] == person_of[b] or (a, b) in seen:
            continue
        seen.add((a, b))
        found.append((a, b))
    return found


def co_active_accounts(account_ids: list[str], groups: list[str | None]) -> dict[str, set[str]]:
    """Account -> the other accounts posting in the same group (thread or forum); for hard negatives.

    Groups with more than MAX_THREAD_ACCOUNTS accounts are skipped (they pair everyone with everyone).
    """
    members: dict[str, set[str]] = {}
    for account, group in zip(account_ids, groups, strict=True):
        if group is not None:
            members.setdefault(group, set()).add(account)
    near: dict[str, set[str]] = {}
    for accounts in members.values():
        if 1 < len(accounts) <= MAX_THREAD_ACCOUNTS:
            for account in accounts:
                near.setdefault(account, set()).update(accounts - {account})
    return near
