"""Cohort normalisation (authorid.verification.cohort): exact values on hand-made pools, the calibration that
carries a cohort fit, and the verbs that read it (`score`, `cluster`)."""

import copy

import numpy as np
import pytest

from authorid.clustering import cluster_accounts
from authorid.vectors import AccountVectors
from authorid.verification import CalibrationError, Calibrator, cohort
from authorid.workflows.score import score_pairs

N = 60  # the hub pool: a hub, e0 (its one strong link), a true pair e1/e1', and 56 plain accounts


def _hub_pool() -> AccountVectors:
    """Unit vectors: e0..e57 orthogonal, e1' at cosine 0.9 with e1, and a hub h = 0.5 e0 + sqrt(0.75) u, u the
    normalised sum of e1..e57 (cosine 0.5 with e0, sqrt(0.75 / 57) with each e_i)."""
    dim = N
    basis = np.eye(dim)
    plain = [basis[i] for i in range(58)]
    twin = 0.9 * basis[1] + np.sqrt(1 - 0.81) * basis[58]
    u = basis[1:58].sum(axis=0) / np.sqrt(57)
    hub = 0.5 * basis[0] + np.sqrt(0.75) * u
    ids = [f"e{i}" for i in range(58)] + ["e1'", "hub"]
    vectors = np.stack([*plain, twin, hub]).astype(np.float32)
    return AccountVectors(ids, vectors, np.full(N, 8), np.full(N, 800))


def test_density_excess_and_score_on_a_hand_made_pool():
    pool = cohort.Cohort.of_densities(np.array([0.1, 0.2, 0.3, 0.6]))
    assert pool.median == pytest.approx(0.25)
    assert pool.excess.tolist() == pytest.approx([-0.15, -0.05, 0.05, 0.35])
    assert pool.shift(np.array([0, 3]), np.array([3, 3])).tolist() == pytest.approx([0.1, 0.35])
    assert cohort.normalised(np.array([0.5, 0.5]), np.array([0.1, 0.35])).tolist() == pytest.approx(
        [0.4, 0.15]
    )
    # from kNN rows, best first: the first K count; a row with fewer neighbours (-inf) averages what it has
    rows = np.array([[0.5] * 10 + [0.4], [0.3, 0.1] + [-np.inf] * 9])
    assert cohort.Cohort.of_neighbours(rows).excess.tolist() == pytest.approx([0.15, -0.15])
    # a reference pool sets the median (a calibration's cuts are measured against its whole accounts)
    assert cohort.Cohort.of_densities(np.array([0.2]), reference=np.array([0.1, 0.3, 0.5])).excess == [
        pytest.approx(-0.1)
    ]


def test_the_hub_pool_densities_are_exact():
    vectors = _hub_pool()
    pool = cohort.of_vectors(vectors.vectors)
    link = np.sqrt(0.75 / 57)  # the hub's cosine with each e_i, i >= 1
    positions = vectors.positions(["e0", "e1", "e2", "hub"])
    densities = pool.excess[positions] + pool.median
    assert densities.tolist() == pytest.approx(
        [0.5 / 10, (0.9 + link) / 10, link / 10, (0.5 + 9 * link) / 10], abs=1e-6
    )
    assert pool.median == pytest.approx(link / 10, abs=1e-6)  # most accounts are plain
    assert cohort.of_vectors(vectors.vectors[: cohort.MIN_POOL - 1]) is None  # too few for a cohort


def test_a_density_that_leaves_out_the_nearest_in_proportion_to_the_twins_expected():
    """w = min(1, prior x (N - 1)) of each density reads the K after the nearest (the module docstring)."""
    rows = np.array([[0.9] + [0.5] * 10 + [0.1], [0.3, 0.1] + [-np.inf] * 10])
    assert cohort.Cohort.of_neighbours(rows, skip=1.0).excess.tolist() == pytest.approx([0.2, -0.2])
    half = cohort.Cohort.of_neighbours(rows, skip=0.5)
    assert (half.excess + half.median).tolist() == pytest.approx(
        [0.5 * (0.9 + 9 * 0.5) / 10 + 0.5 * 0.5, 0.5 * 0.2 + 0.5 * 0.1]
    )
    scores = np.array([[-np.inf, 0.9, 0.2, 0.4], [0.9, -np.inf, 0.1, 0.3]])
    assert cohort.top_k_mean(scores, 2, skip=1.0).tolist() == pytest.approx([0.3, 0.2])
    assert cohort.top_k_mean(scores, 2, skip=0.25).tolist() == pytest.approx(
        [0.75 * 0.65 + 0.25 * 0.3, 0.75 * 0.6 + 0.25 * 0.2]
    )
    assert cohort.top_k_mean(scores, 2).tolist() == pytest.approx([0.65, 0.6])
    twin_free, old = _calibration(with_cohort=True, twin_free=True), _calibration(with_cohort=True)
    assert cohort.skip_weight(twin_free.cohort, None, 1000) == 1.0  # the forum default: one twin each
    assert cohort.skip_weight(twin_free.cohort, 0.001, 101) == pytest.approx(0.1)
    assert cohort.skip_weight(twin_free.cohort, 0.5, 101) == 1.0
    assert cohort.skip_weight(old.cohort, None, 1000) == 0.0  # fitted on densities with twins: read as then


