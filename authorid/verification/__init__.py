"""Verification: calibrated P(same person) for account pairs, a threshold at a target FPR, an abstain band.

- `Calibrator` (calibrator.py): cosine -> probability, Platt or isotonic, plain JSON.
- `FusionCalibrator`, `fit_fusion` (fusion.py): logistic regression on neural + stylometric cosines.
- `make_pairs`, `co_active_accounts` (pairs.py): balanced, seeded same/different-person account pairs.
- `fit_calibration`, `calibrate_pairs` (fit.py): fit on half of the pairs, choose the operating point on the rest.
- `decide`, `threshold_at_fpr`, `c_at_1_band` (decisions.py): probabilities -> same | different | abstain.
"""

from authorid.verification.calibrator import CalibrationError, Calibrator
from authorid.verification.decisions import ABSTAIN, DIFFERENT, SAME, c_at_1_band, decide, threshold_at_fpr
from authorid.verification.fit import calibrate_pairs, fit_calibration, pair_similarities
from authorid.verification.fusion import FusionCalibrator, fit_fusion
from authorid.verification.pairs import co_active_accounts, make_pairs

__all__ = [
    "ABSTAIN",
    "DIFFERENT",
    "SAME",
    "CalibrationError",
    "Calibrator",
    "FusionCalibrator",
    "c_at_1_band",
    "calibrate_pairs",
    "co_active_accounts",
    "decide",
    "fit_calibration",
    "fit_fusion",
    "make_pairs",
    "pair_similarities",
    "threshold_at_fpr",
]
