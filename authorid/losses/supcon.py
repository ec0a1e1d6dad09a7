"""Supervised contrastive loss (SupCon, L_out)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from authorid.losses.base import StyleLoss, zero_with_graph


def positive_mask(labels: Tensor) -> Tensor:
    """``mask[i, j]`` is True when ``j != i`` and ``labels[j] == labels[i]``."""
    same = labels[:, None] == labels[None, :]
    return same & ~torch.eye(labels.shape[0], dtype=torch.bool, device=labels.device)


class SupConLoss(StyleLoss):
    """Supervised contrastive loss, the ``L_out`` form (Khosla et al. 2020, "Supervised Contrastive Learning",
    NeurIPS; arXiv:2004.11362).

    Over L2-normalised embeddings ``z``, for each anchor ``i`` with positives ``P(i)`` (same label,
    ``j != i``) and ``A(i)`` all ``j != i``::

        L_i = -(tau / base_tau) * (1/|P(i)|) * sum_{p in P(i)} log( exp(z_i.z_p / tau)
                                                                   / sum_{a in A(i)} exp(z_i.z_a / tau) )

    Anchors without a positive are skipped and the loss is the mean of ``L_i`` over anchors with one (0, still
    attached to the graph, when no anchor has a positive). ``temperature = 0.07``. ``base_temperature`` is the
    paper code's rescaling; ``None`` (default) means ``base_tau = tau``, i.e. no rescaling, which is also what
    the paper's defaults (0.07 / 0.07) give. Returns ``{"supcon": L}``.
    """

    reference = "Khosla et al. 2020, Supervised Contrastive Learning (NeurIPS)"
    parts = ("supcon",)

    def __init__(
        self,
        embedding_dim: int | None = None,
        *,
        temperature: float = 0.07,
        base_temperature: float | None = None,
    ) -> None:
        super().__init__(embedding_dim)
        if temperature <= 0 or (base_temperature is not None and base_temperature <= 0):
            raise ValueError("temperature and base_temperature must be positive")
        self.temperature = temperature
        self.base_temperature = base_temperature

    def forward(self, embeddings: Tensor, labels: Tensor) -> dict[str, Tensor]:
        labels = self.check_inputs(embeddings, labels)
        positives = positive_mask(labels)
        anchors = positives.any(dim=1)
        if not bool(anchors.any()):
            return {"supcon": zero_with_graph(embeddings)}
        z = F.normalize(embeddings, dim=1)
        # Only anchor rows with a positive are scored; all rows stay candidates in A(i).
        logits = (z[anchors] @ z.T) / self.temperature
        positives = positives[anchors]
        is_self = F.one_hot(torch.nonzero(anchors).squeeze(1), labels.shape[0]).bool()
        log_denominator = torch.logsumexp(logits.masked_fill(is_self, float("-inf")), dim=1, keepdim=True)
        log_prob = logits - log_denominator
        mean_log_prob_pos = (log_prob * positives).sum(dim=1) / positives.sum(dim=1)
        scale = 1.0 if self.base_temperature is None else self.temperature / self.base_temperature
        return {"supcon": -scale * mean_log_prob_pos.mean()}
