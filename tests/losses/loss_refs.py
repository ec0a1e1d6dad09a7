"""Shared sizes and the cross-entropy reference used by several loss tests (imported as losses.loss_refs)."""

from __future__ import annotations

import math

EMBEDDING_DIM = 5
NUM_CLASSES = 6


def reference_ce(embeddings, labels, weight, bias) -> float:
    """Mean of -log softmax(W x + b)[y], by explicit loops."""
    total = 0.0
    for x, y in zip(embeddings.tolist(), labels.tolist(), strict=True):
        logits = [
            sum(w * v for w, v in zip(row, x, strict=True)) + b for row, b in zip(weight, bias, strict=True)
        ]
        total += -(logits[y] - math.log(sum(math.exp(z) for z in logits)))
    return total / len(labels)


def linear_ce(head, embeddings, labels) -> float:
    """:func:`reference_ce` with the weights of a ``LinearHead``."""
    return reference_ce(embeddings, labels, head.linear.weight.tolist(), head.linear.bias.tolist())
