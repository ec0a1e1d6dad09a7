"""`Calibrator`: the cosine similarity of two account vectors -> calibrated P(same person).

Three methods, all fitted on labelled account pairs (1 = same person):

- "platt" (Platt 1999): p(s) = 1 / (1 + exp(-(a·s + b))), a logistic regression on the cosine s
  (scikit-learn's LogisticRegression, regularisation made negligible with C = 1e6 so a and b are the maximum
  likelihood fit). Saved as `coef` (a) and `intercept` (b).
- "isotonic" (Zadrozny & Elkan 2002): the non-decreasing step function minimising squared error,
  scikit-learn's IsotonicRegression(out_of_bounds="clip"), linearly interpolated between its knots and clipped
  outside them. Saved as its knots `x_thresholds` / `y_thresholds`.
- "platt-sizes": a logistic regression on the cosine *and both accounts' post and character counts*, because
  what a cosine means depends on how much text is behind it: two same-person accounts of 20 posts each meet at a
  median cosine of 0.21 under `style`, of 2 posts each at 0.05, while different-person pairs stay near 0 at every
  size (`scripts/bench_sizes.py`). Posts alone are not enough: among 2-post Reddit accounts the different-person
  pairs with the highest cosines are two posts like "Thanks :)" and "😂" against "I second this" and "So good to
  know! Thank you : )", short stock phrases any two people share, which a post count cannot tell from two
  300-character posts. With u, v the logs of the smaller and larger post count of the pair and x, w those of its
  character counts, the size terms g = (1, u, v, x, w, u², v², x², w², uv, xw) each multiply 1, s and s²
  (`size_features`: 32 features, standardised): a quadratic log-odds in s whose three coefficients vary smoothly
  with both sizes, the shape two Gaussian score distributions per size would give; held at its peak where the
  quadratic would turn down (`_sizes_log_odds`: a higher cosine is never less evidence). Fitted on half of 327,547 cut
  pairs of 700 held-out Reddit accounts and scored on the other half, its mean P per pairing of cut sizes is
  within 0.009 of the share of same-person pairs at 20 of the 21 pairings from 1x1 to 50x50 (1x50: 0.050 against
  0.036); a simpler form on posts alone (s, s·ln m, s·ln M, ln m, ln M, s², s²·ln m, s²·ln M) gave 0.168 at 50x50
  where 0.035 were (docs/calibration.md). Counts are clipped to the ranges seen in fitting (`posts_range`,
  `chars_range`; outside them the P is an extrapolation, which `score` flags). Saved as `coef` (32),
  `intercept`, the standardisation `mean` and `scale` (32 each), `posts_range` and `chars_range`. `predict`
  needs `sizes=(posts_a, posts_b, chars_a, chars_b)` (`AccountVectors.pair_sizes`).

A calibration may carry a second fit of the same method, `cohort`, on cohort-normalised scores (the cosine less
each account's excess density in its pool, `authorid.verification.cohort`); `for_pool` says which fit reads
a pool's pairs. Saved as a nested calibration under "cohort".

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
from authorid.verification import cohort as cohort_scores
from authorid.verification.decisions import decide

FORMAT = "authorid.calibration"
VERSION = 1
METHODS = ("platt", "isotonic", "platt-sizes")
#: The methods whose P depends on both accounts' post and character counts (`predict(..., sizes=...)`).
SIZE_AWARE = ("platt-sizes",)
#: scikit-learn's C for platt-sizes on its standardised features (1 and 100 fit the same on 327k Reddit pairs).
SIZES_C = 1.0
#: How many features platt-sizes fits (see `size_features`).
SIZE_FEATURES = 32


class CalibrationError(AuthoridError):
    """A calibration that cannot be fitted or loaded."""


def _similarities(values: ArrayLike) -> np.ndarray:
    s = np.asarray(values, dtype=np.float64)
    if s.ndim > 1:
        s = s.reshape(-1)
    if np.isnan(s).any():
        raise CalibrationError("similarities contain NaN")
    return np.atleast_1d(s)


def size_features(
    similarities: np.ndarray, sizes, posts_range: tuple[float, float], chars_range: tuple[float, float]
) -> np.ndarray:
    """The platt-sizes features of each pair, unstandardised (see the module docstring); `sizes` = (posts_a,
    posts_b, chars_a, chars_b), each broadcastable to the similarities' shape; counts clipped to the ranges."""
    shape = np.shape(similarities)
    s = np.asarray(similarities, dtype=np.float64).reshape(-1)
    counts = [np.broadcast_to(np.asarray(n, dtype=np.float64), shape).reshape(-1) for n in sizes]

    def logs(a: np.ndarray, b: np.ndarray, bounds) -> tuple[np.ndarray, np.ndarray]:
        low, high = max(bounds[0], 1.0), max(bounds[1], 1.0)
        return np.log(np.clip(np.minimum(a, b), low, high)), np.log(np.clip(np.maximum(a, b), low, high))

    u, v = logs(counts[0], counts[1], posts_range)
    x, w = logs(counts[2], counts[3], chars_range)
    size_terms = [np.ones_like(s), u, v, x, w, u * u, v * v, x * x, w * w, u * v, x * w]
    columns = [g * t for g in size_terms for t in (np.ones_like(s), s, s * s)][
        1:
    ]  # the constant: the intercept
    return np.stack(columns, axis=1)


