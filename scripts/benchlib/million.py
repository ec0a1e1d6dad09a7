"""The 1M-account benchmark's data (scripts/bench_million.py): every post of the ingested Reddit corpus featurised
once, cached under runs/ (never committed)."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from authorid.io import atomic_write

logger = logging.getLogger(__name__)


def _save_npz(path: Path, matrix: sp.csr_matrix) -> None:
    with open(path, "wb") as handle:  # a file object: save_npz adds no ".npz" to the temporary name
        sp.save_npz(handle, matrix, compressed=False)


def corpus_counts(posts, encoder, cache: Path) -> sp.csr_matrix:
    """Every post's hashed n-gram counts (`NgramEncoder.counts`), in corpus order, cached in `cache` (scipy npz:
    arrays only, no pickle). The cache is keyed by the post count and the encoder's hashing settings."""
    from authorid.encoders.ngram import HASHING_KEYS

    hashing = json.dumps({k: encoder.params[k] for k in HASHING_KEYS}, sort_keys=True)
    path = cache / f"counts-{posts.num_rows}-{hashlib.sha256(hashing.encode()).hexdigest()[:12]}.npz"
    if path.is_file():
        return sp.load_npz(path).tocsr()
    started = time.perf_counter()
    counts = encoder.counts(list(posts["text"]))
    logger.info("counted %d posts in %.0f s", posts.num_rows, time.perf_counter() - started)
    cache.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda tmp: _save_npz(tmp, counts))
    return counts


def account_of_posts(posts) -> tuple[list[str], np.ndarray]:
    """(account ids in order of first appearance, each post's account row)."""
    from authorid.vectors import group_by_first_appearance

    return group_by_first_appearance(list(posts["account_id"]))
