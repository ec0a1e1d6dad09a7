"""The closed-set protocol: a per-account cut of posts, or the corpus' own train/test column."""

from __future__ import annotations

import datasets
import numpy as np
import pyarrow.compute as pc

from authorid.data.arrow import read_columns
from authorid.data.sampling import rank_within_groups
from authorid.data.splits.columns import (
    DEFAULT_FRACTIONS,
    Columns,
    SplitError,
    _check_fractions,
    _part_counts,
    _rounded,
    _rows_in,
    _sorted_ids,
)
from authorid.data.splits.manifest import PARTS


def _closed_set(
    cols: Columns,
    rng: np.random.Generator,
    *,
    fractions: tuple[float, float, float] | None = None,
    few_posts: str = "train",
    use_corpus_split: bool = False,
    train_value: str = "train",
    val_value: str | None = None,
    test_value: str = "test",
) -> tuple[dict, dict, dict]:
    """Per-account cut of posts, or the corpus' own `split` column.

    Stratified cut, per account with n posts, posts in random order: n_test = max(1, round(f_test * n)) and
    n_val = max(1, round(f_val * n)) (0 when the fraction is 0), the rest to train; train keeps >= 1 post
    (test then val give way). An account with fewer than 1 + [f_val > 0] + [f_test > 0] posts cannot be cut:
    with ``few_posts="train"`` (default) all its posts go to train (a known author without test posts), with
    ``few_posts="drop"`` it is left out; either way counted.
    """
    cols.require_unique_post_ids("closed-set")
    if use_corpus_split:
        if fractions is not None:
            raise SplitError(
                "fractions cannot be combined with use_corpus_split=True (the corpus fixes the parts)"
            )
        return _corpus_split(cols, train_value, val_value, test_value)
    if few_posts not in ("train", "drop"):
        raise SplitError(f"few_posts must be 'train' or 'drop', got {few_posts!r}")
    f_train, f_val, f_test = _check_fractions(DEFAULT_FRACTIONS if fractions is None else fractions)

    codes = cols.account_code
    rank = rank_within_groups(codes, cols.random_keys(rng))  # each post's place in its account, shuffled
    sizes = np.bincount(codes, minlength=len(cols.accounts))

    needed = 1 + int(f_val > 0) + int(f_test > 0)
    cuttable = sizes >= needed
    n_val = np.where(f_val > 0, np.maximum(1, _rounded(f_val, sizes)), 0)
    n_test = np.where(f_test > 0, np.maximum(1, _rounded(f_test, sizes)), 0)
    excess = np.maximum(0, n_val + n_test - (sizes - 1))
    from_test = np.minimum(excess, np.maximum(n_test - 1, 0))
    n_test, n_val = n_test - from_test, n_val - (excess - from_test)
    n_val, n_test = np.where(cuttable, n_val, 0), np.where(cuttable, n_test, 0)

    r, nt, nv = rank, n_test[codes], n_val[codes]
    part = np.where(r < nt, 2, np.where(r < nt + nv, 1, 0))  # 0 train, 1 val, 2 test
    if few_posts == "drop":
        part[~cuttable[codes]] = -1

    assignment, counts = {}, {}
    for index, name in enumerate(PARTS):
        if name == "val" and f_val == 0 or name == "test" and f_test == 0:
            continue
        rows = np.flatnonzero(part == index)
        assignment[name] = _sorted_ids(cols.post_id, rows)
        counts.update(_part_counts(name, rows, codes))
    few = int((~cuttable).sum())
    counts["accounts_too_few_posts"] = few
    counts["posts_of_accounts_too_few_posts"] = int(sizes[~cuttable].sum())
    counts["accounts_dropped" if few_posts == "drop" else "accounts_train_only"] = few
    counts["posts_left_out"] = int((part == -1).sum())
    params = {"fractions": [f_train, f_val, f_test], "few_posts": few_posts, "use_corpus_split": False}
    return params, assignment, counts


def _corpus_split(
    cols: Columns, train_value: str, val_value: str | None, test_value: str
) -> tuple[dict, dict, dict]:
    values = cols.column("split", " (use_corpus_split=True needs the corpus' own train/test column)")
    present = sorted({str(v) for v in pc.unique(values).to_pylist() if v is not None})
    wanted = {"train": train_value, "val": val_value, "test": test_value}
    assignment, counts, used, part_accounts = {}, {}, np.zeros(cols.n, dtype=bool), {}
    for name, value in wanted.items():
        if value is None:
            continue
        rows = _rows_in(values, [value])
        if rows.size == 0:
            raise SplitError(
                f"no posts have split == {value!r} (for {name}); values present: {', '.join(present)}"
            )
        used[rows] = True
        assignment[name] = _sorted_ids(cols.post_id, rows)
        counts.update(_part_counts(name, rows, cols.account_code))
        part_accounts[name] = np.unique(cols.account_code[rows])
    counts["posts_left_out_other_split_values"] = int((~used).sum())
    for name in ("val", "test"):
        if name in part_accounts:
            unknown = np.setdiff1d(part_accounts[name], part_accounts["train"])
            counts[f"{name}_accounts_not_in_train"] = int(unknown.size)
    params = {
        "use_corpus_split": True,
        "train_value": train_value,
        "val_value": val_value,
        "test_value": test_value,
    }
    return params, assignment, counts


def has_corpus_split(posts: datasets.Dataset) -> bool:
    """True when the posts carry the corpus' own ``split`` column with both "train" and "test" values
    (Reuters C50): what ``split(posts, "closed-set", use_corpus_split=True)`` needs."""
    if "split" not in posts.column_names:
        return False
    values = set(pc.unique(read_columns(posts, ["split"]).column("split")).to_pylist())
    return {"train", "test"} <= values
