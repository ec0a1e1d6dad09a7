"""Plain softmax baseline: a linear head and cross-entropy."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from authorid.losses.base import HeadedLoss
from authorid.losses.heads import LinearHead


class SoftmaxCrossEntropyLoss(HeadedLoss):
    """Cross-entropy over a linear softmax head (the baseline every other loss is compared with).

    ``L = -(1/N) sum_i log softmax(W x_i + b)[y_i]`` with ``W, b`` learnt inside the loss.
    Embeddings are used as given (no normalisation). Returns ``{"ce": L}``.
    """

    reference = "softmax cross-entropy baseline"
    parts = ("ce",)

    def __init__(self, embedding_dim: int, num_classes: int) -> None:
        super().__init__(embedding_dim, num_classes)
        self.head = LinearHead(embedding_dim, num_classes)

    def forward(self, embeddings: Tensor, labels: Tensor) -> dict[str, Tensor]:
        labels = self.check_inputs(embeddings, labels)
        return {"ce": F.cross_entropy(self.head(embeddings), labels)}
