"""Multi-Similarity loss with its own pair mining."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from authorid.losses.base import StyleLoss, zero_with_graph
from authorid.losses.supcon import positive_mask


def mine_pairs(sim: Tensor, labels: Tensor, *, epsilon: float) -> tuple[Tensor, Tensor]:
    """The MS paper's hard pair mining on a similarity matrix; returns (positive, negative) boolean masks.

    A negative ``n`` of anchor ``i`` is kept if ``S_in + epsilon > min_{p} S_ip``; a positive ``p`` is kept if
    ``S_ip - epsilon < max_{n} S_in`` (min and max over all positives / negatives of ``i``). Mining selects
    pairs and is not differentiated. An anchor keeps some positive exactly when it keeps some negative (its
    hardest negative survives whenever any positive does, and vice versa).
    """
    sim = sim.detach()
    positives = positive_mask(labels)
    negatives = labels[:, None] != labels[None, :]
    hardest_pos = sim.masked_fill(~positives, float("inf")).amin(dim=1, keepdim=True)
    hardest_neg = sim.masked_fill(~negatives, float("-inf")).amax(dim=1, keepdim=True)
    return positives & (sim - epsilon < hardest_neg), negatives & (sim + epsilon > hardest_pos)


class MultiSimilarityLoss(StyleLoss):
    """Multi-Similarity loss (Wang et al. 2019, "Multi-Similarity Loss with General Pair Weighting for Deep
    Metric Learning", CVPR), with its pair mining (:func:`mine_pairs`).

    Over cosine similarities ``S`` of L2-normalised embeddings and the mined pairs ``P_i``, ``N_i`` of
    anchor i::

        L_i = (1/alpha) log(1 + sum_{p in P_i} exp(-alpha (S_ip - lambda)))
            + (1/beta)  log(1 + sum_{n in N_i} exp( beta (S_in - lambda)))
        L   = (1/N) sum_i L_i

    ``alpha = 2``, ``beta = 50``, ``base = lambda = 0.5``, ``margin = epsilon = 0.1``. As in the authors'
    released code (MalongTech/research-ms-loss), an anchor whose mined positives or mined negatives are empty
    contributes 0, and the sum is divided by the whole batch size N. Returns ``{"ms": L}``.
    """

    reference = "Wang et al. 2019, Multi-Similarity Loss (CVPR)"
    parts = ("ms",)

    def __init__(
        self,
        embedding_dim: int | None = None,
        *,
        alpha: float = 2.0,
        beta: float = 50.0,
        base: float = 0.5,
        margin: float = 0.1,
    ) -> None:
        super().__init__(embedding_dim)
        if alpha <= 0 or beta <= 0:
            raise ValueError("alpha and beta must be positive")
        self.alpha, self.beta, self.base, self.margin = alpha, beta, base, margin

    def forward(self, embeddings: Tensor, labels: Tensor) -> dict[str, Tensor]:
        labels = self.check_inputs(embeddings, labels)
        z = F.normalize(embeddings, dim=1)
        sim = z @ z.T
        keep_pos, keep_neg = mine_pairs(sim, labels, epsilon=self.margin)
        anchors = keep_pos.any(dim=1) & keep_neg.any(dim=1)
        if not bool(anchors.any()):
            return {"ms": zero_with_graph(embeddings)}
        sim, keep_pos, keep_neg = sim[anchors], keep_pos[anchors], keep_neg[anchors]
        # log(1 + sum exp(x)) = softplus(logsumexp(x)), stable for beta = 50.
        pos_lse = torch.logsumexp(
            (-self.alpha * (sim - self.base)).masked_fill(~keep_pos, float("-inf")), dim=1
        )
        neg_lse = torch.logsumexp(
            (self.beta * (sim - self.base)).masked_fill(~keep_neg, float("-inf")), dim=1
        )
        per_anchor = F.softplus(pos_lse) / self.alpha + F.softplus(neg_lse) / self.beta
        return {"ms": per_anchor.sum() / labels.shape[0]}
