"""Choosing a calibration's operating point on pairs it was not fitted on: `calibrate_pairs`.

The labelled pairs are cut in two halves, stratified by label: the calibration is fitted on one half, and the
operating point (threshold at a target false-positive rate, c@1 abstain band) is chosen on the other, so it
is not tuned on what the calibration has already seen. Everything is recorded in `Calibrator.info`.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import roc_auc_score

from authorid.metrics.rates import rate_over_pairs, rate_with_interval
from authorid.verification.calibrator import CalibrationError, Calibrator
from authorid.verification.decisions import c_at_1_band, c_at_1_of_decisions, decide, threshold_at_fpr

logger = logging.getLogger(__name__)

ABSTAIN_RULES = ("c@1",)


def calibrate_pairs(
    similarities: ArrayLike,
    labels: ArrayLike,
    *,
    method: str = "platt",
    target_fpr: float | None = None,
    abstain: str | None = None,
    seed: int = 0,
    calibrator: Any = None,
    sizes: tuple[ArrayLike, ArrayLike] | None = None,
    persons: tuple[ArrayLike, ArrayLike] | None = None,
) -> Calibrator:
    """Fit on a stratified half of the pairs, choose the operating point on the other half.

    `similarities` is (n,) for a Calibrator or (n, 2) for a FusionCalibrator (pass `calibrator=` to use one).
    `sizes`: (posts_a, posts_b) of each pair, for a size-aware method ("platt-sizes"). `persons`: each pair's two
    persons, so that the held-out intervals count pairs sharing a person as what they are worth
    (`authorid.metrics.rates.rate_over_pairs`).
    Threshold: the one at `target_fpr` on the held-out half when given, else 0.5. `abstain="c@1"`: the band
    around that threshold maximising c@1 on the held-out half (with `target_fpr`, only below it).
    """
    if abstain is not None and abstain not in ABSTAIN_RULES:
        raise CalibrationError(f"unknown abstain rule {abstain!r}; valid: {', '.join(ABSTAIN_RULES)}")
    s = np.asarray(similarities, dtype=np.float64)
    y = np.asarray(labels).astype(np.int64).reshape(-1)
    fit_rows, held_rows = stratified_halves(y, seed=seed)
    calibrator = calibrator if calibrator is not None else Calibrator(method)
    counts = None if sizes is None else [np.asarray(n) for n in sizes]
    if counts is None:
        calibrator.fit(s[fit_rows], y[fit_rows])
        held_p = calibrator.predict(s[held_rows])
    else:
        calibrator.fit(s[fit_rows], y[fit_rows], sizes=[n[fit_rows] for n in counts])
        held_p = calibrator.predict(s[held_rows], sizes=[n[held_rows] for n in counts])
    held_y = y[held_rows]
    if target_fpr is not None:
        calibrator.threshold = threshold_at_fpr(held_p, held_y, target_fpr)
    if abstain == "c@1":
        # With a target FPR the band only abstains below the threshold: the "same" decisions stay those the
        # target chose (a band around it once took them from TPR 0.52 at FPR 0.05 to TPR 0.09 at FPR 0, silently).
        calibrator.abstain_band, _ = c_at_1_band(
            held_p, held_y, calibrator.threshold, keep_same=target_fpr is not None
        )
    calibrator.info.update(
        {
            "method": getattr(calibrator, "method", method),
            "seed": int(seed),
            "pairs_fit": int(fit_rows.size),
            "pairs_held_out": int(held_rows.size),
            "same_person_pairs": int(y.sum()),
            "threshold_rule": "target_fpr" if target_fpr is not None else "0.5",
            "target_fpr": target_fpr,
            "abstain_rule": abstain,
            "held_out": held_out_report(
                held_p,
                held_y,
                calibrator.threshold,
                calibrator.abstain_band,
                persons=None
                if persons is None
                else tuple(np.asarray(p, dtype=object)[held_rows] for p in persons),
            ),
        }
    )
    logger.info("calibration (%s): %s", calibrator.info["method"], calibrator.info["held_out"])
    return calibrator


def held_out_report(
    probabilities: np.ndarray,
    labels: np.ndarray,
    threshold: float,
    band: tuple[float, float] | None,
    *,
    persons: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict[str, Any]:
    """AUC; FPR and TPR (an abstention is not a "same"), each also with its 95% interval and pair count
    (`fpr_interval`, `tpr_interval`: see `authorid.metrics.rates`; widened for pairs sharing a person when each
    pair's `persons` are given); abstention rate and c@1, on held-out pairs."""
    decisions = decide(probabilities, threshold, band)
    same = decisions == "same"
    report: dict[str, Any] = {
        "auc": float(roc_auc_score(labels, probabilities))
        if 0 < labels.sum() < labels.size
        else float("nan"),
        "fpr": float(same[labels == 0].mean()) if (labels == 0).any() else 0.0,
        "tpr": float(same[labels == 1].mean()) if (labels == 1).any() else 0.0,
        "abstain_rate": float((decisions == "abstain").mean()),
        "c@1": float(c_at_1_of_decisions(probabilities, labels, threshold, band)),
    }
    report = {k: round(v, 6) for k, v in report.items()}
    for key, label in (("fpr_interval", 0), ("tpr_interval", 1)):
        rows = labels == label
        report[key] = (
            rate_with_interval(same[rows].sum(), rows.sum())
            if persons is None
            else rate_over_pairs(same[rows], persons[0][rows], persons[1][rows])
        )
    return report


def stratified_halves(labels: np.ndarray, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(fit rows, held-out rows): each label's rows shuffled and cut in half (the extra one goes to fit)."""
    rng = np.random.default_rng(seed + 1)
    fit, held = [], []
    for value in (0, 1):
        rows = rng.permutation(np.flatnonzero(labels == value))
        cut = (rows.size + 1) // 2
        fit.append(rows[:cut])
        held.append(rows[cut:])
    fit_rows, held_rows = np.sort(np.concatenate(fit)), np.sort(np.concatenate(held))
    if min(np.bincount(labels[held_rows], minlength=2)) == 0:
        raise CalibrationError(
            f"too few pairs to calibrate: {labels.size} pairs leave a held-out half without both classes"
        )
    return fit_rows, held_rows
