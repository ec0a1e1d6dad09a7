"""Calibrator: monotone probabilities, exact JSON round trip, decisions, and the operating point rules."""

import copy
import json

import numpy as np
import pytest
from scipy.special import expit

from authorid.verification import (
    CalibrationError,
    Calibrator,
    c_at_1_band,
    calibrate_pairs,
    decide,
    threshold_at_fpr,
)

# Cosines of 12 pairs: same-person pairs (1) mostly score higher, with overlap in the middle.
SIMILARITIES = np.array([0.10, 0.15, 0.22, 0.30, 0.35, 0.41, 0.44, 0.52, 0.58, 0.63, 0.71, 0.80])
LABELS = np.array([0, 0, 0, 0, 1, 0, 1, 0, 1, 1, 1, 1])


@pytest.mark.parametrize("method", ["platt", "isotonic"])
def test_probabilities_are_monotone_in_the_cosine(method):
    calibrator = Calibrator(method).fit(SIMILARITIES, LABELS)
    grid = np.linspace(-1, 1, 201)
    p = calibrator.predict(grid)
    assert np.all(np.diff(p) >= 0)
    assert p.min() >= 0 and p.max() <= 1
    assert p[-1] > p[0]


def test_isotonic_is_the_pool_adjacent_violators_fit():
    calibrator = Calibrator("isotonic").fit(SIMILARITIES, LABELS)
    # PAV pools the violating blocks [1, 0] at 0.35/0.41 and [1, 0] at 0.44/0.52 into means of 1/2.
    np.testing.assert_allclose(calibrator.predict(SIMILARITIES), [0, 0, 0, 0, 0.5, 0.5, 0.5, 0.5, 1, 1, 1, 1])
    assert calibrator.predict([-1.0, 2.0]).tolist() == [0.0, 1.0]  # clipped outside the fitted range


def test_platt_matches_sklearn_logistic_regression():
    from sklearn.linear_model import LogisticRegression

    calibrator = Calibrator("platt").fit(SIMILARITIES, LABELS)
    reference = LogisticRegression(C=1e6, max_iter=1000).fit(SIMILARITIES[:, None], LABELS)
    np.testing.assert_allclose(
        calibrator.predict(SIMILARITIES), reference.predict_proba(SIMILARITIES[:, None])[:, 1], rtol=1e-12
    )


@pytest.mark.parametrize("method", ["platt", "isotonic"])
def test_json_round_trip_gives_identical_predictions(method, tmp_path):
    calibrator = Calibrator(method).fit(SIMILARITIES, LABELS)
    calibrator.threshold, calibrator.abstain_band = 0.6, (0.4, 0.6)
    calibrator.info["note"] = "hand example"
    path = calibrator.save(tmp_path / "calibration.json")
    loaded = Calibrator.load(path)
    grid = np.linspace(-1, 1, 57)
    assert np.array_equal(loaded.predict(grid), calibrator.predict(grid))
    assert (loaded.method, loaded.threshold, loaded.abstain_band) == (method, 0.6, (0.4, 0.6))
    assert loaded.info == {"note": "hand example", "fit_prior": float(np.mean(LABELS))}
    assert json.loads(path.read_text())["format"] == "authorid.calibration"


def test_decide_applies_threshold_then_band():
    assert decide([0.2, 0.5, 0.51, 0.9], 0.5, None).tolist() == ["different", "different", "same", "same"]
    assert decide([0.2, 0.45, 0.55, 0.6, 0.9], 0.5, (0.45, 0.6)).tolist() == [
        "different",
        "abstain",
        "abstain",
        "abstain",
        "same",
    ]
    calibrator = Calibrator().fit(SIMILARITIES, LABELS)
    calibrator.threshold = 0.7
    assert calibrator.decide([0.69, 0.71]).tolist() == ["different", "same"]


def test_threshold_at_target_fpr_on_a_hand_example():
    negatives = np.arange(1, 11) / 10  # 0.1 ... 1.0
    p = np.concatenate([negatives, [0.95, 0.99]])
    y = np.array([0] * 10 + [1, 1])
    # 20% of 10 negatives = 2 may lie above the threshold: 0.9 and 1.0, so t = 0.8.
    assert threshold_at_fpr(p, y, 0.2) == 0.8
    assert threshold_at_fpr(p, y, 0.0) == 1.0
    assert threshold_at_fpr(p, y, 0.15) == 0.9  # floor(1.5) = 1 false positive allowed
    with pytest.raises(ValueError, match="false-positive rate"):
        threshold_at_fpr(p, y, 1.5)


