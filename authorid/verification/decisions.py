"""Turning calibrated probabilities into decisions, and choosing the operating point on held-out pairs.

A decision is "same" when p > threshold, "different" otherwise, and "abstain" when an abstain band
[low, high] is set and low <= p <= high (the band wins over the threshold). Two ways to choose the operating
point, both measured on pairs the calibration was not fitted on:

- `threshold_at_fpr`: the smallest threshold whose false-positive rate (negatives with p > t) is at most the
  target;
- `c_at_1_band`: the abstain band maximising PAN's c@1 = (n_c + n_u * n_c / n) / n (Peñas & Rodrigo, ACL 2011),
  with n_c correct answers, n_u abstentions and n pairs, by a grid search over the held-out probabilities.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

SAME, DIFFERENT, ABSTAIN = "same", "different", "abstain"

#: At most this many candidate band edges on each side of the threshold (quantiles of the probabilities).
_GRID = 200


def decide(
    probabilities: ArrayLike, threshold: float, abstain_band: tuple[float, float] | None
) -> np.ndarray:
    """ "same" | "different" | "abstain" per probability (see the module docstring)."""
    p = np.asarray(probabilities, dtype=np.float64)
    out = np.where(p > threshold, SAME, DIFFERENT).astype(object)
    if abstain_band is not None:
        low, high = abstain_band
        out[(p >= low) & (p <= high)] = ABSTAIN
    return out


def _labels_and_scores(probabilities: ArrayLike, labels: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(probabilities, dtype=np.float64).reshape(-1)
    y = np.asarray(labels).astype(np.int64).reshape(-1)
    if p.size != y.size or p.size == 0:
        raise ValueError(f"need as many labels as probabilities (got {p.size} and {y.size}), at least one")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0/1")
    return p, y


def threshold_at_fpr(probabilities: ArrayLike, labels: ArrayLike, target_fpr: float) -> float:
    """The smallest t among the negatives' probabilities with #(negatives with p > t) <= floor(target * n_neg).

    With negatives sorted in decreasing order n_0 >= n_1 >= ..., that is t = n_m for m = floor(target * n_neg):
    at most m negatives lie strictly above it. Ties can only make the realised FPR smaller.
    """
    if not 0.0 <= target_fpr < 1.0:
        raise ValueError(f"target false-positive rate must be in [0, 1), got {target_fpr}")
    p, y = _labels_and_scores(probabilities, labels)
    negatives = np.sort(p[y == 0])[::-1]
    if negatives.size == 0:
        raise ValueError("no different-person pairs to measure a false-positive rate on")
    allowed = int(np.floor(target_fpr * negatives.size + 1e-9))
    return float(negatives[allowed])


def c_at_1_of_decisions(probabilities: ArrayLike, labels: ArrayLike, threshold: float, band) -> float:
    """c@1 of the decisions (see `decide`) against the labels."""
    p, y = _labels_and_scores(probabilities, labels)
    decisions = decide(p, threshold, band)
    answered = decisions != ABSTAIN
    n_correct = int(((decisions == SAME) == (y == 1))[answered].sum())
    n_unanswered = int((~answered).sum())
    return (n_correct + n_unanswered * n_correct / p.size) / p.size


def c_at_1_band(
    probabilities: ArrayLike, labels: ArrayLike, threshold: float = 0.5, *, keep_same: bool = False
) -> tuple[tuple[float, float] | None, float]:
    """(band, c@1): the abstain band [low, high] around `threshold` that maximises c@1, or None if no band
    beats answering everything. Candidate edges are the held-out probabilities (at most 200 quantiles on each
    side of the threshold) and the threshold itself; ties go to the narrower band.

    `keep_same`: the band ends at the threshold, so every "same" stays a "same" (the threshold was chosen for a
    target false-positive rate; a band above it would answer far fewer pairs "same" than that rate allows).
    """
    p, y = _labels_and_scores(probabilities, labels)
    n = p.size
    below, above = p[p <= threshold], p[p > threshold]
    lows = np.unique(np.concatenate([_quantiles(below), [threshold]]))
    highs = (
        np.array([threshold]) if keep_same else np.unique(np.concatenate([_quantiles(above), [threshold]]))
    )
    order = np.argsort(p, kind="stable")
    sorted_p, sorted_y = p[order], y[order]
    # Correct answers left of the band are negatives with p < low; right of it, positives with p > high.
    negatives_before = np.concatenate([[0], np.cumsum(sorted_y == 0)])
    positives_before = np.concatenate([[0], np.cumsum(sorted_y == 1)])
    left = np.searchsorted(sorted_p, lows, side="left")  # pairs with p < low
    right = np.searchsorted(sorted_p, highs, side="right")  # pairs with p <= high
    n_correct = negatives_before[left][:, None] + (positives_before[-1] - positives_before[right])[None, :]
    n_unanswered = right[None, :] - left[:, None]
    score = (n_correct + n_unanswered * n_correct / n) / n
    score = np.where(n_unanswered >= 0, score, -1.0)
    no_band = c_at_1_of_decisions(p, y, threshold, None)
    width = highs[None, :] - lows[:, None]
    best = np.flatnonzero(score.ravel() == score.max())
    pick = best[np.argmin(width.ravel()[best])]
    i, j = np.unravel_index(pick, score.shape)
    if score[i, j] <= no_band + 1e-12 or n_unanswered[i, j] == 0:
        return None, float(no_band)
    return (float(lows[i]), float(highs[j])), float(score[i, j])


def _quantiles(values: np.ndarray) -> np.ndarray:
    unique = np.unique(values)
    if unique.size <= _GRID:
        return unique
    return np.unique(np.quantile(unique, np.linspace(0.0, 1.0, _GRID)))
