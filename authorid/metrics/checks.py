"""Input checks the metric functions share: one-line errors naming the arguments."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def paired_labels(
    truth: ArrayLike, predicted: ArrayLike, names: tuple[str, str]
) -> tuple[np.ndarray, np.ndarray]:
    """(truth, predicted) as 1-d arrays of equal, non-zero length; ValueError naming `names` otherwise."""
    a, b = np.asarray(truth), np.asarray(predicted)
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"{names[0]} and {names[1]} must be 1-d, got shapes {a.shape} and {b.shape}")
    if a.size != b.size:
        raise ValueError(f"{names[0]} has {a.size} entries but {names[1]} has {b.size}")
    if a.size == 0:
        raise ValueError(f"{names[0]} and {names[1]} are empty")
    return a, b