def test_c_at_1_band_on_a_hand_example():
    p = [0.1, 0.2, 0.45, 0.55, 0.8, 0.9]
    y = [0, 0, 1, 0, 1, 1]
    # No band: 4/6 correct = 0.667. Band [0.45, 0.55]: (4 + 2 * 4/6) / 6 = 0.889; wider bands lose correct answers.
    band, score = c_at_1_band(p, y, 0.5)
    assert band == (0.45, 0.55)
    assert score == pytest.approx((4 + 2 * 4 / 6) / 6)


def test_a_band_under_a_target_fpr_only_abstains_below_its_threshold():
    p = [0.1, 0.2, 0.45, 0.55, 0.8, 0.9]
    y = [0, 0, 1, 0, 1, 1]
    # The band may not reach above 0.5: [0.45, 0.5] abstains on 0.45 alone, (4 + 1 * 4/6) / 6; 0.55 stays "same".
    band, score = c_at_1_band(p, y, 0.5, keep_same=True)
    assert band == (0.45, 0.5)
    assert score == pytest.approx((4 + 4 / 6) / 6)


def test_with_a_target_fpr_and_c_at_1_the_same_decisions_are_those_of_the_target():
    """Audit 10: the c@1 band chosen around a target-FPR threshold swallowed it (asked FPR 0.05, held-out TPR
    0.52 -> 0.09 at FPR 0), with no word. Now the band only turns uncertain "different"s into abstentions."""
    rng = np.random.default_rng(0)
    y = np.r_[np.ones(300), np.zeros(3000)].astype(int)
    s = np.r_[rng.normal(0.5, 0.15, 300), rng.normal(0.2, 0.15, 3000)]
    target = calibrate_pairs(s, y, target_fpr=0.05, seed=0).info["held_out"]
    both = calibrate_pairs(s, y, target_fpr=0.05, abstain="c@1", seed=0)
    held = both.info["held_out"]
    assert (held["fpr"], held["tpr"]) == (target["fpr"], target["tpr"])
    assert 0.04 <= held["fpr"] <= 0.05 and held["tpr"] > 0.5
    assert both.abstain_band is not None and both.abstain_band[1] == both.threshold
    assert held["abstain_rate"] > 0 and held["c@1"] > target["c@1"]


def test_no_band_when_abstaining_cannot_help():
    band, score = c_at_1_band([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1], 0.5)
    assert band is None and score == 1.0


def test_user_errors_are_one_line():
    with pytest.raises(CalibrationError, match="unknown calibration method 'svm'"):
        Calibrator("svm")
    with pytest.raises(CalibrationError, match="both same- and different-person pairs"):
        Calibrator().fit([0.1, 0.2], [1, 1])
    with pytest.raises(CalibrationError, match="not fitted"):
        Calibrator().predict([0.3])
    with pytest.raises(CalibrationError, match="not an authorid calibration"):
        Calibrator.from_dict({"method": "platt"})
    isotonic = Calibrator("isotonic").fit(SIMILARITIES, LABELS).to_dict()
    isotonic["params"]["x_thresholds"] = 0.5
    with pytest.raises(CalibrationError, match="x_thresholds and y_thresholds must be non-empty lists"):
        Calibrator.from_dict(isotonic)


def test_a_prior_moves_the_odds_by_bayes_rule():
    calibrator = Calibrator("platt")
    calibrator.params, calibrator.info = {"coef": 4.0, "intercept": -2.0}, {"fit_prior": 0.5}
    # cosine 0.5 -> P 0.5 at the balanced prior; at prior 0.1 the odds are 1 * (0.1 / 0.9): P = 0.1
    assert calibrator.predict([0.5])[0] == pytest.approx(0.5)
    assert calibrator.predict([0.5], prior=0.1)[0] == pytest.approx(0.1)
    assert calibrator.predict([0.8], prior=0.5)[0] == pytest.approx(calibrator.predict([0.8])[0])
    p = calibrator.predict([0.8])[0]
    expected = 1 / (1 + (1 - p) / p * 99)  # odds divided by 99 at prior 0.01
    assert calibrator.predict([0.8], prior=0.01)[0] == pytest.approx(expected)
    for bad in (0, 1, 1.5, -0.1):
        with pytest.raises(CalibrationError, match="prior must be between 0 and 1"):
            calibrator.predict([0.5], prior=bad)


