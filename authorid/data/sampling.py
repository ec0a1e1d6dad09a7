"""Per-account sampling on numpy arrays: the first n rows of each group in a given (often random) order."""

from __future__ import annotations

import numpy as np


def first_per_group(groups: np.ndarray, keys: np.ndarray, n: int) -> np.ndarray:
    """Sorted row indices of the `n` rows of each group with the smallest `keys` (ties: the earlier row).

    With seeded random `keys` this is a seeded random sample of at most `n` rows per group; `groups` may be
    ints or objects (account ids), unsorted.
    """
    order = np.lexsort((keys, groups))
    sorted_groups = np.asarray(groups)[order]
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    return np.sort(order[rank < n])
