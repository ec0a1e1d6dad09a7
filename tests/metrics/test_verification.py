"""PAN verification metrics: c@1, F1, F0.5u, Brier, EER and ECE by hand; AUC and Brier against sklearn."""

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss, roc_auc_score

from authorid.metrics import (
    brier_complement,
    brier_score,
    c_at_1,
    eer,
    expected_calibration_error,
    f1,
    f_05_u,
    overall,
    reliability_curve,
    roc_auc,
    verification_metrics,
)

# Five problems; 0.5 is a non-answer.
#   label  score  answer
#   1      0.9    same       correct (TP)
#   1      0.5    -          non-answer
#   0      0.2    different  correct (TN)
#   0      0.7    same       wrong (FP)
#   1      0.5    -          non-answer
LABELS = np.array([1, 1, 0, 0, 1])
SCORES = np.array([0.9, 0.5, 0.2, 0.7, 0.5])


def test_c_at_1_by_hand():
    # n_c = 2, n_u = 2, n = 5: (2 + 2 * 2/5) / 5 = 0.56
    assert c_at_1(SCORES, LABELS) == pytest.approx(0.56)


def test_f1_drops_non_answers():
    # answered: labels [1, 0, 0], answers [1, 0, 1] -> TP 1, FP 1, FN 0: 2 / (2 + 1) = 2/3
    assert f1(SCORES, LABELS) == pytest.approx(2 / 3)


def test_f_05_u_counts_non_answers_as_false_negatives():
    # TP 1, FP 1, FN 0, N_u 2: 1.25 / (1.25 + 0.25 * 2 + 1) = 5/11
    assert f_05_u(SCORES, LABELS) == pytest.approx(5 / 11)


def test_f_05_u_penalises_a_non_answer_on_a_negative_pair_too():
    # TP 1, N_u 1 (label 0): 1.25 / (1.25 + 0.25) = 5/6
    assert f_05_u(np.array([0.8, 0.5]), np.array([1, 0])) == pytest.approx(5 / 6)


def test_brier_by_hand_and_against_sklearn():
    # (0.1^2 + 0.5^2 + 0.2^2 + 0.7^2 + 0.5^2) / 5 = 1.04 / 5 = 0.208
    assert brier_score(SCORES, LABELS) == pytest.approx(0.208)
    assert brier_complement(SCORES, LABELS) == pytest.approx(0.792)
    assert brier_score(SCORES, LABELS) == pytest.approx(brier_score_loss(LABELS, SCORES))


def test_auc_by_hand_and_against_sklearn():
    # positives {0.9, 0.5, 0.5} vs negatives {0.2, 0.7}: 4 of 6 pairs ordered right
    assert roc_auc(SCORES, LABELS) == pytest.approx(2 / 3)
    rng = np.random.default_rng(1)
    labels, scores = rng.integers(0, 2, 200), rng.random(200)
    assert roc_auc(scores, labels) == pytest.approx(roc_auc_score(labels, scores))


def test_auc_accepts_scores_outside_the_unit_interval():
    assert roc_auc(np.array([-0.2, 0.3]), np.array([0, 1])) == 1.0


def test_overall_is_the_mean_of_the_five_pan_metrics():
    expected = (2 / 3 + 0.56 + 2 / 3 + 5 / 11 + 0.792) / 5
    assert overall(SCORES, LABELS) == pytest.approx(expected)


def test_verification_metrics_dict():
    metrics = verification_metrics(SCORES, LABELS)
    assert metrics["auc"] == pytest.approx(2 / 3)
    assert metrics["c@1"] == pytest.approx(0.56)
    assert metrics["f1"] == pytest.approx(2 / 3)
    assert metrics["f_05_u"] == pytest.approx(5 / 11)
    assert metrics["brier"] == pytest.approx(0.792)
    assert metrics["brier_score"] == pytest.approx(0.208)
    assert metrics["overall"] == pytest.approx((2 / 3 + 0.56 + 2 / 3 + 5 / 11 + 0.792) / 5)
    assert metrics["eer"] == pytest.approx(0.5)
    assert (metrics["n_pairs"], metrics["n_positive"], metrics["n_non_answers"]) == (5, 3, 2)


