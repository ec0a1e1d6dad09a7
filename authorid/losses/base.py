"""What every loss shares: input checks, the zero loss, and the sum of named parts.

A loss is an ``nn.Module`` whose ``forward(embeddings, labels)`` returns a dict of named, already weighted
parts; the training objective is their sum (:func:`total_loss`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import torch
from torch import Tensor, nn


def total_loss(parts: Mapping[str, Tensor]) -> Tensor:
    """The training objective: the sum of a loss's named parts."""
    if not parts:
        raise ValueError("a loss returned no parts")
    return torch.stack([value for value in parts.values()]).sum()


def zero_with_graph(embeddings: Tensor) -> Tensor:
    """A zero that stays attached to the graph, so ``backward()`` works when a term has nothing to score."""
    return embeddings.sum() * 0.0


class StyleLoss(nn.Module):
    """Base class: validates ``(embeddings, labels)`` and records the paper a loss comes from.

    Subclasses set ``reference`` (the paper) and ``parts`` (the names ``forward`` returns), and call
    :meth:`check_inputs` first thing in ``forward``.
    """

    reference: ClassVar[str] = ""
    parts: ClassVar[tuple[str, ...]] = ()
    needs_classes: ClassVar[bool] = False

    def __init__(self, embedding_dim: int | None = None) -> None:
        super().__init__()
        if embedding_dim is not None and (not isinstance(embedding_dim, int) or embedding_dim < 1):
            raise ValueError(f"embedding_dim must be a positive int, got {embedding_dim!r}")
        self.embedding_dim = embedding_dim

    def check_inputs(self, embeddings: Tensor, labels: Tensor) -> Tensor:
        """Raise ValueError on malformed input; return the labels as int64."""
        if not isinstance(embeddings, Tensor) or not isinstance(labels, Tensor):
            raise ValueError("embeddings and labels must be torch tensors")
        if embeddings.dim() != 2:
            raise ValueError(f"embeddings must be 2-D (batch, dim), got shape {tuple(embeddings.shape)}")
        if not embeddings.is_floating_point():
            raise ValueError(f"embeddings must be floating point, got {embeddings.dtype}")
        if labels.dim() != 1:
            raise ValueError(f"labels must be 1-D (batch,), got shape {tuple(labels.shape)}")
        if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
            raise ValueError(f"labels must be integer class indices, got {labels.dtype}")
        if embeddings.shape[0] != labels.shape[0]:
            raise ValueError(
                f"embeddings and labels disagree on the batch size: "
                f"{embeddings.shape[0]} vs {labels.shape[0]}"
            )
        if embeddings.shape[0] == 0:
            raise ValueError("empty batch: a loss needs at least one embedding")
        if self.embedding_dim is not None and embeddings.shape[1] != self.embedding_dim:
            raise ValueError(
                f"embeddings have dimension {embeddings.shape[1]}, "
                f"the loss was built for {self.embedding_dim}"
            )
        return labels.long()


class HeadedLoss(StyleLoss):
    """A loss with learnable class weights (a head over ``num_classes`` training classes)."""

    needs_classes: ClassVar[bool] = True

    def __init__(self, embedding_dim: int, num_classes: int) -> None:
        if embedding_dim is None:
            raise ValueError(f"{type(self).__name__} needs embedding_dim for its class head")
        super().__init__(embedding_dim)
        if not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"{type(self).__name__} needs num_classes >= 2, got {num_classes!r}")
        self.num_classes = num_classes

    def check_inputs(self, embeddings: Tensor, labels: Tensor) -> Tensor:
        labels = super().check_inputs(embeddings, labels)
        # One device sync per step; without it CUDA reports an out-of-range label as an opaque device assert.
        if bool(((labels < 0) | (labels >= self.num_classes)).any()):
            raise ValueError(
                f"labels must lie in [0, {self.num_classes}), got range "
                f"[{int(labels.min())}, {int(labels.max())}]"
            )
        return labels