# ------------------------------------------------------------------------------------------------ platt-sizes


def _sized_pairs(seed: int = 0):
    """Pairs as a style model gives them (bench_sizes, Reddit): different-person cosines near 0 at any size,
    same-person cosines rising with the posts behind them (0.05 at 2 posts a side, 0.2 at 20); 150 characters
    a post."""
    rng = np.random.default_rng(seed)
    sizes = rng.choice([2, 5, 10, 20], size=(4000, 2))
    label = (rng.random(4000) < 0.2).astype(int)
    signal = 0.05 * np.log2(np.minimum(sizes[:, 0], sizes[:, 1]))
    cosine = rng.normal(0.0, 0.04, 4000) + label * signal
    return cosine, label, (sizes[:, 0], sizes[:, 1], 150 * sizes[:, 0], 150 * sizes[:, 1])


def test_platt_sizes_reads_a_cosine_by_the_posts_behind_it():
    cosine, label, sizes = _sized_pairs()
    calibrator = Calibrator("platt-sizes").fit(cosine, label, sizes=sizes)
    assert calibrator.needs_sizes and calibrator.params["posts_range"] == [2.0, 20.0]
    assert calibrator.params["chars_range"] == [300.0, 3000.0] and len(calibrator.params["coef"]) == 32
    small, large = calibrator.predict([0.1, 0.1], sizes=([2, 20], [2, 20], [300, 3000], [300, 3000]))
    # 0.1 is far above what two 2-post accounts of one person reach (0.05): strong evidence there; at 20 posts
    # a side the same person reaches 0.2, so 0.1 is weaker evidence than at 2 (and the plain Platt can't tell)
    assert small > large
    plain = Calibrator("platt").fit(cosine, label)
    assert plain.predict([0.1, 0.1]).tolist()[0] == plain.predict([0.1, 0.1]).tolist()[1]
    # held-out log-loss: the size-aware fit is the better probability
    test_cosine, test_label, test_sizes = _sized_pairs(seed=1)

    def log_loss(p):
        p = np.clip(p, 1e-9, 1 - 1e-9)
        return -np.mean(test_label * np.log(p) + (1 - test_label) * np.log(1 - p))

    assert log_loss(calibrator.predict(test_cosine, sizes=test_sizes)) < log_loss(plain.predict(test_cosine))


def test_platt_sizes_is_fitted_to_its_optimum():
    # audit 16: lbfgs stopped at its tolerance in the flat valley of the correlated size terms, so cosines that
    # differed by float noise (another thread count, rows shuffled) moved coefficients by 0.03 and P by 0.005.
    # At the optimum of scikit-learn's objective, C * sum(log loss) + |w|^2 / 2, its gradient is zero.
    from authorid.verification.calibrator import SIZES_C, size_features

    cosine, label, sizes = _sized_pairs()
    params = Calibrator("platt-sizes").fit(cosine, label, sizes=sizes).params
    ranges = tuple(params["posts_range"]), tuple(params["chars_range"])
    features = (size_features(cosine, sizes, *ranges) - params["mean"]) / params["scale"]
    coef = np.asarray(params["coef"])
    residual = 1 / (1 + np.exp(-(features @ coef + params["intercept"]))) - label
    gradient = np.append(SIZES_C * features.T @ residual + coef, SIZES_C * residual.sum())
    assert np.abs(gradient).max() < 1e-6


