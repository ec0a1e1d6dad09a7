"""The split manifest (what went where, and how to re-create it), the parts of a split, and building the parts
from a manifest alone (the one code path for `split()` and `SplitManifest.apply()`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from datasets.fingerprint import generate_random_fingerprint

from authorid.data.arrow import ids_fingerprint, read_columns, rows_with_values
from authorid.errors import SplitError
from authorid.io import atomic_write_text
from authorid.schema import CANONICAL_COLUMNS

logger = logging.getLogger("authorid.data.splits")

PROTOCOLS: tuple[str, ...] = ("closed-set", "open-world", "sybil", "cross-forum")
PARTS: tuple[str, ...] = ("train", "val", "test")

MANIFEST_VERSION = 1


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


def fingerprint(posts: datasets.Dataset) -> str:
    """sha256 over the (post_id, account_id) pairs of `posts`, sorted: independent of row order."""
    table = _read_columns(posts, ["post_id", "account_id"])
    return ids_fingerprint(table.column("post_id"), table.column("account_id"))


def _read_columns(posts: datasets.Dataset, names: list[str]) -> pa.Table:
    if posts.num_rows == 0:
        raise SplitError("cannot split an empty corpus")
    return read_columns(posts, names)


def run_protocol(posts: datasets.Dataset, cols, protocol: str, build, seed: int, params: dict) -> Split:
    """Run protocol function `build(cols, rng, **params)` on the id columns `cols` of `posts` (a
    `columns.Columns`), record the manifest and materialise the parts: what every split does."""
    resolved, assignment, counts = build(cols, np.random.default_rng(seed), **params)
    counts = {"posts_in": cols.n, "accounts_in": len(cols.accounts), **counts}
    manifest = SplitManifest(protocol, int(seed), resolved, assignment, cols.fingerprint(), counts)
    logger.info("%s split (seed %d): %s", protocol, seed, counts)
    return _materialise(posts, manifest)


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
        parts[name] = posts.select(rows_with_values(keys, members))
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
