"""Error rates with Wilson intervals: exact values, coverage by a seeded simulation, the small-sample warning."""

import numpy as np
import pytest

from authorid.metrics.rates import (
    format_rate,
    implied_precision,
    rate_with_interval,
    small_sample_warning,
)


def test_zero_of_twenty_is_not_zero_percent_for_sure():
    # The new-user case of issue 15: FPR 0.000 from 20 negative pairs. Wilson's upper bound:
    # z^2 / (n + z^2) with z = 1.959964 -> 3.841459 / 23.841459 = 0.161125.
    rate = rate_with_interval(0, 20)
    assert rate["rate"] == 0.0 and rate["n"] == 20
    assert rate["interval"] == pytest.approx([0.0, 0.161125], abs=1e-6)
    assert format_rate(rate) == "0.000 [0.000, 0.161] of 20"


def test_no_pairs_gives_no_rate():
    assert rate_with_interval(0, 0) == {"rate": None, "interval": None, "n": 0}
    with pytest.raises(ValueError, match="between 0 and n"):
        rate_with_interval(5, 3)


def test_wilson_intervals_cover_the_true_rate_about_95_percent_of_the_time():
    rng = np.random.default_rng(7)
    for true_rate, n in ((0.02, 200), (0.15, 60), (0.5, 30)):
        hits = rng.binomial(n, true_rate, size=2000)
        covered = [lo <= true_rate <= hi for lo, hi in (rate_with_interval(h, n)["interval"] for h in hits)]
        assert 0.92 <= np.mean(covered) <= 0.985, (true_rate, n, np.mean(covered))


def test_implied_precision_at_a_forum_prior():
    # TPR 0.8, FPR 0.01, one pair in 100 same-person: 0.008 / (0.008 + 0.0099)
    assert implied_precision(0.8, 0.01, 0.01) == pytest.approx(0.446927, abs=1e-6)
    assert implied_precision(0.0, 0.0, 0.01) is None


def test_small_sample_warning_names_the_counts():
    few = small_sample_warning(rate_with_interval(0, 20), rate_with_interval(16, 20))
    assert few is not None and "from 20 different-person pairs" in few and "0.161" in few
    assert small_sample_warning(rate_with_interval(30, 3000), rate_with_interval(160, 200)) is None


def test_pairs_sharing_persons_get_an_interval_that_covers_as_it_says():
    """Audit 14: a Wilson interval over every pair of ~1,000 accounts treated 497,004 pairs as independent and
    was 2.3 times too narrow. Seeded simulation: 300 accounts, each with its own pull (some look like many
    others), every pair of two flagged when the two pulls and the pair's own noise add past a cut. Over 200
    draws of accounts, the interval over pairs sharing persons covers the population's rate about 95% of the
    time; a Wilson interval over the 44,850 pairs as independent trials covers it a quarter of the time."""
    from authorid.metrics.rates import rate_over_pairs

    rng = np.random.default_rng(0)
    first, second = np.triu_indices(300, k=1)

    def draw():
        pull = rng.normal(size=300)
        return pull[first] + pull[second] + rng.normal(size=first.size) > 4.0

    truth = np.mean([draw().mean() for _ in range(400)])
    wilson = robust = 0
    for _ in range(200):
        flagged = draw()
        low, high = rate_with_interval(int(flagged.sum()), flagged.size)["interval"]
        wilson += low <= truth <= high
        low, high = rate_over_pairs(flagged, first, second)["interval"]
        robust += low <= truth <= high
    assert (wilson, robust) == (46, 185)  # 0.23 and 0.925 of the draws


def test_independent_pairs_keep_the_wilson_interval():
    from authorid.metrics.rates import rate_over_pairs

    flags = np.zeros(400, dtype=bool)
    flags[:37] = True
    persons = np.arange(800)  # no person in two pairs
    over = rate_over_pairs(flags, persons[:400], persons[400:])
    assert over == rate_with_interval(37, 400) | {"effective_n": 400}
    same_person = rate_over_pairs(flags, persons[:400], persons[:400])  # one pair per person (a TPR)
    assert same_person["interval"] == rate_with_interval(37, 400)["interval"]


def test_the_variance_over_pairs_is_the_sum_over_every_two_pairs_that_share_a_person():
    """Brute force: 15 persons of 2 accounts each (as `calibrate` cuts them), every pair of accounts, flags
    raised by each account's pull; the effective n is rate (1 - rate) over that variance."""
    from authorid.metrics.rates import rate_over_pairs

    rng = np.random.default_rng(3)
    person = np.repeat(np.arange(15), 2)
    first, second = np.triu_indices(30, k=1)
    pull = rng.normal(size=30)
    flags = pull[first] + pull[second] + rng.normal(size=first.size) > 1.5
    a, b = person[first], person[second]
    residual = flags - flags.mean()
    share = (a[:, None] == a) | (a[:, None] == b) | (b[:, None] == a) | (b[:, None] == b)
    variance = (residual[:, None] * residual[None, :] * share).sum() / flags.size**2
    expected = flags.mean() * (1 - flags.mean()) / variance
    assert expected < flags.size  # the pulls make pairs covary
    assert rate_over_pairs(flags, a, b)["effective_n"] == round(expected)
