"""`EpisodeModel`: post encoder -> episode pooling -> loss, as one module (so DDP syncs every parameter).

For a batch of E episodes of N posts each, the E * N posts go through the sentence-transformers encoder in one
pass (its Normalize makes every post vector unit length), are reshaped to (E, N, d) and pooled to one vector
per episode: e = normalize((1/N) Σ_i v_i) (mean), or `AttentionPooling` (LUAR). The loss then sees E vectors
and the E account labels, and returns its named parts.
"""

from __future__ import annotations

import torch
from sentence_transformers import SentenceTransformer
from torch import nn

from authorid.encoders import AttentionPooling


class EpisodeModel(nn.Module):
    """Encoder, optional attention pooling and the loss (with its class head, if any), trained together."""

    def __init__(self, encoder: SentenceTransformer, pooling: AttentionPooling | None, loss: nn.Module):
        super().__init__()
        self.encoder = encoder
        self.pooling = pooling
        self.loss = loss

    def tokenize(self, episodes: list[list[str]]) -> dict[str, torch.Tensor]:
        """Token features of all posts, episode after episode (padded to the longest post of the batch)."""
        texts = [text for episode in episodes for text in episode]
        # sentence-transformers 6 renamed tokenize to preprocess (tokenize still works, with a warning).
        tokenize = getattr(self.encoder, "preprocess", None) or self.encoder.tokenize
        return tokenize(texts)

    def embed_episodes(self, features: dict[str, torch.Tensor], n_episodes: int) -> torch.Tensor:
        """(n_episodes, d) episode vectors from the features of n_episodes * N posts."""
        posts = self.encoder(features)["sentence_embedding"]
        posts = posts.view(n_episodes, -1, posts.shape[-1])
        if self.pooling is not None:
            return self.pooling(posts)
        return nn.functional.normalize(posts.float().mean(dim=1), dim=-1)

    def forward(self, features: dict[str, torch.Tensor], labels: torch.Tensor) -> dict[str, torch.Tensor]:
        episodes = self.embed_episodes(features, len(labels))
        return self.loss(episodes.float(), labels)
