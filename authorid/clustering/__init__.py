"""Clustering accounts into persons: kNN graph -> calibrated edges -> threshold cut -> partition -> ClusterReport.

- `cluster_accounts` (cluster.py): the entry point; methods "average" (default), "mutual-knn",
  "agglomerative", "leiden".
- `knn_matrix`, `mutual`, `symmetric`, `cut` (graph.py): the kNN graph as a sparse matrix and its filters.
- `ClusterReport`, `Cluster`, `EvidencePair` (report.py): results, JSONL/CSV output, a human summary.
"""

from authorid.clustering.algorithms import MissingDependencyError
from authorid.clustering.cluster import DEFAULT_CONFIDENCE, DEFAULT_MIN_PRECISION, METHODS, cluster_accounts
from authorid.clustering.report import Cluster, ClusterReport, EvidencePair

__all__ = [
    "DEFAULT_CONFIDENCE",
    "DEFAULT_MIN_PRECISION",
    "METHODS",
    "Cluster",
    "ClusterReport",
    "EvidencePair",
    "MissingDependencyError",
    "cluster_accounts",
]
