"""All evaluation metrics, as pure functions over numpy arrays (one import for every kind of task).

- ranking / linking: :mod:`authorid.metrics.ranking`
- verification (PAN): :mod:`authorid.metrics.verification`
- clustering: :mod:`authorid.metrics.clustering`
- attribution (closed and open set): :mod:`authorid.metrics.attribution`
- error rates with their intervals and pair counts: :mod:`authorid.metrics.rates`
"""

from __future__ import annotations

from authorid.metrics.attribution import (
    accuracy,
    attribution_metrics,
    macro_f1,
    open_set_auroc,
    per_author_report,
    top_k_accuracy,
)
from authorid.metrics.clustering import bcubed, clustering_metrics, pairwise_prf
from authorid.metrics.ranking import (
    mean_reciprocal_rank,
    ranking_metrics,
    ranks_of_true,
    recall_at_k,
)
from authorid.metrics.rates import implied_precision, rate_with_interval, small_sample_warning
from authorid.metrics.verification import (
    NON_ANSWER,
    ReliabilityCurve,
    brier_complement,
    brier_score,
    c_at_1,
    ece_noise_floor,
    eer,
    expected_calibration_error,
    f1,
    f_05_u,
    overall,
    reliability_curve,
    roc_auc,
    verification_metrics,
)

__all__ = [
    "NON_ANSWER",
    "ReliabilityCurve",
    "accuracy",
    "attribution_metrics",
    "bcubed",
    "brier_complement",
    "brier_score",
    "c_at_1",
    "clustering_metrics",
    "ece_noise_floor",
    "eer",
    "expected_calibration_error",
    "f1",
    "f_05_u",
    "implied_precision",
    "macro_f1",
    "mean_reciprocal_rank",
    "open_set_auroc",
    "overall",
    "pairwise_prf",
    "per_author_report",
    "ranking_metrics",
    "rate_with_interval",
    "ranks_of_true",
    "recall_at_k",
    "reliability_curve",
    "roc_auc",
    "small_sample_warning",
    "top_k_accuracy",
    "verification_metrics",
]
