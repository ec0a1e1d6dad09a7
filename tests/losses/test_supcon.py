"""SupCon (L_out) against a loop over anchors, positives and candidates."""

from __future__ import annotations

import math

import pytest
import torch
from losses.loss_refs import EMBEDDING_DIM

from authorid.losses import SupConLoss


def reference_supcon(embeddings, labels, *, tau: float, base_tau: float | None = None) -> float:
    z = [[v / math.sqrt(sum(u * u for u in row)) for v in row] for row in embeddings.tolist()]
    y = labels.tolist()
    n = len(y)

    def dot(i: int, j: int) -> float:
        return sum(a * b for a, b in zip(z[i], z[j], strict=True))

    per_anchor = []
    for i in range(n):
        positives = [p for p in range(n) if p != i and y[p] == y[i]]
        if not positives:
            continue
        denominator = sum(math.exp(dot(i, a) / tau) for a in range(n) if a != i)
        per_anchor.append(
            -sum(math.log(math.exp(dot(i, p) / tau) / denominator) for p in positives) / len(positives)
        )
    scale = 1.0 if base_tau is None else tau / base_tau
    return scale * sum(per_anchor) / len(per_anchor)


def test_supcon_matches_reference(batch):
    parts = SupConLoss(EMBEDDING_DIM)(*batch)
    assert set(parts) == {"supcon"}
    assert parts["supcon"].item() == pytest.approx(reference_supcon(*batch, tau=0.07), rel=1e-10)


def test_supcon_other_temperature_and_base_temperature(batch):
    loss = SupConLoss(EMBEDDING_DIM, temperature=0.5, base_temperature=0.07)
    expected = reference_supcon(*batch, tau=0.5, base_tau=0.07)
    assert loss(*batch)["supcon"].item() == pytest.approx(expected, rel=1e-10)


def test_singleton_anchor_is_skipped(batch):
    # Dropping the single sample of class 3 as an anchor must not change the mean; it stays a candidate, so
    # the value still differs from the batch without that sample.
    embeddings, labels = batch
    keep = labels != 3
    with_singleton = SupConLoss()(embeddings, labels)["supcon"].item()
    without = SupConLoss()(embeddings[keep], labels[keep])["supcon"].item()
    assert with_singleton == pytest.approx(reference_supcon(embeddings, labels, tau=0.07), rel=1e-10)
    assert without != pytest.approx(with_singleton, rel=1e-6)


def test_one_class_batch_matches_reference(one_class_batch):
    expected = reference_supcon(*one_class_batch, tau=0.07)
    assert SupConLoss()(*one_class_batch)["supcon"].item() == pytest.approx(expected, rel=1e-10)


def test_no_positive_anywhere_gives_zero_with_graph(singletons_batch):
    embeddings = singletons_batch[0].clone().requires_grad_(True)
    value = SupConLoss()(embeddings, singletons_batch[1])["supcon"]
    assert value.item() == 0.0
    value.backward()
    assert torch.equal(embeddings.grad, torch.zeros_like(embeddings))


def test_scale_invariance_of_embeddings(batch):
    embeddings, labels = batch
    loss = SupConLoss()
    assert loss(3.0 * embeddings, labels)["supcon"].item() == pytest.approx(
        loss(embeddings, labels)["supcon"].item(), rel=1e-12
    )
