"""The verification pairs the verification and clustering protocols share: persons cut in two folds, balanced
pairs within each fold, and calibrations cross-fitted between the folds (no pair is scored by a calibration
that saw it or its accounts)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from authorid.data.arrow import read_columns
from authorid.errors import ProtocolError
from authorid.verification import Calibrator, co_active_accounts, make_pairs

if TYPE_CHECKING:
    from authorid.evaluation.protocols.base import EvaluationSet


def person_folds(person_of: Mapping[str, str], seed: int) -> dict[str, int]:
    """Person -> fold 0 or 1: a seeded permutation of the sorted persons, cut in half."""
    persons = sorted(set(person_of.values()))
    order = np.random.default_rng([seed, 1]).permutation(len(persons))
    return {persons[i]: int(rank >= (len(persons) + 1) // 2) for rank, i in enumerate(order)}


def co_activity(chosen: EvaluationSet) -> dict[str, set[str]]:
    """Account -> accounts posting in the same threads (or forums when there are no threads)."""
    name = next((c for c in ("thread_id", "forum") if c in chosen.posts.column_names), None)
    if name is None:
        raise ProtocolError("hard negatives need a thread_id or forum column; the corpus has neither")
    table = read_columns(chosen.posts, ["account_id", name])
    return co_active_accounts(table.column(0).to_pylist(), table.column(1).to_pylist())


def fold_pairs(
    person_of: Mapping[str, str],
    folds: Mapping[str, int],
    *,
    seed: int,
    hard_negatives: Mapping[str, set[str]] | None = None,
) -> list[tuple[list[str], list[str], np.ndarray]]:
    """Balanced pairs within each fold of persons: [(a ids, b ids, labels) of fold 0, ... of fold 1]."""
    out = []
    for fold in (0, 1):
        members = {a: p for a, p in person_of.items() if folds[p] == fold}
        near = None
        if hard_negatives is not None:
            near = {a: {b for b in hard_negatives.get(a, set()) if b in members} for a in members}
        try:
            out.append(make_pairs(members, seed=seed + fold, hard_negatives=near))
        except ValueError as err:
            raise ProtocolError(f"too few accounts for verification pairs in fold {fold}: {err}") from err
    return out


def cross_fitted_calibrators(per_fold: list[tuple[np.ndarray, np.ndarray]], method: str = "platt") -> list:
    """Calibrator for fold f, fitted on the (scores, labels) of the other fold."""
    return [Calibrator(method=method).fit(*per_fold[1 - fold]) for fold in (0, 1)]