def _range_of(counts) -> tuple[float, float]:
    return float(min(c.min() for c in counts)), float(max(c.max() for c in counts))


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
    info: dict
    #: The same method fitted on cohort-normalised scores (`authorid.verification.cohort`), or None.
    cohort = None

    def for_pool(self, pool_size: int) -> DecisionMixin:
        """The fit that reads the pairs of a pool of `pool_size` accounts: the cohort fit when the pool is large
        enough for a cohort (`cohort_scores.MIN_POOL`) and this calibration has one, else this, the cosine fit."""
        if self.cohort is not None and cohort_scores.applies(pool_size):
            return self.cohort
        return self

    def within_sizes(self, n_posts: ArrayLike, n_chars: ArrayLike | None = None) -> np.ndarray:
        """Per account: whether its post count, and its character count where known (not None, not negative),
        lie inside the sizes this calibration was fitted on (`info` account_posts / account_chars); True for
        every account when it records none. A pair's P is an extrapolation unless both accounts are inside."""
        posts = np.atleast_1d(np.asarray(n_posts))
        inside = np.ones(posts.shape, dtype=bool)
        for key, counts in (("account_posts", posts), ("account_chars", n_chars)):
            seen = self.info.get(key)
            if not seen or counts is None:
                continue
            counts = np.atleast_1d(np.asarray(counts))
            low, high = seen
            inside &= ((counts >= low) & (counts <= high)) | (counts < 0)
        return inside

    def sizes_seen(self) -> str:
        """The sizes this calibration was fitted on, as a summary line says them."""
        low, high = self.info["account_posts"]
        chars = self.info.get("account_chars")
        return f"{low}-{high} posts" + (f", {chars[0]:,}-{chars[1]:,} characters" if chars else "")

    def cosine_fit_reason(self, pool_size: int) -> str | None:
        """Why the pairs of a pool of `pool_size` accounts are read through the cosine fit, as a summary line
        says it; None when they are read through the cohort fit."""
        if self.for_pool(pool_size).reads_cohort:
            return None
        if self.cohort is None:
            return (
                "P(same person) read from the cosine fit: this calibration has no cohort fit (`authorid calibrate`"
                f" fits one on {cohort_scores.MIN_POOL} accounts or more)"
            )
        return (
            f"P(same person) read from the cosine fit: {pool_size:,} accounts are too few for a cohort (it needs"
            f" {cohort_scores.MIN_POOL})"
        )

    @property
    def reads_cohort(self) -> bool:
        """Whether this fit reads cohort-normalised scores (`authorid.verification.cohort`) rather than cosines."""
        return self.info.get("score") == "cohort"

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
        except UnicodeDecodeError as exc:
            raise CalibrationError(
                f"{path}: not a UTF-8 text file ({exc.reason} at byte {exc.start})"
            ) from None
        try:
            loaded = cls.from_dict(data)
        except CalibrationError as exc:
            raise CalibrationError(f"{path}: {exc}") from None
        loaded.source = path  # so a later refusal (made for another model) names the file
        return loaded

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


