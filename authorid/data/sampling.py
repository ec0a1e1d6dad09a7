"""Per-account sampling on numpy arrays: the first n rows of each group in a given (often random) order."""

from __future__ import annotations

import numpy as np


def rank_within_groups(groups: np.ndarray, keys: np.ndarray | tuple[np.ndarray, ...]) -> np.ndarray:
    """Each row's rank (0, 1, ...) within its group, the group's rows ordered by `keys` (ties: the earlier row).

    `keys` is one array or a tuple of arrays, most significant first (later ones break ties). `groups` may be
    ints or objects (account ids), unsorted; the result is int64, one rank per row in row order.
    """
    keys = keys if isinstance(keys, tuple) else (keys,)
    order = np.lexsort((*reversed(keys), groups))
    sorted_groups = np.asarray(groups)[order]
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    return rank


def first_per_group(groups: np.ndarray, keys: np.ndarray | tuple[np.ndarray, ...], n: int) -> np.ndarray:
    """Sorted row indices of the `n` rows of each group with the smallest `keys` (ties: the earlier row).

    With seeded random `keys` this is a seeded random sample of at most `n` rows per group; `groups` may be
    ints or objects (account ids), unsorted.
    """
    return np.flatnonzero(rank_within_groups(groups, keys) < n)
