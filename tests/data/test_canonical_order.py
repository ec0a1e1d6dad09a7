"""Same posts, same answer: what cleaning keeps and what a protocol draws follow the posts, not the file's row
order (audit 15: a shuffled copy of a corpus kept other post ids, and evaluate's episodes moved with it)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from authorid.data.arrow import canonical_order
from authorid.data.clean import clean
from authorid.evaluation.protocols.base import select_accounts
from authorid.schema import posts_from_records


def shuffled(dataset, seed: int = 3):
    return dataset.select(np.random.default_rng(seed).permutation(len(dataset)))


def test_canonical_order_is_by_account_then_date_then_post_id_undated_last():
    table = pa.table(
        {
            "account_id": ["b", "a", "a", "a", "b"],
            "created_at": ["2020-01-02", None, "2020-01-03", "2020-01-01", "2020-01-01"],
            "post_id": ["p1", "p2", "p3", "p4", "p5"],
        }
    )
    assert canonical_order(table).tolist() == [3, 2, 1, 4, 0]  # a: p4, p3, then undated p2; b: p5, p1
    assert canonical_order(table.select(["account_id", "post_id"])).tolist() == [1, 2, 3, 0, 4]


def test_a_repeated_post_keeps_its_oldest_copy_whatever_the_order():
    records = [
        {"post_id": "z9", "account_id": "a", "text": "same words", "created_at": "2021-03-01T00:00:00Z"},
        {"post_id": "b2", "account_id": "a", "text": "other words", "created_at": "2021-04-01T00:00:00Z"},
        {"post_id": "c3", "account_id": "a", "text": "same words", "created_at": "2021-05-01T00:00:00Z"},
    ]
    for order in (records, records[::-1]):
        out, report = clean(posts_from_records(order))
        assert sorted(out["post_id"]) == ["b2", "z9"]  # z9 is the older copy, though its id sorts last
        assert report.dropped["duplicate_in_account"] == 1


def test_cleaning_a_shuffled_corpus_keeps_the_same_posts(reddit_posts):
    for options in ({}, {"max_posts_per_account": 3, "seed": 1}):
        kept, _ = clean(reddit_posts, **options)
        again, _ = clean(shuffled(reddit_posts), **options)
        assert sorted(again["post_id"]) == sorted(kept["post_id"])


def test_a_protocol_reads_a_shuffled_corpus_in_the_same_order(reddit_posts):
    chosen = sorted(set(reddit_posts["account_id"]))[:5]
    first = select_accounts(reddit_posts, chosen)
    again = select_accounts(shuffled(reddit_posts), chosen)
    assert again["post_id"] == first["post_id"] and len(first) > 5


def test_what_a_cap_keeps_of_an_account_depends_on_its_own_posts_alone():
    # the cap's numbers were drawn in sequence: one post more in another account (even one another filter
    # drops) re-drew every later account's sample (the review of audit 15)
    posts_of_b = [
        {"post_id": f"b{i:02d}", "account_id": "b", "text": f"post number {i} of b"} for i in range(20)
    ]
    alone, _ = clean(posts_from_records(posts_of_b), max_posts_per_account=5, seed=0)
    for extra in ("a long enough post of a", "x"):  # the second is too short: dropped by min_chars
        records = [{"post_id": "a00", "account_id": "a", "text": extra}, *posts_of_b]
        kept, _ = clean(posts_from_records(records), max_posts_per_account=5, min_chars=2, seed=0)
        assert [p for p, a in zip(kept["post_id"], kept["account_id"], strict=True) if a == "b"] == alone[
            "post_id"
        ]
