"""What the evaluation protocols share: the seeded evaluation set and the result.

The evaluation set (`evaluation_set`) is the same for every model given the same corpus and seed: a seeded
sample of the accounts with >= `min_posts` posts, then (unless the corpus knows real persons) every account
cut into two pseudo-accounts with `authorid.data.splits.split(..., "sybil")` (by time when every post has a
`created_at`, else at random), then an optional cap on posts per pseudo-account. Its manifest lists every
pseudo-account's post ids, so two runs can be checked to have evaluated the very same queries.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from authorid.data.arrow import canonical_order, has_complete_column, read_columns
from authorid.data.sampling import first_per_group
from authorid.data.splits import sybil_split
from authorid.errors import ProtocolError

if TYPE_CHECKING:
    import datasets

logger = logging.getLogger(__name__)

#: Accounts need this many posts to be evaluated by default: Reddit-like corpora have a long tail of accounts
#: with a handful of posts, whose halves hold too little text to say anything about style (SYSML and LUAR
#: evaluate accounts with >= 16-20 posts). The bundled enron_demo has 24 posts per author.
DEFAULT_MIN_POSTS = 20


@dataclass
class ProtocolResult:
    """One protocol's outcome.

    `metrics`: JSON-ready numbers, grouped by task (e.g. ``{"linking": {...}, "episodes": {...}}``).
    `settings`: every parameter, defaults included. `manifest`: exactly what was evaluated (post ids per
    (pseudo-)account, pairs, split), for `queries_sha256`. `plot_data`: arrays the report draws (not saved).
    """

    protocol: str
    metrics: dict[str, Any]
    settings: dict[str, Any]
    manifest: dict[str, Any]
    plot_data: dict[str, Any] = field(default_factory=dict)
    timing_s: dict[str, float] = field(default_factory=dict)

    def queries_sha256(self) -> str:
        """A hash of the manifest: equal for two runs exactly when they evaluated the same queries."""
        text = json.dumps(self.manifest, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class EvaluationSet:
    """The posts evaluated, their (pseudo-)accounts' persons, and how they were chosen."""

    posts: datasets.Dataset
    person_of: dict[str, str]
    settings: dict[str, Any]
    manifest: dict[str, Any]

    @property
    def accounts(self) -> list[str]:
        return sorted(self.person_of)


def column(posts: datasets.Dataset, name: str) -> pa.ChunkedArray:
    """One column of `posts` as Arrow (texts are never touched)."""
    return read_columns(posts, [name]).column(name)


def account_sizes(posts: datasets.Dataset) -> dict[str, int]:
    """Posts per account (read through Arrow; texts are never touched)."""
    counts = pc.value_counts(column(posts, "account_id")).to_pylist()
    return {row["values"]: int(row["counts"]) for row in counts}


def account_characters(posts: datasets.Dataset) -> dict[str, int]:
    """Characters per account, all its posts together (Arrow's utf8_length: code points, as Python's len)."""
    table = read_columns(posts, ["account_id", "text"])
    lengths = pa.table(
        {"account_id": table.column("account_id"), "chars": pc.utf8_length(table.column("text"))}
    )
    grouped = lengths.group_by("account_id").aggregate([("chars", "sum")])
    return dict(zip(grouped["account_id"].to_pylist(), grouped["chars_sum"].to_pylist(), strict=True))


def sample_eligible_accounts(
    posts: datasets.Dataset, *, accounts: int | None, min_posts: int, seed: int, least: int = 2
) -> tuple[list[str], dict[str, int]]:
    """A seeded sample of `accounts` accounts among those with >= `min_posts` posts (all when None), sorted.

    The draw is a permutation of the sorted eligible ids by ``numpy.random.default_rng(seed)``: it depends on
    the set of eligible accounts and the seed only. Raises ProtocolError when fewer than `least` (or than
    `accounts`) are eligible.
    """
    if min_posts < 1:
        raise ProtocolError(f"min_posts must be >= 1, got {min_posts}")
    sizes = account_sizes(posts)
    eligible = sorted(a for a, n in sizes.items() if n >= min_posts)
    wanted = len(eligible) if accounts is None else int(accounts)
    if wanted < least or len(eligible) < wanted:
        raise ProtocolError(
            f"need {max(wanted, least)} accounts with >= {min_posts} posts, found {len(eligible)}"
            f" (of {len(sizes)}); lower --accounts or --min-posts"
        )
    order = np.random.default_rng(seed).permutation(len(eligible))[:wanted]
    chosen = sorted(eligible[i] for i in order)
    return chosen, {"accounts_in": len(sizes), "accounts_eligible": len(eligible)}


def select_accounts(posts: datasets.Dataset, chosen: Sequence[str]) -> datasets.Dataset:
    """The posts of the `chosen` accounts in their canonical order (`authorid.data.arrow.canonical_order`): every
    seeded draw and cut of a protocol then gives the same answer for a shuffled copy of the corpus (audit 15:
    the sybil protocol's episodes once followed the file's order)."""
    mask = pc.is_in(column(posts, "account_id"), value_set=pa.array(list(chosen), type=pa.string()))
    rows = np.flatnonzero(mask.to_numpy(zero_copy_only=False))
    return posts.select(rows[canonical_order(posts.select(rows))])


