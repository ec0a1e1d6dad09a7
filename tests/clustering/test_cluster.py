"""cluster_accounts on hand-built vectors whose clusters are known exactly, and its argument checks."""

from __future__ import annotations

import numpy as np
import pytest

from authorid.clustering import cluster_accounts
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


def test_hnsw_knn_agrees_with_exact_on_small_data():
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
