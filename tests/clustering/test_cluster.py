"""cluster_accounts on hand-built vectors whose clusters are known exactly, and its argument checks."""

from __future__ import annotations

import numpy as np
import pytest

from authorid.clustering import algorithms, cluster_accounts
from authorid.clustering.graph import cut, knn_matrix, symmetric
from authorid.encoders import AccountVectors
from authorid.index import knn


def on_circle(degrees: dict[str, float]) -> AccountVectors:
    """Unit vectors at the given angles in the x-y plane: cos(a - b) is the cosine of two accounts."""
    angles = np.deg2rad(list(degrees.values()))
    vectors = np.stack([np.cos(angles), np.sin(angles), np.zeros_like(angles)], axis=1)
    return AccountVectors(list(degrees), vectors, np.ones(len(degrees)))


def groups(report) -> set[frozenset[str]]:
    return {frozenset(c.members) for c in report.clusters}


# A chain 0, 15, 35, 50 degrees (cosines of neighbours 0.966, 0.940, 0.966; two apart 0.819, 0.643) and a far
# account at 180: at threshold 0.93 every link of the chain passes the cut.
CHAIN = {"a": 0.0, "b": 15.0, "c": 35.0, "d": 50.0, "far": 180.0}


def test_mutual_knn_joins_the_chain_into_one_component():
    report = cluster_accounts(on_circle(CHAIN), method="mutual-knn", k=2, threshold=0.93)
    assert groups(report) == {frozenset("abcd"), frozenset({"far"})}


def test_agglomerative_average_linkage_stops_where_the_group_mean_drops_below_threshold():
    # {a,b} and {c,d} merge first; their average cross cosine (0.819+0.940+0.643+0.819)/4 = 0.805 < 0.93.
    report = cluster_accounts(on_circle(CHAIN), method="agglomerative", k=2, threshold=0.93)
    assert groups(report) == {frozenset("ab"), frozenset("cd"), frozenset({"far"})}


def test_the_default_group_average_keeps_a_weakly_linked_chain_split():
    """Edges strongest first: a-b (0.966) and c-d (0.966) merge; b-c (0.940) would join {a,b} and {c,d}, but
    their mean cross cosine is 0.805 < 0.93, so the one strong link does not chain them."""
    report = cluster_accounts(on_circle(CHAIN), k=2, threshold=0.93)
    assert report.params["method"] == "average"
    assert groups(report) == {frozenset("ab"), frozenset("cd"), frozenset({"far"})}


def test_group_average_merges_groups_whose_every_pair_agrees_on_average():
    # three accounts within 10 degrees: every pair's cosine >= 0.985, so all three merge at 0.95
    vectors = on_circle({"a": 0.0, "b": 5.0, "c": 10.0, "far": 90.0})
    assert groups(cluster_accounts(vectors, k=3, threshold=0.95)) == {frozenset("abc"), frozenset({"far"})}


def test_leiden_cpm_keeps_pairs_whose_weight_beats_the_resolution():
    # A pair gains 0.966 - 0.93 > 0; all four: 2*0.966 + 0.940 - 0.93 * 6 < 0.
    report = cluster_accounts(on_circle(CHAIN), method="leiden", k=2, threshold=0.93)
    assert groups(report) == {frozenset("ab"), frozenset("cd"), frozenset({"far"})}


def test_mutual_knn_removes_a_one_sided_edge():
    # With k=1: a's nearest is b (10 deg) but b's nearest is c (5 deg), so a-b is one-sided and dropped.
    vectors = on_circle({"a": 0.0, "b": 10.0, "c": 15.0})
    report = cluster_accounts(vectors, method="mutual-knn", k=1, threshold=0.9)
    assert groups(report) == {frozenset("bc"), frozenset("a")}
    # The union graph (agglomerative) keeps a-b, and average linkage then joins a: (0.985 + 0.966) / 2 > 0.9.
    assert groups(cluster_accounts(vectors, method="agglomerative", k=1, threshold=0.9)) == {frozenset("abc")}


@pytest.mark.parametrize(
    ("threshold", "expected"), [(0.75, {frozenset("xy")}), (0.85, {frozenset("x"), frozenset("y")})]
)
def test_threshold_cuts_the_edge_at_cosine_point_eight(threshold, expected):
    vectors = on_circle({"x": 0.0, "y": float(np.rad2deg(np.arccos(0.8)))})
    for method in ("average", "mutual-knn", "agglomerative", "leiden"):
        assert groups(cluster_accounts(vectors, method=method, k=1, threshold=threshold)) == expected


