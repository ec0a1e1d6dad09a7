"""The open-world protocol: author-disjoint (person-disjoint when known) train/val/test accounts."""

from __future__ import annotations

import numpy as np

from authorid.data.splits.columns import (
    DEFAULT_FRACTIONS,
    Columns,
    SplitError,
    _check_fractions,
    _rounded,
)
from authorid.data.splits.manifest import PARTS


def _open_world(
    cols: Columns,
    rng: np.random.Generator,
    *,
    fractions: tuple[float, float, float] = DEFAULT_FRACTIONS,
    val_accounts: int | None = None,
    test_accounts: int | None = None,
    min_posts: int = 1,
) -> tuple[dict, dict, dict]:
    """Author-disjoint parts. The unit is the person when `person_id` is present (accounts without one are
    their own person), else the account. A unit is eligible for val/test when each of its accounts has
    >= `min_posts` posts; val/test take round(fraction * eligible units) (or `val_accounts`/`test_accounts`
    units), drawn at random from the eligible units; train gets the remaining eligible units and every
    ineligible one (counted).
    """
    _, f_val, f_test = _check_fractions(fractions)
    sizes = np.bincount(cols.account_code, minlength=len(cols.accounts))
    unit = "account"
    group_of_account = np.arange(len(cols.accounts))
    if "person_id" in cols.posts.column_names:
        unit = "person"
        person = cols.column("person_id").to_pylist()
        key = [
            f"account\x1f{a}" if p is None else f"person\x1f{p}"
            for p, a in zip(person, cols.account_id.to_pylist(), strict=True)
        ]
        groups, group_per_row = np.unique(np.array(key, dtype=object), return_inverse=True)
        group_of_account = np.empty(len(cols.accounts), dtype=np.int64)
        group_of_account[cols.account_code] = group_per_row
        if not np.array_equal(group_of_account[cols.account_code], group_per_row):
            raise SplitError("some accounts have more than one person_id (or a person_id on only some posts)")
        n_groups = len(groups)
    else:
        n_groups = len(cols.accounts)
    if int(min_posts) < 1:
        raise SplitError(f"min_posts must be >= 1, got {min_posts}")
    small_account = sizes < int(min_posts)
    ineligible = np.zeros(n_groups, dtype=bool)
    ineligible[group_of_account[small_account]] = True
    eligible = np.flatnonzero(~ineligible)

    n_val = _rounded(f_val, eligible.size) if val_accounts is None else int(val_accounts)
    n_test = _rounded(f_test, eligible.size) if test_accounts is None else int(test_accounts)
    if min(n_val, n_test) < 0 or n_val + n_test > eligible.size:
        raise SplitError(
            f"asked for {n_val} val + {n_test} test {unit}s but only {eligible.size} are eligible"
            f" (>= {min_posts} posts per account); lower val_accounts/test_accounts or min_posts"
        )
    drawn = rng.permutation(eligible)
    part_of_group = np.zeros(n_groups, dtype=np.int64)
    part_of_group[drawn[:n_test]] = 2
    part_of_group[drawn[n_test : n_test + n_val]] = 1
    part_of_account = part_of_group[group_of_account]

    assignment, counts = {}, {}
    for index, name in enumerate(PARTS):
        if name == "val" and n_val == 0 and val_accounts is None and f_val == 0:
            continue
        members = np.flatnonzero(part_of_account == index)
        assignment[name] = cols.accounts[members].tolist()
        counts[f"{name}_accounts"] = int(members.size)
        counts[f"{name}_posts"] = int(sizes[members].sum())
        if unit == "person":
            counts[f"{name}_persons"] = int(np.unique(group_of_account[members]).size)
    counts[f"{unit}s_in"] = n_groups
    counts[f"{unit}s_below_min_posts_to_train"] = int(ineligible.sum())
    params = {
        "fractions": [float(f) for f in fractions],
        "val_accounts": None if val_accounts is None else int(val_accounts),
        "test_accounts": None if test_accounts is None else int(test_accounts),
        "min_posts": int(min_posts),
        "unit": unit,
    }
    return params, assignment, counts
