"""Contra-X: CE plus the summed-positives contrastive term, against loops."""

from __future__ import annotations

import math

import pytest
import torch
from losses.loss_refs import EMBEDDING_DIM, NUM_CLASSES, linear_ce

from authorid.losses import ContraXLoss
from authorid.losses.contrax import contrax_term


def reference_contrastive(embeddings, labels, *, tau: float) -> float:
    rows = embeddings.tolist()
    y = labels.tolist()
    n = len(y)

    def cos(i: int, j: int) -> float:
        dot = sum(a * b for a, b in zip(rows[i], rows[j], strict=True))
        return dot / math.sqrt(sum(a * a for a in rows[i]) * sum(b * b for b in rows[j]))

    terms = []
    for i in range(n):
        positives = [j for j in range(n) if j != i and y[j] == y[i]]
        if not positives:
            continue
        numerator = sum(math.exp(cos(i, j) / tau) for j in positives)
        denominator = sum(math.exp(cos(i, k) / tau) for k in range(n) if k != i)
        terms.append(-math.log(numerator / denominator))
    return sum(terms) / len(terms)


def test_contrax_matches_reference(batch):
    torch.manual_seed(0)
    loss = ContraXLoss(EMBEDDING_DIM, NUM_CLASSES).double()
    parts = loss(*batch)
    assert set(parts) == {"ce", "contrastive"}
    assert parts["ce"].item() == pytest.approx(linear_ce(loss.head, *batch), rel=1e-12)
    assert parts["contrastive"].item() == pytest.approx(reference_contrastive(*batch, tau=0.1), rel=1e-10)


def test_contrastive_weight_and_temperature(batch):
    torch.manual_seed(0)
    loss = ContraXLoss(EMBEDDING_DIM, NUM_CLASSES, temperature=0.3, contrastive_weight=0.25).double()
    expected = 0.25 * reference_contrastive(*batch, tau=0.3)
    assert loss(*batch)["contrastive"].item() == pytest.approx(expected, rel=1e-10)


def test_differs_from_supcon_l_out(batch):
    # Summing positives inside the log is not the SupCon mean of logs (Jensen): the term is strictly smaller.
    from authorid.losses import SupConLoss

    ours = contrax_term(*batch, temperature=0.1).item()
    supcon = SupConLoss(temperature=0.1)(*batch)["supcon"].item()
    assert ours < supcon


def test_one_class_batch_has_zero_contrastive_term(one_class_batch):
    # Every other sample is a positive, so numerator == denominator.
    assert contrax_term(*one_class_batch, temperature=0.1).item() == pytest.approx(0.0, abs=1e-12)


def test_no_positive_anywhere_gives_zero(singletons_batch):
    assert contrax_term(*singletons_batch, temperature=0.1).item() == 0.0