def test_probability_maps_cosines_before_the_cut():
    # P = (1 + cos) / 2: cosine 0.8 -> 0.9, so a probability threshold of 0.88 keeps the edge, 0.92 cuts it.
    vectors = on_circle({"x": 0.0, "y": float(np.rad2deg(np.arccos(0.8)))})

    def probability(cosines):
        return (1 + np.asarray(cosines)) / 2

    kept = cluster_accounts(vectors, k=1, threshold=0.88, probability=probability)
    assert groups(kept) == {frozenset("xy")}
    assert kept.clusters[0].evidence[0].probability == pytest.approx(0.9, abs=1e-6)
    assert kept.clusters[0].evidence[0].cosine == pytest.approx(0.8, abs=1e-6)
    assert kept.params["threshold_on"] == "probability"
    assert groups(cluster_accounts(vectors, k=1, threshold=0.92, probability=probability)) == {
        frozenset("x"),
        frozenset("y"),
    }


# P = (1 + cos) / 2. a-b: cos 20 deg -> P 0.96985; c-d: cos 65 deg -> P 0.71131; every other pair P < 0.42.
TWO_PAIRS = {"a": 0.0, "b": 20.0, "c": 120.0, "d": 185.0}


def half_cosine(cosines):
    return (1 + np.asarray(cosines)) / 2


def test_min_precision_raises_the_threshold_to_the_lowest_step_whose_clusters_reach_it():
    vectors = on_circle(TWO_PAIRS)
    p_ab, p_cd = (1 + np.cos(np.deg2rad(20))) / 2, (1 + np.cos(np.deg2rad(65))) / 2
    # at 0.5 both pairs merge: precision 0.9 of two pairs needs both right, a chance of p_ab x p_cd = 0.690
    # < 0.9 (expected precision 0.8406); from 0.75 up only a-b does, right with chance p_ab = 0.970
    report = cluster_accounts(vectors, k=3, threshold=0.5, probability=half_cosine, min_precision=0.9)
    assert groups(report) == {frozenset("ab"), frozenset("c"), frozenset("d")}
    assert report.params["threshold"] == 0.75 and report.params["confidence"] == 0.9
    assert report.stats["expected_pairwise_precision"] == pytest.approx(p_ab, abs=1e-6)
    assert report.stats["chance_of_min_precision"] == pytest.approx(p_ab, abs=1e-6)
    assert report.stats["pairs_formed"] == 1
    # bisection over the steps: 0.5 misses, then 0.75 reaches, 0.6, 0.65 and 0.7 miss
    tried, chances = report.params["thresholds_tried"], report.params["chances_tried"]
    assert list(tried) == list(chances) == ["0.5", "0.6", "0.65", "0.7", "0.75"]
    assert tried["0.5"] == pytest.approx((p_ab + p_cd) / 2, abs=1e-4)
    assert tried["0.7"] == tried["0.5"] and tried["0.75"] == pytest.approx(p_ab, abs=1e-4)
    assert chances["0.5"] == pytest.approx(p_ab * p_cd, abs=1e-4) and chances["0.75"] == pytest.approx(
        p_ab, abs=1e-4
    )
    # asked only to be more likely than not, 0.690 will do: both pairs at 0.5
    even = cluster_accounts(
        vectors, k=3, threshold=0.5, probability=half_cosine, min_precision=0.9, confidence=0.5
    )
    assert even.params["threshold"] == 0.5 and groups(even) == {frozenset("ab"), frozenset("cd")}
    with pytest.raises(ValueError, match="confidence 1.5 is a probability"):
        cluster_accounts(vectors, k=3, probability=half_cosine, min_precision=0.9, confidence=1.5)
    # every pair right with chance 0.97 (a-b alone, at 0.75) is enough at confidence 0.9, not at 0.99
    sure = cluster_accounts(vectors, k=3, threshold=0.5, probability=half_cosine, min_precision=1.0)
    assert sure.params["threshold"] == 0.75
    # a target no step with a merge reaches: the highest step, 0.99, where nothing merges (none wrongly)
    strict = cluster_accounts(
        vectors, k=3, threshold=0.5, probability=half_cosine, min_precision=1.0, confidence=0.99
    )
    assert strict.params["threshold"] == 0.99 and len(strict.clusters) == 4
    assert strict.stats["expected_pairwise_precision"] is None
    # a target the given threshold already reaches leaves it as it is, after one clustering
    # (precision 0.5 of two pairs allows one wrong: a chance of 1)
    kept = cluster_accounts(vectors, k=3, threshold=0.5, probability=half_cosine, min_precision=0.5)
    assert groups(kept) == {frozenset("ab"), frozenset("cd")}
    assert kept.params["threshold"] == 0.5 and list(kept.params["thresholds_tried"]) == ["0.5"]
    assert kept.stats["expected_pairwise_precision"] == pytest.approx((p_ab + p_cd) / 2, abs=1e-6)
    # without min_precision nothing is raised, but the expected precision is still reported
    plain = cluster_accounts(vectors, k=3, threshold=0.5, probability=half_cosine)
    assert "min_precision" not in plain.params and plain.params["threshold"] == 0.5
    assert plain.stats["expected_pairwise_precision"] == kept.stats["expected_pairwise_precision"]


