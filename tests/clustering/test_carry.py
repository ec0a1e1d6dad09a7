"""Cluster ids carried from an earlier run (`authorid.clustering.carry`): exact ids on hand-made clusterings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from authorid.artefacts import ArtefactError, write_manifest
from authorid.clustering import Cluster, ClusterReport
from authorid.clustering.carry import PreviousClustering, carry_ids, read_previous


def clustering(*groups: str) -> ClusterReport:
    """A report whose clusters are `groups` (each a string of one-letter accounts), numbered as
    `cluster_accounts` numbers them: 0.. in the order given (largest first)."""
    clusters = [Cluster(id=i, members=list(group)) for i, group in enumerate(groups)]
    accounts = sorted(a for group in groups for a in group)
    labels = np.array([next(c.id for c in clusters if a in c.members) for a in accounts])
    return ClusterReport(account_ids=accounts, labels=labels, clusters=clusters)


def earlier(assignments: dict[str, int], next_id: int | None = None) -> PreviousClustering:
    used = max(assignments.values()) + 1
    return PreviousClustering(Path("week1"), assignments, used if next_id is None else next_id)


def test_grown_merged_split_and_new_clusters_get_the_ids_the_rule_gives():
    # week 1: 7 = {a, b, c}, 3 = {d, e}, 9 = {f, g, h, i}, 4 = {j}, 12 = {k}
    before = earlier(
        {"a": 7, "b": 7, "c": 7, "d": 3, "e": 3, "f": 9, "g": 9, "h": 9, "i": 9, "j": 4, "k": 12}
    )
    # week 2: {a, b, c, x} grew; {f, g} and {h, i} split 9 (a tie of 2 and 2: the first listed keeps it);
    # {d, e, j} merged 3 and 4 (3 shares more); {y, z} is all new; k is gone
    report = clustering("abcx", "dej", "fg", "hi", "yz")
    carried = carry_ids(report, before)
    assert [(c.id, c.since_previous) for c in report.clusters] == [
        (7, "changed"),
        (3, "changed"),
        (9, "changed"),
        (13, "new"),
        (14, "new"),
    ]
    assert dict(zip(report.account_ids, report.labels.tolist(), strict=True)) == {
        **dict.fromkeys("abcx", 7),
        **dict.fromkeys("dej", 3),
        **dict.fromkeys("fg", 9),
        **dict.fromkeys("hi", 13),
        **dict.fromkeys("yz", 14),
    }
    assert (carried.kept, carried.unchanged, carried.new, carried.retired, carried.next_id) == (
        3,
        0,
        2,
        2,
        15,
    )
    assert report.params["next_cluster_id"] == 15
    assert report.params["carried_ids"] == {
        "previous": "week1",
        "kept_ids": 3,
        "unchanged": 0,
        "new_ids": 2,
        "retired_ids": 2,
    }
    assert "3 clusters keep an earlier id (0 with the same accounts), 2 get a new id (from 13 up)" in (
        carried.line()
    )


def test_the_same_clustering_keeps_every_id_and_says_same():
    before = earlier({"a": 5, "b": 5, "c": 2, "d": 0})
    report = clustering("ab", "c", "d")
    carried = carry_ids(report, before)
    assert [(c.id, c.since_previous) for c in report.clusters] == [(5, "same"), (2, "same"), (0, "same")]
    assert (carried.kept, carried.unchanged, carried.new, carried.retired) == (3, 3, 0, 0)
    assert "get a new id (from" not in carried.line()


def test_of_two_equal_overlaps_the_closer_match_wins():
    # {a, b} shares 1 account with 2 = {a} and 1 with 1 = {b, c, d} (c and d gone): 2 is the closer match
    # (1 account in one but not the other, against 3), though 1 is the lower id
    report = clustering("ab")
    carried = carry_ids(report, earlier({"a": 2, "b": 1, "c": 1, "d": 1}))
    assert [c.id for c in report.clusters] == [2]
    assert carried.retired == 1


def test_new_ids_start_above_the_id_the_earlier_run_handed_on():
    # week 1 had used ids up to 40 (its manifest's next_cluster_id); week 2's assignments only reach 3
    report = clustering("ab", "z")
    carried = carry_ids(report, earlier({"a": 3, "b": 3}, next_id=41))
    assert [c.id for c in report.clusters] == [3, 41]
    assert carried.next_id == 42


def write_clusters(folder: Path, text: str, *, params: dict | None = None) -> Path:
    folder.mkdir()
    (folder / "assignments.csv").write_text(text)
    (folder / "clusters.jsonl").write_text("")
    write_manifest(folder, "clusters", params=params or {})
    return folder


def test_read_previous_takes_the_assignments_and_the_id_handed_on(tmp_path):
    folder = write_clusters(
        tmp_path / "w1", "account_id,cluster_id\na,4\nb,4\nc,0\n", params={"next_cluster_id": 9}
    )
    previous = read_previous(folder)
    assert previous.assignments == {"a": 4, "b": 4, "c": 0}
    assert previous.next_id == 9
    plain = write_clusters(tmp_path / "w0", "account_id,cluster_id\na,4\n")
    assert read_previous(plain).next_id == 5


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("account,cluster\na,1\n", "line 1: expected the header account_id,cluster_id"),
        ("account_id,cluster_id\na,1\nb,one\n", "line 3: field cluster_id: expected a cluster id"),
        ("account_id,cluster_id\na,1\na,2\n", "line 3: field account_id: 'a' is listed twice"),
    ],
)
def test_a_damaged_assignments_file_is_refused_naming_its_line(tmp_path, text, said):
    folder = tmp_path / "w1"
    folder.mkdir()
    (folder / "assignments.csv").write_text(text)
    with pytest.raises(ArtefactError, match=said):
        read_previous(folder)


def test_an_edited_or_foreign_folder_is_refused(tmp_path):
    folder = write_clusters(tmp_path / "w1", "account_id,cluster_id\na,1\n")
    (folder / "assignments.csv").write_text("account_id,cluster_id\na,2\n")  # same size, other checksum
    with pytest.raises(ArtefactError, match="checksum"):
        read_previous(folder)
    with pytest.raises(ArtefactError, match="no such folder"):
        read_previous(tmp_path / "nowhere")
    model = tmp_path / "model"
    model.mkdir()
    write_manifest(model, "model")
    with pytest.raises(ArtefactError, match="holds a model, not clusters"):
        read_previous(model)
