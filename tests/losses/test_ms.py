"""Multi-Similarity loss against a loop written after the authors' released per-anchor code."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from losses.loss_refs import EMBEDDING_DIM

from authorid.losses import MultiSimilarityLoss
from authorid.losses.ms import mine_pairs


def reference_ms(embeddings, labels, *, alpha=2.0, beta=50.0, base=0.5, eps=0.1) -> tuple[float, int]:
    """Returns (loss, number of pairs the mining dropped)."""
    x = embeddings.numpy()
    z = x / np.linalg.norm(x, axis=1, keepdims=True)
    sim = z @ z.T
    y = labels.numpy()
    n = len(y)
    total, dropped = 0.0, 0
    for i in range(n):
        pos = [sim[i, j] for j in range(n) if j != i and y[j] == y[i]]
        neg = [sim[i, j] for j in range(n) if y[j] != y[i]]
        if not pos or not neg:
            continue
        kept_neg = [s for s in neg if s + eps > min(pos)]
        kept_pos = [s for s in pos if s - eps < max(neg)]
        dropped += len(pos) + len(neg) - len(kept_pos) - len(kept_neg)
        if not kept_neg or not kept_pos:
            continue
        total += math.log(1 + sum(math.exp(-alpha * (s - base)) for s in kept_pos)) / alpha
        total += math.log(1 + sum(math.exp(beta * (s - base)) for s in kept_neg)) / beta
    return total / n, dropped


def test_ms_matches_reference_and_mining_drops_pairs(batch):
    expected, dropped = reference_ms(*batch)
    assert dropped > 0  # the batch exercises the mining, not only the weighting
    parts = MultiSimilarityLoss(EMBEDDING_DIM)(*batch)
    assert set(parts) == {"ms"}
    assert parts["ms"].item() == pytest.approx(expected, rel=1e-10)


def test_mining_keeps_exactly_the_papers_pairs(batch):
    embeddings, labels = batch
    z = torch.nn.functional.normalize(embeddings, dim=1)
    sim = (z @ z.T).tolist()
    y = labels.tolist()
    n = len(y)
    expected_pos = [[False] * n for _ in range(n)]
    expected_neg = [[False] * n for _ in range(n)]
    for i in range(n):
        pos = [j for j in range(n) if j != i and y[j] == y[i]]
        neg = [j for j in range(n) if y[j] != y[i]]
        if not pos:
            continue
        for j in neg:
            expected_neg[i][j] = sim[i][j] + 0.1 > min(sim[i][p] for p in pos)
        for j in pos:
            expected_pos[i][j] = sim[i][j] - 0.1 < max(sim[i][k] for k in neg)
    keep_pos, keep_neg = mine_pairs(z @ z.T, labels, epsilon=0.1)
    assert keep_pos.tolist() == expected_pos
    assert keep_neg.tolist() == expected_neg
    # The batch drops pairs of both kinds, and an anchor keeps positives exactly when it keeps negatives.
    positives = (labels[:, None] == labels[None, :]) & ~torch.eye(n, dtype=torch.bool)
    assert int((positives & ~keep_pos).sum()) > 0
    assert int(((labels[:, None] != labels[None, :]) & ~keep_neg & positives.any(1, keepdim=True)).sum()) > 0
    assert torch.equal(keep_pos.any(1), keep_neg.any(1))


def test_ms_other_hyperparameters(batch):
    expected, _ = reference_ms(*batch, alpha=1.0, beta=10.0, base=0.2, eps=0.3)
    loss = MultiSimilarityLoss(alpha=1.0, beta=10.0, base=0.2, margin=0.3)
    assert loss(*batch)["ms"].item() == pytest.approx(expected, rel=1e-10)


def test_easy_negative_is_dropped_and_hard_negative_kept():
    labels = torch.tensor([0, 0, 1])
    # Anchors 0, 1: S_pos = 1 and S_neg = cos 1 = 0.54; 0.54 + 0.1 < 1, so the negative is mined away and
    # the anchor contributes 0; anchor 2 has no positive. The loss is exactly 0.
    easy = torch.tensor([[1.0, 0.0], [1.0, 0.0], [math.cos(1.0), math.sin(1.0)]], dtype=torch.float64)
    assert MultiSimilarityLoss()(easy, labels)["ms"].item() == 0.0
    # Anchor 0: S_pos = cos 0.1415 = 0.990, S_neg = cos 0.3176 = 0.950; anchor 1: S_pos = 0.990,
    # S_neg = cos 0.4591 = 0.896. All four pairs survive the mining (0.95 + 0.1 > 0.99, 0.99 - 0.1 < 0.95).
    hard = torch.tensor(
        [[1.0, 0.0], [math.cos(0.1415), math.sin(0.1415)], [math.cos(0.3176), -math.sin(0.3176)]],
        dtype=torch.float64,
    )

    def anchor(s_pos: float, s_neg: float) -> float:
        return math.log1p(math.exp(-2 * (s_pos - 0.5))) / 2 + math.log1p(math.exp(50 * (s_neg - 0.5))) / 50

    expected = (anchor(math.cos(0.1415), math.cos(0.3176)) + anchor(math.cos(0.1415), math.cos(0.4591))) / 3
    assert MultiSimilarityLoss()(hard, labels)["ms"].item() == pytest.approx(expected, rel=1e-9)


def test_one_class_batch_has_no_negatives_and_zero_loss(one_class_batch):
    assert MultiSimilarityLoss()(*one_class_batch)["ms"].item() == 0.0


def test_no_positive_anywhere_gives_zero_with_graph(singletons_batch):
    embeddings = singletons_batch[0].clone().requires_grad_(True)
    value = MultiSimilarityLoss()(embeddings, singletons_batch[1])["ms"]
    value.backward()
    assert value.item() == 0.0
    assert torch.equal(embeddings.grad, torch.zeros_like(embeddings))
