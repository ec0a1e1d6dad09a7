"""clean(): each step optional and counted, filters drop and count, the result keeps order and schema."""

from __future__ import annotations

import collections

import datasets
import pytest

from authorid.data.clean import TEXT_STEPS, CleanConfig, EmptyCorpusError, clean
from authorid.data.report import IngestReport
from authorid.schema import posts_from_records

# One post per behaviour; ids say what each shows. Account "a" has most, "b" two, "c" one.
RECORDS = [
    {"post_id": "html", "account_id": "a", "text": "Tom &amp; Jerry"},
    {"post_id": "quote", "account_id": "a", "text": "> you said so\nmine  here"},
    {"post_id": "url", "account_id": "a", "text": "see https://x.org/a."},
    {"post_id": "email", "account_id": "a", "text": "mail me: a.b@c.com"},
    {"post_id": "mention", "account_id": "a", "text": "@bob and u/carol hi"},
    {"post_id": "retweet", "account_id": "a", "text": "RT @bob: hello"},
    {"post_id": "x-dup", "account_id": "a", "text": "Tom & Jerry"},  # sorts after "html"
    {"post_id": "blank", "account_id": "a", "text": " \n "},
    {"post_id": "nfd", "account_id": "a", "text": "cafe\u0301 time"},
    {"post_id": "short", "account_id": "a", "text": "ok"},
    {"post_id": "b1", "account_id": "b", "text": "Tom & Jerry"},
    {"post_id": "b2", "account_id": "b", "text": "solo post"},
    {"post_id": "c1", "account_id": "c", "text": "lonely post"},
]

CLEANED = {
    "html": "Tom & Jerry",
    "quote": "mine here",
    "url": "see <URL>.",
    "email": "mail me: <EMAIL>",
    "mention": "<MENTION> and <USER> hi",
    "nfd": "caf\u00e9 time",
    "short": "ok",
    "b1": "Tom & Jerry",
    "b2": "solo post",
    "c1": "lonely post",
}

# For each transform: the post it changes and that post's text when only this transform is off.
TURNED_OFF = {
    "unescape_html": ("html", "Tom &amp; Jerry"),
    "normalize_unicode": ("nfd", "cafe\u0301 time"),
    "strip_quotes": ("quote", "> you said so\nmine here"),
    "mask_urls": ("url", "see https://x.org/a."),
    "mask_emails": ("email", "mail me: a.b@c.com"),
    "mask_mentions": ("mention", "@bob and u/carol hi"),
    "normalize_whitespace": ("quote", "mine  here"),
}


@pytest.fixture(scope="module")
def posts() -> datasets.Dataset:
    return posts_from_records(RECORDS)


def texts_by_id(ds: datasets.Dataset) -> dict[str, str]:
    return dict(zip(ds["post_id"], ds["text"], strict=True))


def test_defaults_clean_every_text_and_count_exactly(posts):
    out, report = clean(posts)
    assert texts_by_id(out) == CLEANED
    assert report.changed == {
        "html_unescaped": 1,
        "unicode_normalized": 1,
        "quotes_stripped": 1,
        "urls_masked": 1,
        "emails_masked": 1,
        "mentions_masked": 2,  # the retweet's @bob too: transforms run on every post, filters after
        "whitespace_normalized": 2,
    }
    assert report.dropped == {"retweet": 1, "empty": 1, "duplicate_in_account": 1}
    assert (report.posts_out, report.accounts_out) == (10, 3)


def test_all_filters_count_exactly(posts):
    out, report = clean(posts, min_chars=3, min_posts_per_account=2, max_posts_per_account=3)
    assert report.dropped == {
        "retweet": 1,
        "empty": 1,
        "too_short": 1,
        "duplicate_in_account": 1,
        "account_below_min_posts": 1,  # "c"
        "over_cap_per_account": 3,  # "a" keeps 3 of html, quote, url, email, mention, nfd
    }
    assert len(posts) == report.posts_out + sum(report.dropped.values())
    assert collections.Counter(out["account_id"]) == {"a": 3, "b": 2}
    assert (report.posts_out, report.accounts_out) == (5, 2)


@pytest.mark.parametrize("field", [field for field, _, _ in TEXT_STEPS])
def test_each_transform_can_be_turned_off(posts, field):
    report_key = next(key for f, key, _ in TEXT_STEPS if f == field)
    post_id, expected = TURNED_OFF[field]
    out, report = clean(posts, **{field: False})
    assert report_key not in report.changed
    assert texts_by_id(out)[post_id] == expected


def test_filters_can_be_turned_off(posts):
    out, report = clean(posts, drop_retweets=False, dedupe_within_account=False)
    assert report.dropped == {"empty": 1}
    assert texts_by_id(out)["retweet"] == "RT <MENTION>: hello"
    assert texts_by_id(out)["x-dup"] == "Tom & Jerry"


