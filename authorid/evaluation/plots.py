"""The report's figures, each a function of plain arrays returning PNG bytes.

Figures are drawn on a bare `matplotlib.figure.Figure` with the Agg canvas: no pyplot, so no global state, no
display and no backend to choose; safe in threads and on headless machines.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from authorid.metrics.verification import ReliabilityCurve

SAME_COLOUR, DIFFERENT_COLOUR, LINE_COLOUR = "#1b7837", "#b2182b", "#2166ac"
_DPI = 100


def _png(draw: Callable, size: tuple[float, float] = (6.0, 4.0)) -> bytes:
    figure = Figure(figsize=size, dpi=_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    draw(figure.add_subplot())
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def score_distributions(
    same: np.ndarray, different: np.ndarray, *, xlabel: str = "cosine similarity"
) -> bytes:
    """Overlaid histograms (densities) of the scores of same-person and different-person pairs."""
    same, different = np.asarray(same, dtype=float), np.asarray(different, dtype=float)
    values = np.concatenate([same, different])
    n_bins = int(np.clip(np.sqrt(values.size) * 2, 10, 60))  # ~2 sqrt(n): fine for 30 pairs and for 30,000
    bins = np.linspace(values.min(), values.max(), n_bins + 1) if values.size and np.ptp(values) > 0 else 10

    def draw(ax):
        ax.hist(
            different,
            bins=bins,
            density=True,
            alpha=0.55,
            color=DIFFERENT_COLOUR,
            label=f"different person (n={different.size:,})",
        )
        ax.hist(
            same,
            bins=bins,
            density=True,
            alpha=0.55,
            color=SAME_COLOUR,
            label=f"same person (n={same.size:,})",
        )
        ax.set_xlabel(xlabel)
        ax.set_ylabel("density")
        ax.legend(frameon=False)

    return _png(draw)


def roc_curve(scores: np.ndarray, labels: np.ndarray, *, auc: float | None = None) -> bytes:
    """ROC curve (true vs false positive rate over all thresholds), with the chance diagonal."""
    from sklearn.metrics import roc_curve as sk_roc_curve

    fpr, tpr, _ = sk_roc_curve(np.asarray(labels), np.asarray(scores, dtype=float))

    def draw(ax):
        ax.plot(fpr, tpr, color=LINE_COLOUR, label="model" if auc is None else f"model (AUC {auc:.3f})")
        ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="chance")
        ax.set_xlabel("false positive rate")
        ax.set_ylabel("true positive rate")
        ax.set_aspect("equal")
        ax.legend(frameon=False, loc="lower right")

    return _png(draw, (5.0, 5.0))


def reliability_diagram(curve: ReliabilityCurve, *, ece: float | None = None) -> bytes:
    """Observed frequency of "same person" against mean predicted probability, per probability bin."""

    def draw(ax):
        centres = (curve.bin_lower + curve.bin_upper) / 2
        width = float(np.min(curve.bin_upper - curve.bin_lower)) if len(centres) else 0.05
        ax.bar(
            centres,
            curve.fraction_positive,
            width=width * 0.9,
            color=LINE_COLOUR,
            alpha=0.7,
            label="observed frequency",
        )
        ax.plot(curve.mean_probability, curve.fraction_positive, "o", color="black", markersize=3)
        ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect calibration")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("predicted P(same person)")
        ax.set_ylabel("fraction same person")
        ax.set_title("" if ece is None else f"ECE {ece:.3f}")
        ax.legend(frameon=False, loc="upper left")

    return _png(draw, (5.0, 5.0))


def rank_histogram(ranks: np.ndarray, *, pool_size: int) -> bytes:
    """How often the true match came 1st, 2nd, ...: one bar per rank for pools up to 20, else bars over
    doubling rank ranges (1, 2, 3-4, 5-8, 9-16, ...), so a pool of thousands still shows where ranks fall."""
    ranks = np.asarray(ranks, dtype=np.int64)
    if pool_size <= 20:
        lows = np.arange(1, pool_size + 1)
        highs = lows
    else:
        highs = np.unique(np.minimum(2 ** np.arange(int(np.ceil(np.log2(pool_size))) + 1), pool_size))
        lows = np.r_[1, highs[:-1] + 1]
    counts = [int(((ranks >= lo) & (ranks <= hi)).sum()) for lo, hi in zip(lows, highs, strict=True)]
    labels = [str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in zip(lows, highs, strict=True)]

    def draw(ax):
        ax.bar(np.arange(len(labels)), counts, color=LINE_COLOUR)
        ax.set_xticks(np.arange(len(labels)), labels, fontsize=7, rotation=45 if len(labels) > 10 else 0)
        ax.set_xlabel(f"rank of the true match (1-based; pool of {pool_size:,})")
        ax.set_ylabel("queries")

    return _png(draw)


def cluster_sizes(predicted_sizes: np.ndarray, true_sizes: np.ndarray) -> bytes:
    """Number of clusters of each size, predicted next to true persons; one bar pair per size that occurs."""
    predicted_sizes, true_sizes = np.asarray(predicted_sizes), np.asarray(true_sizes)
    sizes = np.union1d(predicted_sizes, true_sizes)
    sizes = sizes[sizes > 0]
    predicted = np.array([(predicted_sizes == s).sum() for s in sizes])
    true = np.array([(true_sizes == s).sum() for s in sizes])
    x = np.arange(len(sizes))

    def draw(ax):
        ax.bar(x - 0.2, true, width=0.4, color="grey", label=f"true persons ({true_sizes.size:,})")
        ax.bar(
            x + 0.2,
            predicted,
            width=0.4,
            color=LINE_COLOUR,
            label=f"predicted clusters ({predicted_sizes.size:,})",
        )
        ax.set_xticks(x, [str(s) for s in sizes], fontsize=8)
        ax.set_xlabel("accounts per person / cluster (sizes that occur)")
        ax.set_ylabel("count")
        ax.legend(frameon=False)

    return _png(draw)


def confusion_matrix(
    truth: np.ndarray, predicted: np.ndarray, authors: Sequence[str], *, max_authors: int = 30
) -> bytes:
    """Row-normalised confusion matrix (true author x predicted author) of the `max_authors` most frequent
    true authors; predictions of other authors fall in a last "other" column."""
    truth, predicted = np.asarray(truth), np.asarray(predicted)
    support = np.bincount(truth, minlength=len(authors))
    shown = np.sort(np.argsort(-support, kind="stable")[:max_authors])
    column = np.full(len(authors), len(shown), dtype=np.int64)
    column[shown] = np.arange(len(shown))
    rows = np.isin(truth, shown)
    matrix = np.zeros((len(shown), len(shown) + 1))
    np.add.at(matrix, (column[truth[rows]], column[predicted[rows]]), 1)
    matrix /= np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    names = [str(authors[i])[:18] for i in shown]
    if len(shown) == len(authors):
        matrix = matrix[:, :-1]
        columns = names
    else:
        columns = [*names, "other"]
    side = 3 + 0.22 * len(shown)

    def draw(ax):
        image = ax.imshow(matrix, cmap="Blues", vmin=0, vmax=1)
        ax.set_xticks(np.arange(len(columns)), columns, rotation=90, fontsize=6)
        ax.set_yticks(np.arange(len(names)), names, fontsize=6)
        ax.set_xlabel("predicted author")
        ax.set_ylabel("true author")
        ax.figure.colorbar(image, ax=ax, shrink=0.7, label="share of the author's test posts")

    return _png(draw, (side + 1.5, side))
