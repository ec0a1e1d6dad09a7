"""NBC-Softmax: softmax cross-entropy plus a negative block-contrastive term over batch class means."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from authorid.losses.base import HeadedLoss
from authorid.losses.heads import LinearHead


def class_means(embeddings: Tensor, labels: Tensor) -> Tensor:
    """Mean embedding of each class present in the batch, one row per class in ascending label order."""
    present, inverse = torch.unique(labels, return_inverse=True)
    n_present = present.shape[0]
    sums = embeddings.new_zeros(n_present, embeddings.shape[1]).index_add(0, inverse, embeddings)
    counts = torch.bincount(inverse, minlength=n_present).to(embeddings.dtype)
    return sums / counts[:, None]


def negative_block_term(
    embeddings: Tensor, labels: Tensor, *, tau: float, num_classes: int, scaled: bool = False
) -> Tensor:
    """``L_NBC`` of Kulatilleke et al. (see :class:`NBCSoftmaxLoss`); 0 for a batch with a single class."""
    means = F.normalize(class_means(embeddings, labels), dim=1)
    sim = means @ means.T
    # s_jj = 0 literally, as in the authors' code: the diagonal is kept in the sum over k and adds exp(0) = 1.
    sim = sim.masked_fill(torch.eye(sim.shape[0], dtype=torch.bool, device=sim.device), 0.0)
    logits = sim / tau if scaled else tau * sim
    term = torch.logsumexp(logits, dim=1).mean()
    return term if scaled else term / num_classes


class NBCSoftmaxLoss(HeadedLoss):
    """NBC-Softmax (Kulatilleke, Chandra and Portmann, "NBC-Softmax: Darkweb Author fingerprinting and
    migration tracking", 2022), as in the authors' released code (github.com/gayanku/NBC-Softmax,
    ``code.py``).

    For the classes ``C_B`` present in the batch take the class means ``mu_c`` of the embeddings (as given,
    not normalised first), ``s_jk = cos(mu_j, mu_k)`` for ``j != k`` and ``s_jj = 0``. Then::

        L_NBC = (1/K) * (1/|C_B|) * sum_{j in C_B} log sum_{k in C_B} exp(tau * s_jk)
        L     = (1 - r) * CE + r * L_NBC

    with ``K = num_classes`` (training classes), ``r = ratio = 0.5``, ``tau = 0.2`` and CE over a linear
    softmax head. The sum over ``k`` includes ``k = j`` with ``s_jj = 0`` (an ``exp(0) = 1`` term), exactly
    as the released code masks the diagonal to 0 rather than removing it; so a batch with one class gives
    ``log 1 = 0``. The released code adds ``1e-10`` inside the log, which is dropped here: the sum is >= 1.
    A class mean of norm 0 (where the released code gives NaN) has cosine 0 to every other mean.

    ``scaled=True`` (registered as ``nbc-softmax-scaled``) is the properly scaled variant: ``tau`` divides the
    similarity (``exp(s_jk / tau)``, a temperature) and the ``1/K`` factor is dropped, so the term is not
    vanishingly small next to CE when K is large.

    Returns ``{"ce": (1 - r) * CE, "nbc": r * L_NBC}``.
    """

    reference = "Kulatilleke et al. 2022, NBC-Softmax: Darkweb Author fingerprinting and migration tracking"
    parts = ("ce", "nbc")

    def __init__(
        self,
        embedding_dim: int,
        num_classes: int,
        *,
        ratio: float = 0.5,
        tau: float = 0.2,
        scaled: bool = False,
    ) -> None:
        super().__init__(embedding_dim, num_classes)
        if not 0.0 <= ratio <= 1.0:
            raise ValueError(f"ratio must lie in [0, 1], got {ratio}")
        if tau <= 0:
            raise ValueError(f"tau must be positive, got {tau}")
        self.ratio = ratio
        self.tau = tau
        self.scaled = scaled
        self.head = LinearHead(embedding_dim, num_classes)

    def forward(self, embeddings: Tensor, labels: Tensor) -> dict[str, Tensor]:
        labels = self.check_inputs(embeddings, labels)
        ce = F.cross_entropy(self.head(embeddings), labels)
        nbc = negative_block_term(
            embeddings, labels, tau=self.tau, num_classes=self.num_classes, scaled=self.scaled
        )
        return {"ce": (1.0 - self.ratio) * ce, "nbc": self.ratio * nbc}


class ScaledNBCSoftmaxLoss(NBCSoftmaxLoss):
    """NBC-Softmax with ``exp(s_jk / tau)`` and no ``1/K`` factor (see :class:`NBCSoftmaxLoss`)."""

    reference = "Kulatilleke et al. 2022, NBC-Softmax; temperature-scaled variant"

    def __init__(
        self,
        embedding_dim: int,
        num_classes: int,
        *,
        ratio: float = 0.5,
        tau: float = 0.2,
    ) -> None:
        super().__init__(embedding_dim, num_classes, ratio=ratio, tau=tau, scaled=True)