def checked_info(info) -> dict:
    """What a calibration says it was fitted on (`info`), its fields that decide a P checked: the prior the fit
    is calibrated for, the size ranges it saw, which score it reads and its model's fingerprint. Everything else
    in it is a record for people and is kept as written."""
    if info is None:
        return {}
    if not isinstance(info, dict):
        raise CalibrationError(f"info must be an object, got {info!r}")
    if info.get("fit_prior") is not None:
        prior = number(info["fit_prior"], "info.fit_prior")
        if not 0.0 < prior < 1.0:
            raise CalibrationError(f"info.fit_prior must lie strictly between 0 and 1, got {prior:g}")
    for key in ("account_posts", "account_chars"):
        seen = info.get(key)
        if seen is None:
            continue
        if not isinstance(seen, list) or len(seen) != 2:
            raise CalibrationError(f"info.{key} must be [min, max], got {seen!r}")
        low, high = (number(v, f"info.{key}") for v in seen)
        if not 0 <= low <= high:
            raise CalibrationError(f"info.{key} must be [min, max] with 0 <= min <= max, got {seen!r}")
    if info.get("score", "cosine") not in ("cosine", "cohort"):
        raise CalibrationError(f"info.score must be 'cosine' or 'cohort', got {info['score']!r}")
    # how a cohort fit's densities were measured (`authorid.verification.cohort.TWIN_FREE`; absent: with twins)
    if info.get("density", "twin-free") != "twin-free":
        raise CalibrationError(f"info.density must be 'twin-free' when given, got {info['density']!r}")
    # the fewest posts of the fit's whole accounts, which a pool's median reads (`cohort.reference_rows`)
    least = info.get("reference_posts")
    if least is not None and (isinstance(least, bool) or not isinstance(least, int) or least < 1):
        raise CalibrationError(f"info.reference_posts must be a whole number of posts >= 1, got {least!r}")
    model = info.get("model")
    if model is not None and (
        not isinstance(model, dict) or not isinstance(model.get("fingerprint", ""), str)
    ):
        raise CalibrationError(f"info.model must be an object whose fingerprint is a string, got {model!r}")
    return dict(info)


