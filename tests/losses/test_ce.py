"""Softmax cross-entropy against a hand-written loop."""

from __future__ import annotations

import math

import pytest
import torch
from losses.loss_refs import EMBEDDING_DIM, NUM_CLASSES, linear_ce

from authorid.losses import SoftmaxCrossEntropyLoss


def test_ce_matches_reference(batch):
    torch.manual_seed(0)
    loss = SoftmaxCrossEntropyLoss(EMBEDDING_DIM, NUM_CLASSES).double()
    parts = loss(*batch)
    assert set(parts) == {"ce"}
    assert parts["ce"].item() == pytest.approx(linear_ce(loss.head, *batch), rel=1e-12)


def test_ce_of_one_class_batch_matches_reference(one_class_batch):
    torch.manual_seed(0)
    loss = SoftmaxCrossEntropyLoss(EMBEDDING_DIM, NUM_CLASSES).double()
    assert loss(*one_class_batch)["ce"].item() == pytest.approx(
        linear_ce(loss.head, *one_class_batch), rel=1e-12
    )


def test_ce_with_zero_head_is_log_num_classes(batch):
    loss = SoftmaxCrossEntropyLoss(EMBEDDING_DIM, NUM_CLASSES).double()
    with torch.no_grad():
        loss.head.linear.weight.zero_()
        loss.head.linear.bias.zero_()
    assert loss(*batch)["ce"].item() == pytest.approx(math.log(NUM_CLASSES), rel=1e-12)