def test_dedupe_compares_cleaned_texts_within_one_account_and_keeps_the_lowest_post_id_of_undated_posts(
    posts,
):
    out, _ = clean(posts)
    ids = out["post_id"]
    assert "html" in ids and "x-dup" not in ids  # "Tom &amp; Jerry" and "Tom & Jerry" are equal once cleaned
    assert "b1" in ids  # the same text in another account is no duplicate


def test_min_posts_per_account_drops_whole_accounts(posts):
    out, report = clean(posts, min_posts_per_account=3)
    assert report.dropped["account_below_min_posts"] == 3  # b (2 posts) and c (1)
    assert set(out["account_id"]) == {"a"}


def test_order_and_columns_are_kept(reddit_posts):
    out, _ = clean(reddit_posts)
    assert out.column_names == reddit_posts.column_names
    assert out.features == reddit_posts.features
    position = {post_id: i for i, post_id in enumerate(reddit_posts["post_id"])}
    kept = [position[p] for p in out["post_id"]]
    assert kept == sorted(kept)


def test_reddit_sample_counts_add_up(reddit_posts):
    out, report = clean(reddit_posts)
    assert len(reddit_posts) == report.posts_out + sum(report.dropped.values()) == len(out) + 23
    assert report.dropped == {"retweet": 0, "empty": 2, "duplicate_in_account": 21}
    assert report.changed == {
        "html_unescaped": 27,
        "unicode_normalized": 0,
        "quotes_stripped": 58,
        "urls_masked": 53,
        "emails_masked": 0,
        "mentions_masked": 7,
        "whitespace_normalized": 497,
    }
    assert report.accounts_out == len(set(out["account_id"])) == 568


def test_cleaning_twice_changes_nothing_more(reddit_posts):
    once, _ = clean(reddit_posts)
    twice, report = clean(once)
    assert twice["text"] == once["text"]
    assert sum(report.changed.values()) == 0 and sum(report.dropped.values()) == 0


CAP_ONLY = {field: False for field, _, _ in TEXT_STEPS} | {"dedupe_within_account": False}


def test_seeded_cap_is_deterministic_and_bounded(reddit_posts):
    first, report = clean(reddit_posts, max_posts_per_account=2, seed=0, **CAP_ONLY)
    again, _ = clean(reddit_posts, max_posts_per_account=2, seed=0, **CAP_ONLY)
    other, _ = clean(reddit_posts, max_posts_per_account=2, seed=1, **CAP_ONLY)
    assert first["post_id"] == again["post_id"]
    assert first["post_id"] != other["post_id"]
    per_account_in = collections.Counter(reddit_posts["account_id"])
    per_account_out = collections.Counter(first["account_id"])
    assert per_account_out == {a: min(n, 2) for a, n in per_account_in.items()}
    assert report.dropped["over_cap_per_account"] == sum(max(0, n - 2) for n in per_account_in.values())


def test_empty_result_names_the_filter_to_relax(posts):
    with pytest.raises(EmptyCorpusError, match="'account_below_min_posts'.*lower min_posts_per_account"):
        clean(posts, min_posts_per_account=100)
    with pytest.raises(EmptyCorpusError, match="'too_short'.*lower min_chars"):
        clean(posts, min_chars=1000)
    blank = posts_from_records([{"account_id": "a", "text": " "}, {"account_id": "b", "text": "&#x200B;"}])
    with pytest.raises(EmptyCorpusError, match="'empty'"):
        clean(blank)
    assert issubclass(EmptyCorpusError, ValueError)


def test_unknown_option_lists_the_valid_ones(posts):
    with pytest.raises(ValueError, match="unknown cleaning option.*min_chars_per_post.*valid: unescape_html"):
        clean(posts, min_chars_per_post=5)


def test_invalid_values_are_rejected():
    with pytest.raises(ValueError, match="max_posts_per_account"):
        CleanConfig(max_posts_per_account=0)


def test_counts_add_to_a_given_report(posts):
    report = IngestReport(read={"records": 13})
    _, returned = clean(posts, CleanConfig(mask_urls=False), report=report, min_chars=3)
    assert returned is report
    assert report.read == {"records": 13} and report.dropped["too_short"] == 1
    assert "urls_masked" not in report.changed


def test_progress_flag_leaves_the_global_setting_alone(posts):
    datasets.disable_progress_bars()
    try:
        clean(posts, progress=True)
        assert datasets.are_progress_bars_disabled()
    finally:
        datasets.enable_progress_bars()
    clean(posts, progress=False)
    assert not datasets.are_progress_bars_disabled()
