"""Clustering accounts into persons: kNN graph -> calibrated edges -> threshold cut -> partition -> ClusterReport.

- `cluster_accounts` (cluster.py): the entry point; methods "mutual-knn", "agglomerative", "leiden".
- `knn`, `mutual`, `symmetric`, `cut` (graph.py): the faiss kNN graph and its sparse filters.
- `ClusterReport`, `Cluster`, `EvidencePair` (report.py): results, JSONL/CSV output, a human summary.
"""

from authorid.clustering.algorithms import MissingDependencyError
from authorid.clustering.cluster import METHODS, cluster_accounts
from authorid.clustering.graph import knn
from authorid.clustering.report import Cluster, ClusterReport, EvidencePair

__all__ = [
    "METHODS",
    "Cluster",
    "ClusterReport",
    "EvidencePair",
    "MissingDependencyError",
    "cluster_accounts",
    "knn",
]