def test_the_hub_pool_densities_without_the_nearest_are_exact():
    vectors = _hub_pool()
    pool = cohort.of_vectors(vectors.vectors, skip=1.0)
    link = np.sqrt(0.75 / 57)
    positions = vectors.positions(["e0", "e1", "e1'", "e2", "hub"])
    # e1's nearest is its twin e1' (0.9), e0's the hub (0.5); the hub's is e0, then the e_i at `link`
    assert (pool.excess[positions] + pool.median).tolist() == pytest.approx(
        [0.0, link / 10, 0.9 * link / 10, 0.0, link], abs=1e-6
    )
    assert pool.median == pytest.approx(0.0, abs=1e-6)
    assert np.allclose(cohort.Cohort.of_densities(pool.excess + pool.median).excess, pool.excess)


def _calibration(with_cohort: bool, twin_free: bool = False) -> Calibrator:
    """A hand-set Platt fit, p = 1 / (1 + exp(-40 (s - 0.45))), on cosines and (the same numbers) on scores,
    recorded as fitted at the prior 1/59 (`link`'s default for the 59 accounts its test enrols: P unmoved).
    `twin_free`: its cohort fit says its densities left out each account's person (`cohort.TWIN_FREE`)."""
    calibration = Calibrator("platt")
    calibration.params = {"coef": 40.0, "intercept": -18.0}
    calibration.info = {"fit_prior": 1 / 59}
    if with_cohort:
        calibration.cohort = Calibrator.from_dict(calibration.to_dict())
        calibration.cohort.info = {"score": "cohort", "k": cohort.K, "fit_prior": 1 / 59}
        if twin_free:
            calibration.cohort.info["density"] = cohort.TWIN_FREE
    return calibration


def test_a_calibration_carries_its_cohort_fit_through_json():
    calibration = _calibration(with_cohort=True)
    loaded = Calibrator.from_dict(calibration.to_dict())
    assert loaded.to_dict() == calibration.to_dict() and loaded.cohort.reads_cohort
    assert loaded.for_pool(cohort.MIN_POOL) is loaded.cohort
    assert loaded.for_pool(cohort.MIN_POOL - 1) is loaded  # too few accounts: the cosine fit
    plain = _calibration(with_cohort=False)
    assert plain.for_pool(1000) is plain and not plain.reads_cohort
    data = calibration.to_dict()
    data["cohort"]["method"] = "isotonic"
    data["cohort"]["params"] = {"x_thresholds": [0.0, 1.0], "y_thresholds": [0.0, 1.0]}
    with pytest.raises(CalibrationError, match="cohort: a isotonic fit in a platt calibration"):
        Calibrator.from_dict(data)
    data["cohort"] = {"format": "x"}
    with pytest.raises(CalibrationError, match="^cohort: not an authorid calibration"):
        Calibrator.from_dict(data)