def test_platt_sizes_clips_sizes_to_what_it_saw_and_round_trips(tmp_path):
    cosine, label, sizes = _sized_pairs()
    calibrator = Calibrator("platt-sizes").fit(cosine, label, sizes=sizes)
    # 200 posts a side is read as 20, the most it was fitted on (no extrapolation of the quadratic)
    np.testing.assert_allclose(
        calibrator.predict([0.1], sizes=([200], [200], [30000], [30000])),
        calibrator.predict([0.1], sizes=([20], [20], [3000], [3000])),
    )
    # sizes broadcast against a matrix of cosines, as clustering passes them
    column, row = np.array([[2], [20]]), np.array([[2, 5, 20]])
    matrix = calibrator.predict(np.full((2, 3), 0.1), sizes=(column, row, 150 * column, 150 * row))
    assert matrix.shape == (6,)
    assert matrix[0] == pytest.approx(calibrator.predict([0.1], sizes=([2], [2], [300], [300]))[0])
    loaded = Calibrator.load(calibrator.save(tmp_path / "calibration.json"))
    np.testing.assert_array_equal(
        loaded.predict(cosine, sizes=sizes), calibrator.predict(cosine, sizes=sizes)
    )
    reversed_range = calibrator.to_dict()
    reversed_range["params"]["posts_range"] = reversed_range["params"]["posts_range"][::-1]
    with pytest.raises(CalibrationError, match="posts_range must be \\[min, max\\] with 0 <= min <= max"):
        Calibrator.from_dict(reversed_range)
    damaged = tmp_path / "damaged.json"
    damaged.write_bytes(b"\xff\xfe{}")
    with pytest.raises(
        CalibrationError, match=f"^{damaged}: not a UTF-8 text file \\(invalid start byte at byte 0\\)"
    ):
        Calibrator.load(damaged)


def _quadratic(intercept: float, b: float, c: float) -> Calibrator:
    """A platt-sizes calibration whose log-odds is intercept + b·s + c·s² at every size (only the constant size
    term's s and s² columns weighted, features unstandardised)."""
    cosine, label, sizes = _sized_pairs()
    saved = Calibrator("platt-sizes").fit(cosine, label, sizes=sizes).to_dict()
    coef = [0.0] * 32
    coef[0], coef[1] = b, c  # columns 0 and 1: 1·s and 1·s² (the constant 1·1 is the intercept)
    saved["params"] |= {"coef": coef, "intercept": intercept, "mean": [0.0] * 32, "scale": [1.0] * 32}
    return Calibrator.from_dict(saved)


def test_platt_sizes_never_gives_a_higher_cosine_less_evidence():
    at = ([20], [20], [3000], [3000])
    # log-odds -2 + 8s - 8s²: it rises to 0 at s = 0.5, then the quadratic would fall back to -2 at s = 1
    peaked = _quadratic(-2.0, 8.0, -8.0)
    p = peaked.predict([0.25, 0.5, 0.75, 1.0], sizes=at)
    np.testing.assert_allclose(p, expit([-0.5, 0.0, 0.0, 0.0]))
    # log-odds 4s² - 2s: its trough is at s = 0.25 (-0.25); below it the quadratic would rise to 6 at s = -1
    troughed = _quadratic(0.0, -2.0, 4.0)
    np.testing.assert_allclose(troughed.predict([-1.0, 0.25, 1.0], sizes=at), expit([-0.25, -0.25, 2.0]))
    grid = np.linspace(-1, 1, 201)
    for calibrator in (peaked, troughed):
        assert np.all(np.diff(calibrator.predict(grid, sizes=tuple(np.full(201, n[0]) for n in at))) >= 0)


def test_the_packaged_calibration_calls_an_exact_copy_the_same_person():
    # audit 5: an account and a copy of its 30 posts (cosine 1.0) were called different at P 0.0007, where a
    # cosine of 0.4 between two such accounts gives 0.9998
    from authorid.model import load_model

    calibration = load_model("style").calibration
    at = ([20], [20], [4000], [4000])
    for fit in (calibration, calibration.cohort):
        high, copy_ = fit.predict([0.4, 1.0], sizes=([20, 20], [20, 20], [4000, 4000], [4000, 4000]))
        assert copy_ >= high > 0.99
        assert np.all(np.diff(fit.predict(np.linspace(-0.2, 1, 121), sizes=tuple(n * 121 for n in at))) >= 0)


