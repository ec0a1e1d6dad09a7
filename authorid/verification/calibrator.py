"""`Calibrator`: the cosine similarity of two account vectors -> calibrated P(same person).

Two methods, both fitted on labelled account pairs (1 = same person):

- "platt" (Platt 1999): p(s) = 1 / (1 + exp(-(a·s + b))), a logistic regression on the cosine s
  (scikit-learn's LogisticRegression, regularisation made negligible with C = 1e6 so a and b are the maximum
  likelihood fit). Saved as `coef` (a) and `intercept` (b).
- "isotonic" (Zadrozny & Elkan 2002): the non-decreasing step function minimising squared error,
  scikit-learn's IsotonicRegression(out_of_bounds="clip"), linearly interpolated between its knots and clipped
  outside them. Saved as its knots `x_thresholds` / `y_thresholds`.

Predictions are computed from the saved numbers alone (np.interp for isotonic, the logistic for Platt), so a
JSON round trip gives identical probabilities. The operating point (`threshold`, `abstain_band`) and what the
calibration was fitted on (`info`) travel in the same JSON file. Never pickled.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit, logit

from authorid.errors import AuthoridError
from authorid.io import atomic_write_text
from authorid.verification.decisions import decide

FORMAT = "authorid.calibration"
VERSION = 1
METHODS = ("platt", "isotonic")


class CalibrationError(AuthoridError):
    """A calibration that cannot be fitted or loaded."""


def _similarities(values: ArrayLike) -> np.ndarray:
    s = np.asarray(values, dtype=np.float64)
    if s.ndim > 1:
        s = s.reshape(-1)
    if np.isnan(s).any():
        raise CalibrationError("similarities contain NaN")
    return np.atleast_1d(s)


def check_labels(labels: ArrayLike, n: int) -> np.ndarray:
    y = np.asarray(labels).reshape(-1)
    if y.size != n:
        raise CalibrationError(f"got {n} similarities but {y.size} labels")
    if not np.isin(y, (0, 1)).all():
        raise CalibrationError("labels must be 0 (different person) or 1 (same person)")
    y = y.astype(np.int64)
    if y.min() == y.max():
        raise CalibrationError(
            f"calibration needs both same- and different-person pairs; all labels are {y[0]}"
        )
    return y


class DecisionMixin:
    """The operating point shared by every calibrator: threshold, abstain band, decide()."""

    threshold: float
    abstain_band: tuple[float, float] | None

    def decide(self, probabilities: ArrayLike) -> np.ndarray:
        """ "same" (p > threshold) | "different" | "abstain" (low <= p <= high) per probability."""
        return decide(probabilities, self.threshold, self.abstain_band)

    def _operating_point(self) -> dict:
        band = None if self.abstain_band is None else [float(v) for v in self.abstain_band]
        return {"threshold": float(self.threshold), "abstain_band": band}

    def _set_operating_point(self, d: dict) -> None:
        self.threshold = probability(d.get("threshold", 0.5), "threshold")
        band = d.get("abstain_band")
        if band is not None:
            if not isinstance(band, list | tuple) or len(band) != 2:
                raise CalibrationError(f"abstain_band must be [low, high], got {band!r}")
            low, high = probability(band[0], "abstain_band low"), probability(band[1], "abstain_band high")
            if low > high:
                raise CalibrationError(f"abstain_band must be [low, high] with low <= high, got {band}")
            band = (low, high)
        self.abstain_band = band

    def save(self, path: str | Path) -> Path:
        """Write the calibration as JSON (atomically)."""
        return atomic_write_text(path, json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path):
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CalibrationError(f"no calibration file {path}") from None
        except json.JSONDecodeError as exc:
            raise CalibrationError(f"{path}: not JSON ({exc.msg}, line {exc.lineno})") from None
        try:
            return cls.from_dict(data)
        except CalibrationError as exc:
            raise CalibrationError(f"{path}: {exc}") from None

    def to_dict(self) -> dict:  # pragma: no cover - implemented by subclasses
        raise NotImplementedError

    @classmethod
    def from_dict(cls, d: dict):  # pragma: no cover - implemented by subclasses
        raise NotImplementedError


def number(value, name: str) -> float:
    """`value` as a finite float; CalibrationError naming the field otherwise (a calibration edited by hand)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        raise CalibrationError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def probability(value, name: str) -> float:
    value = number(value, name)
    if not 0.0 <= value <= 1.0:
        raise CalibrationError(f"{name} is a probability and must lie in [0, 1], got {value:g}")
    return value


def check_format(d: dict, method: str | None = None) -> None:
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise CalibrationError(f"not an authorid calibration (expected format {FORMAT!r})")
    if d.get("version") != VERSION:
        raise CalibrationError(f"calibration version {d.get('version')!r} is not {VERSION}")


def check_prior(prior: float) -> float:
    """A prior share of same-person pairs: strictly between 0 and 1, else a one-line error."""
    if not isinstance(prior, int | float) or not 0 < float(prior) < 1:
        raise CalibrationError(f"prior must be between 0 and 1 (exclusive), got {prior!r}")
    return float(prior)


