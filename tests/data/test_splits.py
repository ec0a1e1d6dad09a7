"""Splits on real samples: exact counts, determinism, disjointness, sybil cuts and manifest round trips."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import numpy as np
import pytest
from samples import canonical_sample

from authorid.data.splits import SplitError, SplitManifest, fingerprint, split
from authorid.schema import posts_from_records

# The reddit fixture: 3,000 posts of 568 accounts; 261 accounts have 1 post, 101 have 2, 307 have >= 2.
REDDIT_ACCOUNTS = 568


def col(part, name: str) -> list:
    """A column as a list, read through Arrow (iterating a datasets Column is row by row and slow)."""
    return part.select_columns([name])[:][name]


def post_ids(part) -> list[str]:
    return col(part, "post_id")


def accounts(part) -> set[str]:
    return set(col(part, "account_id"))


def round_half_up(x: float) -> int:
    return int(np.floor(x + 0.5))


# ----------------------------------------------------------------------------------------------- closed-set


def test_closed_set_cuts_every_account_by_the_documented_formula(reddit_posts):
    result = split(reddit_posts, "closed-set", seed=0)
    sizes = Counter(col(reddit_posts, "account_id"))
    cuttable = {a: n for a, n in sizes.items() if n >= 3}
    # Per account: val = test = max(1, round(0.1 n)); accounts with < 3 posts stay whole in train.
    expected_val = sum(max(1, round_half_up(0.1 * n)) for n in cuttable.values())
    assert len(cuttable) == 206 and expected_val == 336
    counts = result.manifest.counts
    assert (counts["train_posts"], counts["val_posts"], counts["test_posts"]) == (2328, 336, 336)
    assert counts["accounts_train_only"] == counts["accounts_too_few_posts"] == REDDIT_ACCOUNTS - 206
    assert counts["posts_of_accounts_too_few_posts"] == 261 + 2 * 101
    assert accounts(result.train) == set(sizes)  # every account is known in training
    assert accounts(result.val) == accounts(result.test) == set(cuttable)
    for account, n in Counter(col(result.test, "account_id")).items():
        assert n == max(1, round_half_up(0.1 * sizes[account]))
    parts = [set(post_ids(p)) for p in (result.train, result.val, result.test)]
    assert sum(map(len, parts)) == 3000 and set.union(*parts) == set(col(reddit_posts, "post_id"))


def test_closed_set_can_drop_accounts_too_small_to_cut(reddit_posts):
    result = split(reddit_posts, "closed-set", few_posts="drop", fractions=(0.8, 0.0, 0.2))
    sizes = Counter(col(reddit_posts, "account_id"))
    # With no val part an account needs 2 posts: the 261 single-post accounts are dropped.
    assert result.val is None
    assert result.manifest.counts["accounts_dropped"] == 261
    assert result.manifest.counts["posts_left_out"] == 261
    assert accounts(result.train) == {a for a, n in sizes.items() if n >= 2}
    assert result.test.num_rows == sum(max(1, round_half_up(0.2 * n)) for n in sizes.values() if n >= 2)


def test_closed_set_is_deterministic_per_seed_and_differs_across_seeds(reddit_posts):
    first, again = split(reddit_posts, "closed-set", seed=3), split(reddit_posts, "closed-set", seed=3)
    other = split(reddit_posts, "closed-set", seed=4)
    assert post_ids(first.test) == post_ids(again.test)
    assert post_ids(first.test) != post_ids(other.test)
    assert first.test.num_rows == other.test.num_rows  # the cut sizes depend only on the account sizes


def test_split_does_not_depend_on_row_order(reddit_posts):
    shuffled = reddit_posts.shuffle(seed=7)
    assert fingerprint(shuffled) == fingerprint(reddit_posts)
    a, b = split(reddit_posts, "closed-set", seed=1), split(shuffled, "closed-set", seed=1)
    assert a.manifest.assignment == b.manifest.assignment


@pytest.fixture(scope="module")
def reuters_posts():
    # The file lists all test texts first, so the whole (small) corpus is read to see both parts.
    return posts_from_records(canonical_sample("reuters", 5000))


def test_closed_set_uses_the_corpus_split_column(reuters_posts):
    result = split(reuters_posts, "closed-set", use_corpus_split=True)
    assert result.train.num_rows == result.test.num_rows == 2500 and result.val is None
    assert set(col(result.train, "split")) == {"train"} and set(col(result.test, "split")) == {"test"}
    assert len(accounts(result.train)) == len(accounts(result.test)) == 50
    assert result.manifest.counts["test_accounts_not_in_train"] == 0
    assert result.manifest.counts["posts_left_out_other_split_values"] == 0


def test_corpus_split_errors_name_the_missing_column_or_values(reddit_posts, enron_posts):
    with pytest.raises(SplitError, match="no 'split' column"):
        split(reddit_posts, "closed-set", use_corpus_split=True)
    with pytest.raises(SplitError, match="values present: LargeTrain"):
        split(enron_posts, "closed-set", use_corpus_split=True)
    with pytest.raises(SplitError, match="cannot be combined"):
        split(enron_posts, "closed-set", use_corpus_split=True, fractions=(0.5, 0.25, 0.25))


# ----------------------------------------------------------------------------------------------- open-world


def test_open_world_parts_are_author_disjoint_with_exact_sizes(reddit_posts):
    result = split(reddit_posts, "open-world", seed=0)
    train, val, test = (accounts(p) for p in (result.train, result.val, result.test))
    assert (len(train), len(val), len(test)) == (REDDIT_ACCOUNTS - 2 * 57, 57, 57)  # round(0.1 * 568) = 57
    assert not train & val and not train & test and not val & test
    assert result.train.num_rows + result.val.num_rows + result.test.num_rows == 3000
    assert result.manifest.counts["test_posts"] == result.test.num_rows
    assert result.manifest.assignment["test"] == sorted(test)


def test_open_world_min_posts_and_absolute_counts(reddit_posts):
    sizes = Counter(col(reddit_posts, "account_id"))
    result = split(reddit_posts, "open-world", min_posts=5, test_accounts=30, val_accounts=10, seed=2)
    assert len(accounts(result.test)) == 30 and len(accounts(result.val)) == 10
    assert min(sizes[a] for a in accounts(result.test) | accounts(result.val)) >= 5
    assert result.manifest.counts["accounts_below_min_posts_to_train"] == 453  # 115 accounts have >= 5 posts
    with pytest.raises(SplitError, match="only 115 are eligible"):
        split(reddit_posts, "open-world", min_posts=5, test_accounts=100, val_accounts=20)


def test_open_world_splits_by_person_when_known(reddit_posts):
    # Pair up accounts (in sorted order) into persons: 284 persons of 2 accounts each.
    person_of = {a: f"p{i // 2}" for i, a in enumerate(sorted(set(col(reddit_posts, "account_id"))))}
    posts = reddit_posts.add_column("person_id", [person_of[a] for a in col(reddit_posts, "account_id")])
    result = split(posts, "open-world", seed=5)
    persons = [set(col(p, "person_id")) for p in (result.train, result.val, result.test)]
    assert not persons[0] & persons[1] and not persons[0] & persons[2] and not persons[1] & persons[2]
    assert [len(p) for p in persons] == [284 - 2 * 28, 28, 28]  # round(0.1 * 284) = 28 persons
    assert result.manifest.params["unit"] == "person"
    assert result.manifest.counts["test_accounts"] == 56


# ----------------------------------------------------------------------------------------------------- sybil


def test_sybil_by_time_puts_earlier_posts_in_the_first_pseudo_account(reddit_posts):
    result = split(reddit_posts, "sybil", seed=0)
    test = result.test
    assert result.train is None and result.val is None
    counts = result.manifest.counts
    assert (counts["accounts_kept"], counts["accounts_left_out_too_few_posts"]) == (307, 261)
    assert test.num_rows == 3000 - 261 and counts["test_accounts"] == 2 * 307
    times: dict[str, list[datetime]] = {}
    for pseudo, created in zip(col(test, "account_id"), col(test, "created_at"), strict=True):
        times.setdefault(pseudo, []).append(created)
    sizes = Counter(col(reddit_posts, "account_id"))
    for account in {p.rsplit("#", 1)[0] for p in times}:
        first, second = times[f"{account}#0"], times[f"{account}#1"]
        assert max(first) <= min(second)
        assert len(first) - len(second) in (0, 1) and len(first) + len(second) == sizes[account]
    assert all(
        p.rsplit("#", 1)[0] == person
        for p, person in zip(col(test, "account_id"), col(test, "person_id"), strict=True)
    )


def test_sybil_by_time_breaks_ties_by_post_id():
    same = datetime(2020, 1, 1, tzinfo=UTC)
    records = [{"post_id": pid, "account_id": "a", "text": "t", "created_at": same} for pid in "dbca"]
    test = split(posts_from_records(records), "sybil").test
    pseudo = dict(zip(col(test, "post_id"), col(test, "account_id"), strict=True))
    assert pseudo == {"a": "a#0", "b": "a#0", "c": "a#1", "d": "a#1"}


def test_sybil_at_random_is_seeded_and_sizes_differ_by_at_most_one(enron_posts):
    first = split(enron_posts, "sybil", by="random", k=3, seed=1)
    again = split(enron_posts, "sybil", by="random", k=3, seed=1)
    other = split(enron_posts, "sybil", by="random", k=3, seed=2)
    assert col(first.test, "account_id") == col(again.test, "account_id")
    assert col(first.test, "account_id") != col(other.test, "account_id")
    sizes = Counter(col(first.test, "account_id"))
    per_account: dict[str, list[int]] = {}
    for pseudo, n in sizes.items():
        per_account.setdefault(pseudo.rsplit("#", 1)[0], []).append(n)
    assert all(len(v) == 3 and max(v) - min(v) <= 1 for v in per_account.values())
    originals = Counter(col(enron_posts, "account_id"))
    assert first.manifest.counts["accounts_left_out_too_few_posts"] == sum(
        1 for n in originals.values() if n < 3
    )


def test_sybil_keeps_a_known_person_and_needs_time_for_by_time(enron_posts):
    posts = enron_posts.add_column(
        "person_id", ["boss" if i < 10 else None for i in range(enron_posts.num_rows)]
    )
    test = split(posts, "sybil", by="random", min_posts=5).test
    person = dict(zip(col(test, "post_id"), col(test, "person_id"), strict=True))
    account = dict(zip(col(posts, "post_id"), col(posts, "account_id"), strict=True))
    assert all(person[p] == "boss" for p in col(posts, "post_id")[:10] if p in person)
    assert all(person[p] == account[p] for p in col(posts, "post_id")[10:] if p in person)
    with pytest.raises(SplitError, match="by='random'"):
        split(enron_posts, "sybil")


def test_sybil_of_an_open_world_test_part(reddit_posts):
    held_out = split(reddit_posts, "open-world", seed=0).test
    sybil = split(held_out, "sybil").test
    assert set(col(sybil, "person_id")) <= accounts(held_out)
    assert set(col(sybil, "post_id")) <= set(col(held_out, "post_id"))


# ----------------------------------------------------------------------------------------------- cross-forum


def test_cross_forum_named_and_seeded(reddit_posts):
    forums = Counter(col(reddit_posts, "forum"))
    named = split(reddit_posts, "cross-forum", test_forums=["r/GradSchool", "r/AskAcademia"])
    assert named.test.num_rows == 305 + 373 and named.train.num_rows == 3000 - 678
    assert set(col(named.train, "forum")) == set(forums) - {"r/GradSchool", "r/AskAcademia"}
    seeded = split(reddit_posts, "cross-forum", seed=0)
    test_forums = seeded.manifest.params["test_forums"]
    assert len(test_forums) == 4 and seeded.test.num_rows == sum(forums[f] for f in test_forums)
    assert split(reddit_posts, "cross-forum", seed=1).manifest.params["test_forums"] != test_forums
    shared = accounts(seeded.train) & accounts(seeded.test)
    assert seeded.manifest.counts["accounts_in_train_and_test"] == len(shared)


def test_cross_forum_errors(reddit_posts, enron_posts):
    with pytest.raises(SplitError, match="known: r/ApplyingToCollege, r/AskAcademia"):
        split(reddit_posts, "cross-forum", test_forums=["r/Nope"])
    with pytest.raises(SplitError, match="no 'forum' column"):
        split(enron_posts, "cross-forum")
    with pytest.raises(SplitError, match="more than one part"):
        split(reddit_posts, "cross-forum", train_forums=["r/College"], test_forums=["r/College"])


# ------------------------------------------------------------------------------------------------- manifests


@pytest.mark.parametrize(
    ("protocol", "params"),
    [("closed-set", {}), ("open-world", {"min_posts": 3}), ("sybil", {"k": 3}), ("cross-forum", {})],
)
def test_manifest_round_trip_reproduces_the_split(reddit_posts, tmp_path, protocol, params):
    made = split(reddit_posts, protocol, seed=11, **params)
    path = made.manifest.save(tmp_path / "split.json")
    loaded = SplitManifest.load(path)
    assert loaded == made.manifest
    redone = loaded.apply(reddit_posts)
    assert made.parts().keys() == redone.parts().keys()
    for name, part in made.parts().items():
        assert post_ids(redone.parts()[name]) == post_ids(part)
        assert col(redone.parts()[name], "account_id") == col(part, "account_id")
    # The manifest finds the same posts in a reordered copy of the data.
    reordered = loaded.apply(reddit_posts.shuffle(seed=0))
    assert sorted(post_ids(reordered.parts()["test"])) == sorted(post_ids(made.parts()["test"]))


def test_manifest_refuses_other_data(reddit_posts, enron_posts):
    manifest = split(reddit_posts, "open-world").manifest
    with pytest.raises(SplitError, match="do not match the split manifest"):
        manifest.apply(enron_posts)
    with pytest.raises(SplitError, match="do not match the split manifest"):
        manifest.apply(reddit_posts.select(range(2999)))


def test_unknown_protocol_and_parameters_list_the_valid_ones(reddit_posts):
    with pytest.raises(SplitError, match="valid: closed-set, open-world, sybil, cross-forum"):
        split(reddit_posts, "leave-one-out")
    with pytest.raises(SplitError, match="unknown parameter.* k for open-world; valid: fractions"):
        split(reddit_posts, "open-world", k=2)
    with pytest.raises(SplitError, match="sum to 1"):
        split(reddit_posts, "open-world", fractions=(0.8, 0.1, 0.2))