def test_platt_sizes_without_sizes_says_what_it_needs():
    cosine, label, sizes = _sized_pairs()
    with pytest.raises(CalibrationError, match="needs both accounts' post and character counts"):
        Calibrator("platt-sizes").fit(cosine, label)
    calibrator = Calibrator("platt-sizes").fit(cosine, label, sizes=sizes)
    with pytest.raises(CalibrationError, match="needs both accounts' post and character counts"):
        calibrator.predict([0.1])
    with pytest.raises(CalibrationError, match="got 3 arrays"):
        calibrator.predict([0.1], sizes=([2], [2], [100]))
    # vectors (or an index) that do not record characters: refused in one line, never guessed
    with pytest.raises(CalibrationError, match="do not record: .* embed \\(or index\\) again"):
        calibrator.predict([0.1], sizes=([2], [2]))
    with pytest.raises(CalibrationError, match="do not record:"):
        calibrator.predict([0.1], sizes=([2], [2], [-1], [300]))
    for field, value, message in (
        ("coef", [1.0, 2.0], "coef must be a list of 32 numbers"),
        ("scale", [0.0] * 32, "scale must be positive"),
        ("chars_range", [1.0], "chars_range must be \\[min, max\\]"),
    ):
        broken = copy.deepcopy(calibrator.to_dict())
        broken["params"][field] = value
        with pytest.raises(CalibrationError, match=message):
            Calibrator.from_dict(broken)
    old = copy.deepcopy(calibrator.to_dict())  # written by an older authorid: posts only, 8 coefficients
    old["params"] = {"coef": [0.0] * 8, "intercept": 0.0, "posts_range": [1.0, 50.0]}
    with pytest.raises(CalibrationError, match="platt-sizes calibration lacks mean, scale, chars_range"):
        Calibrator.from_dict(old)


def _pairs_with_stock_phrases(seed: int = 0):
    """Pairs where what a cosine means depends on the characters behind it, as among Reddit's short accounts:
    two different people's few-character accounts ("Thanks :)", "😂") often meet at a high cosine, long ones
    never do; the post counts are the same at every length, so only the characters tell them apart."""
    rng = np.random.default_rng(seed)
    n = 6000
    posts = rng.choice([2, 5], size=(n, 2))
    chars = np.exp(rng.uniform(np.log(20), np.log(5000), size=(n, 2))).round()
    label = (rng.random(n) < 0.1).astype(int)
    spread = 0.02 + 0.25 * np.sqrt(20 / chars.min(axis=1))  # short accounts scatter widely
    cosine = rng.normal(0.0, spread) + label * 0.15
    return cosine, label, (posts[:, 0], posts[:, 1], chars[:, 0], chars[:, 1])


def test_platt_sizes_reads_the_characters_behind_a_cosine():
    cosine, label, sizes = _pairs_with_stock_phrases()
    calibrator = Calibrator("platt-sizes").fit(cosine, label, sizes=sizes)
    # one cosine of 0.2 between two 2-post accounts: little evidence at 30 characters, much at 3,000
    short, long = calibrator.predict([0.2, 0.2], sizes=([2, 2], [2, 2], [30, 3000], [30, 3000]))
    assert short < 0.5 < long
    # a calibration blind to characters (the same ones at every pair) fits worse on new pairs
    blind = Calibrator("platt-sizes").fit(cosine, label, sizes=(*sizes[:2], 300, 300))
    test_cosine, test_label, test_sizes = _pairs_with_stock_phrases(seed=1)

    def log_loss(p):
        p = np.clip(p, 1e-9, 1 - 1e-9)
        return -np.mean(test_label * np.log(p) + (1 - test_label) * np.log(1 - p))

    assert log_loss(calibrator.predict(test_cosine, sizes=test_sizes)) < log_loss(
        blind.predict(test_cosine, sizes=(*test_sizes[:2], 300, 300))
    )


def test_within_sizes_checks_each_accounts_posts_and_known_characters():
    calibrator = Calibrator.from_dict(
        {
            "format": "authorid.calibration",
            "version": 1,
            "method": "platt",
            "params": {"coef": 10.0, "intercept": -3.0},
            "info": {"account_posts": [2, 8], "account_chars": [100, 5000]},
        }
    )
    inside = calibrator.within_sizes([1, 2, 8, 9, 5, 5], [200, 200, 200, 200, -1, 6000])
    # 1 and 9 posts are outside; -1 characters means unknown (an index made before they were recorded)
    assert inside.tolist() == [False, True, True, False, True, False]
    assert calibrator.within_sizes([1, 9]).tolist() == [False, False]  # no character counts: posts alone
    assert calibrator.sizes_seen() == "2-8 posts, 100-5,000 characters"
    unrecorded = Calibrator.from_dict({**calibrator.to_dict(), "info": {}})
    assert unrecorded.within_sizes([1, 500], [1, 10**6]).tolist() == [True, True]
