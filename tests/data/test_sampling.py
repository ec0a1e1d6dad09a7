"""first_per_group: the seeded per-account sample behind validation profiles, imprinting and bench caps."""

from __future__ import annotations

import numpy as np

from authorid.data.sampling import first_per_group


def test_keeps_the_n_smallest_keys_of_each_group_in_row_order():
    groups = np.array(["b", "a", "b", "a", "b", "c"], dtype=object)
    keys = np.array([0.9, 0.5, 0.1, 0.7, 0.4, 0.3])
    assert first_per_group(groups, keys, 2).tolist() == [1, 2, 3, 4, 5]
    assert first_per_group(groups, keys, 1).tolist() == [1, 2, 5]
    assert first_per_group(np.array([0, 0, 0]), np.zeros(3), 2).tolist() == [0, 1]  # ties: earlier rows
    assert first_per_group(np.array([], dtype=np.int64), np.array([]), 3).tolist() == []
