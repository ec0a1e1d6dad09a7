"""Account (episode) vectors from post vectors: normalised mean, or learned attention pooling as in LUAR.

Mean pooling (the default, no parameters): a = normalize((1/n) Σ_i normalize(v_i)).

Attention pooling (`AttentionPooling`): the posts of an episode attend to each other before pooling, so the
account vector can weigh telling posts over boilerplate (Rivera-Soto et al., "Learning Universal Authorship
Representations", EMNLP 2021 -- LUAR). A trained module is stored beside the post encoder in
`<model>/authorid_pooling/` as `config.json` + `model.safetensors`; the post encoder in the same folder still
loads with plain `SentenceTransformer(path)`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from authorid.io import atomic_write, atomic_write_text

POOLING_DIR = "authorid_pooling"
_CONFIG_FILE = "config.json"
_WEIGHTS_FILE = "model.safetensors"


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows divided by their L2 norm, as float32; all-zero rows stay zero (nothing to point anywhere)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def mean_pool(post_vectors: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Account vectors a_g = normalize(mean_{i: groups[i] = g} normalize(v_i)), shape (n_groups, d), float32.

    `groups[i]` is the account index (0 <= g < n_groups) of post i; posts need not be sorted by account.
    """
    post_vectors = normalize_rows(post_vectors)
    groups = np.asarray(groups, dtype=np.int64)
    sums = np.zeros((n_groups, post_vectors.shape[1]), dtype=np.float64)
    np.add.at(sums, groups, post_vectors)
    # Dividing by the count does not change the direction, so re-normalising the sum is the normalised mean.
    return normalize_rows(sums)


class AttentionPooling(nn.Module):
    """Self-attention over the posts of an episode, then a masked pool over posts, then L2 normalisation.

    Input (batch, n_posts, dim) post vectors and a (batch, n_posts) boolean mask, True for real posts.
    h = x + MultiHeadAttention(x, x, x) with padding posts masked out as keys; a = normalize(pool_i h_i) over
    real posts, pool = mean (default) or max (LUAR's choice). The attention output projection starts at zero,
    so an untrained module equals mean pooling exactly and training learns a correction to it.
    """

    def __init__(
        self, dim: int, heads: int = 4, *, dropout: float = 0.0, reduce: Literal["mean", "max"] = "mean"
    ):
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim {dim} is not divisible by heads {heads}")
        if reduce not in ("mean", "max"):
            raise ValueError(f"reduce must be 'mean' or 'max', got {reduce!r}")
        self.dim, self.heads, self.dropout, self.reduce = dim, heads, dropout, reduce
        self.attention = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        nn.init.zeros_(self.attention.out_proj.weight)
        nn.init.zeros_(self.attention.out_proj.bias)

    def config(self) -> dict:
        return {
            "type": "AttentionPooling",
            "dim": self.dim,
            "heads": self.heads,
            "dropout": self.dropout,
            "reduce": self.reduce,
        }

    def forward(self, post_vectors: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """(batch, n_posts, dim) post vectors and (batch, n_posts) mask (True = real post) -> (batch, dim)."""
        if mask is None:
            mask = torch.ones(post_vectors.shape[:2], dtype=torch.bool, device=post_vectors.device)
        mask = mask.bool()
        if not bool(mask.any(dim=1).all()):
            raise ValueError("every episode needs at least one real post (a mask row is all False)")
        attended, _ = self.attention(
            post_vectors, post_vectors, post_vectors, key_padding_mask=~mask, need_weights=False
        )
        hidden = post_vectors + attended
        keep = mask.unsqueeze(-1)
        if self.reduce == "max":
            pooled = hidden.masked_fill(~keep, float("-inf")).amax(dim=1)
        else:
            # Padding rows may hold anything (even NaN from the fast path), so zero them by selection.
            pooled = torch.where(keep, hidden, 0.0).sum(dim=1) / keep.sum(dim=1)
        return nn.functional.normalize(pooled, dim=-1)


def save_pooling(module: AttentionPooling, model_dir: str | Path) -> Path:
    """Write `module` to `<model_dir>/authorid_pooling/` (config.json + model.safetensors); returns the folder."""
    folder = Path(model_dir) / POOLING_DIR
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {name: t.detach().cpu().contiguous() for name, t in module.state_dict().items()}
    atomic_write(folder / _WEIGHTS_FILE, lambda tmp: save_file(tensors, str(tmp)))
    atomic_write_text(folder / _CONFIG_FILE, json.dumps(module.config(), indent=2) + "\n")
    return folder


def load_pooling(
    model_dir: str | Path, *, device: str | torch.device | None = None
) -> AttentionPooling | None:
    """The attention pooling saved in `<model_dir>/authorid_pooling/`, in eval mode; None if there is none
    (the model then pools accounts by the normalised mean)."""
    folder = Path(model_dir) / POOLING_DIR
    if not (folder / _CONFIG_FILE).is_file():
        return None
    config = json.loads((folder / _CONFIG_FILE).read_text(encoding="utf-8"))
    kind = config.pop("type", None)
    if kind != "AttentionPooling":
        raise ValueError(f"{folder / _CONFIG_FILE}: unknown pooling type {kind!r}")
    module = AttentionPooling(config.pop("dim"), config.pop("heads"), **config)
    module.load_state_dict(load_file(str(folder / _WEIGHTS_FILE)))
    return module.to(device).eval() if device is not None else module.eval()
