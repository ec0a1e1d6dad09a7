"""Imprinted class heads (``optim.head_init = "centroids"``, the default): each training account's head
weight starts at that account's mean post vector under the encoder about to be fine-tuned, not at random.

Why: a random head's first gradients pull every episode toward an arbitrary direction, and the encoder moves
before the head has learnt anything. On short budgets the runs do not recover: in the ``cpu`` benchmark
profile (scripts/bench_quality.py) ce, nbc-softmax and contrax ended below the untrained encoder on
validation (the rows marked † in BENCHMARKS.md). Imprinted, ce reached Reddit linking MRR 0.173, against
0.147 for the untrained encoder and 0.134 for the random head (the "+imprinted" rows). An imprinted head
makes the first gradients already pull each episode toward its own account and away from the accounts it
is confused with (Qi, Brown & Lowe 2018, "Low-Shot Learning with Imprinted
Weights", CVPR), the start a linear probe gives before fine-tuning (Kumar et al. 2022, "Fine-Tuning can
Distort Pretrained Features and Underperform Out-of-Distribution", ICLR).

Cost: one pass of the encoder over at most 8 posts per training account, before the first step (a fresh run
only; a resumed run's head comes from its checkpoint).

Heads: a `CosineHead` (ArcFace, CosFace) takes the unit centroids as its weights (every sub-centre alike).
A `LinearHead` (ce, nbc-softmax, contrax) takes ``IMPRINT_SCALE`` x the unit centroids and a zero bias, so
its logits start as scaled cosines to the centroids.
"""

from __future__ import annotations

import datasets
import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from authorid.data.sampling import first_per_group
from authorid.encoders import embed_groups
from authorid.encoders.ngram import summed_counts
from authorid.losses.heads import CosineHead, LinearHead

#: Logit scale of an imprinted linear head (unit episode vectors give cosines in [-1, 1]; the scale of the
#: normalised-softmax literature, NormFace / CosFace, so the softmax is not near uniform at the start).
IMPRINT_SCALE = 16.0


def class_centroids(
    encoder,
    posts: datasets.Dataset,
    accounts: np.ndarray,
    *,
    posts_per_account: int = 8,
    seed: int = 0,
    batch_size: int = 64,
    counts: sp.csr_matrix | None = None,
) -> np.ndarray:
    """(len(accounts), d) unit mean post vectors, over a seeded sample of at most `posts_per_account` posts
    of each account; row i is ``accounts[i]`` (the sampler's label order). `counts`: every post's n-gram
    counts, for the n-gram encoder (its centroids are then computed without reading texts again)."""
    code = {account: i for i, account in enumerate(accounts.tolist())}
    labels = np.array([code.get(a, -1) for a in posts["account_id"]])
    rows = first_per_group(labels, np.random.default_rng([seed, 3]).random(len(labels)), posts_per_account)
    rows = rows[labels[rows] >= 0]  # posts of accounts the sampler does not train on
    missing = len(accounts) - len(np.unique(labels[rows]))
    if missing:
        raise ValueError(f"{missing} of the {len(accounts)} training accounts have no post to imprint from")
    if (
        counts is not None
    ):  # the n-gram encoder: each centroid is the vector of the chosen posts' summed counts
        summed = summed_counts(counts[rows], labels[rows], len(accounts))
        return encoder.embed_summed(summed, np.bincount(labels[rows], minlength=len(accounts)))
    texts = list(posts.select(rows)["text"])
    return embed_groups(encoder, texts, labels[rows], len(accounts), batch_size=batch_size)


def class_heads(loss: nn.Module) -> list[nn.Module]:
    """The class heads inside a loss (a weighted sum of losses may hold several)."""
    return [m for m in loss.modules() if isinstance(m, LinearHead | CosineHead)]


@torch.no_grad()
def imprint(loss: nn.Module, centroids: torch.Tensor) -> int:
    """Set every class head of `loss` from the (n_classes, d) unit `centroids`; returns how many heads."""
    heads = class_heads(loss)
    for head in heads:
        if isinstance(head, CosineHead):
            weight = centroids.repeat_interleave(head.sub_centers, dim=0)
            head.weight.copy_(weight.to(head.weight))
        else:
            head.linear.weight.copy_((IMPRINT_SCALE * centroids).to(head.linear.weight))
            head.linear.bias.zero_()
    return len(heads)
