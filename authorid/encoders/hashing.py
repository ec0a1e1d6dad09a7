"""Hashed n-gram counts of posts: the features of the n-gram encoder, stable across processes and machines.

scikit-learn's `HashingVectorizer` maps each n-gram to a bucket with MurmurHash3 (fixed seed), so no
vocabulary is stored and the same n-gram lands in the same bucket in every process (Python's `hash` is
salted per process). One block of buckets per kind of n-gram: character n-grams first, then word n-grams.

`HashingVectorizer` makes each n-gram a Python string before hashing it (about 0.6 ms a post for the
character n-grams, four in five of a post's). `char_ngram_counts` and `word_ngram_counts` give the same
buckets from numpy arrays instead: the posts' UTF-8 bytes (for words: their tokens joined by spaces, as
scikit-learn joins an n-gram's tokens), every n-gram's byte span, MurmurHash3 over all spans at once
(`murmurhash3_32_spans`), and one sort of (post, bucket) keys to count them. Tests hold both equal to
`HashingVectorizer` on real posts of every script.
"""

from __future__ import annotations

import ctypes
import os
import re
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np
import scipy.sparse as sp
from joblib.externals.loky import ProcessPoolExecutor
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.utils import murmurhash3_32

#: Words and single punctuation marks: "don't!!" -> "don", "'", "t", "!", "!" (punctuation habits are style).
#: A token never holds white space (`word_ngram_counts` relies on it).
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


