"""Score fusion of two views of an account pair: the neural cosine and the stylometric cosine.

`FusionCalibrator` is a logistic regression on both cosines,
    P(same person | s_n, s_s) = 1 / (1 + exp(-(w_n·s_n + w_s·s_s + b))),
with the weights fitted on labelled validation pairs (scikit-learn's LogisticRegression, C = 1e6: the
maximum-likelihood fit). The two views fail differently (topic leaks into neural vectors; character n-grams
miss paraphrase), so their combination is usually better calibrated and more accurate than either
(cf. the score-level fusion of PAN verification systems, e.g. Boenninghoff et al., PAN 2021).
Same predict / decide / save / load interface as `Calibrator`; `predict` takes an (n, 2) array of
[neural, stylometric] cosines.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit

from authorid.verification.calibrator import (
    FORMAT,
    VERSION,
    CalibrationError,
    DecisionMixin,
    check_format,
    check_labels,
    checked_info,
    number,
)

VIEWS = ("neural", "stylometric")


def _pairs_of_cosines(values: ArrayLike) -> np.ndarray:
    s = np.asarray(values, dtype=np.float64)
    if s.ndim == 1 and s.size == 2:
        s = s[None, :]
    if s.ndim != 2 or s.shape[1] != 2:
        raise CalibrationError(
            f"fusion needs an (n, 2) array of [neural, stylometric] cosines, got {s.shape}"
        )
    if np.isnan(s).any():
        raise CalibrationError("similarities contain NaN")
    return s


class FusionCalibrator(DecisionMixin):
    """Two cosines -> calibrated P(same person) by logistic regression (see the module docstring)."""

    method = "fusion"

    def __init__(self, views: tuple[str, str] = VIEWS) -> None:
        self.views = tuple(views)
        self.params: dict[str, Any] | None = None
        self.threshold = 0.5
        self.abstain_band = None
        self.info: dict[str, Any] = {}

    def fit(self, similarities: ArrayLike, labels: ArrayLike) -> FusionCalibrator:
        from sklearn.linear_model import LogisticRegression

        s = _pairs_of_cosines(similarities)
        y = check_labels(labels, s.shape[0])
        regression = LogisticRegression(C=1e6, max_iter=1000).fit(s, y)
        self.params = {
            "weights": [float(w) for w in regression.coef_[0]],
            "intercept": float(regression.intercept_[0]),
        }
        return self

    needs_sizes = False

    def predict(self, similarities: ArrayLike, *, sizes=None) -> np.ndarray:
        """P(same person) of (neural, stylometric) cosine pairs; `sizes` is accepted and ignored."""
        if self.params is None:
            raise CalibrationError(
                "the FusionCalibrator is not fitted; call fit(similarities, labels) or load it"
            )
        s = _pairs_of_cosines(similarities)
        return expit(s @ np.asarray(self.params["weights"]) + self.params["intercept"])

    def to_dict(self) -> dict:
        if self.params is None:
            raise CalibrationError("cannot save an unfitted FusionCalibrator")
        return {
            "format": FORMAT,
            "version": VERSION,
            "method": "fusion",
            "views": list(self.views),
            "params": self.params,
            **self._operating_point(),
            "info": self.info,
        }

    @classmethod
    def from_dict(cls, d: dict) -> FusionCalibrator:
        check_format(d)
        if d.get("method") != "fusion":
            raise CalibrationError(
                f"a {d.get('method')!r} calibration is not a fusion; load it with Calibrator"
            )
        params = d.get("params") or {}
        if len(params.get("weights", [])) != 2 or "intercept" not in params:
            raise CalibrationError("fusion calibration needs two weights and an intercept")
        calibrator = cls(tuple(d.get("views", VIEWS)))
        calibrator.params = {
            "weights": [number(w, "weights") for w in params["weights"]],
            "intercept": number(params["intercept"], "intercept"),
        }
        calibrator._set_operating_point(d)
        calibrator.info = checked_info(d.get("info"))
        return calibrator

    def __repr__(self) -> str:
        return f"FusionCalibrator(params={self.params}, threshold={self.threshold:.4g})"
