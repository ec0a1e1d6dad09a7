"""The centre of account vectors as a function of how many posts an account has.

Every account vector is centred (`authorid.encoders.centre` for transformer models, `authorid.encoders.ngram`
for n-gram models): subtracting what every account shares is what makes two different people's cosine near
zero. But what accounts share depends on how many posts each has: a mean of 20 posts keeps more of the common
component than a mean of 2 (and a profile of summed n-gram counts likewise). One mean over a forum whose
accounts range from 1 to 500 posts over-centres its small accounts and under-centres its big ones, so two
different people's cosine still drifts with size (`style` on 300 held-out Reddit accounts cut to 2/5/10/20 posts
and embedded together: median different-person cosine +0.046 at 2x2 posts, -0.050 at 2x20), and a calibration
fitted on one mix of sizes is wrong for another.

So the centre is a curve over log2(posts): knots at 1, 2, 4, ... 2**MAX_KNOT posts, each the mean of the
accounts near it (linear binning: an account of 12 posts counts 0.42 towards the knot at 8 and 0.58 towards
the one at 16), and an account is centred on the curve at its own size (linear interpolation between the knots
that MIN_KNOT_GROUPS accounts or more support; clamped beyond the first and last). Measured (same 300 accounts,
one corpus): the drift goes to -0.007..-0.004 at every pairing and the mean AUC of the 16 pairings rises from
0.891 to 0.917, as high as embedding each size on its own (0.918). Conditioning on characters instead removed
the drift too but cost the Reddit benchmark's MRR 0.417 -> 0.41: how long a person's posts are is part of
their style, how many they have posted is not. A corpus whose accounts all have about the same number of posts
(the benchmark's 8-post halves) gets one knot: the plain mean, as before.

The sums behind the knots add up over shards (`CentreSums.merge`), so Ray computes the same centre (to float32
rounding: each block of rows is summed in float32).
"""

from __future__ import annotations

import numpy as np

#: Fewest accounts (with text) whose own centre centres them (fewer: the model's stored centre); a mean of a
#: handful of accounts is mostly those accounts, and subtracting it would erase what they share with each other.
MIN_CENTRE_GROUPS = 20
#: Fewest accounts (summed binning weight) behind a knot for it to be used; the same floor, for the same reason.
MIN_KNOT_GROUPS = MIN_CENTRE_GROUPS
#: The last knot: 2**16 = 65,536 posts (bigger accounts are centred as that size).
MAX_KNOT = 16
#: Rows handled at once: their interpolated centres are 1,024 x 16,512 float32 (68 MB) for `style`, whatever the
#: number of accounts.
BLOCK_ROWS = 1024


#: Every knot a CentreSums may fill: log2(posts) = 0, 1, ..., MAX_KNOT.
KNOTS = np.arange(MAX_KNOT + 1, dtype=np.float64)


def hat_weights(positions: np.ndarray, n_posts: np.ndarray) -> np.ndarray:
    """Each account's weights over knots at log2(posts) = `positions` (ascending, at least two): float32 (n,
    knots), the two knots around its log2(posts) sharing 1 linearly, clamped beyond the first and last. Over
    KNOTS this is the linear binning a CentreSums fills its knots with (12 posts: 0.42 to 8, 0.58 to 16); over
    a SizeCentre's knots, the interpolation that centres an account."""
    position = np.log2(np.maximum(np.asarray(n_posts, dtype=np.float64), 1.0))
    position = np.clip(position, positions[0], positions[-1])
    left = np.clip(np.searchsorted(positions, position, side="right") - 1, 0, len(positions) - 2)
    upper = (position - positions[left]) / (positions[left + 1] - positions[left])
    out = np.zeros((len(position), len(positions)), dtype=np.float32)
    every = np.arange(len(position))
    out[every, left] = 1.0 - upper
    out[every, left + 1] = upper
    return out