@pytest.mark.parametrize(
    ("where", "field", "value", "message"),
    [
        ("cohort", "score", "cosine", "^cohort: its info.score must be 'cohort'"),
        ("cohort", "fit_prior", "0.03", r"^cohort: info.fit_prior must be a finite number, got '0.03'"),
        ("cohort", "fit_prior", 1.0, "^cohort: info.fit_prior must lie strictly between 0 and 1, got 1"),
        (
            "cohort",
            "account_posts",
            [8, 2],
            r"^cohort: info.account_posts must be \[min, max\] with 0 <= min <= max",
        ),
        ("top", "account_posts", [-5, -1], r"^info.account_posts must be \[min, max\] with 0 <= min <= max"),
        ("top", "score", "cohort", "^info.score is 'cohort' in the cosine fit"),
        ("top", "account_chars", "11-11595", r"^info.account_chars must be \[min, max\], got '11-11595'"),
        ("top", "score", 3, "^info.score must be 'cosine' or 'cohort', got 3"),
        (
            "cohort",
            "density",
            "with twins",
            "^cohort: info.density must be 'twin-free' when given, got 'with",
        ),
        ("top", "model", {"fingerprint": 643}, "^info.model must be an object whose fingerprint is a string"),
        (
            "cohort",
            "reference_posts",
            "10",
            "^cohort: info.reference_posts must be a whole number of posts >= 1",
        ),
        (
            "cohort",
            "reference_posts",
            0,
            "^cohort: info.reference_posts must be a whole number of posts >= 1",
        ),
    ],
)
def test_a_calibration_with_wrong_types_in_what_it_was_fitted_on_is_refused(where, field, value, message):
    """The fields of `info` that decide a P (the prior, the sizes seen, the score read, the model) are checked
    when the file is read, in the cosine fit and in its cohort fit, so a hand-edited file fails in one line."""
    data = _calibration(with_cohort=True).to_dict()
    (data["cohort"] if where == "cohort" else data)["info"][field] = value
    with pytest.raises(CalibrationError, match=message):
        Calibrator.from_dict(data)
    data = _calibration(with_cohort=True).to_dict()
    data["cohort"]["cohort"] = copy.deepcopy(data["cohort"])
    with pytest.raises(CalibrationError, match="^cohort: a cohort fit holds no cohort fit of its own"):
        Calibrator.from_dict(data)
    data = _calibration(with_cohort=True).to_dict()
    data["version"] = True
    with pytest.raises(CalibrationError, match="^calibration version True is not 1"):
        Calibrator.from_dict(data)
    data = _calibration(with_cohort=True).to_dict()
    data["info"] = ["fit_prior", 0.03]
    with pytest.raises(CalibrationError, match=r"^info must be an object, got \['fit_prior', 0.03\]"):
        Calibrator.from_dict(data)


def test_score_reads_the_cohort_fit_in_a_pool_and_the_cosine_fit_below_one():
    vectors = _hub_pool()
    rows = [{"account_a": "hub", "account_b": "e0"}, {"account_a": "e1", "account_b": "e1'"}]
    link = np.sqrt(0.75 / 57)
    median = link / 10
    shift_hub = ((0.5 + 9 * link) / 10 - median + 0.5 / 10 - median) / 2
    shift_twin = ((0.9 + link) / 10 + (0.9 + 0.9 * link) / 10) / 2 - median  # e1' meets the hub at 0.9 link
    scored = score_pairs(vectors, rows, _calibration(with_cohort=True))
    assert [float(r["cohort_score"]) for r in scored] == pytest.approx(
        [0.5 - shift_hub, 0.9 - shift_twin], abs=1e-5
    )
    # the hub's one strong link falls below the fit's 0.45 once its closeness to everyone is taken off
    assert [r["decision"] for r in scored] == ["different", "same"]
    # the cosine fit reads the raw cosines: the hub's link passes
    plain = score_pairs(vectors, rows, _calibration(with_cohort=False))
    assert [r["cohort_score"] for r in plain] == ["", ""] and [r["decision"] for r in plain] == [
        "same",
        "same",
    ]
    # below MIN_POOL accounts there is no cohort, and the cosine fit is read
    small = vectors.subset([*vectors.account_ids[: cohort.MIN_POOL - 3], "e1'", "hub"])
    assert [r["cohort_score"] for r in score_pairs(small, rows, _calibration(with_cohort=True))] == ["", ""]
    # a twin-free fit: at the default prior (one twin each) every density leaves out the nearest; the pool's
    # median density is then 0 (a plain account's one neighbour, the hub, is its nearest). The hub's density
    # without e0 is `link` (its next ten are e_i), e0's is 0; e1's without e1' is link / 10, e1''s 0.9 link / 10
    twin_free = _calibration(with_cohort=True, twin_free=True)
    scored = score_pairs(vectors, rows, twin_free)
    assert [float(r["cohort_score"]) for r in scored] == pytest.approx(
        [0.5 - (link + 0.0) / 2, 0.9 - (link / 10 + 0.9 * link / 10) / 2], abs=1e-5
    )
    # at a tenth of the default prior, w = 0.1: a tenth of each density leaves out the nearest
    tenth = score_pairs(vectors, rows[1:], twin_free, prior=0.1 / (N - 1))
    w_density = [
        0.9 * (0.9 + link) / 10 + 0.1 * link / 10,
        0.9 * (0.9 + 0.9 * link) / 10 + 0.1 * 0.9 * link / 10,
    ]
    median = 0.9 * link / 10  # a plain account: the hub's cosine, then nothing
    assert float(tenth[0]["cohort_score"]) == pytest.approx(0.9 - (sum(w_density) / 2 - median), abs=1e-5)