def check_format(d: dict, method: str | None = None) -> None:
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise CalibrationError(f"not an authorid calibration (expected format {FORMAT!r})")
    if isinstance(d.get("version"), bool) or d.get("version") != VERSION:  # true == 1 in Python
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
        self.cohort: Calibrator | None = None

    @property
    def is_fitted(self) -> bool:
        return self.params is not None

    @property
    def needs_sizes(self) -> bool:
        """Whether `predict` needs both accounts' post and character counts (`sizes=`)."""
        return self.method in SIZE_AWARE

    def fit(self, similarities: ArrayLike, labels: ArrayLike, *, sizes=None) -> Calibrator:
        """Fit on labelled pairs; `sizes` = (posts_a, posts_b, chars_a, chars_b) per pair, needed by platt-sizes
        (else ignored)."""
        s = _similarities(similarities)
        y = check_labels(labels, s.size)
        if self.method == "platt-sizes":
            from sklearn.linear_model import LogisticRegression

            counts = self._sizes_of(s, sizes)
            posts_range, chars_range = _range_of(counts[:2]), _range_of(counts[2:])
            features = size_features(s, counts, posts_range, chars_range)
            mean, scale = features.mean(axis=0), features.std(axis=0)
            scale = np.where(scale > 0, scale, 1.0)  # a size seen at one value only: its terms are constant
            # Newton's method to the optimum itself (7 steps): lbfgs stopped at its default tolerance, where the
            # correlated size terms leave a flat valley, so float noise in the cosines (one thread or another, rows
            # shuffled) moved coefficients by 0.03 and P by 0.005, and stopped up to 0.09 in P from the optimum
            # (audit 16). At it, bench_sizes' platt-sizes P >= 0.5 pairs expect 342 same-person and find 348
            # (lbfgs: 325 and 354).
            regression = LogisticRegression(C=SIZES_C, solver="newton-cholesky", tol=1e-10, max_iter=100).fit(
                (features - mean) / scale, y
            )
            self.params = {
                "coef": [float(v) for v in regression.coef_[0]],
                "intercept": float(regression.intercept_[0]),
                "mean": [float(v) for v in mean],
                "scale": [float(v) for v in scale],
                "posts_range": list(posts_range),
                "chars_range": list(chars_range),
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

    def _sizes_of(self, s: np.ndarray, sizes) -> tuple[np.ndarray, ...]:
        """`sizes` = (posts_a, posts_b, chars_a, chars_b) as arrays of the similarities' shape; one line when
        the character counts are missing or unknown (-1: vectors or an index made before they were recorded)."""
        if sizes is None:
            raise CalibrationError(
                "this calibration is size-aware (platt-sizes): it needs both accounts' post and character counts"
            )
        if len(sizes) == 2 or (len(sizes) == 4 and any((np.asarray(c) < 0).any() for c in sizes[2:])):
            raise CalibrationError(
                "this calibration reads both accounts' character counts, which these account vectors (or this"
                " index) do not record: they were made before authorid recorded them; embed (or index) again"
            )
        if len(sizes) != 4:
            raise CalibrationError(
                f"sizes must be (posts_a, posts_b, chars_a, chars_b), got {len(sizes)} arrays"
            )
        try:
            return tuple(np.broadcast_to(np.asarray(n, dtype=np.float64), s.shape) for n in sizes)
        except ValueError:
            raise CalibrationError(
                f"sizes must each be broadcastable to the {s.shape} similarities"
            ) from None

    @property
    def fit_prior(self) -> float:
        """The share of same-person pairs among the pairs it was fitted on (balanced pairs: 0.5)."""
        return float(self.info.get("fit_prior", 0.5))

    def predict(self, similarities: ArrayLike, *, prior: float | None = None, sizes=None) -> np.ndarray:
        """P(same person) for each similarity, in [0, 1].

        `sizes`: (posts_a, posts_b, chars_a, chars_b), both accounts' post and character counts, each
        broadcastable to the similarities' shape (`AccountVectors.pair_sizes`); needed by a size-aware method
        (`needs_sizes`), ignored by the others.

        `prior`: the share of same-person pairs expected among the pairs scored (None: the share it was fitted
        on, `info["fit_prior"]`: about 1 in 31 for `calibrate`'s pairs, 0.5 for a calibration that records none).
        Bayes' rule moves the odds: logit P' = logit P + logit(prior) - logit(fit prior).
        """
        if self.params is None:
            raise CalibrationError("the Calibrator is not fitted; call fit(similarities, labels) or load it")
        s = _similarities(similarities)
        if self.method == "platt-sizes":
            shape = np.shape(similarities)
            counts = self._sizes_of(np.zeros(shape), sizes)
            p = expit(self._sizes_log_odds(s, tuple(c.reshape(-1) for c in counts)))
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

    def _sizes_log_odds(self, s: np.ndarray, counts: tuple[np.ndarray, ...]) -> np.ndarray:
        """platt-sizes' log-odds of each pair, made non-decreasing in the similarity.

        For one pair's sizes the fitted log-odds is a quadratic a + b·s + c·s². Where c < 0 it peaks at
        s* = -b / 2c and falls beyond: fitted on pairs that rarely reach such cosines, it called two accounts
        with the same text (cosine 1.0 at 20 x 20 posts) different, at P 0.000 where cosine 0.4 gave 0.9998. A
        higher similarity is never less evidence of one person, so s is held at the peak beyond it (and at the
        trough below it where c > 0): the quadratic where it rises, its extreme where it would turn."""
        weights = np.asarray(self.params["coef"]) / np.asarray(self.params["scale"])
        # size_features' column j is a size term times s**((j + 1) % 3); at s = 1 each is its size term alone
        terms = size_features(np.ones_like(s), counts, self.params["posts_range"], self.params["chars_range"])
        power = (np.arange(terms.shape[1]) + 1) % 3
        a, b, c = ((terms[:, power == k] @ weights[power == k]) for k in range(3))
        a = a + self.params["intercept"] - float(np.asarray(self.params["mean"]) @ weights)
        with np.errstate(divide="ignore", invalid="ignore"):
            turn = -b / (2 * c)
        s = np.where(c < 0, np.minimum(s, turn), np.where(c > 0, np.maximum(s, turn), s))
        return a + (b + c * s) * s

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
            **({"cohort": self.cohort.to_dict()} if self.cohort is not None else {}),
        }

    @classmethod
    def from_dict(cls, d: dict) -> Calibrator:
        calibrator = cls._fit_from_dict(d)
        if calibrator.reads_cohort:
            # Its P would be read from cosines as if they were cohort scores (and `score` would look for a pool).
            raise CalibrationError(
                "info.score is 'cohort' in the cosine fit (only the nested cohort fit reads those)"
            )
        if d.get("cohort") is not None:
            try:
                calibrator.cohort = cls._fit_from_dict(d["cohort"])
            except CalibrationError as exc:
                raise CalibrationError(f"cohort: {exc}") from None
            if calibrator.cohort.method != calibrator.method:
                raise CalibrationError(
                    f"cohort: a {calibrator.cohort.method} fit in a {calibrator.method} calibration (both must be"
                    " one method)"
                )
            if not calibrator.cohort.reads_cohort:
                # Without it the nested fit would be applied to cohort-normalised scores as if they were cosines.
                raise CalibrationError(
                    "cohort: its info.score must be 'cohort' (it is the fit of cohort scores)"
                )
            if d["cohort"].get("cohort") is not None:
                raise CalibrationError("cohort: a cohort fit holds no cohort fit of its own")
        return calibrator

    @classmethod
    def _fit_from_dict(cls, d: dict) -> Calibrator:
        """One fit (the cosine fit, or the cohort fit nested in it) from its JSON object."""
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
            "platt-sizes": ("coef", "intercept", "mean", "scale", "posts_range", "chars_range"),
            "isotonic": ("x_thresholds", "y_thresholds"),
        }[method]
        missing = [k for k in needed if k not in params]
        if missing:
            raise CalibrationError(f"{method} calibration lacks {', '.join(missing)}")
        if method == "isotonic" and (
            not all(isinstance(params[k], list) for k in needed)
            or len(params["x_thresholds"]) != len(params["y_thresholds"])
            or not params["x_thresholds"]
        ):
            raise CalibrationError(
                "isotonic x_thresholds and y_thresholds must be non-empty lists of equal length"
            )
        if method == "platt":
            calibrator.params = {k: number(params[k], k) for k in needed}
        elif method == "platt-sizes":
            for name in ("coef", "mean", "scale"):
                values = params[name]
                if not isinstance(values, list) or len(values) != SIZE_FEATURES:
                    raise CalibrationError(
                        f"platt-sizes {name} must be a list of {SIZE_FEATURES} numbers, got {values!r}"
                    )
            for name in ("posts_range", "chars_range"):
                if not isinstance(params[name], list) or len(params[name]) != 2:
                    raise CalibrationError(f"platt-sizes {name} must be [min, max], got {params[name]!r}")
            calibrator.params = {
                name: [number(v, name) for v in params[name]]
                for name in ("coef", "mean", "scale", "posts_range", "chars_range")
            } | {"intercept": number(params["intercept"], "intercept")}
            if any(v <= 0 for v in calibrator.params["scale"]):
                raise CalibrationError("platt-sizes scale must be positive numbers")
            for name in ("posts_range", "chars_range"):
                low, high = calibrator.params[name]
                if not 0 <= low <= high:
                    raise CalibrationError(f"platt-sizes {name} must be [min, max] with 0 <= min <= max")
        else:
            xs = [number(v, "x_thresholds") for v in params["x_thresholds"]]
            ys = [probability(v, "y_thresholds") for v in params["y_thresholds"]]
            if any(b < a for a, b in zip(xs, xs[1:], strict=False)):
                raise CalibrationError("isotonic x_thresholds must be in increasing order")
            calibrator.params = {"x_thresholds": xs, "y_thresholds": ys}
        calibrator._set_operating_point(d)
        calibrator.info = checked_info(d.get("info"))
        return calibrator

    def __repr__(self) -> str:
        return f"Calibrator(method={self.method!r}, threshold={self.threshold:.4g}, abstain_band={self.abstain_band})"