def test_all_non_answers():
    labels, scores = np.array([1, 0, 1, 0]), np.full(4, 0.5)
    metrics = verification_metrics(scores, labels)
    # c@1: n_c = 0 -> 0; F1: nothing answered -> 0; F0.5u: 0 / (0.25 * 4) = 0
    # brier: every error 0.5^2 -> 0.25, complement 0.75; AUC of a constant score 0.5
    assert (metrics["c@1"], metrics["f1"], metrics["f_05_u"]) == (0.0, 0.0, 0.0)
    assert metrics["brier"] == pytest.approx(0.75)
    assert metrics["auc"] == 0.5
    assert metrics["overall"] == pytest.approx((0.5 + 0.75) / 5)
    assert metrics["eer"] == 0.5


def test_eer_of_the_example():
    # ROC (fpr, tpr): (0,0) (0,1/3) (1/2,1/3) (1/2,1) (1,1); FPR - FNR changes sign between the 3rd and
    # 4th point, both at FPR 1/2 -> EER 1/2.
    assert eer(SCORES, LABELS) == pytest.approx(0.5)


def test_eer_interpolates_along_a_tied_segment():
    # labels [1,1,0,0], scores [0.8,0.4,0.4,0.1]: ROC (0,0) (0,.5) (.5,1) (1,1); FNR 1, .5, 0, 0.
    # Between (0,.5) [FPR - FNR = -.5] and (.5,1) [+.5] halfway: FPR = FNR = 0.25.
    assert eer(np.array([0.8, 0.4, 0.4, 0.1]), np.array([1, 1, 0, 0])) == pytest.approx(0.25)


def test_eer_of_a_perfect_and_a_constant_scorer():
    assert eer(np.array([0.1, 0.2, 0.8, 0.9]), np.array([0, 0, 1, 1])) == 0.0
    assert eer(np.array([0.5, 0.5]), np.array([1, 0])) == pytest.approx(0.5)


def test_ece_and_reliability_curve_by_hand():
    probs = np.array([0.1, 0.15, 0.3, 0.9, 0.95, 0.85])
    labels = np.array([0, 1, 0, 1, 1, 0])
    # 5 bins of width 0.2:
    #   [0, .2):  0.1, 0.15     -> conf .125, acc 1/2, gap .375, n 2
    #   [.2, .4): 0.3           -> conf .3,   acc 0,   gap .3,   n 1
    #   [.8, 1]:  .9, .95, .85  -> conf .9,   acc 2/3, gap .2333, n 3
    # ECE = (2 * .375 + .3 + 3 * (.9 - 2/3)) / 6 = 1.75 / 6
    assert expected_calibration_error(probs, labels, n_bins=5) == pytest.approx(1.75 / 6)
    curve = reliability_curve(probs, labels, n_bins=5)
    np.testing.assert_allclose(curve.bin_lower, [0.0, 0.2, 0.8])
    np.testing.assert_allclose(curve.bin_upper, [0.2, 0.4, 1.0])
    np.testing.assert_allclose(curve.mean_probability, [0.125, 0.3, 0.9])
    np.testing.assert_allclose(curve.fraction_positive, [0.5, 0.0, 2 / 3])
    assert curve.count.tolist() == [2, 1, 3]
    assert curve.to_dict()["count"] == [2, 1, 3]


def test_ece_of_calibrated_probabilities_and_of_probability_one():
    assert expected_calibration_error(np.full(4, 0.25), np.array([1, 0, 0, 0])) == 0.0
    curve = reliability_curve(np.array([1.0]), np.array([1]))
    assert curve.bin_lower.tolist() == [pytest.approx(14 / 15)]
    assert curve.bin_upper.tolist() == [1.0]


@pytest.mark.parametrize("metric", [roc_auc, eer, verification_metrics])
def test_one_class_only_raises(metric):
    with pytest.raises(ValueError, match="one class only"):
        metric(np.array([0.2, 0.9]), np.array([1, 1]))


@pytest.mark.parametrize(
    ("scores", "labels", "message"),
    [
        (np.array([0.2, 0.9]), np.array([1, 0, 1]), "2 entries but labels has 3"),
        (np.array([]), np.array([]), "empty"),
        (np.array([0.2, 1.2]), np.array([1, 0]), r"\[0, 1\]"),
        (np.array([0.2, np.nan]), np.array([1, 0]), "NaN"),
        (np.array([0.2, 0.9]), np.array([2, 0]), "0/1"),
    ],
)
@pytest.mark.parametrize("metric", [c_at_1, f1, f_05_u, brier_score, verification_metrics])
def test_bad_verification_input_raises(metric, scores, labels, message):
    with pytest.raises(ValueError, match=message):
        metric(scores, labels)


