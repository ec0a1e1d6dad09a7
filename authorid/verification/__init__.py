"""Verification: calibrated P(same person) for account pairs, a threshold at a target FPR, an abstain band.

Pure functions and objects over similarities and labels; fitting a calibration for a model on a corpus is the
`calibrate` workflow (`authorid.workflows.calibrate`).

- `Calibrator` (calibrator.py): cosine -> probability, Platt or isotonic, plain JSON.
- `FusionCalibrator` (fusion.py): logistic regression on two cosines (e.g. neural + stylometric).
- `make_pairs`, `co_active_accounts` (pairs.py): balanced, seeded same/different-person pairs.
- `cohort` (cohort.py): cosines normalised against the pool's other accounts, which a calibration's cohort fit
  reads.
- `calibrate_pairs` (operating_point.py): fit on half of the pairs, choose the operating point on the rest.
- `decide`, `threshold_at_fpr`, `c_at_1_band` (decisions.py): probabilities -> same | different | abstain.
"""

from authorid.verification.calibrator import CalibrationError, Calibrator
from authorid.verification.decisions import ABSTAIN, DIFFERENT, SAME, c_at_1_band, decide, threshold_at_fpr
from authorid.verification.fusion import FusionCalibrator
from authorid.verification.operating_point import calibrate_pairs
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
    "make_pairs",
    "threshold_at_fpr",
]
