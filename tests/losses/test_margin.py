"""ArcFace (with sub-centres) and CosFace against loops over acos/cos, plus hand-computed cases."""

from __future__ import annotations

import math

import pytest
import torch
from losses.loss_refs import EMBEDDING_DIM, NUM_CLASSES

from authorid.losses import ArcFaceLoss, CosFaceLoss


def _cosines(embeddings, weight, sub_centers: int) -> list[list[float]]:
    """cos(x_i, w_c), the max over each class's sub-centres (rows c*K .. c*K + K - 1)."""

    def cos(a, b) -> float:
        return sum(u * v for u, v in zip(a, b, strict=True)) / math.sqrt(
            sum(u * u for u in a) * sum(v * v for v in b)
        )

    rows = weight.tolist()
    classes = len(rows) // sub_centers
    return [
        [max(cos(x, rows[c * sub_centers + k]) for k in range(sub_centers)) for c in range(classes)]
        for x in embeddings.tolist()
    ]


def _ce(logit_rows, labels) -> float:
    y = labels.tolist()
    return sum(math.log(sum(math.exp(v) for v in row)) - row[y[i]] for i, row in enumerate(logit_rows)) / len(
        y
    )


def reference_arcface(embeddings, labels, weight, *, s: float, m: float, sub_centers: int = 1) -> float:
    rows = []
    for cosines, y in zip(_cosines(embeddings, weight, sub_centers), labels.tolist(), strict=True):
        theta = math.acos(cosines[y])
        target = math.cos(theta + m) if theta + m < math.pi else cosines[y] - m * math.sin(m)
        rows.append([s * (target if c == y else v) for c, v in enumerate(cosines)])
    return _ce(rows, labels)


def reference_cosface(embeddings, labels, weight, *, s: float, m: float, sub_centers: int = 1) -> float:
    rows = [
        [s * (v - m if c == y else v) for c, v in enumerate(cosines)]
        for cosines, y in zip(_cosines(embeddings, weight, sub_centers), labels.tolist(), strict=True)
    ]
    return _ce(rows, labels)


@pytest.mark.parametrize("sub_centers", [1, 3])
def test_arcface_matches_reference(batch, sub_centers):
    torch.manual_seed(0)
    loss = ArcFaceLoss(EMBEDDING_DIM, NUM_CLASSES, sub_centers=sub_centers).double()
    parts = loss(*batch)
    assert set(parts) == {"arcface"}
    expected = reference_arcface(*batch, loss.head.weight, s=64.0, m=0.5, sub_centers=sub_centers)
    assert parts["arcface"].item() == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("sub_centers", [1, 2])
def test_cosface_matches_reference(batch, sub_centers):
    torch.manual_seed(0)
    loss = CosFaceLoss(EMBEDDING_DIM, NUM_CLASSES, sub_centers=sub_centers).double()
    parts = loss(*batch)
    assert set(parts) == {"cosface"}
    expected = reference_cosface(*batch, loss.head.weight, s=30.0, m=0.35, sub_centers=sub_centers)
    assert parts["cosface"].item() == pytest.approx(expected, rel=1e-10)


def _two_class_head(loss, class0, class1) -> None:
    with torch.no_grad():
        loss.head.weight.copy_(torch.tensor([class0, class1], dtype=torch.float64))


def test_arcface_hand_value_adds_the_angle():
    loss = ArcFaceLoss(2, 2).double()
    _two_class_head(loss, [math.cos(0.3), math.sin(0.3)], [0.0, 1.0])
    value = loss(torch.tensor([[2.0, 0.0]], dtype=torch.float64), torch.tensor([0]))["arcface"]
    # logits (64 cos 0.8, 64 cos(pi/2) = 0): CE = softplus(-64 cos 0.8)
    assert value.item() == pytest.approx(math.log1p(math.exp(-64 * math.cos(0.8))), rel=1e-10)


def test_arcface_falls_back_when_theta_plus_margin_exceeds_pi():
    loss = ArcFaceLoss(2, 2).double()
    _two_class_head(loss, [-1.0, 0.0], [0.0, 1.0])  # theta = pi for the target class
    value = loss(torch.tensor([[1.0, 0.0]], dtype=torch.float64), torch.tensor([0]))["arcface"]
    target = -1.0 - 0.5 * math.sin(0.5)
    assert value.item() == pytest.approx(math.log1p(math.exp(-64 * target)), rel=1e-10)


def test_arcface_target_logit_decreases_in_theta_and_jumps_at_the_switch():
    loss = ArcFaceLoss(2, 2, margin=0.5).double()
    theta = torch.linspace(0.0, math.pi, 2001, dtype=torch.float64)
    logit = loss.target_logit(torch.cos(theta))
    assert bool((logit[1:] <= logit[:-1]).all())
    switch = math.cos(math.pi - 0.5)
    around = torch.tensor([switch + 1e-12, switch - 1e-12], dtype=torch.float64)
    above, below = loss.target_logit(around).tolist()
    assert above == pytest.approx(-1.0, abs=1e-5)
    assert below == pytest.approx(-(math.cos(0.5) + 0.5 * math.sin(0.5)), abs=1e-9)


def test_cosface_hand_value_subtracts_the_margin():
    loss = CosFaceLoss(2, 2).double()
    _two_class_head(loss, [math.cos(0.3), math.sin(0.3)], [0.0, 1.0])
    value = loss(torch.tensor([[0.5, 0.0]], dtype=torch.float64), torch.tensor([0]))["cosface"]
    assert value.item() == pytest.approx(math.log1p(math.exp(-30 * (math.cos(0.3) - 0.35))), rel=1e-10)


def test_sub_centre_takes_the_closest_centre():
    loss = ArcFaceLoss(2, 2, sub_centers=2).double()
    with torch.no_grad():  # class 0 has centres at 0.3 rad and pi; class 1 at pi/2 and -pi/2
        loss.head.weight.copy_(
            torch.tensor(
                [[math.cos(0.3), math.sin(0.3)], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]], dtype=torch.float64
            )
        )
    value = loss(torch.tensor([[1.0, 0.0]], dtype=torch.float64), torch.tensor([0]))["arcface"]
    assert value.item() == pytest.approx(math.log1p(math.exp(-64 * math.cos(0.8))), rel=1e-10)


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [(ArcFaceLoss, {"margin": 2.0}), (ArcFaceLoss, {"sub_centers": 0}), (CosFaceLoss, {"scale": 0.0})],
)
def test_bad_hyperparameters_raise(cls, kwargs):
    with pytest.raises(ValueError):
        cls(EMBEDDING_DIM, NUM_CLASSES, **kwargs)
