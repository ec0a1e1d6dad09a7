"""Error rates with the number of pairs behind them and a confidence interval.

A false-positive rate of 0.000 measured on 20 negative pairs says little: its 95% Wilson interval reaches 0.16.
Every operating point authorid reports (`calibrate`, `evaluate`) is a `rate_with_interval`, and
`small_sample_warning` names the numbers when they are too few to trust. The interval is scipy's Wilson score
interval (well-behaved at rates of 0 and 1, unlike the normal approximation).

Pairs that share an account are not independent trials: the 497,004 different-person pairs of 998 accounts
hold each account 996 times, and an account that looks like many others raises the rate in all of its pairs.
A Wilson interval over them was 2.3 times too narrow against a bootstrap over persons (audit 14).
`rate_over_pairs` widens it: the variance of the rate is the dyadic-robust one (Fafchamps & Gubert 2007;
Aronow, Samii & Assenova 2015: every two pairs that share a person covary), and the Wilson interval is taken
at the number of independent pairs that variance is worth.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import binomtest, norm

#: Below this many negative (different-person) pairs, or positive pairs, an operating point gets a warning.
MIN_NEGATIVE_PAIRS, MIN_POSITIVE_PAIRS = 1000, 100
CONFIDENCE = 0.95


def rate_with_interval(hits: int, n: int, confidence: float = CONFIDENCE) -> dict:
    """{"rate", "interval": [low, high], "n"}: `hits` of `n` pairs, with the Wilson interval; rate None at n=0."""
    hits, n = int(hits), int(n)
    if not 0 <= hits <= n:
        raise ValueError(f"hits must be between 0 and n, got {hits} of {n}")
    if n == 0:
        return {"rate": None, "interval": None, "n": 0}
    ci = binomtest(hits, n).proportion_ci(confidence_level=confidence, method="wilson")
    return {
        "rate": round(hits / n, 6),
        "interval": [round(float(ci.low), 6), round(float(ci.high), 6)],
        "n": n,
    }


def rate_over_pairs(
    flags: np.ndarray, persons_a: np.ndarray, persons_b: np.ndarray, confidence: float = CONFIDENCE
) -> dict:
    """`rate_with_interval` of the pairs flagged, its interval widened for pairs that share a person (see the
    module docstring); `effective_n`: how many independent pairs the rate is worth. It is n when no two pairs
    share a person, and when no pair or every pair is flagged: there is no variance to read the dependence from,
    so a rate of 0 or 1 keeps its Wilson interval (too narrow when the pairs covary)."""
    flags = np.asarray(flags, dtype=np.float64)
    n = flags.size
    plain = rate_with_interval(int(flags.sum()), n, confidence)
    if n == 0 or plain["rate"] in (0.0, 1.0):
        return plain | {"effective_n": n}
    rate = flags.mean()
    _, codes = np.unique(np.concatenate([np.asarray(persons_a), np.asarray(persons_b)]), return_inverse=True)
    a, b = codes[:n], codes[n:]
    residual = flags - rate
    persons = int(codes.max()) + 1
    two = a != b  # a pair of two persons covaries through both; one of a person's own pairs through one
    per_person = np.bincount(a, residual, minlength=persons) + np.bincount(
        b, residual * two, minlength=persons
    )
    # the sum over every two pairs that share a person: the squares of the persons' sums count twice the two
    # pairs that join the same two persons (both accounts of a person cut in halves, or a pair with itself)
    joined = np.unique(np.minimum(a, b)[two] * persons + np.maximum(a, b)[two], return_inverse=True)[1]
    per_two_persons = np.bincount(joined, residual[two]) if two.any() else np.zeros(0)
    variance = (np.square(per_person).sum() - np.square(per_two_persons).sum()) / n**2
    independent = rate * (1 - rate) / n
    effective = n if variance <= independent else rate * (1 - rate) / variance
    low, high = _wilson(rate, effective, confidence)
    return plain | {"interval": [round(low, 6), round(high, 6)], "effective_n": int(round(effective))}


def _wilson(rate: float, n: float, confidence: float) -> tuple[float, float]:
    """The Wilson score interval of a rate measured on n (possibly fractional) independent trials."""
    z = float(norm.ppf(0.5 + confidence / 2))
    centre = (rate + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def implied_precision(tpr: float, fpr: float, prior: float) -> float | None:
    """The share of "same" decisions that are right when a `prior` share of all pairs are same-person pairs."""
    flagged = tpr * prior + fpr * (1 - prior)
    return None if flagged == 0 else round(tpr * prior / flagged, 6)


def small_sample_warning(fpr: dict, tpr: dict) -> str | None:
    """One line naming the counts when an operating point rests on too few pairs, else None."""
    if _worth(fpr) >= MIN_NEGATIVE_PAIRS and _worth(tpr) >= MIN_POSITIVE_PAIRS:
        return None

    def worth(rate: dict) -> str:
        return f" (worth {_worth(rate):,} independent ones)" if _worth(rate) < rate["n"] else ""

    return (
        f"few pairs: FPR {_rate(fpr)} from {fpr['n']:,} different-person pairs{worth(fpr)} and TPR {_rate(tpr)}"
        f" from {tpr['n']:,} same-person pairs{worth(tpr)} (95% intervals); at least {MIN_NEGATIVE_PAIRS:,} and"
        f" {MIN_POSITIVE_PAIRS:,} independent pairs are needed for a rate to trust"
    )


def _worth(rate: dict) -> int:
    """How many independent pairs a rate rests on: its pairs, or fewer when they share persons."""
    effective = rate.get("effective_n")
    return rate["n"] if effective is None else min(rate["n"], effective)


def format_rate(rate: dict) -> str:
    """'0.148 [0.136, 0.161] of 3,120' (or 'n/a' without pairs), with what they are worth when pairs share
    persons: '0.003 [0.002, 0.003] of 497,004 (worth 84,412 independent pairs)'."""
    if not rate["n"]:
        return "n/a"
    effective = rate.get("effective_n")
    worth = (
        f" (worth {effective:,} independent pairs)" if effective is not None and effective < rate["n"] else ""
    )
    return f"{_rate(rate)} of {rate['n']:,}{worth}"


def _rate(rate: dict) -> str:
    if not rate["n"]:
        return "n/a"
    low, high = rate["interval"]
    return f"{rate['rate']:.3f} [{low:.3f}, {high:.3f}]"
