"""The sybil protocol: each account cut into k pseudo-accounts; the original account is the person to recover."""

from __future__ import annotations

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from authorid.data.arrow import has_complete_column
from authorid.data.splits.columns import Columns, SplitError
from authorid.data.splits.manifest import Split, run_protocol


def _sybil(
    cols: Columns,
    rng: np.random.Generator,
    *,
    k: int = 2,
    by: str = "time",
    min_posts: int | None = None,
) -> tuple[dict, dict, dict]:
    """Cut each account into `k` pseudo-accounts ``"{account}#{i}"``, i = 0..k-1.

    by="time": posts sorted by (created_at, post_id), pseudo-account i gets the i-th of k consecutive chunks;
    by="random": posts in seeded random order, then chunked; by="auto": "time" when every post has a
    created_at, else "random" (the manifest records which). Chunk sizes follow numpy.array_split: with n
    posts, the first n mod k chunks get floor(n/k) + 1 posts, the others floor(n/k). Accounts with fewer than
    max(k, min_posts) posts are left out (counted).
    """
    cols.require_unique_post_ids("sybil")
    k = int(k)
    if k < 2:
        raise SplitError(f"k must be >= 2 pseudo-accounts per account, got {k}")
    if by not in ("time", "random", "auto"):
        raise SplitError(f"by must be 'time', 'random' or 'auto', got {by!r}")
    if by == "auto":
        by = "time" if has_complete_column(cols.posts, "created_at") else "random"
    least = max(k, int(min_posts or 0))
    codes = cols.account_code
    if by == "time":
        created = cols.column("created_at", " (sybil by='time' needs it; use by='random')")
        if created.null_count:
            raise SplitError(
                f"created_at is null for {created.null_count} posts; fill it or split by='random'"
            )
        seconds = pc.cast(created, pa.int64())
        table = pa.table({"code": codes, "t": seconds, "post": cols.post_id})
        order = pc.sort_indices(table, [("code", "ascending"), ("t", "ascending"), ("post", "ascending")])
        order = order.to_numpy()
    else:
        order = np.lexsort((cols.random_keys(rng), codes))
    sizes = np.bincount(codes, minlength=len(cols.accounts))
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    sorted_codes = codes[order]
    rank = np.arange(cols.n) - starts[sorted_codes]
    n = sizes[sorted_codes]
    q, rem = n // k, n % k
    big = rem * (q + 1)  # posts in the first `rem` chunks, which hold q + 1 each
    with np.errstate(divide="ignore", invalid="ignore"):
        chunk = np.where(rank < big, rank // (q + 1), rem + (rank - big) // np.maximum(q, 1))
    kept = n >= least

    pseudo: dict[str, list[str]] = {}
    post_ids = cols.post_id.take(pa.array(order[kept])).to_pylist()
    names = cols.accounts[sorted_codes[kept]]
    for post, account, i in zip(post_ids, names.tolist(), chunk[kept].tolist(), strict=True):
        pseudo.setdefault(f"{account}#{i}", []).append(post)
    pseudo = {name: sorted(members) for name, members in pseudo.items()}
    left_out = sizes < least
    counts = {
        "accounts_kept": int((~left_out).sum()),
        "accounts_left_out_too_few_posts": int(left_out.sum()),
        "posts_left_out": int(sizes[left_out].sum()),
        "test_posts": int(kept.sum()),
        "test_accounts": len(pseudo),
    }
    return {"k": k, "by": by, "min_posts": least}, {"test": pseudo}, counts


def sybil_split(
    posts: datasets.Dataset, *, seed: int = 0, k: int = 2, by: str = "time", min_posts: int | None = None
) -> Split:
    """`split(posts, "sybil", ...)`: each account cut into `k` pseudo-accounts (see `_sybil`)."""
    return run_protocol(
        posts, Columns(posts), "sybil", _sybil, seed, {"k": k, "by": by, "min_posts": min_posts}
    )
