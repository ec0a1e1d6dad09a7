"""Hashed n-gram counts of posts: the features of the n-gram encoder, stable across processes and machines.

scikit-learn's `HashingVectorizer` maps each n-gram to a bucket with MurmurHash3 (fixed seed), so no
vocabulary is stored and the same n-gram lands in the same bucket in every process (Python's `hash` is
salted per process). One block of buckets per kind of n-gram: character n-grams first, then word n-grams.

Character n-grams are four in five of a post's n-grams, and `HashingVectorizer` makes each one a Python string
before hashing it (about 0.6 ms a post). `char_ngram_counts` gives the same buckets from numpy arrays instead:
the posts' UTF-8 bytes, every n-gram's byte span, and MurmurHash3 computed over all spans of one byte length at
once. A test holds it equal to `HashingVectorizer` on real posts of every script.
"""

from __future__ import annotations

import ctypes
import os
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
from joblib.externals.loky import ProcessPoolExecutor
from sklearn.feature_extraction.text import HashingVectorizer

#: Words and single punctuation marks: "don't!!" -> "don", "'", "t", "!", "!" (punctuation habits are style).
WORD_PATTERN = r"(?u)\w+|[^\w\s]"
#: Posts counted per task; inputs of more than one chunk are spread over processes. A worker's peak grows with
#: its chunk (60,000 Reddit posts: 0.55 GB a worker with chunks of 5,000, 0.9 GB with 10,000, at the same speed).
CHUNK_POSTS = 5_000
#: A smaller input is counted on threads, this many posts or more a thread: the hashing and the sparse building are
#: numpy and scipy calls that let go of the GIL, so two threads count 2,000 Reddit posts about 1.5-2x as fast as
#: one, with no process to start.
THREAD_POSTS = 500
#: What `HashingVectorizer`'s char analyzer does before cutting n-grams: a run of two or more white-space
#: characters becomes one space (a single newline or tab stays as it is).
WHITE_SPACE_RUN = re.compile(r"\s\s+")
#: glibc, whose `malloc_trim` gives freed heap pages back (`_give_back_freed_memory`); None elsewhere.
try:
    _LIBC = ctypes.CDLL("libc.so.6")
    _LIBC.malloc_trim  # noqa: B018 (glibc only: musl and macOS have no malloc_trim)
except (OSError, AttributeError):
    _LIBC = None


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

    Inputs larger than CHUNK_POSTS are counted in chunks on `jobs` worker processes (default: the CPUs) of a
    pool made for this call, loky's (vendored by joblib): fresh processes, safe beside torch's threads, that do
    not re-run the caller's script. They exit when the counting ends: an idle worker still holds ~0.45 GB (its
    imports and a heap it does not give back), beside every post's counts in the caller. A smaller input is
    counted in slices on threads when `jobs` is left to its default (THREAD_POSTS); `jobs=1` counts it on the
    calling thread alone (a Ray actor already has its CPU). The counts are the same either way: a post's row
    depends on its text alone.
    """
    texts = list(texts)
    bad = next((i for i, t in enumerate(texts) if not isinstance(t, str)), None)
    if bad is not None:
        raise ValueError(f"text {bad} is {type(texts[bad]).__name__}, not a string")
    chunks = [texts[i : i + CHUNK_POSTS] for i in range(0, len(texts), CHUNK_POSTS)] or [[]]
    threads = min(os.cpu_count() or 1, len(texts) // THREAD_POSTS) if jobs is None else 1
    jobs = min(jobs or os.cpu_count() or 1, len(chunks))
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            parts = list(pool.map(_count_chunk, [(params, chunk) for chunk in chunks]))
    elif threads > 1:
        step = -(-len(texts) // threads)
        slices = [(params, texts[i : i + step]) for i in range(0, len(texts), step)]
        with ThreadPoolExecutor(max_workers=threads) as pool:
            parts = list(pool.map(_count_chunk, slices))
    else:
        parts = [_count_chunk((params, chunk)) for chunk in chunks]
    return _stacked(parts, sum(params[k] for k in ("char_buckets", "word_buckets")))


def _stacked(parts: list[sp.csr_matrix], width: int) -> sp.csr_matrix:
    """The chunks' rows one under the other. Each chunk is copied into arrays of the final size and let go at
    once, so the peak is the chunks plus one chunk, not the chunks plus the whole result (`sp.vstack` and
    `np.concatenate` hold both): counting 517,799 Reddit posts (2.5 GB of counts) peaked at 6.65 GB with
    `sp.vstack`. The output arrays are `np.empty`: their pages are only taken as each chunk is written."""
    rows = sum(part.shape[0] for part in parts)
    nnz = sum(part.nnz for part in parts)
    index_type = np.int32 if max(nnz, width) < np.iinfo(np.int32).max else np.int64
    indptr = np.zeros(rows + 1, dtype=index_type)
    data = np.empty(nnz, dtype=np.float32)
    indices = np.empty(nnz, dtype=index_type)
    row = at = 0
    parts.reverse()  # popped from the end, so the first chunk comes first
    while parts:
        part = parts.pop()
        n, size = part.shape[0], part.nnz
        indptr[row + 1 : row + n + 1] = part.indptr[1:].astype(index_type) + at
        data[at : at + size] = part.data
        indices[at : at + size] = part.indices
        row, at = row + n, at + size
        del part  # the list held the only other reference: the chunk's arrays go back now
        _give_back_freed_memory()
    out = sp.csr_matrix((data, indices, indptr), shape=(rows, width))
    out.sort_indices()
    return out


def _give_back_freed_memory() -> None:
    """Return the heap's free pages to the system (glibc's `malloc_trim`; elsewhere nothing). A chunk's arrays
    (a few MB to 30 MB) live in the heap, and glibc keeps their pages once freed: without this, joining the
    counts of 150,000 Reddit posts (0.7 GB) peaked 0.65 GB higher, as if no chunk had been let go."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _count_chunk(args: tuple[dict, list[str]]) -> sp.csr_matrix:
    params, texts = args
    if not texts:  # HashingVectorizer cannot transform an empty list
        return sp.csr_matrix((0, params["char_buckets"] + params["word_buckets"]), dtype=np.float32)
    texts = [t if t.isascii() else _encodable(t) for t in texts]
    blocks = [char_ngram_counts(texts, params["char_ngrams"], params["char_buckets"])]
    blocks += [v.transform(texts) for v in vectorizers(params)[1:]]  # the word block, if any
    return sp.hstack(blocks, format="csr", dtype=np.float32)


