"""Error rates with the number of pairs behind them and a confidence interval.

A false-positive rate of 0.000 measured on 20 negative pairs says little: its 95% Wilson interval reaches 0.16.
Every operating point authorid reports (`calibrate`, `evaluate`) is a `rate_with_interval`, and
`small_sample_warning` names the numbers when they are too few to trust. The interval is scipy's Wilson score
interval (well-behaved at rates of 0 and 1, unlike the normal approximation).
"""

from __future__ import annotations

from scipy.stats import binomtest

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


def implied_precision(tpr: float, fpr: float, prior: float) -> float | None:
    """The share of "same" decisions that are right when a `prior` share of all pairs are same-person pairs."""
    flagged = tpr * prior + fpr * (1 - prior)
    return None if flagged == 0 else round(tpr * prior / flagged, 6)


def small_sample_warning(fpr: dict, tpr: dict) -> str | None:
    """One line naming the counts when an operating point rests on too few pairs, else None."""
    if fpr["n"] >= MIN_NEGATIVE_PAIRS and tpr["n"] >= MIN_POSITIVE_PAIRS:
        return None
    return (
        f"few pairs: FPR {_rate(fpr)} from {fpr['n']:,} different-person pairs and TPR {_rate(tpr)} from"
        f" {tpr['n']:,} same-person pairs (95% intervals); at least {MIN_NEGATIVE_PAIRS:,} and"
        f" {MIN_POSITIVE_PAIRS:,} are needed for a rate to trust"
    )


def format_rate(rate: dict) -> str:
    """'0.148 [0.136, 0.161] of 3,120' (or 'n/a' without pairs)."""
    return f"{_rate(rate)} of {rate['n']:,}" if rate["n"] else "n/a"


def _rate(rate: dict) -> str:
    if not rate["n"]:
        return "n/a"
    low, high = rate["interval"]
    return f"{rate['rate']:.3f} [{low:.3f}, {high:.3f}]"
