"""Contra-X: cross-entropy plus a supervised contrastive term (log of summed positives)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from authorid.losses.base import HeadedLoss, zero_with_graph
from authorid.losses.heads import LinearHead
from authorid.losses.supcon import positive_mask


def contrax_term(embeddings: Tensor, labels: Tensor, *, temperature: float) -> Tensor:
    """``L_CL`` of Ai et al. (see :class:`ContraXLoss`), averaged over anchors with a positive."""
    positives = positive_mask(labels)
    anchors = positives.any(dim=1)
    if not bool(anchors.any()):
        return zero_with_graph(embeddings)
    z = F.normalize(embeddings, dim=1)
    sim = (z[anchors] @ z.T) / temperature
    positives = positives[anchors]
    is_self = F.one_hot(torch.nonzero(anchors).squeeze(1), labels.shape[0]).bool()
    log_numerator = torch.logsumexp(sim.masked_fill(~positives, float("-inf")), dim=1)
    log_denominator = torch.logsumexp(sim.masked_fill(is_self, float("-inf")), dim=1)
    return -(log_numerator - log_denominator).mean()


class ContraXLoss(HeadedLoss):
    """Contra-X (Ai et al. 2022, "Whodunit? Learning to Contrast for Authorship Attribution", AACL-IJCNLP).

    With ``S`` the cosine similarity of the embeddings and CE over a linear softmax head::

        L_CL = -mean_i log( sum_{j: y_j = y_i, j != i} exp(S_ij/tau) / sum_{k != i} exp(S_ik/tau) )
        L    = CE + lambda * L_CL

    ``temperature = tau = 0.1``, ``contrastive_weight = lambda = 1``; the mean runs over anchors with at least
    one positive (``L_CL = 0`` when none has). Unlike SupCon's ``L_out`` the positives are summed inside the
    log. Returns ``{"ce": CE, "contrastive": lambda * L_CL}``.
    """

    reference = "Ai et al. 2022, Whodunit? Learning to Contrast for Authorship Attribution (AACL)"
    parts = ("ce", "contrastive")

    def __init__(
        self,
        embedding_dim: int,
        num_classes: int,
        *,
        temperature: float = 0.1,
        contrastive_weight: float = 1.0,
    ) -> None:
        super().__init__(embedding_dim, num_classes)
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        self.temperature = temperature
        self.contrastive_weight = contrastive_weight
        self.head = LinearHead(embedding_dim, num_classes)

    def forward(self, embeddings: Tensor, labels: Tensor) -> dict[str, Tensor]:
        labels = self.check_inputs(embeddings, labels)
        ce = F.cross_entropy(self.head(embeddings), labels)
        contrastive = contrax_term(embeddings, labels, temperature=self.temperature)
        return {"ce": ce, "contrastive": self.contrastive_weight * contrastive}
