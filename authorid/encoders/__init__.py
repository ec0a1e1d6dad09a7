"""Encoders: where a post becomes a vector, and posts become an account vector.

- `build_style_encoder` / `resolve_base` (build.py): a sentence-transformers style encoder from a local base.
- `embed_texts` / `embed_groups` / `embed_accounts` (embed.py): embed a whole corpus, fast, in input order;
  the one place a group of posts (an account, a half, an episode) is pooled into one vector.
- `AttentionPooling`, `mean_pool`, `save_pooling` / `load_pooling` (pooling.py): account vectors from posts.
- `StylometricEncoder` (stylometric.py): char n-gram TF-IDF profiles with optional spaCy features.
- `AccountVectors` (authorid.vectors): account ids + L2-normalised vectors + post counts, Parquet I/O.
"""

from authorid.encoders.build import UnknownBaseError, build_style_encoder, embedding_dim, resolve_base
from authorid.encoders.embed import attention_pool, counts_ngrams, embed_accounts, embed_groups, embed_texts
from authorid.encoders.ngram import NgramEncoder, NgramModelError
from authorid.encoders.pooling import AttentionPooling, load_pooling, mean_pool, normalize_rows, save_pooling
from authorid.encoders.stylometric import StylometricEncoder
from authorid.vectors import AccountVectors, group_by_first_appearance

__all__ = [
    "AccountVectors",
    "AttentionPooling",
    "NgramEncoder",
    "NgramModelError",
    "StylometricEncoder",
    "UnknownBaseError",
    "attention_pool",
    "build_style_encoder",
    "counts_ngrams",
    "embed_accounts",
    "embed_groups",
    "embed_texts",
    "embedding_dim",
    "group_by_first_appearance",
    "load_pooling",
    "mean_pool",
    "normalize_rows",
    "resolve_base",
    "save_pooling",
]