def count_ngrams(
    params: dict,
    texts: Sequence[str],
    *,
    jobs: int | None = None,
    on_counted: Callable[[int], None] | None = None,
) -> sp.csr_matrix:
    """Hashed n-gram counts per post: CSR float32 (len(texts), char_buckets + word_buckets), indices sorted.

    Inputs larger than CHUNK_POSTS are counted in chunks on `jobs` worker processes (default: the CPUs) of a
    pool made for this call, loky's (vendored by joblib): fresh processes, safe beside torch's threads, that do
    not re-run the caller's script. They exit when the counting ends: an idle worker still holds ~0.45 GB (its
    imports and a heap it does not give back), beside every post's counts in the caller. A smaller input is
    counted in slices on threads when `jobs` is left to its default (THREAD_POSTS); `jobs=1` counts it on the
    calling thread alone (a Ray actor already has its CPU). The counts are the same either way: a post's row
    depends on its text alone. `on_counted(n)` is called as each chunk or slice of n posts is counted (a
    progress bar's advance).
    """
    told = on_counted or (lambda n: None)
    texts = list(texts)
    bad = next((i for i, t in enumerate(texts) if not isinstance(t, str)), None)
    if bad is not None:
        raise ValueError(f"text {bad} is {type(texts[bad]).__name__}, not a string")
    chunks = [texts[i : i + CHUNK_POSTS] for i in range(0, len(texts), CHUNK_POSTS)] or [[]]
    threads = min(os.cpu_count() or 1, len(texts) // THREAD_POSTS) if jobs is None else 1
    jobs = min(jobs or os.cpu_count() or 1, len(chunks))
    if jobs > 1:
        pool = ProcessPoolExecutor(max_workers=jobs, initializer=_leave_interrupts_to_the_caller)
        futures = [pool.submit(_count_chunk, (params, chunk)) for chunk in chunks]
        try:
            # Waited on with a timeout: a wait without one does not wake for Ctrl-C when the signal lands on one
            # of the pool's threads rather than the main one.
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=0.25)
                for future in done:
                    told(future.result().shape[0])
            parts = [future.result() for future in futures]
        except BaseException:
            # Ctrl-C (or an error): the chunks not started are dropped and the caller goes on at once; the
            # workers end after the chunk they hold (seconds). Killing them mid-chunk could cut a result half
            # sent down loky's pipe, which hangs its reader for good.
            for future in futures:
                future.cancel()
            pool.shutdown(wait=False)
            raise
        pool.shutdown(wait=True)
    elif threads > 1:
        step = -(-len(texts) // threads)
        slices = [(params, texts[i : i + step]) for i in range(0, len(texts), step)]
        with ThreadPoolExecutor(max_workers=threads) as pool:
            parts = []
            for part in pool.map(_count_chunk, slices):
                parts.append(part)
                told(part.shape[0])
    else:
        parts = []
        for chunk in chunks:
            parts.append(_count_chunk((params, chunk)))
            told(len(chunk))
    return _stacked(parts, sum(params[k] for k in ("char_buckets", "word_buckets")))


def _leave_interrupts_to_the_caller() -> None:
    """A counting worker ignores Ctrl-C: the terminal sends SIGINT to the whole process group, and a worker's
    own KeyboardInterrupt traceback would bury the caller's one-line "interrupted". The caller, interrupted
    too, drops the chunks not started (`count_ngrams`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


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
    if params["word_buckets"]:
        blocks.append(
            word_ngram_counts(
                texts, params["word_ngrams"], params["word_buckets"], lowercase=params["lowercase_words"]
            )
        )
    return sp.hstack(blocks, format="csr", dtype=np.float32)


def char_ngram_counts(texts: Sequence[str], ngram_range: Sequence[int], buckets: int) -> sp.csr_matrix:
    """Hashed character n-gram counts per text, bucket for bucket what `HashingVectorizer(analyzer="char",
    lowercase=False, alternate_sign=False, norm=None)` gives: CSR float32 (len(texts), buckets), indices
    sorted. Texts must encode to UTF-8 (`_encodable`)."""
    texts = [WHITE_SPACE_RUN.sub(" ", t) for t in texts]
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    joined = "".join(texts)
    data, starts = _utf8_with_offsets(joined)
    text_of = np.repeat(np.arange(len(texts)), lengths)
    text_end = np.cumsum(lengths)[text_of]
    keys = []  # text * buckets + bucket, for every n-gram
    for n in range(ngram_range[0], ngram_range[1] + 1):
        first = np.flatnonzero(np.arange(len(text_of)) + n <= text_end)  # n-grams inside one text
        begin = starts[first]
        keys.append(
            _keys(text_of[first], murmurhash3_32_spans(data, begin, starts[first + n] - begin), buckets)
        )
    return _counted(np.concatenate(keys) if keys else np.zeros(0, dtype=np.int64), len(texts), buckets)


def word_ngram_counts(
    texts: Sequence[str], ngram_range: Sequence[int], buckets: int, *, lowercase: bool
) -> sp.csr_matrix:
    """Hashed word n-gram counts per text, bucket for bucket what `HashingVectorizer(analyzer="word",
    token_pattern=WORD_PATTERN, lowercase=lowercase, alternate_sign=False, norm=None)` gives: CSR float32
    (len(texts), buckets), indices sorted. Texts must encode to UTF-8 (`_encodable`).

    Tokens are joined by single spaces, as scikit-learn joins an n-gram's tokens; a token holds no white space,
    so every n-gram is then one span of that string, hashed where it lies instead of being made a string."""
    pattern = re.compile(WORD_PATTERN)
    tokens = [pattern.findall(t.lower() if lowercase else t) for t in texts]
    per_text = np.fromiter((len(t) for t in tokens), dtype=np.int64, count=len(texts))
    data = np.frombuffer(" ".join(" ".join(t) for t in tokens if t).encode("utf-8"), dtype=np.uint8)
    # Tokens hold no white space, and a space byte occurs in UTF-8 only as a space: the spaces are the cuts.
    spaces = np.flatnonzero(data == ord(" "))
    token_begin = np.concatenate([[0], spaces + 1]) if len(data) else spaces
    token_end = np.concatenate([spaces, [len(data)]]) if len(data) else spaces
    text_of = np.repeat(np.arange(len(texts)), per_text)
    text_end = np.cumsum(per_text)[text_of]
    keys = []
    for n in range(ngram_range[0], ngram_range[1] + 1):
        first = np.flatnonzero(np.arange(len(text_of)) + n <= text_end)  # n-grams inside one text
        begin = token_begin[first]
        size = token_end[first + n - 1] - begin
        keys.append(_keys(text_of[first], murmurhash3_32_spans(data, begin, size), buckets))
    return _counted(np.concatenate(keys) if keys else np.zeros(0, dtype=np.int64), len(texts), buckets)


def _utf8_with_offsets(text: str) -> tuple[np.ndarray, np.ndarray]:
    """`text`'s UTF-8 bytes (uint8) and the byte offset where each character starts, plus one past the end
    (int64, len(text) + 1), from each code point's UTF-8 length."""
    data = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    if len(data) == len(text):  # ASCII: a character is a byte
        return data, np.arange(len(text) + 1, dtype=np.int64)
    points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    widths = 1 + (points >= 0x80).astype(np.int64) + (points >= 0x800) + (points >= 0x10000)
    return data, np.concatenate([[0], np.cumsum(widths)])


def _words_at(data: np.ndarray) -> np.ndarray:
    """The little-endian 4-byte word starting at each byte of `data` (zeros past its end): uint32 (len(data),)."""
    padded = np.zeros(len(data) + 3, dtype=np.uint32)
    padded[: len(data)] = data
    words = padded[:-3].copy()
    for i in (1, 2, 3):
        words |= padded[i : len(data) + i] << np.uint32(8 * i)
    return words


def _keys(text: np.ndarray, hashes: np.ndarray, buckets: int) -> np.ndarray:
    """`text * buckets + bucket` of each n-gram, its bucket `abs(signed hash) % buckets` as scikit-learn takes
    it (a hash of -2**31 lands in bucket 2**31 % buckets, as there)."""
    return text * buckets + np.abs(hashes.view(np.int32).astype(np.int64)) % buckets


def _counted(keys: np.ndarray, rows: int, width: int) -> sp.csr_matrix:
    """CSR float32 (rows, width) counting each `row * width + column` in `keys`, indices sorted. One sort of
    the keys: building a COO matrix and summing its duplicates (scipy, row by row) took twice as long."""
    keys.sort()
    starts = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]])) if len(keys) else keys
    counts = np.diff(np.append(starts, len(keys))).astype(np.float32)
    row, column = np.divmod(keys[starts], width)
    index_type = np.int32 if width <= np.iinfo(np.int32).max else np.int64
    indptr = np.zeros(rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=rows), out=indptr[1:])
    return sp.csr_matrix((counts, column.astype(index_type), indptr), shape=(rows, width))