def _knows_persons(posts: datasets.Dataset) -> bool:
    """True when `person_id` is present on every post and some person owns two or more accounts."""
    if "person_id" not in posts.column_names or column(posts, "person_id").null_count:
        return False
    table = read_columns(posts, ["account_id", "person_id"])
    per_person = table.group_by("person_id").aggregate([("account_id", "count_distinct")])
    return bool(pc.max(per_person.column("account_id_count_distinct")).as_py() >= 2)


def cap_posts(
    posts: datasets.Dataset, max_posts: int | None, *, seed: int
) -> tuple[datasets.Dataset, str | None]:
    """At most `max_posts` posts per account: the most recent ones when every post has a time, else a seeded
    random subset. Returns (posts, how) with how None when nothing was capped. Row order is kept.
    """
    if max_posts is None:
        return posts, None
    if max_posts < 1:
        raise ProtocolError(f"max_posts must be >= 1, got {max_posts}")
    accounts = np.asarray(column(posts, "account_id").to_pylist(), dtype=object)
    if has_complete_column(posts, "created_at"):
        how = "most recent"
        key = pc.cast(column(posts, "created_at"), pa.int64()).to_numpy()
        key = -key.astype(np.float64)  # newest first
    else:
        how = "seeded random"
        key = np.random.default_rng(seed).random(len(accounts))
    ids = np.asarray(column(posts, "post_id").to_pylist(), dtype=object)
    # By account, newest / random first, ties by post id.
    return posts.select(first_per_group(accounts, (key, ids), max_posts)), how


def evaluation_set(
    posts: datasets.Dataset,
    *,
    accounts: int | None = None,
    min_posts: int = DEFAULT_MIN_POSTS,
    by: str | None = None,
    max_posts: int | None = None,
    seed: int = 0,
    cut: bool | None = None,
) -> EvaluationSet:
    """The seeded set of (pseudo-)accounts a protocol evaluates; see the module docstring.

    `cut`: True always cuts accounts into two halves (sybil), False uses the accounts as they are with
    `person_id` as ground truth, None (default) cuts unless the corpus knows persons owning several accounts.
    `by`: "time" or "random" (None: time when every post has created_at). `max_posts`: cap per
    (pseudo-)account, applied after the cut (see `cap_posts`).
    """
    chosen, counts = sample_eligible_accounts(posts, accounts=accounts, min_posts=min_posts, seed=seed)
    subset = select_accounts(posts, chosen)
    if cut is None:
        cut = not _knows_persons(subset)
    if not cut and not _knows_persons(subset):
        raise ProtocolError("the corpus has no person_id with two or more accounts per person; cut accounts")
    settings: dict[str, Any] = {
        "accounts": len(chosen),
        "accounts_requested": accounts,
        "min_posts": int(min_posts),
        "seed": int(seed),
        **counts,
    }
    if cut:
        result = sybil_split(subset, seed=seed, k=2, by=by or "auto", min_posts=min_posts)
        by = result.manifest.params["by"]
        evaluated, capped = cap_posts(result.test, max_posts, seed=seed)
        settings |= {"ground_truth": "sybil cut (person = original account)", "cut_by": by}
        split_record = {k: v for k, v in result.manifest.to_dict().items() if k != "assignment"}
    else:
        evaluated, capped = cap_posts(subset, max_posts, seed=seed)
        settings["ground_truth"] = "person_id"
        split_record = None
    settings |= {"max_posts_per_account": max_posts, "cap": capped}
    table = read_columns(evaluated, ["post_id", "account_id"])
    if cut:
        # each half's truth is the account it was cut from, as settings say: the split keeps a known person_id
        # instead, which made two accounts of one person four halves of one person, and the linking kept two
        # of them (audit 14). Persons are read where accounts are used whole (cut=False).
        halves_of = table.column("account_id").to_pylist()
        person_of = {half: half.rsplit("#", 1)[0] for half in halves_of}
        if "person_id" in subset.column_names and _knows_persons(subset):
            settings["person_id"] = "not read by the cut: each half's truth is the account it was cut from"
    else:
        persons = column(evaluated, "person_id" if "person_id" in evaluated.column_names else "account_id")
        person_of = dict(zip(table.column("account_id").to_pylist(), persons.to_pylist(), strict=True))
    members: dict[str, list[str]] = {}
    for post, account in zip(
        table.column("post_id").to_pylist(), table.column("account_id").to_pylist(), strict=True
    ):
        members.setdefault(account, []).append(post)
    manifest = {
        "split": split_record,
        "posts": {account: sorted(ids) for account, ids in sorted(members.items())},
        "person_of": dict(sorted(person_of.items())),
    }
    settings["evaluated_accounts"] = len(person_of)
    settings["evaluated_posts"] = evaluated.num_rows
    logger.info("evaluation set: %s", settings)
    return EvaluationSet(posts=evaluated, person_of=person_of, settings=settings, manifest=manifest)
