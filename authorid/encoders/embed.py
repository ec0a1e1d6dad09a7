"""Where a post becomes a vector: `embed_texts` (posts -> vectors), `embed_groups` (groups of posts -> one
vector each) and `embed_accounts` (a corpus -> one vector per account).

Each takes a neural style encoder (a `SentenceTransformer`, see `build.build_style_encoder`) or a fitted
count-based encoder (`StylometricEncoder`: anything with an `embed_groups` method). For a neural encoder the
corpus is tokenised once per window of posts, posts are sorted by their exact token count (so a batch pads to
almost nothing), batches go through the model under `torch.inference_mode`, and the vectors come back in
input order. The vectors equal `SentenceTransformer.encode` (cosine >= 0.999); `scripts/bench_speed.py`
measures the speed against it.

A group of posts (an account, a half of one, an episode) becomes one vector in exactly one way per encoder,
here: a neural encoder pools its post vectors (normalised mean, or attention pooling); a count-based encoder
builds the profile of the group's summed n-gram counts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from sentence_transformers import SentenceTransformer

from authorid.encoders.build import Transformer, embedding_dim
from authorid.encoders.pooling import AttentionPooling, mean_pool, normalize_rows
from authorid.progress import counting_progress
from authorid.vectors import AccountVectors, characters_per_group, group_by_first_appearance

if TYPE_CHECKING:
    import datasets

logger = logging.getLogger(__name__)

#: Posts tokenised and length-sorted together. Sorting within a window this size pads as little as a global
#: sort would, while the token ids of a million-post corpus never sit in memory at once.
SORT_WINDOW = 50_000

Encoder = Any  #: a SentenceTransformer, or a count-based encoder (has `embed_groups`)


def embed_texts(
    model: Encoder, texts: Sequence[str], *, batch_size: int = 64, progress: bool = True
) -> np.ndarray:
    """Post vectors, float32 (len(texts), d), L2-normalised if the model ends in Normalize, in input order."""
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    texts = list(texts)
    missing = next((i for i, t in enumerate(texts) if not isinstance(t, str)), None)
    if missing is not None:
        raise ValueError(f"text {missing} is {type(texts[missing]).__name__}, not a string")
    if counts_ngrams(model):
        return model.embed_texts(texts)
    dim = embedding_dim(model)
    out = np.zeros((len(texts), dim), dtype=np.float32)
    if not texts:
        return out
    if not _can_pretokenize(model):
        # Exotic first modules (prompts, routers, non-text) keep sentence-transformers' own batching.
        logger.info("model is not a plain text Transformer; embedding with SentenceTransformer.encode")
        vectors = model.encode(
            texts, batch_size=batch_size, show_progress_bar=progress, convert_to_numpy=True
        )
        return np.asarray(vectors, dtype=np.float32)
    was_training = model.training
    model.eval()
    try:
        with counting_progress(enabled=progress) as bar, torch.inference_mode():
            task = bar.add_task("embedding posts", total=len(texts))
            for start in range(0, len(texts), SORT_WINDOW):
                window = texts[start : start + SORT_WINDOW]
                for rows, vectors in _embed_window(model, window, batch_size):
                    out[start + rows] = vectors
                    bar.advance(task, len(rows))
    finally:
        model.train(was_training)
    return out


def counts_ngrams(model: Encoder) -> bool:
    """True for a count-based encoder, which pools a group of posts by summing their n-gram counts."""
    return hasattr(model, "embed_groups")


def embed_groups(
    model: Encoder,
    texts: Sequence[str],
    groups: np.ndarray,
    n_groups: int,
    *,
    pooling: str | AttentionPooling = "mean",
    post_vectors: np.ndarray | None = None,
    batch_size: int = 64,
    episode_batch_size: int = 64,
    progress: bool = False,
) -> np.ndarray:
    """One L2-normalised vector per group of posts: float32 (n_groups, d); `groups[i]` is the group of texts[i].

    pooling="mean": a = normalize(mean_i normalize(v_i)) over the group's posts. An `AttentionPooling`
    module pools each group's posts as one episode (`episode_batch_size` groups per forward pass; its cost
    grows with the square of a group's post count). A count-based encoder builds each group's profile from
    its summed n-gram counts and accepts only "mean". `post_vectors`: the texts' vectors when already
    computed (a neural encoder then does not embed them again).
    """
    groups = np.asarray(groups, dtype=np.int64)
    if counts_ngrams(model):
        if not (isinstance(pooling, str) and pooling == "mean"):
            raise ValueError(f"{type(model).__name__} pools posts by their summed n-gram profile; use 'mean'")
        return model.embed_groups(list(texts), groups, n_groups, progress=progress)
    if isinstance(pooling, str) and pooling != "mean":
        raise ValueError(f"pooling must be 'mean' or an AttentionPooling module, got {pooling!r}")
    if post_vectors is None:
        post_vectors = embed_texts(model, texts, batch_size=batch_size, progress=progress)
    if isinstance(pooling, str):
        return mean_pool(post_vectors, groups, n_groups)
    n_posts = np.bincount(groups, minlength=n_groups)
    return attention_pool(pooling, post_vectors, groups, n_posts, episode_batch_size)


def embed_accounts(
    model: Encoder,
    posts: datasets.Dataset,
    *,
    pooling: str | AttentionPooling = "mean",
    batch_size: int = 64,
    episode_batch_size: int = 64,
    progress: bool = True,
) -> AccountVectors:
    """One vector per account of `posts` (columns account_id, text), in order of each account's first post,
    pooled as `embed_groups` pools."""
    for column in ("account_id", "text"):
        if column not in posts.column_names:
            raise ValueError(f"posts lack the {column!r} column (have {', '.join(posts.column_names)})")
    account_ids, groups = group_by_first_appearance(list(posts["account_id"]))
    texts = list(posts["text"])
    vectors = embed_groups(
        model,
        texts,
        groups,
        len(account_ids),
        pooling=pooling,
        batch_size=batch_size,
        episode_batch_size=episode_batch_size,
        progress=progress,
    )
    n_posts = np.bincount(groups, minlength=len(account_ids))
    n_chars = characters_per_group(texts, groups, len(account_ids))
    return AccountVectors(account_ids=account_ids, vectors=vectors, n_posts=n_posts, n_chars=n_chars)


def _can_pretokenize(model: SentenceTransformer) -> bool:
    """True when the first module is a text Transformer with a tokenizer and no prompt is prepended."""
    first = model[0]
    if not isinstance(first, Transformer) or getattr(first, "tokenizer", None) is None:
        return False
    if getattr(model, "default_prompt_name", None):
        return False
    modality_config = getattr(first, "modality_config", None)
    return modality_config is None or ("text" in modality_config and "message" not in modality_config)


def _embed_window(model: SentenceTransformer, texts: list[str], batch_size: int):
    """Yield (rows, vectors) per batch: rows index `texts`, batches run longest-first."""
    tokenizer = model[0].tokenizer
    encoded = tokenizer(
        texts, truncation=True, max_length=model.max_seq_length, padding=False, return_attention_mask=False
    )
    input_ids = encoded["input_ids"]
    type_ids = encoded.get("token_type_ids")
    lengths = np.fromiter((len(ids) for ids in input_ids), dtype=np.int64, count=len(input_ids))
    # Longest first: a batch that does not fit in memory fails at once, not after an hour.
    order = np.argsort(-lengths, kind="stable")
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    left = getattr(tokenizer, "padding_side", "right") == "left"
    device = model.device
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        width = int(lengths[rows[0]])
        ids = np.full((len(rows), width), pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        types = np.zeros((len(rows), width), dtype=np.int64) if type_ids is not None else None
        for j, row in enumerate(rows):
            n = int(lengths[row])
            cols = slice(width - n, width) if left else slice(0, n)
            ids[j, cols] = input_ids[row]
            mask[j, cols] = 1
            if types is not None:
                types[j, cols] = type_ids[row]
        features = {"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(mask)}
        if types is not None:
            features["token_type_ids"] = torch.from_numpy(types)
        features = {k: v.to(device) for k, v in features.items()}
        vectors = model(features)["sentence_embedding"]
        yield rows, vectors.float().cpu().numpy()


def attention_pool(
    module: AttentionPooling,
    post_vectors: np.ndarray,
    groups: np.ndarray,
    n_posts: np.ndarray,
    batch_size: int,
) -> np.ndarray:
    """Run `module` over each account's posts as one episode; accounts of similar size share a batch."""
    post_vectors = normalize_rows(post_vectors)
    by_account = np.argsort(groups, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(n_posts)])
    out = np.zeros((len(n_posts), post_vectors.shape[1]), dtype=np.float32)
    device = next(module.parameters()).device
    was_training = module.training
    module.eval()
    largest_first = np.argsort(-n_posts, kind="stable")
    try:
        with torch.inference_mode():
            for start in range(0, len(n_posts), batch_size):
                accounts = largest_first[start : start + batch_size]
                width = int(n_posts[accounts].max())
                x = np.zeros((len(accounts), width, post_vectors.shape[1]), dtype=np.float32)
                mask = np.zeros((len(accounts), width), dtype=bool)
                for j, account in enumerate(accounts):
                    rows = by_account[bounds[account] : bounds[account + 1]]
                    x[j, : len(rows)] = post_vectors[rows]
                    mask[j, : len(rows)] = True
                pooled = module(torch.from_numpy(x).to(device), torch.from_numpy(mask).to(device))
                out[accounts] = pooled.float().cpu().numpy()
    finally:
        module.train(was_training)
    return out
