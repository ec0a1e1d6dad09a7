"""first_per_group: the seeded per-account sample behind validation profiles, imprinting and bench caps;
rank_within_groups: each row's place in its group (the closed-set split's per-account cut)."""

from __future__ import annotations

import numpy as np

from authorid.data.sampling import first_per_group, rank_within_groups


def test_keeps_the_n_smallest_keys_of_each_group_in_row_order():
    groups = np.array(["b", "a", "b", "a", "b", "c"], dtype=object)
    keys = np.array([0.9, 0.5, 0.1, 0.7, 0.4, 0.3])
    assert first_per_group(groups, keys, 2).tolist() == [1, 2, 3, 4, 5]
    assert first_per_group(groups, keys, 1).tolist() == [1, 2, 5]
    assert first_per_group(np.array([0, 0, 0]), np.zeros(3), 2).tolist() == [0, 1]  # ties: earlier rows
    assert first_per_group(np.array([], dtype=np.int64), np.array([]), 3).tolist() == []


def test_rank_within_groups_orders_each_group_by_key_in_row_order():
    groups = np.array(["b", "a", "b", "a", "b", "c"], dtype=object)
    keys = np.array([0.9, 0.5, 0.1, 0.7, 0.4, 0.3])
    assert rank_within_groups(groups, keys).tolist() == [2, 0, 0, 1, 1, 0]
    ties = rank_within_groups(np.array([3, 1, 3, 3]), np.zeros(4))
    assert ties.tolist() == [0, 0, 1, 2]  # ties: the earlier row first
    assert rank_within_groups(np.array([], dtype=np.int64), np.array([])).dtype == np.int64