def test_cluster_keeps_a_hub_apart_from_its_one_strong_link_with_cohort_scores():
    vectors = _hub_pool()
    step = _calibration(with_cohort=True).cohort.predict  # P >= 0.5 exactly where the score reaches 0.45

    def groups(report) -> set[frozenset]:
        return {frozenset(c.members) for c in report.clusters if c.size > 1}

    plain = cluster_accounts(vectors, probability=step, threshold=0.5)
    assert groups(plain) == {frozenset({"hub", "e0"}), frozenset({"e1", "e1'"})}
    normalised = cluster_accounts(vectors, probability=step, threshold=0.5, cohort_normalised=True)
    assert groups(normalised) == {frozenset({"e1", "e1'"})}
    assert normalised.params["scores"] == "cohort-normalised"
    with pytest.raises(ValueError, match="at least 50 accounts"):
        cluster_accounts(vectors.subset(vectors.account_ids[:49]), probability=step, cohort_normalised=True)


def test_link_reads_the_cohort_fit_with_each_querys_own_density():
    from authorid.index import build_index, link

    pool = _hub_pool()
    enrolled = pool.subset([a for a in pool.account_ids if a != "e1'"])  # 59 accounts
    index = build_index(enrolled, kind="exact", model_identity={"name": "hand-made"})
    link_ = np.sqrt(0.75 / 57)
    median = link_ / 10  # e1..e57 each meet only the hub; e1's twin is not enrolled
    queries = pool.subset(["e1'", "e0"])
    rows = link(index, queries, k=2, calibration=_calibration(with_cohort=True), hubness=False).rows
    first = {r["query_account"]: r for r in rows if r["rank"] == 1}
    # e1' (not enrolled) meets e1 at 0.9 and the hub at 0.9 x link; e1's density is link / 10
    twin = 0.9 - (((0.9 + 0.9 * link_) / 10 - median) + (link_ / 10 - median)) / 2
    assert first["e1'"]["account_id"] == "e1" and first["e1'"]["cohort_score"] == pytest.approx(
        twin, abs=1e-5
    )
    # e0 is enrolled: its first candidate is itself, left out of its own density (the hub at 0.5 is all it meets)
    assert first["e0"]["account_id"] == "e0"
    hub_row = next(r for r in rows if r["query_account"] == "e0" and r["account_id"] == "hub")
    hub_score = 0.5 - ((0.5 / 10 - median) + ((0.5 + 9 * link_) / 10 - median)) / 2
    assert hub_row["cohort_score"] == pytest.approx(hub_score, abs=1e-5)
    fit = _calibration(with_cohort=True).cohort
    # P at link's default prior, one account of the query's person among the 59 enrolled
    assert hub_row["probability"] == pytest.approx(float(fit.predict([hub_score], prior=1 / 59)[0]), abs=1e-5)
    assert hub_row["decision"] == "different" and first["e1'"]["decision"] == "same"
    # a twin-free fit at link's default prior (w = 1): each density leaves out its nearest; e1's nearest
    # enrolled account is the hub (e1' is not enrolled), and the median density (a plain account's) is 0
    for hubness in (False, True):  # ranking by the hubness correction reads the other density, not this one
        twin_free = link(
            index, queries, k=2, calibration=_calibration(with_cohort=True, twin_free=True), hubness=hubness
        ).rows
        twin = next(r for r in twin_free if r["query_account"] == "e1'" and r["account_id"] == "e1")
        assert twin["cohort_score"] == pytest.approx(0.9 - (0.9 * link_ / 10 + 0.0) / 2, abs=1e-5)
    plain = link(index, queries, k=2, calibration=_calibration(with_cohort=False), hubness=False).rows
    assert all(r["cohort_score"] is None for r in plain)
    plain_hub = next(r for r in plain if r["query_account"] == "e0" and r["account_id"] == "hub")
    assert plain_hub["decision"] == "same"  # its cosine, 0.5, passes the fit's 0.45


