"""Hashed n-gram counts of posts: the features of the n-gram encoder, stable across processes and machines.

scikit-learn's `HashingVectorizer` maps each n-gram to a bucket with MurmurHash3 (fixed seed), so no
vocabulary is stored and the same n-gram lands in the same bucket in every process (Python's `hash` is
salted per process). One block of buckets per kind of n-gram: character n-grams first, then word n-grams.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.feature_extraction.text import HashingVectorizer

#: Words and single punctuation marks: "don't!!" -> "don", "'", "t", "!", "!" (punctuation habits are style).
WORD_PATTERN = r"(?u)\w+|[^\w\s]"
#: Posts counted per task; inputs of more than one chunk are spread over processes.
CHUNK_POSTS = 10_000


def vectorizers(params: dict) -> list[HashingVectorizer]:
    """The hashing vectorizer of each block (char; word when `word_buckets` > 0) for n-gram settings `params`."""
    common = {"alternate_sign": False, "norm": None, "dtype": np.float32}
    out = [
        HashingVectorizer(
            analyzer="char",
            ngram_range=tuple(params["char_ngrams"]),
            n_features=params["char_buckets"],
            lowercase=False,  # capitalisation habits ("i think", "ALL CAPS") are style
            **common,
        )
    ]
    if params["word_buckets"]:
        out.append(
            HashingVectorizer(
                analyzer="word",
                ngram_range=tuple(params["word_ngrams"]),
                n_features=params["word_buckets"],
                lowercase=params["lowercase_words"],
                token_pattern=WORD_PATTERN,
                **common,
            )
        )
    return out


def count_ngrams(params: dict, texts: Sequence[str], *, jobs: int | None = None) -> sp.csr_matrix:
    """Hashed n-gram counts per post: CSR float32 (len(texts), char_buckets + word_buckets), indices sorted.

    Inputs larger than CHUNK_POSTS are counted in chunks on `jobs` worker processes (default: the CPUs), run by
    joblib's loky backend: fresh processes (safe beside torch's threads) that do not re-run the caller's script.
    """
    texts = list(texts)
    bad = next((i for i, t in enumerate(texts) if not isinstance(t, str)), None)
    if bad is not None:
        raise ValueError(f"text {bad} is {type(texts[bad]).__name__}, not a string")
    chunks = [texts[i : i + CHUNK_POSTS] for i in range(0, len(texts), CHUNK_POSTS)] or [[]]
    jobs = min(jobs or os.cpu_count() or 1, len(chunks))
    if jobs > 1:
        parts = Parallel(n_jobs=jobs, backend="loky")(
            delayed(_count_chunk)((params, chunk)) for chunk in chunks
        )
    else:
        parts = [_count_chunk((params, chunk)) for chunk in chunks]
    out = sp.vstack(parts, format="csr", dtype=np.float32)
    out.sort_indices()
    return out


def _count_chunk(args: tuple[dict, list[str]]) -> sp.csr_matrix:
    params, texts = args
    texts = [t if t.isascii() else _encodable(t) for t in texts]
    return sp.hstack([v.transform(texts) for v in vectorizers(params)], format="csr", dtype=np.float32)


def _encodable(text: str) -> str:
    """`text` with lone surrogates (undecodable bytes smuggled through Python) replaced, so it hashes."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text
