"""Training losses for style encoders, one module per loss, all built by name through :func:`build`.

Every loss is an ``nn.Module`` with ``forward(embeddings, labels) -> dict[str, Tensor]`` of named, weighted
parts whose sum (:func:`total_loss`) is the objective. Heads (class weights) live inside the loss.
"""

from authorid.losses.base import HeadedLoss, StyleLoss, total_loss
from authorid.losses.build import LOSSES, build, describe, hyperparameters, markdown_table, parse_spec
from authorid.losses.ce import SoftmaxCrossEntropyLoss
from authorid.losses.combine import CombinedLoss
from authorid.losses.contrax import ContraXLoss
from authorid.losses.margin import ArcFaceLoss, CosFaceLoss
from authorid.losses.ms import MultiSimilarityLoss
from authorid.losses.nbc_softmax import NBCSoftmaxLoss, ScaledNBCSoftmaxLoss
from authorid.losses.supcon import SupConLoss

__all__ = [
    "LOSSES",
    "ArcFaceLoss",
    "CombinedLoss",
    "ContraXLoss",
    "CosFaceLoss",
    "HeadedLoss",
    "MultiSimilarityLoss",
    "NBCSoftmaxLoss",
    "ScaledNBCSoftmaxLoss",
    "SoftmaxCrossEntropyLoss",
    "StyleLoss",
    "SupConLoss",
    "build",
    "describe",
    "hyperparameters",
    "markdown_table",
    "parse_spec",
    "total_loss",
]
