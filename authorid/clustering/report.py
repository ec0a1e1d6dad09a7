"""`ClusterReport`: which accounts were grouped into one person, how sure, and on what evidence."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from statistics import NormalDist

import numpy as np
from scipy.stats import poisson_binom

from authorid.io import atomic_write_text


@dataclass
class EvidencePair:
    """One of the strongest links inside a cluster: two member accounts, their cosine and P(same person)."""

    a: str
    b: str
    probability: float
    cosine: float
    reason: str | None = None  # the strongest shared habits (`cluster --explain`)

    def to_dict(self) -> dict:
        out = {
            "a": self.a,
            "b": self.b,
            "probability": round(self.probability, 6),
            "cosine": round(self.cosine, 6),
        }
        return out if self.reason is None else {**out, "reason": self.reason}


@dataclass
class Cluster:
    """A presumed person: `members` (account ids), `size`, `cohesion`, `evidence`.

    cohesion = mean P(same person) over all pairs of members (the average-linkage score of the cluster;
    estimated on a seeded sample of members for very large clusters); None for a single account.
    evidence = the strongest graph edges inside the cluster, strongest first.
    """

    id: int
    members: list[str]
    cohesion: float | None = None
    evidence: list[EvidencePair] = field(default_factory=list)
    #: pairs of members that posted a text word for word (`authorid.evidence.copies`); None: not counted
    copied_pairs: int | None = None
    #: with `cluster --previous`: "same" (an earlier cluster's very accounts, its id kept), "changed" (its id
    #: kept, its accounts not all the same) or "new" (`authorid.clustering.carry`); None otherwise
    since_previous: str | None = None

    @property
    def size(self) -> int:
        return len(self.members)

    def to_dict(self) -> dict:
        return {
            "cluster_id": self.id,
            "size": self.size,
            "members": self.members,
            "cohesion": None if self.cohesion is None else round(self.cohesion, 6),
            "evidence": [pair.to_dict() for pair in self.evidence],
            **({} if self.copied_pairs is None else {"copied_pairs": self.copied_pairs}),
            **({} if self.since_previous is None else {"since_previous": self.since_previous}),
        }


def expected_precision(clusters: list[Cluster]) -> float | None:
    """The share of the same-person pairs `clusters` form that their P expects to be right: every cluster's
    cohesion (its pairs' mean P) weighted by its number of pairs. It needs no truth, and it is what pairwise
    precision comes to when P is calibrated. None without a cluster of 2 or more, or without P (cohesion
    None)."""
    pairs = [(c.size * (c.size - 1) / 2, c.cohesion) for c in clusters if c.size > 1]
    if not pairs or any(cohesion is None for _, cohesion in pairs):
        return None
    return float(sum(n * cohesion for n, cohesion in pairs) / sum(n for n, _ in pairs))


def pairs_formed(clusters: list[Cluster]) -> int:
    """How many same-person pairs `clusters` claim: m (m - 1) / 2 for a cluster of m members."""
    return sum(c.size * (c.size - 1) // 2 for c in clusters)


#: Up to this many pairs `chance_of_precision` reads the exact distribution of wrong pairs (scipy's Poisson
#: binomial: 0.2 s at 20,000 pairs); above it, the normal approximation (with so many, the two agree closely).
EXACT_PAIRS = 20_000


def chance_of_precision(clusters: list[Cluster], target: float) -> float | None:
    """The probability that at least a share `target` of the pairs `clusters` form are right, P read as
    calibrated: each pair of a cluster is one person with probability its cohesion, independently.

    The expected precision alone is a coin toss around its own value: a calibrated P that expects 0.90 of 100
    pairs delivers less than 0.90 about half the time. This is what a *minimum* precision needs: the chance of
    reaching it. Each pair of a larger cluster is read at the cluster's mean P, which for a given mean is the
    widest spread, so the chance is not overstated by that. None when no pair is formed or P is missing.
    """
    groups = [(c.size * (c.size - 1) // 2, c.cohesion) for c in clusters if c.size > 1]
    if not groups or any(cohesion is None for _, cohesion in groups):
        return None
    pairs = np.array([m for m, _ in groups], dtype=np.float64)
    wrong = np.array([1.0 - float(np.clip(cohesion, 0.0, 1.0)) for _, cohesion in groups])  # a pair's chance
    allowed = int(np.floor(pairs.sum() * (1.0 - target) + 1e-9))  # wrong pairs the target tolerates
    if pairs.sum() > EXACT_PAIRS:  # scipy's exact sum takes n^2 steps: 12 s at 100,000 pairs
        mean, spread = float(pairs @ wrong), float(np.sqrt(pairs @ (wrong * (1.0 - wrong))))
        if spread == 0.0:
            return float(mean <= allowed)
        return float(NormalDist(mean, spread).cdf(allowed + 0.5))
    return float(poisson_binom.cdf(allowed, np.repeat(wrong, pairs.astype(np.int64))))


#: How the summary says a cluster's `since_previous`.
SINCE_PREVIOUS = {
    "same": "same accounts as before",
    "changed": "its id kept, its accounts changed",
    "new": "a new group",
}


@dataclass
class ClusterReport:
    """The result of `cluster_accounts`.

    `labels[i]` is the cluster id of `account_ids[i]`; clusters are numbered 0.. by decreasing size (ties by
    the smallest account id), so `clusters[c].id == c` and multi-account clusters come first; ids carried over from an
    earlier run (`authorid.clustering.carry.carry_ids`) keep that order but not that numbering. `params`
    records how it was made, `timing` seconds per stage, `stats` graph sizes (edges, largest connected
    component before the method's own filtering, largest cluster).
    """

    account_ids: list[str]
    labels: np.ndarray
    clusters: list[Cluster]
    params: dict = field(default_factory=dict)
    timing: dict = field(default_factory=dict)
    stats: dict = field(default_factory=dict)

    @property
    def multi_account(self) -> list[Cluster]:
        return [c for c in self.clusters if c.size > 1]

    def to_jsonl(self, path: str | Path) -> Path:
        """One JSON object per cluster (largest first): cluster_id, size, members, cohesion, evidence."""
        lines = (json.dumps(c.to_dict(), ensure_ascii=False) for c in self.clusters)
        return atomic_write_text(path, "".join(line + "\n" for line in lines))

    def assignments_csv(self, path: str | Path) -> Path:
        """account_id,cluster_id per account, in the order of `account_ids`."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["account_id", "cluster_id"])
        writer.writerows(zip(self.account_ids, self.labels.tolist(), strict=True))
        return atomic_write_text(path, buffer.getvalue())

    def summary(self, max_groups: int = 10) -> str:
        """A few lines for people: counts, then the largest multi-account groups first."""
        groups = self.multi_account
        n = len(self.account_ids)
        lines = [
            f"{n:,} accounts -> {len(self.clusters):,} clusters; {len(groups):,}"
            f" group{'s' * (len(groups) != 1)} of 2+ accounts covering {sum(c.size for c in groups):,} accounts"
            + (f"; largest {groups[0].size}" if groups else "")
        ]
        for cluster in groups[:max_groups]:
            shown = ", ".join(cluster.members[:6]) + (
                f", ... (+{cluster.size - 6})" if cluster.size > 6 else ""
            )
            cohesion = "" if cluster.cohesion is None else f" cohesion {cluster.cohesion:.2f}"
            if cluster.copied_pairs:
                cohesion += (
                    f", {cluster.copied_pairs} pair{'s' * (cluster.copied_pairs != 1)} sharing a copied post"
                )
            if cluster.since_previous is not None:
                cohesion += f"; {SINCE_PREVIOUS[cluster.since_previous]}"
            lines.append(f"  #{cluster.id} ({cluster.size} accounts{cohesion}): {shown}")
        if len(groups) > max_groups:
            lines.append(f"  ... and {len(groups) - max_groups:,} more groups")
        if any(c.cohesion is not None for c in groups[:max_groups]):  # every printed figure said (audit 12)
            lines.append(
                "  cohesion: the mean P(same person) over all pairs of a group's accounts (clusters.jsonl gives"
                " each group's strongest pairs as its evidence)"
            )
        return "\n".join(lines)
