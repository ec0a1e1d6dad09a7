"""NBC-Softmax: the negative block term against a loop, hand-computed cases, and its behaviour."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from losses.loss_refs import EMBEDDING_DIM, NUM_CLASSES, linear_ce

from authorid.losses import NBCSoftmaxLoss, ScaledNBCSoftmaxLoss
from authorid.losses.nbc_softmax import negative_block_term


def reference_nbc(embeddings, labels, *, tau: float, num_classes: int, scaled: bool = False) -> float:
    """The formula read literally: class means, cosines with s_jj = 0, sum over all k in C_B."""
    x, y = embeddings.numpy(), labels.numpy()
    classes = sorted(set(y.tolist()))
    means = [x[y == c].mean(axis=0) for c in classes]
    total = 0.0
    for j in range(len(classes)):
        inner = 0.0
        for k in range(len(classes)):
            s = (
                0.0
                if j == k
                else float(means[j] @ means[k] / (np.linalg.norm(means[j]) * np.linalg.norm(means[k])))
            )
            inner += math.exp(s / tau if scaled else tau * s)
        total += math.log(inner)
    total /= len(classes)
    return total if scaled else total / num_classes


def released_code_nbc(embeddings, labels, *, tau: float, num_classes: int) -> torch.Tensor:
    """The authors' computation (one-hot class centres, diagonal masked to 0, mean of logs, / num_classes)."""
    onehot = F.one_hot(labels, num_classes).to(embeddings.dtype)
    centres = (onehot.T @ embeddings) / onehot.sum(0).clamp(min=1.0)[:, None]
    valid = centres[onehot.sum(0) > 0]
    norms = valid.norm(dim=1, keepdim=True)
    cos = (valid @ valid.T) / (norms @ norms.T) * (1 - torch.eye(valid.shape[0], dtype=embeddings.dtype))
    return torch.log(torch.exp(tau * cos).sum(1) + 1e-10).mean() / num_classes


def test_nbc_term_matches_reference_loop(batch):
    expected = reference_nbc(*batch, tau=0.2, num_classes=NUM_CLASSES)
    assert negative_block_term(*batch, tau=0.2, num_classes=NUM_CLASSES).item() == pytest.approx(
        expected, rel=1e-12
    )


def test_nbc_term_matches_released_code(batch):
    ours = negative_block_term(*batch, tau=0.2, num_classes=NUM_CLASSES)
    assert ours.item() == pytest.approx(
        released_code_nbc(*batch, tau=0.2, num_classes=NUM_CLASSES).item(), rel=1e-9
    )


def test_scaled_nbc_term_matches_reference_loop(batch):
    expected = reference_nbc(*batch, tau=0.2, num_classes=NUM_CLASSES, scaled=True)
    got = negative_block_term(*batch, tau=0.2, num_classes=NUM_CLASSES, scaled=True)
    assert got.item() == pytest.approx(expected, rel=1e-12)


def test_orthogonal_and_opposite_means_give_hand_values():
    labels = torch.tensor([0, 0, 1, 1])
    # Class means (1, 0) and (0, 1): s_01 = 0, so each row is log(exp(0) + exp(0)) = log 2.
    orthogonal = torch.tensor([[2.0, 1.0], [0.0, -1.0], [0.5, 1.0], [-0.5, 1.0]], dtype=torch.float64)
    assert negative_block_term(orthogonal, labels, tau=0.2, num_classes=10).item() == pytest.approx(
        math.log(2) / 10, rel=1e-12
    )
    # Means (1, 0) and (-3, 0): s_01 = -1, each row log(1 + exp(-0.2)); scaled: log(1 + exp(-5)), no 1/K.
    opposite = torch.tensor([[1.0, 0.0], [1.0, 0.0], [-3.0, 0.0], [-3.0, 0.0]], dtype=torch.float64)
    assert negative_block_term(opposite, labels, tau=0.2, num_classes=10).item() == pytest.approx(
        math.log(1 + math.exp(-0.2)) / 10, rel=1e-12
    )
    scaled = negative_block_term(opposite, labels, tau=0.2, num_classes=10, scaled=True)
    assert scaled.item() == pytest.approx(math.log(1 + math.exp(-5.0)), rel=1e-12)


def test_single_class_batch_has_zero_nbc_term(one_class_batch):
    torch.manual_seed(0)
    loss = NBCSoftmaxLoss(EMBEDDING_DIM, NUM_CLASSES).double()
    parts = loss(*one_class_batch)
    assert parts["nbc"].item() == 0.0
    parts["ce"].backward()  # the CE part still trains


def test_nbc_term_decreases_as_class_means_move_apart():
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    values = []
    for angle in [0.1, 0.5, 1.0, 1.5, 2.0, 2.0944]:  # up to 120 degrees: three means evenly spread
        means = [(1.0, 0.0), (math.cos(angle), math.sin(angle)), (math.cos(-angle), math.sin(-angle))]
        x = torch.tensor([m for m in means for _ in range(2)], dtype=torch.float64)
        x = x + torch.tensor(
            [[0.0, 0.05], [0.0, -0.05]] * 3, dtype=torch.float64
        )  # noise that cancels in means
        values.append(negative_block_term(x, labels, tau=0.2, num_classes=3).item())
    assert all(later < earlier for earlier, later in zip(values, values[1:], strict=False))


def test_loss_parts_are_weighted_ce_and_nbc(batch):
    torch.manual_seed(0)
    loss = NBCSoftmaxLoss(EMBEDDING_DIM, NUM_CLASSES, ratio=0.3, tau=0.5).double()
    parts = loss(*batch)
    assert set(parts) == {"ce", "nbc"}
    ce = linear_ce(loss.head, *batch)
    assert parts["ce"].item() == pytest.approx(0.7 * ce, rel=1e-12)
    assert parts["nbc"].item() == pytest.approx(
        0.3 * reference_nbc(*batch, tau=0.5, num_classes=6), rel=1e-12
    )


def test_scaled_variant_is_registered_behaviour(batch):
    torch.manual_seed(0)
    loss = ScaledNBCSoftmaxLoss(EMBEDDING_DIM, NUM_CLASSES).double()
    expected = 0.5 * reference_nbc(*batch, tau=0.2, num_classes=NUM_CLASSES, scaled=True)
    assert loss(*batch)["nbc"].item() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("kwargs", [{"ratio": 1.5}, {"ratio": -0.1}, {"tau": 0.0}])
def test_bad_hyperparameters_raise(kwargs):
    with pytest.raises(ValueError):
        NBCSoftmaxLoss(EMBEDDING_DIM, NUM_CLASSES, **kwargs)
