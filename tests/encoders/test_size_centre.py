"""The centre by post count (`authorid.encoders.size_centre`): the binning and the interpolation by hand, the
floor of accounts behind a knot, sums that add up over shards, and, on real Reddit accounts embedded together
at two sizes, different people's cosines that no longer drift with size."""

from __future__ import annotations

import numpy as np
import pytest

from authorid.encoders.ngram import summed_counts
from authorid.encoders.size_centre import KNOTS, MIN_KNOT_GROUPS, CentreSums, SizeCentre, hat_weights


def test_an_account_is_binned_between_the_powers_of_two_around_its_post_count():
    weights = hat_weights(KNOTS, np.array([1, 2, 12, 0, 10**6]))
    lower = [int(np.flatnonzero(row)[0]) for row in weights]
    upper = [int(np.flatnonzero(row)[-1]) for row in weights]
    np.testing.assert_array_equal(lower, [0, 1, 3, 0, 16])  # 0 posts read as 1; 10**6 as the last knot
    np.testing.assert_array_equal(upper, [0, 1, 4, 0, 16])
    # log2(12) = 3.585: 0.415 of it to the knot at 8 posts, 0.585 to the one at 16
    np.testing.assert_allclose(weights[2, [3, 4]], [4 - np.log2(12), np.log2(12) - 3], atol=1e-6)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-6)


def test_the_centre_is_interpolated_in_log2_posts_between_knots_and_clamped_beyond():
    centre = SizeCentre([0.0, 2.0], [[0.0, 0.0], [4.0, 8.0]])  # at 1 post and at 4 posts
    np.testing.assert_allclose(
        centre.rows(np.array([1, 2, 4, 3, 100])),
        [[0, 0], [2, 4], [4, 8], [4 * np.log2(3) / 2, 8 * np.log2(3) / 2], [4, 8]],
        atol=1e-6,
    )
    rows = np.ones((2, 2), dtype=np.float32)
    centre.subtract_from(rows, np.array([1, 2]))
    np.testing.assert_allclose(rows, [[1, 1], [-1, -3]])
    with pytest.raises(ValueError, match="ascending"):
        SizeCentre([1.0, 0.0], np.zeros((2, 2)))


def test_knots_need_enough_accounts_else_the_plain_mean():
    rng = np.random.default_rng(0)
    one = rng.normal(size=(MIN_KNOT_GROUPS, 3)) + [5, 0, 0]
    eight = rng.normal(size=(MIN_KNOT_GROUPS, 3)) + [0, 5, 0]
    rows, sizes = np.vstack([one, eight]), np.repeat([1, 8], MIN_KNOT_GROUPS)
    centre = CentreSums(3).add(rows, sizes, np.ones(len(rows), dtype=bool)).centre()
    np.testing.assert_array_equal(centre.positions, [0.0, 3.0])
    np.testing.assert_allclose(centre.means, [one.mean(0), eight.mean(0)], atol=1e-6)
    # one account fewer at 8 posts: only one knot has enough accounts, so one plain mean of all of them
    fewer = CentreSums(3).add(rows[:-1], sizes[:-1], np.ones(len(rows) - 1, dtype=bool)).centre()
    assert fewer.is_constant
    np.testing.assert_allclose(fewer.means[0], rows[:-1].mean(0), atol=1e-6)
    # rows without text count for nothing
    has_text = np.r_[np.ones(len(rows) - 1, dtype=bool), False]
    assert CentreSums(3).add(rows, sizes, has_text).count == len(rows) - 1


def test_sums_of_shards_merge_into_the_sums_of_the_whole_and_the_mean_is_exact():
    rng = np.random.default_rng(1)
    rows, sizes = rng.normal(size=(5000, 6)), rng.integers(1, 300, size=5000)
    has_text = rng.random(5000) > 0.05
    whole = CentreSums(6).add(rows, sizes, has_text)
    merged = CentreSums(6)
    for part in np.array_split(np.arange(5000), 7):
        merged.merge(CentreSums(6).add(rows[part], sizes[part], has_text[part]))
    # each block is summed in float32 (then added in float64): equal to float32 rounding
    np.testing.assert_allclose(merged.totals, whole.totals, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(merged.weights, whole.weights, rtol=1e-6)
    assert merged.count == whole.count == int(has_text.sum())
    np.testing.assert_allclose(merged.centre().means, whole.centre().means, atol=1e-6)
    np.testing.assert_allclose(whole.mean(), rows[has_text].mean(0), atol=1e-6)


def _different_person_medians(vectors: np.ndarray, n: int) -> dict[str, float]:
    """Median cosine of different accounts, per pairing of sizes: rows [0, n) one post, [n, 2n) eight posts."""
    out = {}
    off_diagonal = ~np.eye(n, dtype=bool)
    for name, (a, b) in {"1x1": (0, 0), "8x8": (n, n), "1x8": (0, n)}.items():
        cosines = vectors[a : a + n] @ vectors[b : b + n].T
        out[name] = float(np.median(cosines[off_diagonal]))
    return out


def test_real_accounts_embedded_together_at_two_sizes_no_longer_drift(reddit_posts):
    """Issue 15's drift within one corpus: 53 Reddit accounts, each taken at its first post and at its first
    eight, embedded together with `style`. Centred on one mean, two different people's median cosine depends on
    the pairing of sizes; centred by post count, it hardly does."""
    from authorid.model import load_model

    texts_of: dict[str, list[str]] = {}
    for account, text in zip(reddit_posts["account_id"], reddit_posts["text"], strict=True):
        texts_of.setdefault(account, []).append(text)
    accounts = [a for a, texts in texts_of.items() if len(texts) >= 10]
    n = len(accounts)
    texts = [texts_of[a][0] for a in accounts] + [t for a in accounts for t in texts_of[a][:8]]
    groups = np.r_[np.arange(n), np.repeat(np.arange(n, 2 * n), 8)]
    encoder = load_model("style").encoder
    by_size = _different_person_medians(encoder.embed_groups(texts, groups, 2 * n), n)
    raw, has_text = encoder.raw_paths(summed_counts(encoder.counts(texts), groups, 2 * n))
    one_mean = SizeCentre.constant(raw[has_text].mean(0))
    plain = _different_person_medians(encoder.vectors_of(raw, has_text, one_mean, np.bincount(groups)), n)
    spread = {name: max(m.values()) - min(m.values()) for name, m in (("by size", by_size), ("plain", plain))}
    assert n == 53
    assert spread["plain"] > 0.04, plain
    assert spread["by size"] < spread["plain"] / 3, (by_size, plain)
