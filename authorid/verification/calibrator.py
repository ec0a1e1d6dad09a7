"""`Calibrator`: the cosine similarity of two account vectors -> calibrated P(same person).

Three methods, all fitted on labelled account pairs (1 = same person):

- "platt" (Platt 1999): p(s) = 1 / (1 + exp(-(a·s + b))), a logistic regression on the cosine s
  (scikit-learn's LogisticRegression, regularisation made negligible with C = 1e6 so a and b are the maximum
  likelihood fit). Saved as `coef` (a) and `intercept` (b).
- "isotonic" (Zadrozny & Elkan 2002): the non-decreasing step function minimising squared error,
  scikit-learn's IsotonicRegression(out_of_bounds="clip"), linearly interpolated between its knots and clipped
  outside them. Saved as its knots `x_thresholds` / `y_thresholds`.
- "platt-sizes": a logistic regression on the cosine *and both accounts' post counts*, because what a cosine
  means depends on how much text is behind it: two same-person accounts of 20 posts each meet at a median
  cosine of 0.21 under `style`, of 2 posts each at 0.05, while different-person pairs stay near 0 at every size
  (`scripts/bench_sizes.py`). Features of a pair with cosine s and post counts m <= M: s, s·ln m, s·ln M, ln m,
  ln M, s², s²·ln m, s²·ln M (`size_features`), post counts clipped to the range seen in fitting
  (`posts_range`; outside it the P is an extrapolation, which `score` flags). Saved as `coef` (8), `intercept`
  and `posts_range`. `predict` needs `sizes=(posts_a, posts_b)`.

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
METHODS = ("platt", "isotonic", "platt-sizes")
#: The methods whose P depends on both accounts' post counts (`predict(..., sizes=...)`).
SIZE_AWARE = ("platt-sizes",)
#: scikit-learn's C for platt-sizes: its 8 features need a little regularisation (measured on Reddit).
SIZES_C = 100.0


class CalibrationError(AuthoridError):
    """A calibration that cannot be fitted or loaded."""


def _similarities(values: ArrayLike) -> np.ndarray:
    s = np.asarray(values, dtype=np.float64)
    if s.ndim > 1:
        s = s.reshape(-1)
    if np.isnan(s).any():
        raise CalibrationError("similarities contain NaN")
    return np.atleast_1d(s)


def size_features(similarities: np.ndarray, sizes, posts_range: tuple[float, float]) -> np.ndarray:
    """The platt-sizes features of each pair (see the module docstring); `sizes` = (posts_a, posts_b), each
    broadcastable to the similarities' shape; counts clipped to `posts_range`."""
    shape = np.shape(similarities)
    s = np.asarray(similarities, dtype=np.float64).reshape(-1)
    a, b = (np.broadcast_to(np.asarray(n, dtype=np.float64), shape).reshape(-1) for n in sizes)
    low, high = posts_range
    small = np.log(np.clip(np.minimum(a, b), max(low, 1.0), high))
    large = np.log(np.clip(np.maximum(a, b), max(low, 1.0), high))
    return np.stack([s, s * small, s * large, small, large, s * s, s * s * small, s * s * large], axis=1)


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

    @property
    def needs_sizes(self) -> bool:
        """Whether `predict` needs both accounts' post counts (`sizes=`)."""
        return self.method in SIZE_AWARE

    def fit(self, similarities: ArrayLike, labels: ArrayLike, *, sizes=None) -> Calibrator:
        """Fit on labelled pairs; `sizes` = (posts_a, posts_b) per pair, needed by platt-sizes (else ignored)."""
        s = _similarities(similarities)
        y = check_labels(labels, s.size)
        if self.method == "platt-sizes":
            from sklearn.linear_model import LogisticRegression

            counts = self._sizes_of(s, sizes)
            posts_range = (float(min(c.min() for c in counts)), float(max(c.max() for c in counts)))
            features = size_features(s, counts, posts_range)
            regression = LogisticRegression(C=SIZES_C, max_iter=5000).fit(features, y)
            self.params = {
                "coef": [float(v) for v in regression.coef_[0]],
                "intercept": float(regression.intercept_[0]),
                "posts_range": list(posts_range),
            }
        elif self.method == "platt":
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

    def _sizes_of(self, s: np.ndarray, sizes) -> tuple[np.ndarray, np.ndarray]:
        if sizes is None:
            raise CalibrationError(
                "this calibration is size-aware (platt-sizes): it needs both accounts' post counts"
            )
        try:
            a, b = sizes
            return tuple(np.broadcast_to(np.asarray(n, dtype=np.float64), s.shape) for n in (a, b))  # type: ignore[return-value]
        except ValueError:
            raise CalibrationError(
                f"sizes must be (posts_a, posts_b) broadcastable to the {s.shape} similarities"
            ) from None

    @property
    def fit_prior(self) -> float:
        """The share of same-person pairs among the pairs it was fitted on (balanced pairs: 0.5)."""
        return float(self.info.get("fit_prior", 0.5))

    def predict(self, similarities: ArrayLike, *, prior: float | None = None, sizes=None) -> np.ndarray:
        """P(same person) for each similarity, in [0, 1].

        `sizes`: (posts_a, posts_b), both accounts' post counts, each broadcastable to the similarities' shape;
        needed by a size-aware method (`needs_sizes`), ignored by the others.

        `prior`: the share of same-person pairs expected among the pairs scored (None: the share it was fitted
        on, usually balanced). A forum's pairs are almost all two different people, so P at the fitted prior
        overstates every link; Bayes' rule moves the odds: logit P' = logit P + logit(prior) - logit(fit prior).
        """
        if self.params is None:
            raise CalibrationError("the Calibrator is not fitted; call fit(similarities, labels) or load it")
        s = _similarities(similarities)
        if self.method == "platt-sizes":
            shape = np.shape(similarities)
            counts = self._sizes_of(np.zeros(shape), sizes)
            features = size_features(s, tuple(c.reshape(-1) for c in counts), self.params["posts_range"])
            p = expit(features @ np.asarray(self.params["coef"]) + self.params["intercept"])
        elif self.method == "platt":
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
        needed = {
            "platt": ("coef", "intercept"),
            "platt-sizes": ("coef", "intercept", "posts_range"),
            "isotonic": ("x_thresholds", "y_thresholds"),
        }[method]
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
        elif method == "platt-sizes":
            coef, posts_range = params["coef"], params["posts_range"]
            if not isinstance(coef, list) or len(coef) != 8:
                raise CalibrationError(f"platt-sizes coef must be a list of 8 numbers, got {coef!r}")
            if not isinstance(posts_range, list) or len(posts_range) != 2:
                raise CalibrationError(f"platt-sizes posts_range must be [min, max], got {posts_range!r}")
            calibrator.params = {
                "coef": [number(v, "coef") for v in coef],
                "intercept": number(params["intercept"], "intercept"),
                "posts_range": [number(v, "posts_range") for v in posts_range],
            }
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