def test_bad_n_bins_raises():
    with pytest.raises(ValueError, match="n_bins"):
        expected_calibration_error(np.array([0.2]), np.array([1]), n_bins=0)


def _pan_loop_reference(scores, labels):
    """Problem-by-problem counts the way PAN's pan22 evaluator loops over them (c@1, F1, F0.5u)."""
    n_correct = n_unanswered = tp = fp = fn = 0
    for score, label in zip(scores, labels, strict=True):
        if score == 0.5:
            n_unanswered += 1
            continue
        answer = 1 if score > 0.5 else 0
        n_correct += answer == label
        tp += answer == 1 and label == 1
        fp += answer == 1 and label == 0
        fn += answer == 0 and label == 1
    n = len(scores)
    return (
        (n_correct + n_unanswered * n_correct / n) / n,
        2 * tp / (2 * tp + fp + fn),
        1.25 * tp / (1.25 * tp + 0.25 * (fn + n_unanswered) + fp),
    )


def test_matches_a_problem_by_problem_reference_with_many_non_answers():
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 2, 300)
    scores = np.round(rng.random(300), 1)  # about 1 in 10 is exactly 0.5
    assert (scores == 0.5).sum() > 10
    expected = _pan_loop_reference(scores, labels)
    assert (c_at_1(scores, labels), f1(scores, labels), f_05_u(scores, labels)) == pytest.approx(expected)


def test_boolean_labels_equal_integer_labels():
    assert verification_metrics(SCORES, LABELS.astype(bool)) == verification_metrics(SCORES, LABELS)


def test_ece_noise_floor_of_one_bin_equals_the_binomial_mean_absolute_deviation():
    """n pairs all at P = 0.3 fall in one bin, so a perfect verifier's ECE is |Binomial(n, 0.3) / n - 0.3|:
    its mean is known exactly, and 200 seeded draws must land within four standard errors of it."""
    from scipy.stats import binom

    from authorid.metrics import ece_noise_floor

    n, p = 50, 0.3
    k = np.arange(n + 1)
    exact = float(np.sum(binom.pmf(k, n, p) * np.abs(k / n - p)))
    spread = float(np.sqrt(np.sum(binom.pmf(k, n, p) * (np.abs(k / n - p) - exact) ** 2)))
    floor = ece_noise_floor(np.full(n, p), draws=200, seed=3)
    assert abs(floor.mean - exact) < 4 * spread / np.sqrt(200)
    assert floor.high >= floor.mean
    assert ece_noise_floor(np.full(n, p), draws=200, seed=3) == floor  # seeded: the same every time


def test_ece_noise_floor_is_zero_for_certain_answers_and_half_for_one_coin():
    from authorid.metrics import ece_noise_floor

    certain = ece_noise_floor(np.array([0.0, 1.0, 1.0, 0.0]))
    assert (certain.mean, certain.high) == (0.0, 0.0)
    coin = ece_noise_floor(np.array([0.5]))  # one pair at 0.5: |label - 0.5| is 0.5 whatever the label
    assert (coin.mean, coin.high) == (0.5, 0.5)


def test_ece_noise_floor_shrinks_with_more_pairs_and_is_in_the_metrics():
    from authorid.metrics import ece_noise_floor

    rng = np.random.default_rng(0)
    small, large = ece_noise_floor(rng.random(200)), ece_noise_floor(rng.random(20_000))
    assert large.mean < small.mean / 5  # noise falls as 1/sqrt(n): 100x the pairs, 1/10 the floor
    metrics = verification_metrics(SCORES, LABELS)
    assert metrics["ece_floor"] == ece_noise_floor(SCORES).mean
    assert metrics["ece_floor_high"] == ece_noise_floor(SCORES).high


@pytest.mark.parametrize(
    "probs, kwargs, message",
    [
        (np.array([0.2, 1.2]), {}, "must lie in"),
        (np.array([0.2, np.nan]), {}, "must lie in"),
        (np.array([]), {}, "empty"),
        (np.array([0.2]), {"draws": 0}, "draws must be a positive integer"),
        (np.array([0.2]), {"n_bins": 0}, "n_bins"),
    ],
)
def test_ece_noise_floor_bad_input_raises(probs, kwargs, message):
    from authorid.metrics import ece_noise_floor

    with pytest.raises(ValueError, match=message):
        ece_noise_floor(probs, **kwargs)
