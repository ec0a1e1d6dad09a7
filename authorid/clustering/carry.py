"""Cluster ids that last from one run to the next: `carry_ids` gives each new cluster the id of the earlier
cluster it shares the most accounts with.

A team that clusters its forum every week calls a group by its id ("person 17") in tickets and notes. Without
this, ids are ranks by size, so one account more anywhere renumbers every group after it. The match is the
greedy one used to track clusters over time (Greene, Doyle & Cunningham 2010, "Tracking the evolution of
communities in dynamic social networks"): pairs of (new cluster, earlier cluster) by decreasing shared accounts,
each id given once. So a group that grew or lost an account keeps its id; of two groups that merged, the new
group keeps the id of the one it shares more accounts with; of a group that split, the larger part keeps it.
Clusters that share no account with an unused earlier id get new ids above every id the earlier run used or
handed on, so an id once retired never comes back with other accounts.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from authorid.artefacts import ArtefactError, verify_manifest
from authorid.clustering.report import ClusterReport

ASSIGNMENTS_FILE = "assignments.csv"


@dataclass(frozen=True)
class PreviousClustering:
    """An earlier run's assignments (account id -> cluster id) and the first id it never used."""

    source: Path
    assignments: dict[str, int]
    next_id: int


def read_previous(folder: str | Path) -> PreviousClustering:
    """The clusters folder of an earlier `authorid cluster` run, checked (its manifest when it has one) and read.
    ArtefactError naming the folder, file or line otherwise."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ArtefactError(f"--previous {folder}: no such folder (give an earlier run's --out folder)")
    manifest = verify_manifest(folder, "clusters") or {}
    path = folder / ASSIGNMENTS_FILE
    if not path.is_file():
        raise ArtefactError(
            f"--previous {folder}: no {ASSIGNMENTS_FILE} (is it an `authorid cluster` folder?)"
        )
    assignments: dict[str, int] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        rows = csv.reader(handle)
        header = next(rows, None)
        if header != ["account_id", "cluster_id"]:
            raise ArtefactError(f"{path}: line 1: expected the header account_id,cluster_id, got {header}")
        for line, row in enumerate(rows, start=2):
            if len(row) != 2 or not row[1].lstrip("-").isdigit() or int(row[1]) < 0:
                raise ArtefactError(
                    f"{path}: line {line}: field cluster_id: expected a cluster id, got {row}"
                )
            if row[0] in assignments:
                raise ArtefactError(f"{path}: line {line}: field account_id: {row[0]!r} is listed twice")
            assignments[row[0]] = int(row[1])
    handed_on = (manifest.get("params") or {}).get("next_cluster_id")
    used = max(assignments.values(), default=-1) + 1
    next_id = max(used, int(handed_on)) if isinstance(handed_on, int) else used
    return PreviousClustering(source=folder, assignments=assignments, next_id=next_id)


@dataclass(frozen=True)
class CarriedIds:
    """What `carry_ids` did: clusters that kept an earlier id (`unchanged` of them with the very same
    accounts), clusters given a new id, and earlier ids given to no cluster (`retired`)."""

    source: str
    kept: int
    unchanged: int
    new: int
    retired: int
    next_id: int

    def to_dict(self) -> dict:
        return {
            "previous": self.source,
            "kept_ids": self.kept,
            "unchanged": self.unchanged,
            "new_ids": self.new,
            "retired_ids": self.retired,
        }

    def line(self) -> str:
        """One line for people."""
        new = f"{self.new:,} get a new id" + (f" (from {self.next_id - self.new:,} up)" if self.new else "")
        return (
            f"ids carried over from {self.source}: {self.kept:,} clusters keep an earlier id ({self.unchanged:,}"
            f" with the same accounts), {new};"
            f" {self.retired:,} earlier {'id is' if self.retired == 1 else 'ids are'} given to no cluster (their"
            " accounts split off, merged into another group or are gone)"
        )


def carry_ids(report: ClusterReport, previous: PreviousClustering) -> CarriedIds:
    """Renumber `report`'s clusters in place with `previous`'s ids (see the module's docstring). Each cluster's
    `since_previous` says "same" (the earlier cluster's very accounts), "changed" or "new"; the clusters keep
    their order (largest first); `labels` follow the new ids."""
    earlier = previous.assignments
    earlier_members: dict[int, set[str]] = {}
    for account, cluster_id in earlier.items():
        earlier_members.setdefault(cluster_id, set()).add(account)
    shared: dict[tuple[int, int], int] = {}  # (position in report.clusters, earlier id) -> accounts in both
    for position, cluster in enumerate(report.clusters):
        for account in cluster.members:
            if account in earlier:
                key = (position, earlier[account])
                shared[key] = shared.get(key, 0) + 1
    # most shared accounts first; then the closer match (fewer accounts in either but not both); then the lower
    # earlier id, then the cluster's place (by size, then its smallest account id: not the corpus' row order)
    candidates = sorted(
        shared.items(),
        key=lambda item: (
            -item[1],
            report.clusters[item[0][0]].size + len(earlier_members[item[0][1]]) - 2 * item[1],
            item[0][1],
            item[0][0],
        ),
    )
    given: dict[int, int] = {}
    taken: set[int] = set()
    for (position, earlier_id), _ in candidates:
        if position not in given and earlier_id not in taken:
            given[position] = earlier_id
            taken.add(earlier_id)
    next_id = previous.next_id
    unchanged = 0
    renumber = {}
    for position, cluster in enumerate(report.clusters):
        if position in given:
            cluster_id = given[position]
            same = set(cluster.members) == earlier_members[cluster_id]
            unchanged += same
            cluster.since_previous = "same" if same else "changed"
        else:
            cluster_id, next_id = next_id, next_id + 1
            cluster.since_previous = "new"
        renumber[cluster.id] = cluster_id
        cluster.id = cluster_id
    report.labels = np.array([renumber[int(label)] for label in report.labels], dtype=np.int64)
    carried = CarriedIds(
        source=str(previous.source),
        kept=len(given),
        unchanged=unchanged,
        new=len(report.clusters) - len(given),
        retired=len(earlier_members) - len(taken),
        next_id=next_id,
    )
    report.params["carried_ids"] = carried.to_dict()
    report.params["next_cluster_id"] = next_id
    return carried