class SizeCentre:
    """A centre that depends on an account's post count: `means[k]` at log2(posts) = `positions[k]` (ascending),
    interpolated between them and clamped beyond; one knot is a plain centre, the same for every size."""

    def __init__(self, positions, means) -> None:
        positions = np.asarray(positions, dtype=np.float64).reshape(-1)
        means = np.asarray(means, dtype=np.float32)
        if means.ndim == 1:
            means = means[None, :]
        if means.ndim != 2 or len(positions) != len(means) or len(positions) == 0:
            raise ValueError(
                f"a size centre needs one mean per knot: {len(positions)} knots, means {means.shape}"
            )
        if np.any(np.diff(positions) <= 0) or not (np.isfinite(positions).all() and np.isfinite(means).all()):
            raise ValueError("a size centre's knots must be finite and ascending")
        self.positions, self.means = positions, means

    @classmethod
    def constant(cls, vector) -> SizeCentre:
        """The same centre for every size."""
        return cls([0.0], np.asarray(vector, dtype=np.float32).reshape(1, -1))

    @property
    def dim(self) -> int:
        return int(self.means.shape[1])

    @property
    def is_constant(self) -> bool:
        return len(self.positions) == 1

    def weights(self, n_posts: np.ndarray) -> np.ndarray:
        """Each account's interpolation weights over the knots: float32 (n, knots), two non-zeros a row."""
        if self.is_constant:
            return np.ones((len(n_posts), 1), dtype=np.float32)
        return hat_weights(self.positions, n_posts)

    def rows(self, n_posts: np.ndarray) -> np.ndarray:
        """The centre of each account of these post counts: float32 (n, dim)."""
        return self.weights(n_posts) @ self.means

    def subtract_from(self, rows: np.ndarray, n_posts: np.ndarray) -> None:
        """rows -= the centre at each row's post count, in place, BLOCK_ROWS rows at a time."""
        if self.is_constant:
            rows -= self.means[0]
            return
        for start in range(0, len(rows), BLOCK_ROWS):
            rows[start : start + BLOCK_ROWS] -= self.rows(n_posts[start : start + BLOCK_ROWS])

    def fingerprint_bytes(self) -> bytes:
        return self.positions.tobytes() + self.means.tobytes()

    def tensors(self, prefix: str) -> dict[str, np.ndarray]:
        """The arrays a model file keeps (`{prefix}positions`, `{prefix}means`)."""
        return {f"{prefix}positions": self.positions.astype(np.float32), f"{prefix}means": self.means}


class CentreSums:
    """What a SizeCentre is fitted from, additive over chunks and shards: per knot, the binning-weighted sum of
    the rows with text and the summed weight."""

    def __init__(self, dim: int) -> None:
        self.totals = np.zeros((MAX_KNOT + 1, dim), dtype=np.float64)
        self.weights = np.zeros(MAX_KNOT + 1, dtype=np.float64)
        self.count = 0

    def add(self, rows: np.ndarray, n_posts: np.ndarray, has_text: np.ndarray) -> CentreSums:
        """Add these rows (those with text), BLOCK_ROWS at a time (never a copy of them): each block's
        binning weights (knots x rows) times the block, in float32, summed into float64 totals."""
        n_posts, has_text = np.asarray(n_posts), np.asarray(has_text, dtype=bool)
        for start in range(0, len(rows), BLOCK_ROWS):
            chunk = slice(start, start + BLOCK_ROWS)
            keep = has_text[chunk]
            if not keep.any():
                continue
            weights = (hat_weights(KNOTS, n_posts[chunk]) * keep[:, None]).T  # knots x rows
            used = np.flatnonzero(weights.any(axis=1))
            self.totals[used] += weights[used] @ np.asarray(rows[chunk], dtype=np.float32)
            self.weights += weights.sum(axis=1, dtype=np.float64)
            self.count += int(keep.sum())
        return self

    def merge(self, other: CentreSums) -> CentreSums:
        self.totals += other.totals
        self.weights += other.weights
        self.count += other.count
        return self

    def mean(self) -> np.ndarray:
        """The plain mean of every row added (float32)."""
        return (self.totals.sum(0) / max(self.count, 1)).astype(np.float32)

    def centre(self) -> SizeCentre:
        """The knots MIN_KNOT_GROUPS accounts support; the plain mean when fewer than two do."""
        supported = np.flatnonzero(self.weights >= MIN_KNOT_GROUPS)
        if len(supported) < 2:
            return SizeCentre.constant(self.mean())
        means = self.totals[supported] / self.weights[supported, None]
        return SizeCentre(supported.astype(np.float64), means.astype(np.float32))