def forum_prior(accounts: int) -> float:
    """The default prior when accounts of one forum are compared with each other: each account has, on
    average, at most one other account of the same person among the other accounts - 1 / (accounts - 1)."""
    return 1.0 / max(accounts - 1, 2)


class Calibrator(DecisionMixin):
    """Cosine similarity -> calibrated P(same person); see the module docstring for the two methods."""

    def __init__(self, method: str = "platt") -> None:
        if method not in METHODS:
            raise CalibrationError(f"unknown calibration method {method!r}; valid: {', '.join(METHODS)}")
        self.method = method
        self.params: dict[str, Any] | None = None
        self.threshold = 0.5
        self.abstain_band = None
        #: What the calibration was fitted on and how its operating point was chosen (free-form, JSON-able).
        self.info: dict[str, Any] = {}

    @property
    def is_fitted(self) -> bool:
        return self.params is not None

    def fit(self, similarities: ArrayLike, labels: ArrayLike) -> Calibrator:
        s = _similarities(similarities)
        y = check_labels(labels, s.size)
        if self.method == "platt":
            from sklearn.linear_model import LogisticRegression

            regression = LogisticRegression(C=1e6, max_iter=1000).fit(s[:, None], y)
            self.params = {
                "coef": float(regression.coef_[0, 0]),
                "intercept": float(regression.intercept_[0]),
            }
        else:
            from sklearn.isotonic import IsotonicRegression

            regression = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(s, y)
            self.params = {
                "x_thresholds": [float(v) for v in regression.X_thresholds_],
                "y_thresholds": [float(v) for v in regression.y_thresholds_],
            }
        self.info["fit_prior"] = float(y.mean())  # the share of same-person pairs P is calibrated for
        return self

    @property
    def fit_prior(self) -> float:
        """The share of same-person pairs among the pairs it was fitted on (balanced pairs: 0.5)."""
        return float(self.info.get("fit_prior", 0.5))

    def predict(self, similarities: ArrayLike, *, prior: float | None = None) -> np.ndarray:
        """P(same person) for each similarity, in [0, 1].

        `prior`: the share of same-person pairs expected among the pairs scored (None: the share it was fitted
        on, usually balanced). A forum's pairs are almost all two different people, so P at the fitted prior
        overstates every link; Bayes' rule moves the odds: logit P' = logit P + logit(prior) - logit(fit prior).
        """
        if self.params is None:
            raise CalibrationError("the Calibrator is not fitted; call fit(similarities, labels) or load it")
        s = _similarities(similarities)
        if self.method == "platt":
            p = expit(self.params["coef"] * s + self.params["intercept"])
        else:
            p = np.interp(s, self.params["x_thresholds"], self.params["y_thresholds"])
        if prior is None:
            return p
        check_prior(prior)
        eps = 1e-12
        p = np.clip(p, eps, 1 - eps)
        shift = logit(prior) - logit(min(max(self.fit_prior, eps), 1 - eps))
        return expit(logit(p) + shift)

    def to_dict(self) -> dict:
        if self.params is None:
            raise CalibrationError("cannot save an unfitted Calibrator")
        return {
            "format": FORMAT,
            "version": VERSION,
            "method": self.method,
            "params": self.params,
            **self._operating_point(),
            "info": self.info,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Calibrator:
        check_format(d)
        method = d.get("method")
        if method not in METHODS and method != "fusion":
            raise CalibrationError(f"unknown calibration method {method!r}; valid: {', '.join(METHODS)}")
        if method == "fusion":
            raise CalibrationError(
                "this is a fusion calibration (two cosines); load it with FusionCalibrator"
            )
        calibrator = cls(method)
        params = d.get("params") or {}
        if not isinstance(params, dict):
            raise CalibrationError(f"params must be an object, got {params!r}")
        needed = ("coef", "intercept") if method == "platt" else ("x_thresholds", "y_thresholds")
        missing = [k for k in needed if k not in params]
        if missing:
            raise CalibrationError(f"{method} calibration lacks {', '.join(missing)}")
        if method == "isotonic" and (
            len(params["x_thresholds"]) != len(params["y_thresholds"]) or not params["x_thresholds"]
        ):
            raise CalibrationError(
                "isotonic x_thresholds and y_thresholds must be non-empty and of equal length"
            )
        if method == "platt":
            calibrator.params = {k: number(params[k], k) for k in needed}
        else:
            xs = [number(v, "x_thresholds") for v in params["x_thresholds"]]
            ys = [probability(v, "y_thresholds") for v in params["y_thresholds"]]
            if any(b < a for a, b in zip(xs, xs[1:], strict=False)):
                raise CalibrationError("isotonic x_thresholds must be in increasing order")
            calibrator.params = {"x_thresholds": xs, "y_thresholds": ys}
        calibrator._set_operating_point(d)
        calibrator.info = dict(d.get("info") or {})
        return calibrator

    def __repr__(self) -> str:
        return f"Calibrator(method={self.method!r}, threshold={self.threshold:.4g}, abstain_band={self.abstain_band})"
