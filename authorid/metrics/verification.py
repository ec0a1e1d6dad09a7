"""Authorship-verification metrics as defined by the PAN shared tasks (pan20-pan22 ``verif_evaluator``).

Inputs are ``scores`` in [0, 1] (probability that the pair shares an author) and ``labels`` in {0, 1}. A score
of exactly 0.5 is a *non-answer*: the system abstains. Answers are binarised: ``score > 0.5`` = same author.
Unlike PAN's evaluator, which silently returns 0.0 when AUC is undefined, degenerate input (one class only,
empty input, length mismatch) raises :class:`ValueError` here.

References: Stamatatos et al., Overview of the Author Identification Task at PAN 2014; Kestemont et al.,
Overview of the Cross-Domain Authorship Verification Task at PAN 2020; the evaluator in
github.com/pan-webis-de/pan-code (clef22/authorship-verification/pan22_verif_evaluator.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import roc_auc_score, roc_curve

from authorid.metrics.checks import paired_labels

__all__ = [
    "NON_ANSWER",
    "ReliabilityCurve",
    "brier_complement",
    "brier_score",
    "EceNoiseFloor",
    "c_at_1",
    "ece_noise_floor",
    "eer",
    "expected_calibration_error",
    "f1",
    "f_05_u",
    "overall",
    "reliability_curve",
    "roc_auc",
    "verification_metrics",
]

NON_ANSWER = 0.5
"""The score with which a verifier abstains (PAN convention)."""


def _scores_and_labels(
    scores: ArrayLike, labels: ArrayLike, *, unit_interval: bool, name: str = "scores"
) -> tuple[np.ndarray, np.ndarray]:
    values, truth = paired_labels(np.asarray(scores, dtype=np.float64), labels, (name, "labels"))
    if np.isnan(values).any():
        raise ValueError(f"{name} contains NaN")
    if unit_interval and (values.min() < 0.0 or values.max() > 1.0):
        raise ValueError(f"{name} must lie in [0, 1], got [{values.min():g}, {values.max():g}]")
    if not np.isin(truth, (0, 1)).all():
        raise ValueError(f"labels must be 0/1 (or bool), got values {np.unique(truth)[:5].tolist()}")
    return values, truth.astype(np.int64)


def _both_classes(truth: np.ndarray, metric: str) -> None:
    if truth.min() == truth.max():
        raise ValueError(f"{metric} is undefined when labels hold one class only (all {truth[0]})")


def roc_auc(scores: ArrayLike, labels: ArrayLike) -> float:
    """Area under the ROC curve (scikit-learn's ``roc_auc_score``); non-answers (0.5) are kept as scores.

    Equals the probability that a random positive pair outscores a random negative one, ties counting 1/2.
    Scores may be any real numbers (e.g. raw cosine similarities). Raises ValueError for one class only.
    """
    values, truth = _scores_and_labels(scores, labels, unit_interval=False)
    _both_classes(truth, "ROC AUC")
    return float(roc_auc_score(truth, values))


def eer(scores: ArrayLike, labels: ArrayLike) -> float:
    """Equal error rate: the error rate at the operating point where FPR equals FNR = 1 - TPR.

    Read off the full ROC curve (scikit-learn's ``roc_curve``) by linear interpolation between the two ROC
    points where ``FPR - FNR`` changes sign; the curve runs from (0, 0) to (1, 1), so a crossing exists.
    Scores may be any real numbers. Raises ValueError for one class only.
    """
    values, truth = _scores_and_labels(scores, labels, unit_interval=False)
    _both_classes(truth, "EER")
    fpr, tpr, _ = roc_curve(truth, values, drop_intermediate=False)
    gap = fpr - (1.0 - tpr)  # -1 at (0, 0), +1 at (1, 1), non-decreasing in between
    after = int(np.argmax(gap >= 0.0))
    if gap[after] == 0.0:
        return float(fpr[after])
    before = after - 1
    weight = -gap[before] / (gap[after] - gap[before])
    return float(fpr[before] + weight * (fpr[after] - fpr[before]))


def c_at_1(scores: ArrayLike, labels: ArrayLike) -> float:
    """c@1 (Peñas & Rodrigo, ACL 2011): accuracy that credits abstaining instead of guessing wrong.

    ``c@1 = (n_c + n_u * n_c / n) / n`` with ``n_c`` correct answers (``(score > 0.5) == label``), ``n_u``
    non-answers (``score == 0.5``) and ``n`` problems. All non-answers give 0.
    """
    values, truth = _scores_and_labels(scores, labels, unit_interval=True)
    answered = values != NON_ANSWER
    n = values.size
    n_correct = int(((values > NON_ANSWER) == (truth == 1))[answered].sum())
    n_unanswered = int((~answered).sum())
    return (n_correct + n_unanswered * n_correct / n) / n


def _confusion(values: np.ndarray, truth: np.ndarray) -> tuple[int, int, int, int]:
    """True positives, false positives, false negatives and non-answers of binarised answers."""
    answered = values != NON_ANSWER
    said_same = values > NON_ANSWER
    positive = truth == 1
    tp = int((answered & said_same & positive).sum())
    fp = int((answered & said_same & ~positive).sum())
    fn = int((answered & ~said_same & positive).sum())
    return tp, fp, fn, int((~answered).sum())


def f1(scores: ArrayLike, labels: ArrayLike) -> float:
    """F1 of the answered problems, as in PAN's evaluator: non-answers are removed before scoring.

    ``F1 = 2 TP / (2 TP + FP + FN)`` over problems with ``score != 0.5``, positive = same author
    (score > 0.5). When that is 0 / 0 (no answers, or no positive answer and no positive label) it is 0.0,
    as in scikit-learn.
    """
    values, truth = _scores_and_labels(scores, labels, unit_interval=True)
    tp, fp, fn, _ = _confusion(values, truth)
    denominator = 2 * tp + fp + fn
    return 2 * tp / denominator if denominator else 0.0


def f_05_u(scores: ArrayLike, labels: ArrayLike) -> float:
    """F0.5u (Bevendorff et al., NAACL 2019): F0.5 that counts non-answers as false negatives.

    ``F0.5u = 1.25 TP / (1.25 TP + 0.25 (FN + N_u) + FP)``, ``N_u`` = number of non-answers (whatever their
    label), as in the pan21/pan22 evaluator (pan20's binarised 0.5 to "same author" first, so it never saw a
    non-answer). 0 / 0 (every problem a correctly answered negative) gives 0.0.
    """
    values, truth = _scores_and_labels(scores, labels, unit_interval=True)
    tp, fp, fn, n_unanswered = _confusion(values, truth)
    denominator = 1.25 * tp + 0.25 * (fn + n_unanswered) + fp
    return 1.25 * tp / denominator if denominator else 0.0


def brier_score(scores: ArrayLike, labels: ArrayLike) -> float:
    """Brier score (Brier 1950): mean squared error of the probabilities, ``mean((score - label)^2)``.

    Lower is better; non-answers count as the probability 0.5.
    """
    values, truth = _scores_and_labels(scores, labels, unit_interval=True)
    return float(np.mean((values - truth) ** 2))


def brier_complement(scores: ArrayLike, labels: ArrayLike) -> float:
    """``1 - brier_score``: what PAN reports as "brier" (higher is better) and averages into "overall"."""
    return 1.0 - brier_score(scores, labels)


def overall(scores: ArrayLike, labels: ArrayLike) -> float:
    """PAN's overall score: the mean of AUC, c@1, F1, F0.5u and the Brier complement."""
    return verification_metrics(scores, labels)["overall"]


def verification_metrics(scores: ArrayLike, labels: ArrayLike) -> dict[str, float]:
    """All PAN verification metrics plus EER, ECE and counts.

    Keys: ``auc, c@1, f1, f_05_u, brier`` (the complement, as PAN reports it), ``overall`` (their mean),
    ``brier_score`` (the plain mean squared error), ``eer``, ``ece``, ``ece_floor`` / ``ece_floor_high`` (the
    ECE a perfectly calibrated verifier would show on as many pairs: :func:`ece_noise_floor`), ``n_pairs``,
    ``n_positive``, ``n_non_answers``. Unlike PAN the values are not rounded.
    """
    values, truth = _scores_and_labels(scores, labels, unit_interval=True)
    pan = {
        "auc": roc_auc(values, truth),
        "c@1": c_at_1(values, truth),
        "f1": f1(values, truth),
        "f_05_u": f_05_u(values, truth),
        "brier": brier_complement(values, truth),
    }
    return {
        **pan,
        "overall": float(np.mean(list(pan.values()))),
        "brier_score": brier_score(values, truth),
        "eer": eer(values, truth),
        "ece": expected_calibration_error(values, truth),
        **ece_noise_floor(values).to_dict(),
        "n_pairs": int(values.size),
        "n_positive": int(truth.sum()),
        "n_non_answers": int((values == NON_ANSWER).sum()),
    }


@dataclass(frozen=True)
class ReliabilityCurve:
    """Per-bin data of a reliability diagram; only non-empty bins are listed.

    ``bin_lower``/``bin_upper`` are the bin edges, ``mean_probability`` the mean predicted probability of
    the positive class in the bin (confidence), ``fraction_positive`` the observed frequency of label 1 in the
    bin, ``count`` the number of items in it.
    """

    bin_lower: np.ndarray
    bin_upper: np.ndarray
    mean_probability: np.ndarray
    fraction_positive: np.ndarray
    count: np.ndarray

    def to_dict(self) -> dict[str, list[float]]:
        """Plain lists, for JSON reports."""
        return {name: getattr(self, name).tolist() for name in self.__dataclass_fields__}


def _check_n_bins(n_bins: int) -> None:
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")


def reliability_curve(probs: ArrayLike, labels: ArrayLike, n_bins: int = 15) -> ReliabilityCurve:
    """Bin ``probs`` (probability of label 1) into ``n_bins`` equal-width bins on [0, 1].

    Bin ``b`` holds ``b/B <= p < (b+1)/B``; the last bin also holds ``p == 1``.
    """
    _check_n_bins(n_bins)
    values, truth = _scores_and_labels(probs, labels, unit_interval=True, name="probs")
    bins = np.minimum((values * n_bins).astype(np.int64), n_bins - 1)
    count = np.bincount(bins, minlength=n_bins)
    sum_probability = np.bincount(bins, weights=values, minlength=n_bins)
    sum_positive = np.bincount(bins, weights=truth.astype(np.float64), minlength=n_bins)
    filled = np.flatnonzero(count)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return ReliabilityCurve(
        bin_lower=edges[filled],
        bin_upper=edges[filled + 1],
        mean_probability=sum_probability[filled] / count[filled],
        fraction_positive=sum_positive[filled] / count[filled],
        count=count[filled],
    )


def expected_calibration_error(probs: ArrayLike, labels: ArrayLike, n_bins: int = 15) -> float:
    """Expected calibration error (Naeini et al., AAAI 2015; Guo et al., ICML 2017) of P(label = 1).

    ``ECE = sum_b (n_b / n) * |mean(label in b) - mean(prob in b)|`` over the equal-width bins of
    :func:`reliability_curve`. 0 is perfectly calibrated.
    """
    curve = reliability_curve(probs, labels, n_bins)
    gaps = np.abs(curve.fraction_positive - curve.mean_probability)
    return float(np.sum(curve.count * gaps) / np.sum(curve.count))


#: Label draws behind `ece_noise_floor`: enough for its mean to move by < 0.001 between seeds at 2,000 pairs.
FLOOR_DRAWS = 200


@dataclass(frozen=True)
class EceNoiseFloor:
    """The ECE of a perfectly calibrated verifier on these pairs: its mean over label draws (``mean``) and the
    95th percentile (``high``); an observed ECE below ``high`` cannot be told from perfect calibration."""

    mean: float
    high: float
    draws: int

    def to_dict(self) -> dict[str, float]:
        return {"ece_floor": self.mean, "ece_floor_high": self.high}


def ece_noise_floor(
    probs: ArrayLike, n_bins: int = 15, *, draws: int = FLOOR_DRAWS, seed: int = 0
) -> EceNoiseFloor:
    """What ECE a *perfectly calibrated* verifier shows on as many pairs, with these probabilities.

    ECE is measured on a finite sample, so even a verifier whose P is exactly the true chance scores above 0:
    each bin's share of same-person pairs deviates from its mean P by sampling noise, about
    sqrt(p (1 - p) / n_b), and ECE adds up those deviations' sizes. Here each pair's label is drawn
    `draws` times as Bernoulli(its own P) -- the world in which the probabilities are exactly right -- and the
    ECE of every draw computed with the bins of :func:`expected_calibration_error`. Seeded, so exact for a
    given seed. A target ECE below the floor's mean is one that a perfect calibration misses more often than
    it meets it (on the Reddit benchmark's 2,000 pairs the floor is about 0.02: BENCHMARKS.md).
    """
    _check_n_bins(n_bins)
    if isinstance(draws, bool) or not isinstance(draws, int | np.integer) or draws < 1:
        raise ValueError(f"draws must be a positive integer, got {draws!r}")
    values = np.asarray(probs, dtype=np.float64).reshape(-1)
    if values.size == 0:
        raise ValueError("probs is empty")
    if np.isnan(values).any() or values.min() < 0.0 or values.max() > 1.0:
        raise ValueError("probs must lie in [0, 1] and contain no NaN")
    bins = np.minimum((values * n_bins).astype(np.int64), n_bins - 1)
    count = np.bincount(bins, minlength=n_bins)
    mean_probability = np.bincount(bins, weights=values, minlength=n_bins)
    filled = count > 0
    rng = np.random.default_rng(seed)
    errors = np.empty(draws)
    for draw in range(draws):
        positives = np.bincount(bins, weights=rng.random(values.size) < values, minlength=n_bins)
        errors[draw] = np.abs(positives - mean_probability)[filled].sum() / values.size
    return EceNoiseFloor(mean=float(errors.mean()), high=float(np.quantile(errors, 0.95)), draws=int(draws))
