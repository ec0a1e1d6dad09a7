"""A similarity split exactly into per-feature contributions, for the models where that is true.

n-gram encoder (`authorid.encoders.ngram`): both paths are linear in the profile x, so with Â_b the unit,
centred trained-path vector of B and B̂_b its sketch-path vector,

    cos(v_a, v_b) = Σ_i x_a[i] · ( mix · W_i·Â_b / |a_a - c_a|  +  (1 - mix) · s_i g_i B̂_b[h_i] / |b_a - c_b| )
                    - ( mix · c_a·Â_b / |a_a - c_a|  +  (1 - mix) · c_b·B̂_b / |b_a - c_b| )

(c: the centre; s, h: the sketch's sign and column of bucket i; W_i: bucket i's table row). The same holds from
B's side; the evidence averages both sides, so the contributions of a bucket count what *both* accounts do, and
they plus the (averaged) centring constant sum to the similarity within float error.

Stylometric profile (full width): the vectors are unit tf-idf profiles, so the cosine is Σ_i v_a[i] v_b[i].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch


@dataclass
class Contributions:
    """Per-feature contributions (feature index -> value) that sum, with `constant`, to `similarity`."""

    similarity: float
    values: dict[int, float]
    constant: float
    exact: bool = True

    def total(self) -> float:
        return float(sum(self.values.values()) + self.constant)


@torch.no_grad()
def ngram_contributions(encoder, summed: sp.csr_matrix, centre: np.ndarray) -> Contributions:
    """Contributions of each bucket to the cosine of the two groups in `summed` (2 rows of summed n-gram
    counts), their vectors centred on `centre` (the trained part, then the sketch part): one row for both, or
    one row per group (a centre by post count, `SizeCentre.rows`)."""
    p = encoder.params
    profiles = encoder.profiles(summed)
    a, b = encoder._paths(profiles)
    centre = torch.from_numpy(
        np.broadcast_to(np.atleast_2d(np.asarray(centre, dtype=np.float32)), (2, encoder.dim)).copy()
    )
    parts = []  # (path output per side, centre per side, weight of the path)
    if a is not None:
        parts.append((a.float(), centre[:, : p["dim"]], p["mix"] if b is not None else 1.0))
    if b is not None:
        parts.append((b.float(), centre[:, p["dim"] :], 1 - p["mix"] if a is not None else 1.0))
    sides = [_side(encoder, profiles, side, parts) for side in (0, 1)]
    similarity = sum(weight * float(_unit(out[0] - c[0]) @ _unit(out[1] - c[1])) for out, c, weight in parts)
    values: dict[int, float] = {}
    for side_values, _ in sides:
        for bucket, value in side_values.items():
            values[bucket] = values.get(bucket, 0.0) + value / 2
    constant = sum(constant for _, constant in sides) / 2
    return Contributions(similarity=similarity, values=values, constant=constant)


def _side(encoder, profiles: sp.csr_matrix, side: int, parts) -> tuple[dict[int, float], float]:
    """(bucket -> contribution, constant) of one account's features against the other's unit vector."""
    p = encoder.params
    row = profiles[side]
    buckets = torch.from_numpy(row.indices.astype(np.int64))
    x = torch.from_numpy(row.data.astype(np.float32)).double()
    per_bucket = torch.zeros(len(buckets), dtype=torch.float64)
    constant = 0.0
    other = 1 - side
    for index, (out, centre, weight) in enumerate(parts):
        own = out[side] - centre[side]
        norm = float(own.norm())
        if norm == 0:
            continue
        target = _unit(out[other] - centre[other]).double()
        trained = index == 0 and p["dim"] > 0
        if trained:
            rows = encoder.table.weight[buckets % encoder.table.num_embeddings].double()
            per_bucket += weight * x * (rows @ target) / norm
        else:
            sketch = encoder.sketch_sign[buckets].double() * encoder.sketch_weight[buckets].double()
            per_bucket += weight * x * sketch * target[encoder.sketch_column[buckets]] / norm
        constant -= weight * float(centre[side].double() @ target) / norm
    return dict(zip(row.indices.tolist(), per_bucket.tolist(), strict=True)), constant


def stylometric_contributions(vector_a: np.ndarray, vector_b: np.ndarray) -> Contributions:
    """Contributions of each profile feature to the cosine of two unit stylometric profiles."""
    products = np.asarray(vector_a, dtype=np.float64) * np.asarray(vector_b, dtype=np.float64)
    nonzero = np.flatnonzero(products)
    return Contributions(
        similarity=float(products.sum()),
        values=dict(zip(nonzero.tolist(), products[nonzero].tolist(), strict=True)),
        constant=0.0,
    )


def _unit(vector: torch.Tensor) -> torch.Tensor:
    norm = float(vector.norm())
    return vector / norm if norm > 0 and math.isfinite(norm) else vector
