"""Tiny float64 batches shared by the loss tests.

The main batch has 8 embeddings in 5 dimensions over classes {0, 1, 2, 3} of 6 training classes: class 3 has a
single sample and classes 4, 5 are absent, so K = 6 differs from |C_B| = 4.
"""

from __future__ import annotations

import pytest
import torch
from losses.loss_refs import EMBEDDING_DIM


@pytest.fixture
def batch() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(7)
    embeddings = torch.randn(8, EMBEDDING_DIM, generator=generator, dtype=torch.float64)
    labels = torch.tensor([2, 0, 1, 0, 3, 1, 2, 0])
    return embeddings, labels


@pytest.fixture
def one_class_batch() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(11)
    embeddings = torch.randn(4, EMBEDDING_DIM, generator=generator, dtype=torch.float64)
    return embeddings, torch.full((4,), 1)


@pytest.fixture
def singletons_batch() -> tuple[torch.Tensor, torch.Tensor]:
    """Every class once: no anchor has a positive."""
    generator = torch.Generator().manual_seed(13)
    embeddings = torch.randn(4, EMBEDDING_DIM, generator=generator, dtype=torch.float64)
    return embeddings, torch.tensor([0, 3, 1, 5])