#: MurmurHash3's constants (x86, 32-bit).
_C1, _C2 = np.uint32(0xCC9E2D51), np.uint32(0x1B873593)
#: The mask that keeps a tail of 0, 1, 2 or 3 bytes of a little-endian word.
_TAIL_MASKS = np.array([0, 0xFF, 0xFFFF, 0xFFFFFF], dtype=np.uint32)
#: Spans of more 4-byte blocks than this are hashed one by one (`murmurhash3_32_spans`).
LONG_SPAN_BLOCKS = 64


def murmurhash3_32_spans(data: np.ndarray, begin: np.ndarray, length: np.ndarray) -> np.ndarray:
    """MurmurHash3 (x86, 32-bit, seed 0) of the byte spans `data[begin:begin + length]` of a uint8 array:
    uint32, the hash scikit-learn's `murmurhash3_32` gives the same bytes (as unsigned).

    Spans of every length at once: step i mixes the i-th 4-byte block of every span that has one, read as the
    little-endian word that starts there (`_words_at`: no byte gather), then every tail, then the final mix.
    A span of more than LONG_SPAN_BLOCKS blocks (a URL, a line of one repeated letter) would keep the loop going
    for itself alone: it is hashed on its own by scikit-learn."""
    words = _words_at(data)
    begin = np.asarray(begin, dtype=np.int64)
    length = np.asarray(length, dtype=np.int64)
    blocks = length // 4
    h = np.zeros(len(length), dtype=np.uint32)
    long = np.flatnonzero(blocks > LONG_SPAN_BLOCKS)
    active = (
        np.flatnonzero((blocks > 0) & (blocks <= LONG_SPAN_BLOCKS)) if len(long) else np.flatnonzero(blocks)
    )
    step = 0
    while len(active):
        whole = len(active) == len(h)  # the common case of one block each: no scatter
        k = words[begin + 4 * step] if whole else words[begin[active] + 4 * step]
        k *= _C1
        k = _rotl(k, 15)
        k *= _C2
        mixed = _rotl((h if whole else h[active]) ^ k, 13)
        mixed *= np.uint32(5)
        mixed += np.uint32(0xE6546B64)
        if whole:
            h = mixed
        else:
            h[active] = mixed
        step += 1
        active = active[blocks[active] > step]
    tail = length % 4
    has_tail = np.flatnonzero(tail)
    if len(long):
        has_tail = np.setdiff1d(has_tail, long, assume_unique=True)
    k = words[begin[has_tail] + 4 * blocks[has_tail]] & _TAIL_MASKS[tail[has_tail]]
    k *= _C1
    k = _rotl(k, 15)
    k *= _C2
    h[has_tail] ^= k
    h ^= length.astype(np.uint32)
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    for i in long.tolist():
        h[i] = murmurhash3_32(data[begin[i] : begin[i] + length[i]].tobytes(), seed=0, positive=True)
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
