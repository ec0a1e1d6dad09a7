"""ClusterReport outputs: the JSONL fields, the assignments CSV, and the summary's order."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from authorid.clustering import Cluster, cluster_accounts
from authorid.clustering import report as report_module
from authorid.clustering.report import chance_of_precision, expected_precision, pairs_formed
from authorid.encoders import AccountVectors


def report():
    # Groups {a, b, c} (0, 10, 20 degrees), {d, e} (90, 95) and the singleton f on the z axis.
    angles = np.deg2rad([0.0, 10.0, 20.0, 90.0, 95.0])
    vectors = np.zeros((6, 3), dtype=np.float32)
    vectors[:5, 0], vectors[:5, 1], vectors[5, 2] = np.cos(angles), np.sin(angles), 1.0
    return cluster_accounts(AccountVectors(list("abcdef"), vectors, np.ones(6)), k=2, threshold=0.9)


def test_jsonl_has_one_object_per_cluster_with_members_cohesion_and_evidence(tmp_path):
    path = report().to_jsonl(tmp_path / "clusters.jsonl")
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["cluster_id"], r["size"], r["members"]) for r in rows] == [
        (0, 3, ["a", "b", "c"]),
        (1, 2, ["d", "e"]),
        (2, 1, ["f"]),
    ]
    cos10, cos20, cos5 = np.cos(np.deg2rad([10.0, 20.0, 5.0]))
    assert rows[0]["cohesion"] == round((2 * cos10 + cos20) / 3, 6)
    assert [(e["a"], e["b"]) for e in rows[0]["evidence"]] == [("a", "b"), ("b", "c"), ("a", "c")]
    assert rows[0]["evidence"][0]["probability"] == round(cos10, 6)
    assert rows[1]["evidence"] == [
        {"a": "d", "b": "e", "probability": round(cos5, 6), "cosine": round(cos5, 6)}
    ]
    assert rows[2]["cohesion"] is None and rows[2]["evidence"] == []


def test_assignments_csv_lists_every_account_in_input_order(tmp_path):
    path = report().assignments_csv(tmp_path / "assignments.csv")
    with path.open() as fh:
        assert list(csv.reader(fh)) == [
            ["account_id", "cluster_id"],
            ["a", "0"],
            ["b", "0"],
            ["c", "0"],
            ["d", "1"],
            ["e", "1"],
            ["f", "2"],
        ]


def test_summary_lists_the_largest_multi_account_groups_first():
    lines = report().summary().splitlines()
    assert lines[0] == "6 accounts -> 3 clusters; 2 groups of 2+ accounts covering 5 accounts; largest 3"
    assert lines[1].startswith("  #0 (3 accounts cohesion 0.97): a, b, c")
    assert lines[2].startswith("  #1 (2 accounts cohesion 1.00): d, e")
    assert lines[3].startswith("  cohesion: the mean P(same person) over all pairs of a group's accounts")
    assert len(lines) == 4
    assert report().summary(max_groups=1).splitlines()[-2] == "  ... and 1 more groups"


def test_expected_precision_weights_each_cluster_s_cohesion_by_its_pairs():
    clusters = [
        Cluster(0, ["a", "b", "c"], cohesion=0.8),  # 3 pairs
        Cluster(1, ["d", "e"], cohesion=1.0),  # 1 pair
        Cluster(2, ["f"]),  # no pair: no weight
    ]
    assert expected_precision(clusters) == pytest.approx((3 * 0.8 + 1.0) / 4)
    assert expected_precision([Cluster(0, ["a"])]) is None  # nothing grouped: no pair to be wrong
    assert expected_precision([Cluster(0, ["a", "b"])]) is None  # no P (clustered on cosines)


def test_chance_of_precision_is_the_exact_chance_that_few_enough_pairs_are_wrong():
    # one pair at P 0.95: precision 0.9 needs it right
    assert chance_of_precision([Cluster(0, ["a", "b"], cohesion=0.95)], 0.9) == pytest.approx(0.95)
    # ten pairs at P 0.9, precision 0.9 allows one wrong: 0.9^10 + 10 x 0.1 x 0.9^9
    tens = [Cluster(i, [f"a{i}", f"b{i}"], cohesion=0.9) for i in range(10)]
    assert chance_of_precision(tens, 0.9) == pytest.approx(0.9**10 + 10 * 0.1 * 0.9**9)  # 0.7361
    # a cluster of three (3 pairs, each at its cohesion 0.8) and a pair at 0.9: 4 pairs, 0.75 allows one wrong;
    # P(none of the three wrong) + P(one of them wrong) x P(the pair right) = 0.512 + 0.384 x 0.9
    mixed = [
        Cluster(0, ["a", "b", "c"], cohesion=0.8),
        Cluster(1, ["d", "e"], cohesion=0.9),
        Cluster(2, ["f"]),
    ]
    assert pairs_formed(mixed) == 4
    assert chance_of_precision(mixed, 0.75) == pytest.approx(0.512 + 0.384 * 0.9)
    assert chance_of_precision(mixed, 0.0) == pytest.approx(1.0)  # every pair may be wrong
    # the expected precision alone is a coin toss: 100 pairs at P 0.9 reach 0.9 about half the time
    hundred = [Cluster(i, [f"a{i}", f"b{i}"], cohesion=0.9) for i in range(100)]
    assert expected_precision(hundred) == pytest.approx(0.9)
    assert 0.5 < chance_of_precision(hundred, 0.9) < 0.6  # P(Binomial(100, 0.1) <= 10) = 0.583
    assert chance_of_precision(hundred, 0.9) == pytest.approx(0.58316, abs=1e-5)
    assert chance_of_precision([Cluster(0, ["a"])], 0.9) is None  # no pair formed
    assert chance_of_precision([Cluster(0, ["a", "b"])], 0.9) is None  # no P


def test_chance_of_precision_with_many_pairs_is_the_normal_approximation(monkeypatch):
    clusters = [Cluster(i, [f"a{i}", f"b{i}"], cohesion=0.92 + 0.04 * (i % 2)) for i in range(3000)]
    exact = chance_of_precision(clusters, 0.935)
    monkeypatch.setattr(report_module, "EXACT_PAIRS", 1000)
    approximate = chance_of_precision(clusters, 0.935)
    assert approximate != exact and approximate == pytest.approx(exact, abs=0.01)
