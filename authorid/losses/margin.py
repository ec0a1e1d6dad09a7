"""Margin-based softmax losses on a cosine head: ArcFace (additive angular) and CosFace (additive cosine)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from authorid.losses.base import HeadedLoss
from authorid.losses.heads import CosineHead


class _CosineMarginLoss(HeadedLoss):
    """Shared part: a cosine head (optionally with sub-centres), a margin on the target logit, scale, CE."""

    def __init__(
        self, embedding_dim: int, num_classes: int, *, scale: float, margin: float, sub_centers: int
    ):
        super().__init__(embedding_dim, num_classes)
        if scale <= 0:
            raise ValueError(f"scale must be positive, got {scale}")
        self.scale = scale
        self.margin = margin
        self.head = CosineHead(embedding_dim, num_classes, sub_centers)

    def target_logit(self, cos_target: Tensor) -> Tensor:
        raise NotImplementedError

    def logits(self, embeddings: Tensor, labels: Tensor) -> Tensor:
        """Scaled logits with the margin applied to each sample's own class."""
        cos = self.head(embeddings).clamp(-1.0, 1.0)
        is_target = F.one_hot(labels, self.num_classes).bool()
        cos_target = cos.gather(1, labels[:, None])
        return self.scale * torch.where(is_target, self.target_logit(cos_target), cos)

    def forward(self, embeddings: Tensor, labels: Tensor) -> dict[str, Tensor]:
        labels = self.check_inputs(embeddings, labels)
        return {self.parts[0]: F.cross_entropy(self.logits(embeddings, labels), labels)}


class ArcFaceLoss(_CosineMarginLoss):
    """ArcFace, additive angular margin (Deng et al. 2019, "ArcFace: Additive Angular Margin Loss for Deep
    Face Recognition", CVPR), with optional sub-centres (Deng et al. 2020, "Sub-center ArcFace", ECCV).

    ``cos theta_ic`` between the normalised embedding and class weight ``c`` (with ``sub_centers = K > 1`` the
    largest over the class's K weights). The target logit becomes ``cos(theta_iy + m)``::

        L = CE( s * [cos(theta_iy + m) at y_i, cos theta_ic elsewhere], y )

    ``scale = s = 64``, ``margin = m = 0.5`` rad. When ``theta + m > pi`` the penalised cosine would stop
    decreasing in theta, so, as in the ArcFace reference implementation (insightface, ``easy_margin=False``),
    targets with ``cos theta <= cos(pi - m)`` use ``cos theta - m * sin(m)`` instead (the "cos(pi - m)
    fallback"). The target logit stays decreasing in theta but, as in insightface, is not continuous: at
    ``theta = pi - m`` it drops from -1 to ``-(cos m + m sin m)`` (-1.117 for m = 0.5).
    Returns ``{"arcface": L}``.
    """

    reference = "Deng et al. 2019, ArcFace (CVPR); sub-centres: Deng et al. 2020 (ECCV)"
    parts = ("arcface",)

    def __init__(
        self,
        embedding_dim: int,
        num_classes: int,
        *,
        scale: float = 64.0,
        margin: float = 0.5,
        sub_centers: int = 1,
    ) -> None:
        if not 0.0 <= margin < math.pi / 2:
            raise ValueError(f"margin must lie in [0, pi/2) radians, got {margin}")
        super().__init__(embedding_dim, num_classes, scale=scale, margin=margin, sub_centers=sub_centers)
        self.cos_m, self.sin_m = math.cos(margin), math.sin(margin)
        self.threshold = math.cos(math.pi - margin)
        self.fallback_shift = math.sin(margin) * margin

    def target_logit(self, cos_target: Tensor) -> Tensor:
        # The clamp keeps sqrt differentiable at |cos| = 1, where the true derivative is infinite.
        sin_target = torch.sqrt((1.0 - cos_target**2).clamp_min(1e-12))
        shifted = cos_target * self.cos_m - sin_target * self.sin_m
        return torch.where(cos_target > self.threshold, shifted, cos_target - self.fallback_shift)


class CosFaceLoss(_CosineMarginLoss):
    """CosFace, large margin cosine loss (Wang et al. 2018, "CosFace: Large Margin Cosine Loss for Deep Face
    Recognition", CVPR)::

        L = CE( s * (cos theta_ic - m * [c = y_i]), y )

    over normalised embeddings and class weights; ``scale = s = 30``, ``margin = m = 0.35``. ``sub_centers``
    works as in :class:`ArcFaceLoss`. Returns ``{"cosface": L}``.
    """

    reference = "Wang et al. 2018, CosFace (CVPR)"
    parts = ("cosface",)

    def __init__(
        self,
        embedding_dim: int,
        num_classes: int,
        *,
        scale: float = 30.0,
        margin: float = 0.35,
        sub_centers: int = 1,
    ) -> None:
        if margin < 0:
            raise ValueError(f"margin must be non-negative, got {margin}")
        super().__init__(embedding_dim, num_classes, scale=scale, margin=margin, sub_centers=sub_centers)

    def target_logit(self, cos_target: Tensor) -> Tensor:
        return cos_target - self.margin
