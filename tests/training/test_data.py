"""Which posts a run trains, validates and calibrates on (`authorid.training.data.prepare_data`)."""

from __future__ import annotations

from collections import Counter

import pytest

from authorid.config import ConfigError
from authorid.training.arguments import DataArgs, resolve_config
from authorid.training.data import prepare_data
from authorid.training.errors import TrainingDataError


def test_validation_accounts_meet_the_floor_and_the_calibration_reads_all_their_posts(reddit_posts):
    sizes = Counter(reddit_posts["account_id"])
    args = DataArgs(min_posts=2, val_accounts=6, val_min_posts=12, val_posts_per_account=4)
    prepared = prepare_data(reddit_posts, args, seed=0)

    validating = set(prepared.val["account_id"])
    assert len(validating) == 6
    assert min(sizes[a] for a in validating) >= 12
    # Validation reads a seeded 4 posts of each; the export's calibration reads every post of the same accounts.
    assert set(Counter(prepared.val["account_id"]).values()) == {4}
    assert Counter(prepared.calibration_posts["account_id"]) == {a: sizes[a] for a in validating}
    # Everything else with >= min_posts trains, the large accounts that did not validate included.
    training = set(prepared.train["account_id"])
    assert training == {a for a, n in sizes.items() if n >= 2} - validating
    assert any(sizes[a] >= 12 for a in training)


def test_without_a_floor_or_a_cap_validation_and_calibration_read_the_same_posts(reddit_posts):
    prepared = prepare_data(
        reddit_posts, DataArgs(min_posts=2, val_accounts=6, val_posts_per_account=None), seed=0
    )
    assert prepared.calibration_posts is prepared.val
    assert min(Counter(prepared.val["account_id"]).values()) >= 2


def test_a_floor_no_account_reaches_is_one_line(reddit_posts):
    largest = max(Counter(reddit_posts["account_id"]).values())
    with pytest.raises(TrainingDataError) as err:
        prepare_data(reddit_posts, DataArgs(min_posts=2, val_min_posts=largest + 1), seed=0)
    assert str(err.value) == (
        f"only 0 accounts have >= {largest + 1} posts (data.val_min_posts): too few to validate on;"
        " lower --data.val_min_posts"
    )


def test_a_floor_below_min_posts_is_refused():
    with pytest.raises(ConfigError, match=r"data.val_min_posts must be >= data.min_posts \(4\), got 2"):
        resolve_config(overrides={"data.min_posts": 4, "data.val_min_posts": 2})


def test_the_ngram_preset_validates_on_large_accounts():
    cfg = resolve_config(preset="ngram")
    assert (cfg.data.val_accounts, cfg.data.val_min_posts, cfg.data.val_posts_per_account) == (400, 20, 16)


def test_asking_for_more_validation_accounts_than_a_fifth_says_the_cap_holds(reddit_posts, caplog):
    # stop 38: `data.val_accounts 1000` on Reddit validated on 777 and advised "set --data.val_accounts to
    # choose", though no value passes the cap
    sizes = Counter(reddit_posts["account_id"])
    eligible = sum(1 for n in sizes.values() if n >= 12)
    with caplog.at_level("WARNING", logger="authorid.training.data"):
        prepared = prepare_data(
            reddit_posts, DataArgs(min_posts=2, val_accounts=10_000, val_min_posts=12), seed=0
        )
    assert len(set(prepared.val["account_id"])) == eligible // 5
    assert caplog.messages == [
        f"validating on {eligible // 5} of the {eligible} accounts with >= 12 posts, not data.val_accounts 10000:"
        " at most a fifth of them validate, so that the rest train (lower --data.val_min_posts for more"
        " candidates)"
    ]


def test_an_attribution_run_names_the_corpus_it_read_not_the_part_its_split_column_left():
    """Audit 12: on C50 the card's fingerprint was the train part's, not the corpus' (`evaluate`'s)."""
    from samples import canonical_sample

    from authorid.data.splits.manifest import fingerprint
    from authorid.schema import posts_from_records

    rows = [
        r for r in canonical_sample("reuters", None) if r["account_id"] in {"AaronPressman", "AlanCrosby"}
    ]
    posts = posts_from_records(rows)
    assert {r["split"] for r in rows} == {"train", "test"}
    prepared = prepare_data(posts, DataArgs(task="attribution"), seed=0)
    assert prepared.fingerprint == fingerprint(posts)
    assert prepared.manifests["corpus-split"]["counts"]["test_posts"] == 100
    assert set(prepared.train["post_id"]) | set(prepared.val["post_id"]) == {
        r["post_id"] for r in rows if r["split"] == "train"
    }