def char_ngram_counts(texts: Sequence[str], ngram_range: Sequence[int], buckets: int) -> sp.csr_matrix:
    """Hashed character n-gram counts per text, bucket for bucket what `HashingVectorizer(analyzer="char",
    lowercase=False, alternate_sign=False, norm=None)` gives: CSR float32 (len(texts), buckets), indices
    sorted. Texts must encode to UTF-8 (`_encodable`)."""
    texts = [WHITE_SPACE_RUN.sub(" ", t) for t in texts]
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    joined = "".join(texts)
    # The byte offset where each character starts (and one past the end), from its code point's UTF-8 length.
    points = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    widths = 1 + (points >= 0x80).astype(np.int64) + (points >= 0x800) + (points >= 0x10000)
    starts = np.concatenate([[0], np.cumsum(widths)])
    data = np.frombuffer(joined.encode("utf-8"), dtype=np.uint8)
    text_of = np.repeat(np.arange(len(texts)), lengths)
    text_end = np.cumsum(lengths)[text_of]
    rows, columns = [], []
    for n in range(ngram_range[0], ngram_range[1] + 1):
        first = np.flatnonzero(np.arange(len(points)) + n <= text_end)  # n-grams inside one text
        begin, size = starts[first], starts[first + n] - starts[first]
        for width in np.unique(size):
            of_width = np.flatnonzero(size == width)
            keys = data[begin[of_width, None] + np.arange(width)]
            rows.append(text_of[first[of_width]])
            columns.append(np.abs(murmurhash3_32_rows(keys).view(np.int32).astype(np.int64)) % buckets)
    rows = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    columns = np.concatenate(columns) if columns else np.zeros(0, dtype=np.int64)
    counts = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, columns)), shape=(len(texts), buckets), dtype=np.float32
    )
    counts.sum_duplicates()  # also sorts the indices
    return counts


def murmurhash3_32_rows(keys: np.ndarray) -> np.ndarray:
    """MurmurHash3 (x86, 32-bit, seed 0) of each row of a uint8 array (n, width): uint32 (n,), the hash
    scikit-learn's `murmurhash3_32` gives the same bytes (as unsigned)."""
    n, width = keys.shape
    c1, c2 = np.uint32(0xCC9E2D51), np.uint32(0x1B873593)
    h = np.zeros(n, dtype=np.uint32)
    body = width // 4 * 4
    if body:
        blocks = np.ascontiguousarray(keys[:, :body]).view("<u4")  # little-endian 4-byte blocks
        for i in range(blocks.shape[1]):
            h ^= _rotl(blocks[:, i] * c1, 15) * c2
            h = _rotl(h, 13) * np.uint32(5) + np.uint32(0xE6546B64)
    if width > body:
        tail = np.zeros(n, dtype=np.uint32)
        for i in reversed(range(width - body)):
            tail ^= keys[:, body + i].astype(np.uint32) << np.uint32(8 * i)
        h ^= _rotl(tail * c1, 15) * c2
    h ^= np.uint32(width)
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    return h


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def _encodable(text: str) -> str:
    """`text` with lone surrogates (undecodable bytes smuggled through Python) replaced, so it hashes."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text
