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

from authorid.data.arrow import read_columns
from authorid.data.episodes import Episode, collate_episodes
from authorid.data.sampling import first_per_group
from authorid.encoders import AttentionPooling, NgramEncoder
from authorid.encoders.ngram import summed_counts


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
        summed = summed_counts(self.post_counts[rows], owner, len(batch))
        labels = torch.tensor([e.label for e in batch], dtype=torch.long, device=device)
        return self.encoder.profiles(summed), labels

    def forward(self, profiles: sp.csr_matrix, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.loss(self.encoder(profiles).float(), labels)

    def store_centre(self, posts, *, seed: int, accounts: int = 4096, posts_per_account: int = 8) -> None:
        """Store the encoder's mean over (a seeded sample of up to `accounts`) training accounts, each the sum
        of up to `posts_per_account` random posts: the centre of accounts embedded without a corpus."""
        ids = read_columns(posts, ["account_id"]).column("account_id").to_numpy(zero_copy_only=False)
        names, codes = np.unique(ids, return_inverse=True)
        rng = np.random.default_rng([seed, 9])
        chosen = np.zeros(len(names), dtype=bool)
        chosen[rng.permutation(len(names))[:accounts]] = True
        rows = first_per_group(codes, rng.random(len(codes)), posts_per_account)
        rows = rows[chosen[codes[rows]]]
        _, groups = np.unique(codes[rows], return_inverse=True)
        self.encoder.fit_centre(summed_counts(self.post_counts[rows], groups, int(groups.max()) + 1))


def _to_device(features: dict, device) -> dict:
    # preprocess() also returns non-tensor entries (e.g. the modality); only tensors move.
    return {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in features.items()}