def test_a_pool_reads_its_median_over_accounts_as_large_as_the_fits_whole_accounts():
    # from kNN rows (densities 0.1, 0.2, 0.3, 0.6): the median of the last two, 0.45, not of all four, 0.25
    rows = np.repeat(np.array([[0.1], [0.2], [0.3], [0.6]]), cohort.K, axis=1)
    large = np.array([False, False, True, True])
    assert cohort.Cohort.of_neighbours(rows, reference=large).excess.tolist() == pytest.approx(
        [-0.35, -0.25, -0.15, 0.15]
    )
    # the accounts with at least the fit's fewest posts, when MIN_POOL of them are; else every account
    posts = np.r_[np.full(cohort.MIN_POOL, 12), np.full(10, 3)]
    assert cohort.reference_rows(posts, 10).tolist() == [True] * cohort.MIN_POOL + [False] * 10
    assert cohort.reference_rows(posts[1:], 10) is None  # 49 large accounts: too few, every account counts
    assert cohort.reference_rows(posts, None) is None and cohort.reference_rows(None, 10) is None
    fit = _calibration(with_cohort=True, twin_free=True).cohort
    assert cohort.reference_posts(fit) is None  # fitted before stop 40: no record
    fit.info["reference_posts"] = 10
    assert cohort.reference_posts(fit) == 10


def _seeded_pool() -> tuple[AccountVectors, np.ndarray]:
    """80 seeded unit vectors: the first 55 accounts of 20 posts, the last 25 of 3; and each one's twin-free
    density by brute force (the mean of its 10 nearest others after the nearest, as w = 1 reads it)."""
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(80, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    posts = np.r_[np.full(55, 20), np.full(25, 3)]
    pool = AccountVectors([f"a{i}" for i in range(80)], vectors, posts, posts * 100)
    cosines = vectors.astype(np.float64) @ vectors.T.astype(np.float64)
    np.fill_diagonal(cosines, -np.inf)
    nearest = -np.sort(-cosines, axis=1)
    return pool, nearest[:, 1 : cohort.K + 1].mean(axis=1)


def test_score_and_cluster_read_the_median_over_the_large_accounts_when_the_fit_records_their_size():
    pool, densities = _seeded_pool()
    rows = [{"account_a": "a0", "account_b": "a70"}]
    cosine = float(pool.vectors[0] @ pool.vectors[70])
    fit = _calibration(with_cohort=True, twin_free=True)
    everyone = float(score_pairs(pool, rows, fit)[0]["cohort_score"])
    assert everyone == pytest.approx(
        cosine - (densities[0] + densities[70]) / 2 + np.median(densities), abs=1e-5
    )
    fit.cohort.info["reference_posts"] = 10  # the 55 accounts of 20 posts set the median
    large = float(score_pairs(pool, rows, fit)[0]["cohort_score"])
    assert large == pytest.approx(
        cosine - (densities[0] + densities[70]) / 2 + np.median(densities[:55]), abs=1e-5
    )
    assert abs(large - everyone) > 1e-3  # the two medians differ: the test can tell them apart
    report = cluster_accounts(
        pool, probability=fit.cohort.predict, cohort_normalised=True, skip=1.0, reference_posts=10
    )
    assert report.params["cohort_reference_posts"] == 10
    assert (
        cluster_accounts(
            pool, probability=fit.cohort.predict, cohort_normalised=True, skip=1.0, reference_posts=30
        ).params["cohort_reference_posts"]
        is None
    )  # no account has 30 posts: every account sets the median


def test_link_reads_the_enrolled_accounts_median_over_the_large_ones():
    from authorid.index import build_index
    from authorid.index import hubness as hub

    pool, _ = _seeded_pool()
    index = build_index(pool, model_identity={"name": "test", "kind": "test", "dim": 16, "fingerprint": "0"})
    cosines = pool.vectors.astype(np.float64) @ pool.vectors.T.astype(np.float64)
    np.fill_diagonal(cosines, -np.inf)
    densities = -np.sort(-cosines, axis=1)[:, : cohort.K].mean(axis=1)  # w = 0: the K nearest
    assert hub.median_density(index) == pytest.approx(np.median(densities), abs=1e-5)
    assert hub.median_density(index, least=10) == pytest.approx(np.median(densities[:55]), abs=1e-5)
