"""Episode models: post encoder -> episode pooling -> loss, as one module (so DDP syncs every parameter).

Each turns a sampler batch (E episodes, `authorid.data.episodes.Episode`) into features with `collate` and
returns the loss's named parts from `forward(features, labels)`:

- `EpisodeModel` (transformer): the E * N posts of a batch go through the sentence-transformers encoder in
  one pass (its Normalize makes every post vector unit length), are reshaped to (E, N, d) and pooled to one
  vector per episode: e = normalize((1/N) Σ_i v_i) (mean), or `AttentionPooling` (LUAR).
- `NgramEpisodeModel`: an episode's posts' hashed n-gram counts are summed (from counts computed once for the
  whole training corpus), turned into the profile, and projected (`authorid.encoders.NgramEncoder`).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from sentence_transformers import SentenceTransformer
from torch import nn

from authorid.data.episodes import Episode, collate_episodes
from authorid.encoders import AttentionPooling, NgramEncoder


class EpisodeModel(nn.Module):
    """Transformer encoder, optional attention pooling and the loss (with its class head, if any)."""

    def __init__(self, encoder: SentenceTransformer, pooling: AttentionPooling | None, loss: nn.Module):
        super().__init__()
        self.encoder = encoder
        self.pooling = pooling
        self.loss = loss

    def collate(self, batch: list[Episode], posts, device) -> tuple[dict, torch.Tensor]:
        """(token features of every post, episode after episode; labels), on `device`."""
        texts, labels = collate_episodes(batch, posts, relabel=False)
        features = _to_device(self.tokenize(texts), device)
        return features, labels.to(device)

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


class NgramEpisodeModel(nn.Module):
    """The n-gram encoder and the loss; `post_counts` holds every training post's counts (row = post row)."""

    pooling = None

    def __init__(self, encoder: NgramEncoder, loss: nn.Module, post_counts: sp.csr_matrix):
        super().__init__()
        self.encoder = encoder
        self.loss = loss
        self.post_counts = post_counts

    def collate(self, batch: list[Episode], posts, device) -> tuple[sp.csr_matrix, torch.Tensor]:
        """(the profile of each episode's summed counts, labels): texts are never read again."""
        rows = np.concatenate([e.indices for e in batch])
        owner = np.repeat(np.arange(len(batch)), [len(e.indices) for e in batch])
        membership = sp.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (owner, np.arange(len(rows)))),
            shape=(len(batch), len(rows)),
        )
        summed = (membership @ self.post_counts[rows]).tocsr()
        labels = torch.tensor([e.label for e in batch], dtype=torch.long, device=device)
        return self.encoder.profiles(summed), labels

    def forward(self, profiles: sp.csr_matrix, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.loss(self.encoder(profiles).float(), labels)


def _to_device(features: dict, device) -> dict:
    # preprocess() also returns non-tensor entries (e.g. the modality); only tensors move.
    return {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in features.items()}