def test_labels_are_numbered_by_decreasing_cluster_size():
    report = cluster_accounts(on_circle(CHAIN), method="agglomerative", k=2, threshold=0.93)
    assert report.labels.tolist() == [0, 0, 1, 1, 2]
    assert [c.size for c in report.clusters] == [2, 2, 1]
    assert report.stats["largest_cluster"] == 2
    assert report.stats["largest_component"] == 4


def test_knn_excludes_self_and_sorts_by_cosine():
    vectors = on_circle({"a": 0.0, "b": 10.0, "c": 30.0, "d": 90.0}).vectors
    cosines, neighbours = knn(vectors, 2)
    assert neighbours.tolist() == [[1, 2], [0, 2], [1, 0], [2, 1]]
    assert cosines[0] == pytest.approx(np.cos(np.deg2rad([10, 30])), abs=1e-6)


def test_approximate_knn_agrees_with_exact_on_small_data():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(300, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    _, exact = knn(vectors, 5, exact=True)
    _, approximate = knn(vectors, 5, exact=False)
    recall = np.mean([len(set(a) & set(b)) / 5 for a, b in zip(exact, approximate, strict=True)])
    assert recall >= 0.95


def test_a_single_account_is_its_own_cluster():
    report = cluster_accounts(on_circle({"solo": 0.0}), k=10)
    assert groups(report) == {frozenset({"solo"})}
    assert report.clusters[0].cohesion is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "kmeans"}, "unknown clustering method 'kmeans'"),
        ({"threshold": 1.5, "probability": lambda c: c}, "must lie in [0, 1]"),
        ({"threshold": -0.1, "probability": lambda c: c}, "must lie in [0, 1]"),
        ({"threshold": 2.0}, "must lie in [-1, 1]"),
        ({"k": 0}, "k must be at least 1"),
        ({"min_precision": 1.5, "probability": lambda c: c}, "min_precision 1.5 is a share of pairs"),
        ({"min_precision": 0.9}, "min_precision needs a calibration"),
    ],
)
def test_bad_arguments_raise_one_line_errors(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")):
        cluster_accounts(on_circle(CHAIN), **kwargs)


def test_an_empty_set_of_accounts_is_refused():
    empty = AccountVectors([], np.zeros((0, 3), dtype=np.float32), np.zeros(0))
    with pytest.raises(ValueError, match="no accounts to cluster"):
        cluster_accounts(empty)


def test_a_calibration_returning_non_probabilities_is_refused():
    with pytest.raises(ValueError, match="outside \\[0, 1\\]"):
        cluster_accounts(on_circle(CHAIN), threshold=0.5, probability=lambda c: 2 * np.asarray(c))


def test_a_size_aware_probability_gets_both_accounts_post_counts():
    vectors = AccountVectors(
        ["a", "b", "c"], np.array([[1.0, 0.0], [0.99, 0.141], [0.0, 1.0]]), np.array([3, 7, 11])
    )
    seen = []

    def probability(cosines, sizes):
        a, b = (np.broadcast_to(n, np.shape(cosines)) for n in sizes)
        seen.extend(zip(a.ravel().tolist(), b.ravel().tolist(), strict=True))
        return np.asarray(cosines) > 0.9

    report = cluster_accounts(vectors, k=2, threshold=0.5, probability=probability)
    assert report.clusters[0].members == ["a", "b"]
    assert (3, 7) in seen and (7, 3) in seen and all(n in (3, 7, 11) for pair in seen for n in pair)


def two_tight_groups_and_a_bridge(size: int) -> np.ndarray:
    """`size` accounts within 4 degrees of the x axis, `size` within 4 degrees of the y axis, except one account
    of each turned toward the other group: at 40 and 50 degrees those two are each other's nearest account
    (cosine 0.985) while still within 44 degrees (cosine >= 0.72) of their own group. The two groups' mean
    cross cosine is ~0."""
    rng = np.random.default_rng(0)
    angles = np.concatenate([rng.uniform(-4, 4, size), 90 + rng.uniform(-4, 4, size)])
    angles[size - 1], angles[size] = 40.0, 50.0
    radians = np.deg2rad(angles)
    return np.stack([np.cos(radians), np.sin(radians), np.zeros_like(radians)], axis=1).astype(np.float32)


def test_group_average_keeps_two_large_groups_apart_despite_a_strong_bridge():
    """Groups of 200 exceed GROUP_AVERAGE_MEMBERS, so their checks use drawn members. The bridge and the edges
    from its ends into their groups pass the cut, so the cut graph is one component (single linkage would call
    all 400 one person). Group average first pairs the bridge's two ends (their edge is their mean), then that
    pair joins one group (mean cosine ~0.70 to either) and the groups stay apart (mean cross cosine ~0)."""
    size = 200
    assert size > algorithms.GROUP_AVERAGE_MEMBERS
    ids = [f"a{i}" for i in range(2 * size)]
    vectors = AccountVectors(ids, two_tight_groups_and_a_bridge(size), np.ones(2 * size))
    report = cluster_accounts(vectors, k=8, threshold=0.5)
    assert report.stats["largest_component"] == 2 * size
    found = groups(report)
    bridge = {ids[size - 1], ids[size]}
    assert len(found) == 2 and sorted(len(g) for g in found) == [size - 1, size + 1]
    assert {g - bridge for g in found} == {frozenset(ids[: size - 1]), frozenset(ids[size + 1 :])}


def test_a_group_average_check_scores_at_most_members_squared_cosines():
    size = 300
    matrix = two_tight_groups_and_a_bridge(size)
    scored: list[int] = []

    def probability(cosines, rows_a, rows_b):
        scored.append(np.size(cosines))
        return np.asarray(cosines, dtype=np.float32)

    cosines, neighbours = knn(
        matrix, 16
    )  # 16: with 8, a dense run of 9 accounts can cut a group's graph in two
    graph = cut(symmetric(knn_matrix(neighbours, cosines, len(matrix))), 0.5)
    labels = algorithms.group_average(matrix, graph, 0.5, probability)
    assert max(scored) == algorithms.GROUP_AVERAGE_MEMBERS**2  # the largest checks are drawn, and bounded
    assert sorted(np.bincount(labels)[np.bincount(labels) > 0]) == [size - 1, size + 1]


def test_a_group_that_absorbs_single_accounts_one_by_one_keeps_a_uniform_diverse_sample():
    rng = np.random.default_rng(0)
    rows, size = np.arange(10), 10
    for new in range(10, 5000):  # a giant group growing the way it does at a low threshold
        rows = algorithms._merged_sample(rows, size, np.array([new]), 1, rng)
        size += 1
    assert len(rows) == algorithms.GROUP_AVERAGE_MEMBERS and rows.max() < 5000
    assert len(set(rows.tolist())) >= 55  # 64 draws from 5,000 members: a few repeats, no collapse
    assert abs(rows.mean() / 5000 - 0.5) < 0.12  # uniform over the members, not the first ones kept


def test_two_large_groups_share_the_merged_sample_by_size():
    rng = np.random.default_rng(1)
    shares = []
    for _ in range(200):
        a = rng.integers(0, 1000, size=64)  # samples of a group of 1,000 and one of 3,000
        b = rng.integers(1000, 4000, size=64)
        merged = algorithms._merged_sample(a, 1000, b, 3000, rng)
        shares.append(np.mean(merged >= 1000))
    assert abs(np.mean(shares) - 0.75) < 0.02
    small = algorithms._merged_sample(np.arange(5), 5, np.arange(5, 9), 4, rng)
    assert small.tolist() == list(range(9))  # small groups are compared on every member


def test_a_rejected_pair_is_checked_again_after_any_growth_while_exact_and_after_a_64th_once_sampled():
    assert [algorithms._outgrown(size) for size in (1, 10, 64)] == [1, 10, 64]  # every pair compared: exact
    assert algorithms._outgrown(640) == 650 and algorithms._outgrown(6400) == 6500
