"""The cross-forum protocol: train on some forums, test on others."""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc

from authorid.data.splits.columns import (
    Columns,
    SplitError,
    _part_counts,
    _rounded,
    _rows_in,
)


def _cross_forum(
    cols: Columns,
    rng: np.random.Generator,
    *,
    train_forums: list[str] | None = None,
    test_forums: list[str] | None = None,
    val_forums: list[str] | None = None,
    test_fraction: float = 0.5,
) -> tuple[dict, dict, dict]:
    """Parts by forum. Forums not named go to the other part: only `test_forums` given -> train = the rest,
    only `train_forums` -> test = the rest; neither -> round(test_fraction * forums) forums (at least 1, at
    most all but 1), drawn at random, are test. Posts without a forum, or in a forum of no part, are left out
    (counted).
    """
    forum = cols.column("forum", " (cross-forum needs a forum per post)")
    known = sorted({str(f) for f in pc.unique(forum).to_pylist() if f is not None})
    named = {"train": train_forums, "val": val_forums, "test": test_forums}
    for name, forums in named.items():
        if forums is not None:
            if isinstance(forums, str):
                raise SplitError(f"{name}_forums must be a list of forums, got the string {forums!r}")
            unknown = [f for f in forums if f not in known]
            if unknown:
                raise SplitError(
                    f"unknown forum(s) {', '.join(unknown)} in {name}_forums; known: {', '.join(known)}"
                )
    listed = [f for forums in named.values() if forums for f in forums]
    if len(listed) != len(set(listed)):
        raise SplitError(
            "a forum is named in more than one part; train, val and test forums must be disjoint"
        )
    rest = [f for f in known if f not in listed]
    if train_forums is None and test_forums is None:
        if len(rest) < 2:
            raise SplitError(f"cross-forum needs at least 2 forums, found {len(rest)}: {', '.join(rest)}")
        n_test = int(np.clip(_rounded(float(test_fraction), len(rest)), 1, len(rest) - 1))
        drawn = rng.permutation(len(rest))
        test_forums = sorted(rest[i] for i in drawn[:n_test])
        train_forums = sorted(rest[i] for i in drawn[n_test:])
    elif train_forums is None:
        train_forums = rest
    elif test_forums is None:
        test_forums = rest
    chosen = {
        "train": list(train_forums),
        "val": None if val_forums is None else list(val_forums),
        "test": list(test_forums),
    }
    assignment, counts, used, accounts = {}, {}, np.zeros(cols.n, dtype=bool), {}
    for name, forums in chosen.items():
        if forums is None:
            continue
        if not forums:
            raise SplitError(f"no forum left for {name}; known forums: {', '.join(known)}")
        rows = _rows_in(forum, forums)
        used[rows] = True
        assignment[name] = list(forums)
        counts.update(_part_counts(name, rows, cols.account_code))
        accounts[name] = np.unique(cols.account_code[rows])
    counts["forums_in"] = len(known)
    counts["posts_without_forum"] = int(forum.null_count)
    counts["posts_left_out"] = int((~used).sum())
    counts["accounts_in_train_and_test"] = int(np.intersect1d(accounts["train"], accounts["test"]).size)
    params = {
        "train_forums": chosen["train"],
        "val_forums": chosen["val"],
        "test_forums": chosen["test"],
        "test_fraction": float(test_fraction),
    }
    return params, assignment, counts
