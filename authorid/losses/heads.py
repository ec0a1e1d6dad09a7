"""Class heads that live inside a loss: a plain linear softmax head and a cosine head with sub-centres.

The head casts its weights to the embeddings' dtype so one loss serves float32 and float64 batches alike.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class LinearHead(nn.Module):
    """Logits ``W x + b`` over ``num_classes`` classes (nn.Linear initialisation)."""

    def __init__(self, embedding_dim: int, num_classes: int) -> None:
        super().__init__()
        self.linear = nn.Linear(embedding_dim, num_classes)

    def forward(self, embeddings: Tensor) -> Tensor:
        dtype = embeddings.dtype
        return F.linear(embeddings, self.linear.weight.to(dtype), self.linear.bias.to(dtype))


class CosineHead(nn.Module):
    """Cosines ``cos(x, w_c)`` to unit class weights; with ``sub_centers = K > 1`` each class has K weight
    vectors and its cosine is the largest of the K (Deng et al. 2020, "Sub-center ArcFace", ECCV)."""

    def __init__(self, embedding_dim: int, num_classes: int, sub_centers: int = 1) -> None:
        super().__init__()
        if not isinstance(sub_centers, int) or sub_centers < 1:
            raise ValueError(f"sub_centers must be a positive int, got {sub_centers!r}")
        self.num_classes = num_classes
        self.sub_centers = sub_centers
        self.weight = nn.Parameter(
            nn.init.xavier_uniform_(torch.empty(num_classes * sub_centers, embedding_dim))
        )

    def forward(self, embeddings: Tensor) -> Tensor:
        weight = F.normalize(self.weight.to(embeddings.dtype), dim=1)
        cos = F.normalize(embeddings, dim=1) @ weight.T
        if self.sub_centers > 1:
            cos = cos.view(-1, self.num_classes, self.sub_centers).amax(dim=2)
        return cos
