"""Evaluation splits of a post corpus, seeded and saved as a manifest that re-creates them exactly.

Four protocols (`split(posts, protocol, seed=..., **params)`):

- ``closed-set``: every account appears in train; each account's posts are cut train/val/test (stratified by
  account), or the corpus' own ``split`` column is used (Reuters C50). Attribution among known authors.
- ``open-world``: author-disjoint train/val/test accounts (person-disjoint when ``person_id`` is present).
  Retrieval, verification and clustering of authors never seen in training.
- ``sybil``: every account's posts are cut into ``k`` pseudo-accounts ``"{account}#{i}"``; the original
  account becomes the ``person_id`` to recover. Account linking with known ground truth (Khan et al. 2021,
  "A Deep Metric Learning Approach to Account Linking", NAACL; the SYSML setting). Compose with open-world:
  split open-world first, then ``split(result.test, "sybil")`` so the encoder never saw the test accounts.
- ``cross-forum``: train on some forums, test on others.

Every result carries a `SplitManifest`: protocol, seed, every parameter, what went where (post ids, account
ids or forums), counts of everything kept and left out, and a fingerprint of the input.
`manifest.apply(posts)` re-creates the split from the manifest alone (no randomness is re-run) and refuses
other data.

Randomness: a `numpy.random.Generator` seeded with `seed`, drawn over posts in a canonical order (sorted by
post_id, then account_id) and over sorted account/person/forum ids, so a split depends on the set of posts and
the seed, never on row order or on Python's `hash()`. Only the id, account, person, time and forum columns are
read (as Arrow/numpy); texts are never materialised. Parts keep the corpus' row order.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from datasets.fingerprint import generate_random_fingerprint

from authorid.data.arrow import read_columns
from authorid.errors import AuthoridError
from authorid.schema import CANONICAL_COLUMNS

logger = logging.getLogger(__name__)

PROTOCOLS: tuple[str, ...] = ("closed-set", "open-world", "sybil", "cross-forum")
PARTS: tuple[str, ...] = ("train", "val", "test")
MANIFEST_VERSION = 1
DEFAULT_FRACTIONS = (0.8, 0.1, 0.1)


class SplitError(AuthoridError):
    """A split that cannot be made as asked: unknown protocol or parameter, missing column, too few posts."""


@dataclass
class SplitManifest:
    """A JSON-serialisable record that reproduces a split exactly.

    `params`: every setting used, defaults included. `assignment`: what went where — post ids per part
    (closed-set), account ids per part (open-world), forums per part (cross-forum), or
    ``{"test": {pseudo_account: [post ids]}}`` (sybil). `counts`: accounts/posts per part and everything left
    out, by reason. `fingerprint`: sha256 of the sorted (post_id, account_id) pairs of the input.
    """

    protocol: str
    seed: int
    params: dict
    assignment: dict
    fingerprint: str
    counts: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "version": MANIFEST_VERSION,
            "protocol": self.protocol,
            "seed": self.seed,
            "params": self.params,
            "counts": self.counts,
            "fingerprint": self.fingerprint,
            "assignment": self.assignment,
        }

    def save(self, path: str | Path) -> Path:
        from authorid.io import atomic_write_text

        return atomic_write_text(path, json.dumps(self.to_dict(), ensure_ascii=False))

    @classmethod
    def from_dict(cls, data: dict) -> SplitManifest:
        if data.get("version") != MANIFEST_VERSION:
            raise SplitError(f"unsupported split manifest version {data.get('version')!r} (expected 1)")
        if data.get("protocol") not in PROTOCOLS:
            raise SplitError(
                f"unknown protocol {data.get('protocol')!r} in manifest; valid: {', '.join(PROTOCOLS)}"
            )
        return cls(
            protocol=data["protocol"],
            seed=int(data["seed"]),
            params=dict(data["params"]),
            assignment=dict(data["assignment"]),
            fingerprint=str(data["fingerprint"]),
            counts=dict(data.get("counts", {})),
        )

    @classmethod
    def load(cls, path: str | Path) -> SplitManifest:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise SplitError(f"cannot read split manifest {path}: {err}") from err
        return cls.from_dict(data)

    def apply(self, posts: datasets.Dataset) -> Split:
        """Re-create the split on `posts`; raises SplitError when `posts` is not the data it was made from."""
        found = fingerprint(posts)
        if found != self.fingerprint:
            raise SplitError(
                f"these posts do not match the split manifest (fingerprint {found[:12]} !="
                f" {self.fingerprint[:12]}): it was made from other data"
                f" ({self.counts.get('posts_in', '?')} posts)"
            )
        return _materialise(posts, self)


@dataclass
class Split:
    """The parts of a split; a part the protocol does not make is None.

    closed-set, open-world: train / val / test (val is None with a zero val fraction or no `val_value`).
    cross-forum: train / test (and val with `val_forums`). sybil: only `test`, holding the pseudo-accounts
    (``account_id = "{account}#{i}"``, ``person_id`` = the original account unless a real person was known).
    """

    train: datasets.Dataset | None
    val: datasets.Dataset | None
    test: datasets.Dataset | None
    manifest: SplitManifest

    def parts(self) -> dict[str, datasets.Dataset]:
        """The parts that exist, by name."""
        return {name: part for name in PARTS if (part := getattr(self, name)) is not None}


def split(posts: datasets.Dataset, protocol: str, *, seed: int = 0, **params: Any) -> Split:
    """Split `posts` by `protocol` (see the module docstring); `params` are the protocol's keyword settings.

    Raises SplitError (a ValueError) for an unknown protocol or parameter, listing the valid ones.
    """
    if protocol not in _PROTOCOL_FUNCTIONS:
        raise SplitError(f"unknown split protocol {protocol!r}; valid: {', '.join(PROTOCOLS)}")
    build = _PROTOCOL_FUNCTIONS[protocol]
    valid = [name for name in inspect.signature(build).parameters if name not in ("cols", "rng")]
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise SplitError(
            f"unknown parameter(s) {', '.join(unknown)} for {protocol}; valid: {', '.join(valid)}"
        )
    cols = _Columns(posts)
    resolved, assignment, counts = build(cols, np.random.default_rng(seed), **params)
    counts = {"posts_in": cols.n, "accounts_in": len(cols.accounts), **counts}
    manifest = SplitManifest(protocol, int(seed), resolved, assignment, cols.fingerprint(), counts)
    logger.info("%s split (seed %d): %s", protocol, seed, counts)
    return _materialise(posts, manifest)


def fingerprint(posts: datasets.Dataset) -> str:
    """sha256 over the (post_id, account_id) pairs of `posts`, sorted: independent of row order."""
    return _Columns(posts).fingerprint()


# --------------------------------------------------------------------------------------------------- columns


def _read_columns(posts: datasets.Dataset, names: list[str]) -> pa.Table:
    if posts.num_rows == 0:
        raise SplitError("cannot split an empty corpus")
    return read_columns(posts, names)


class _Columns:
    """The id columns of a corpus as numpy arrays, read once (texts are never touched)."""

    def __init__(self, posts: datasets.Dataset):
        self.posts = posts
        table = _read_columns(posts, ["post_id", "account_id"])
        self.post_id: pa.ChunkedArray = table.column("post_id")
        self.account_id: pa.ChunkedArray = table.column("account_id")
        for name in ("post_id", "account_id"):
            if table.column(name).null_count:
                raise SplitError(
                    f"{name} is null for {table.column(name).null_count} posts; fix the corpus first"
                )
        self.n = table.num_rows
        #: Accounts sorted by id; `account_code[row]` indexes them.
        # Factorised in Arrow (np.unique over Python strings is ~10x slower at forum scale).
        names = pc.unique(self.account_id)
        names = names.take(pc.sort_indices(names))
        self.accounts: np.ndarray = names.to_numpy(zero_copy_only=False)
        self.account_code: np.ndarray = (
            pc.index_in(self.account_id, value_set=names).to_numpy().astype(np.int64)
        )
        # Canonical order: rows sorted by (post_id, account_id). Random draws are made in this order.
        self.canonical = pc.sort_indices(
            table, sort_keys=[("post_id", "ascending"), ("account_id", "ascending")]
        )
        self._fingerprint: str | None = None

    def column(self, name: str, hint: str = "") -> pa.ChunkedArray:
        if name not in self.posts.column_names:
            raise SplitError(
                f"the corpus has no {name!r} column{hint}; it has {', '.join(self.posts.column_names)}"
            )
        return _read_columns(self.posts, [name]).column(name)

    def random_keys(self, rng: np.random.Generator) -> np.ndarray:
        """One uniform random number per row, drawn in canonical order."""
        keys = np.empty(self.n)
        keys[self.canonical.to_numpy()] = rng.random(self.n)
        return keys

    def require_unique_post_ids(self, protocol: str) -> None:
        distinct = pc.count_distinct(self.post_id).as_py()
        if distinct != self.n:
            raise SplitError(
                f"post_id is not unique ({self.n - distinct} duplicates);"
                f" {protocol} manifests name posts by id"
            )

    def fingerprint(self) -> str:
        if self._fingerprint is None:
            digest = hashlib.sha256(f"authorid-posts-v1\x1d{self.n}\x1d".encode())
            ordered = pa.table({"p": self.post_id, "a": self.account_id}).take(self.canonical)
            for batch in ordered.to_batches(max_chunksize=65536):
                joined = pc.binary_join_element_wise(batch.column(0), batch.column(1), "\x1e")
                digest.update(("\x1f".join(joined.to_pylist()) + "\x1f").encode())
            self._fingerprint = digest.hexdigest()
        return self._fingerprint


def _rounded(fraction: float, n: np.ndarray | int) -> np.ndarray:
    """round(fraction * n), halves up (Python's round() rounds halves to even)."""
    return np.floor(np.asarray(fraction) * n + 0.5).astype(np.int64)


def _check_fractions(fractions: Any) -> tuple[float, float, float]:
    try:
        train, val, test = (float(f) for f in fractions)
    except (TypeError, ValueError) as err:
        raise SplitError(f"fractions must be three numbers (train, val, test), got {fractions!r}") from err
    if min(train, val, test) < 0 or abs(train + val + test - 1) > 1e-6 or train <= 0:
        raise SplitError(
            f"fractions (train, val, test) must be >= 0, sum to 1 and have train > 0, got {fractions!r}"
        )
    return train, val, test


def _sorted_ids(post_id: pa.ChunkedArray, rows: np.ndarray) -> list[str]:
    """The post ids of `rows`, sorted, so a manifest does not depend on row order."""
    return sorted(post_id.take(pa.array(rows, type=pa.int64())).to_pylist())


def _rows_in(column: pa.ChunkedArray, values: list[str]) -> np.ndarray:
    """Row indices whose value is one of `values` (nulls never match)."""
    mask = pc.is_in(column, value_set=pa.array(values, type=column.type))
    return np.flatnonzero(pc.fill_null(mask, False).to_numpy(zero_copy_only=False))


def _part_counts(part: str, rows: np.ndarray, codes: np.ndarray) -> dict[str, int]:
    return {f"{part}_posts": int(rows.size), f"{part}_accounts": int(np.unique(codes[rows]).size)}


# ------------------------------------------------------------------------------------------------- protocols
# Each returns (params as resolved, assignment, counts); its keyword arguments are the protocol's parameters.


def _closed_set(
    cols: _Columns,
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
    order = np.lexsort((cols.random_keys(rng), codes))  # rows grouped by account, shuffled within
    sizes = np.bincount(codes, minlength=len(cols.accounts))
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    rank = np.empty(cols.n, dtype=np.int64)
    rank[order] = np.arange(cols.n) - starts[codes[order]]

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
    cols: _Columns, train_value: str, val_value: str | None, test_value: str
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


def _open_world(
    cols: _Columns,
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


def _sybil(
    cols: _Columns,
    rng: np.random.Generator,
    *,
    k: int = 2,
    by: str = "time",
    min_posts: int | None = None,
) -> tuple[dict, dict, dict]:
    """Cut each account into `k` pseudo-accounts ``"{account}#{i}"``, i = 0..k-1.

    by="time": posts sorted by (created_at, post_id), pseudo-account i gets the i-th of k consecutive chunks;
    by="random": posts in seeded random order, then chunked. Chunk sizes follow numpy.array_split: with n
    posts, the first n mod k chunks get floor(n/k) + 1 posts, the others floor(n/k). Accounts with fewer than
    max(k, min_posts) posts are left out (counted).
    """
    cols.require_unique_post_ids("sybil")
    k = int(k)
    if k < 2:
        raise SplitError(f"k must be >= 2 pseudo-accounts per account, got {k}")
    if by not in ("time", "random"):
        raise SplitError(f"by must be 'time' or 'random', got {by!r}")
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


def _cross_forum(
    cols: _Columns,
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


_PROTOCOL_FUNCTIONS: dict[str, Callable[..., tuple[dict, dict, dict]]] = {
    "closed-set": _closed_set,
    "open-world": _open_world,
    "sybil": _sybil,
    "cross-forum": _cross_forum,
}


# ----------------------------------------------------------------------------------------------- materialise


def _materialise(posts: datasets.Dataset, manifest: SplitManifest) -> Split:
    """Build the parts from the manifest's assignment alone (the one code path for split() and apply())."""
    parts: dict[str, datasets.Dataset | None] = dict.fromkeys(PARTS)
    if manifest.protocol == "sybil":
        parts["test"] = _pseudo_accounts(posts, manifest.assignment["test"])
        return Split(**parts, manifest=manifest)
    # What the assignment lists: post ids (closed-set), account ids (open-world) or forums (cross-forum).
    key = {"closed-set": "post_id", "open-world": "account_id", "cross-forum": "forum"}[manifest.protocol]
    keys = _read_columns(posts, [key]).column(key)
    for name, members in manifest.assignment.items():
        parts[name] = posts.select(_rows_in(keys, members))
    return Split(**parts, manifest=manifest)


def _pseudo_accounts(posts: datasets.Dataset, pseudo: dict[str, list[str]]) -> datasets.Dataset:
    """The posts named in `pseudo`, account_id replaced by their pseudo-account, person_id set.

    Built directly in Arrow (a take of the kept rows, then column swaps): `add_column` on a selection would
    flatten it through `map`, which is ~10x slower. The result is an in-memory table of the kept posts.
    """
    names = pa.array(list(pseudo), type=pa.string())
    lengths = np.fromiter((len(v) for v in pseudo.values()), dtype=np.int64, count=len(pseudo))
    members = pa.array([p for ids in pseudo.values() for p in ids], type=pa.string())
    owner = np.repeat(np.arange(len(pseudo)), lengths)
    where = pc.index_in(_read_columns(posts, ["post_id"]).column("post_id"), value_set=members)
    rows = np.flatnonzero(pc.is_valid(where).to_numpy(zero_copy_only=False))
    position = where.take(pa.array(rows, type=pa.int64())).to_numpy()
    kept = read_columns(posts, posts.column_names, rows).replace_schema_metadata(None)
    columns = {name: kept.column(name) for name in kept.column_names}
    person = columns["account_id"]
    if "person_id" in columns:
        # A known real person stays the ground truth; only accounts without one stand in for their person.
        person = pc.coalesce(columns["person_id"], person)
    columns["account_id"] = names.take(pa.array(owner[position]))
    columns["person_id"] = person
    order = [c for c in CANONICAL_COLUMNS if c in columns] + [
        c for c in columns if c not in CANONICAL_COLUMNS
    ]
    string = datasets.Value("string")
    features = datasets.Features({c: posts.features.get(c, string) for c in order})
    table = pa.table({c: columns[c] for c in order})
    # An explicit fingerprint: without one, datasets hashes the whole new table (seconds per 100k posts).
    return datasets.Dataset(
        table, info=datasets.DatasetInfo(features=features), fingerprint=generate_random_fingerprint()
    )
