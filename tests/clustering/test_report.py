"""ClusterReport outputs: the JSONL fields, the assignments CSV, and the summary's order."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from authorid.clustering import Cluster, cluster_accounts
from authorid.clustering.report import expected_precision
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
    assert len(lines) == 3
    assert report().summary(max_groups=1).splitlines()[-1] == "  ... and 1 more groups"


def test_expected_precision_weights_each_cluster_s_cohesion_by_its_pairs():
    clusters = [
        Cluster(0, ["a", "b", "c"], cohesion=0.8),  # 3 pairs
        Cluster(1, ["d", "e"], cohesion=1.0),  # 1 pair
        Cluster(2, ["f"]),  # no pair: no weight
    ]
    assert expected_precision(clusters) == pytest.approx((3 * 0.8 + 1.0) / 4)
    assert expected_precision([Cluster(0, ["a"])]) is None  # nothing grouped: no pair to be wrong
    assert expected_precision([Cluster(0, ["a", "b"])]) is None  # no P (clustered on cosines)
