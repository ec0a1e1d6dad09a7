"""Encoders: where a post becomes a vector, and posts become an account vector.

- `build_style_encoder` / `resolve_base` (build.py): a sentence-transformers style encoder from a local base.
- `embed_texts` / `embed_groups` / `embed_accounts` (embed.py): embed a whole corpus, fast, in input order;
  the one place a group of posts (an account, a half, an episode) is pooled into one vector.
- `AttentionPooling`, `mean_pool`, `save_pooling` / `load_pooling` (pooling.py): account vectors from posts.
- `NgramEncoder` (ngram.py): the default `style` model's encoder, hashed char and word n-gram counts per post
  (hashing.py) summed per account, tf-idf weighted, then a trained table and a fixed random sketch.
- `StylometricEncoder` (stylometric.py): char n-gram TF-IDF profiles with optional spaCy features.
- `AccountVectors` (authorid.vectors): account ids + L2-normalised vectors + post and character counts, Parquet I/O.

Names load lazily: the worker processes that count n-grams import `authorid.encoders.hashing`, and with it
this package, and should not pay for torch and transformers (590 MB each) that they never use.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "UnknownBaseError": "authorid.encoders.build",
    "build_style_encoder": "authorid.encoders.build",
    "embedding_dim": "authorid.encoders.build",
    "resolve_base": "authorid.encoders.build",
    "attention_pool": "authorid.encoders.embed",
    "counts_ngrams": "authorid.encoders.embed",
    "embed_accounts": "authorid.encoders.embed",
    "embed_groups": "authorid.encoders.embed",
    "embed_texts": "authorid.encoders.embed",
    "NgramEncoder": "authorid.encoders.ngram",
    "NgramModelError": "authorid.encoders.ngram",
    "AttentionPooling": "authorid.encoders.pooling",
    "load_pooling": "authorid.encoders.pooling",
    "mean_pool": "authorid.encoders.pooling",
    "normalize_rows": "authorid.encoders.pooling",
    "save_pooling": "authorid.encoders.pooling",
    "StylometricEncoder": "authorid.encoders.stylometric",
    "AccountVectors": "authorid.vectors",
    "group_by_first_appearance": "authorid.vectors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'authorid.encoders' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
