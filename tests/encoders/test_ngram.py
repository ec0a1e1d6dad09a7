"""The n-gram encoder: exact profiles, vectors independent of post order and episode cuts, a hash that is
the same in every process, sparse gradients, exact save/load, damaged folders, and awkward texts."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.utils import murmurhash3_32

from authorid.encoders import NgramEncoder, NgramModelError, hashing
from authorid.encoders.hashing import (
    WORD_PATTERN,
    char_ngram_counts,
    count_ngrams,
    murmurhash3_32_spans,
    word_ngram_counts,
)
from authorid.encoders.ngram import summed_counts

#: Small enough to reason about by hand: unigram characters, no words, 64 buckets, an 8-dim table, a 16-wide
#: sketch.
TINY = {"char_ngrams": [1, 1], "char_buckets": 64, "word_buckets": 0, "dim": 8, "sketch_dim": 16}
#: A small encoder over real texts.
SMALL = {"char_buckets": 2**12, "word_buckets": 2**12, "dim": 16, "sketch_dim": 256}


def bucket(ngram: str, buckets: int) -> int:
    """Where scikit-learn's HashingVectorizer puts an n-gram (MurmurHash3, seed 0, absolute value)."""
    return abs(murmurhash3_32(ngram, seed=0)) % buckets


@pytest.fixture(scope="module")
def reddit_texts(reddit_posts):
    return list(reddit_posts["text"][:400])


def test_the_profile_of_a_two_post_account_is_computed_by_hand():
    encoder = NgramEncoder(**TINY)
    idf = torch.linspace(1.0, 2.0, 64)
    encoder.idf.copy_(idf)
    encoder.fitted = True
    summed = encoder.counts(["ab", "b"]).sum(axis=0)  # the account: a once, b twice
    profile = encoder.profiles(sp.csr_matrix(summed)).toarray()[0]
    a, b = bucket("a", 64), bucket("b", 64)
    expected = np.zeros(64)
    expected[a] = (1 + math.log(1)) * float(idf[a])
    expected[b] = (1 + math.log(2)) * float(idf[b])
    expected /= np.linalg.norm(expected)
    np.testing.assert_allclose(profile, expected, rtol=1e-6)


#: A script whose counting is interrupted as Ctrl-C interrupts it: SIGINT to the whole process group, once both
#: workers are inside a chunk. Each chunk writes how its worker takes SIGINT, holds on for a second, and marks
#: its end.
INTERRUPTED_COUNTING = """
import os, pathlib, signal, sys, threading, time
from authorid.encoders import hashing
marks = pathlib.Path(sys.argv[1])
original = hashing._count_chunk
def slow_chunk(args):
    ignored = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    chunk = f"{os.getpid()}-{time.monotonic_ns()}"
    (marks / f"{chunk}.started").write_text("ignores SIGINT" if ignored else "takes SIGINT")
    time.sleep(1)
    (marks / f"{chunk}.ended").touch()
    return original(args)
def interrupt_once_both_workers_count():
    while len({path.name.split("-")[0] for path in marks.glob("*.started")}) < 2:
        time.sleep(0.05)
    os.killpg(os.getpgrp(), signal.SIGINT)
hashing._count_chunk, hashing.CHUNK_POSTS = slow_chunk, 2
signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal, even where the tests run in the background
threading.Thread(target=interrupt_once_both_workers_count, daemon=True).start()
try:
    hashing.count_ngrams({"char_ngrams": [1, 2], "char_buckets": 64, "word_buckets": 0}, ["a post"] * 40, jobs=2)
except KeyboardInterrupt:
    print("interrupted")
    sys.exit(130)
print("finished")
"""


def test_ctrl_c_while_counting_on_worker_processes_ends_with_the_callers_line_alone(tmp_path):
    # Before, the workers took Ctrl-C too: one caught sending a chunk's counts ended with a traceback of its
    # own and loky's warning that "a worker stopped" beside the caller's "interrupted". Now a worker ignores
    # it and ends the chunk it holds; the caller drops the chunks not started.
    done = subprocess.run(
        [sys.executable, "-c", INTERRUPTED_COUNTING, str(tmp_path)],
        capture_output=True,
        text=True,
        start_new_session=True,
        timeout=120,
    )
    assert (done.returncode, done.stdout, done.stderr) == (130, "interrupted\n", "")
    started = [path.read_text() for path in tmp_path.glob("*.started")]
    # Each worker ended the chunk it held (loky may hand it one queued chunk more); the others were dropped.
    assert set(started) == {"ignores SIGINT"} and 2 <= len(started) < 20
    assert len(list(tmp_path.glob("*.ended"))) == len(started)


def test_the_account_vector_ignores_post_order_and_how_posts_are_cut_into_episodes(reddit_texts):
    encoder = NgramEncoder(**SMALL).fit(reddit_texts)
    texts = reddit_texts[:12]
    whole = encoder.embed_groups(texts, np.zeros(12, dtype=int), 1)
    shuffled = encoder.embed_groups(texts[::-1], np.zeros(12, dtype=int), 1)
    np.testing.assert_array_equal(whole, shuffled)
    # Two episodes of six posts: their counts summed are the account's counts, so the same vector.
    episodes = encoder.counts(texts[:6]).sum(axis=0) + encoder.counts(texts[6:]).sum(axis=0)
    from_episodes = encoder.eval()(encoder.profiles(sp.csr_matrix(episodes))).detach().numpy()
    np.testing.assert_allclose(whole, from_episodes, atol=1e-6)


def test_the_hash_is_the_same_in_another_process_with_another_hash_seed():
    settings = {"char_ngrams": [1, 4], "char_buckets": 2**18, "word_ngrams": [1, 2], "word_buckets": 2**18}
    settings |= {"lowercase_words": False}
    text = "Honestly lol, I'd say the Dining Hall >> anything else :)"
    here = count_ngrams(settings, [text])
    code = (
        "import json, sys\nfrom authorid.encoders.hashing import count_ngrams\n"
        f"m = count_ngrams({settings!r}, [{text!r}])\n"
        "print(json.dumps([m.indices.tolist(), m.data.tolist()]))"
    )
    env = {"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    indices, data = json.loads(out.stdout)
    assert indices == here.indices.tolist() and data == here.data.tolist()


#: Texts that stress the byte arithmetic: white-space runs (collapsed) and lone newlines and tabs (kept), every
#: UTF-8 width (1 to 4 bytes), combining marks, and texts shorter than the longest n-gram.
AWKWARD_TEXTS = [
    "",
    "a",
    " ",
    "ab",
    "\t\t x\n y  z",
    "ab\r\n\r\ncd",
    "naïve café — “quoted” …",
    "中文字符 ok",
    "😀😀 emoji 🇫🇷",
    "e\u0301",
    "Ωμέγα\u00a0\u00a0nbsp",
    "x" * 5000,
]


def scikit_learns_counts(texts: list[str], **settings):
    """`HashingVectorizer`'s raw counts (case kept unless `settings` say otherwise), indices sorted."""
    settings = {"lowercase": False, "alternate_sign": False, "norm": None, "dtype": np.float32} | settings
    reference = HashingVectorizer(**settings).transform(texts)
    reference.sort_indices()
    return reference


def assert_same_counts(ours, reference) -> None:
    """The same CSR matrix entry for entry, indices sorted, float32."""
    assert ours.has_sorted_indices and ours.dtype == np.float32
    np.testing.assert_array_equal(ours.indptr, reference.indptr)
    np.testing.assert_array_equal(ours.indices, reference.indices)
    np.testing.assert_array_equal(ours.data, reference.data)


@pytest.mark.parametrize(
    ("ngram_range", "buckets"), [((1, 4), 2**18), ((2, 5), 1000), ((1, 1), 7), ((3, 3), 2**20)]
)
def test_character_ngrams_land_in_the_buckets_of_scikit_learns_hashing_vectorizer(
    reddit_posts, enron_posts, ngram_range, buckets
):
    texts = list(reddit_posts["text"]) + list(enron_posts["text"][:300]) + AWKWARD_TEXTS
    assert sum(not t.isascii() for t in texts) > 50  # the multi-byte paths are exercised, not only ASCII
    reference = scikit_learns_counts(texts, analyzer="char", ngram_range=ngram_range, n_features=buckets)
    assert_same_counts(char_ngram_counts(texts, ngram_range, buckets), reference)


@pytest.mark.parametrize(
    ("ngram_range", "buckets", "lowercase"),
    [((1, 2), 2**18, False), ((1, 3), 1000, True), ((2, 2), 7, False)],
)
def test_word_ngrams_land_in_the_buckets_of_scikit_learns_hashing_vectorizer(
    reddit_posts, enron_posts, ngram_range, buckets, lowercase
):
    texts = list(reddit_posts["text"]) + list(enron_posts["text"][:300]) + AWKWARD_TEXTS + ["", "one"]
    reference = scikit_learns_counts(
        texts,
        analyzer="word",
        ngram_range=ngram_range,
        n_features=buckets,
        lowercase=lowercase,
        token_pattern=WORD_PATTERN,
    )
    assert_same_counts(word_ngram_counts(texts, ngram_range, buckets, lowercase=lowercase), reference)


def test_the_vectorised_murmurhash_is_scikit_learns_for_spans_of_every_length():
    rng = np.random.default_rng(0)
    data = rng.integers(0, 256, size=5000, dtype=np.uint8)
    # every length from 1 to 40 bytes, and spans past LONG_SPAN_BLOCKS blocks (hashed one by one)
    length = np.concatenate([np.repeat(np.arange(1, 41), 20), [257, 300, 1000]])
    begin = rng.integers(0, len(data) - length)  # a span may end at the last byte: the padding is not read
    begin[-4] = len(data) - length[-4]
    expected = [
        murmurhash3_32(data[b : b + n].tobytes(), seed=0, positive=True)
        for b, n in zip(begin, length, strict=True)
    ]
    assert murmurhash3_32_spans(data, begin, length).tolist() == expected


@pytest.mark.parametrize("jobs", [1, 2])
def test_counts_cut_into_chunks_are_joined_row_for_row(monkeypatch, reddit_posts, jobs):
    texts = list(reddit_posts["text"][:500]) + AWKWARD_TEXTS
    params = NgramEncoder(**SMALL).params  # char and word blocks
    whole = count_ngrams(params, texts)
    monkeypatch.setattr(hashing, "CHUNK_POSTS", 37)  # 14 chunks, the last one short
    chunked = count_ngrams(params, texts, jobs=jobs)
    assert chunked.shape == whole.shape and chunked.has_sorted_indices and chunked.dtype == np.float32
    np.testing.assert_array_equal(chunked.indptr, whole.indptr)
    np.testing.assert_array_equal(chunked.indices, whole.indices)
    np.testing.assert_array_equal(chunked.data, whole.data)


def test_counts_on_threads_are_the_counts_of_one_thread(monkeypatch, reddit_posts):
    texts = list(reddit_posts["text"][:500]) + AWKWARD_TEXTS
    params = NgramEncoder(**SMALL).params
    alone = count_ngrams(params, texts, jobs=1)
    original, sliced = hashing._count_chunk, []

    def counted(args):
        sliced.append(len(args[1]))
        return original(args)

    monkeypatch.setattr(hashing, "THREAD_POSTS", 60)
    monkeypatch.setattr(hashing.os, "cpu_count", lambda: 3)  # three slices, the last one short
    monkeypatch.setattr(hashing, "_count_chunk", counted)
    threaded = count_ngrams(params, texts)
    assert len(texts) == 512 and sorted(sliced, reverse=True) == [171, 171, 170]
    assert threaded.shape == alone.shape and threaded.has_sorted_indices and threaded.dtype == np.float32
    np.testing.assert_array_equal(threaded.indptr, alone.indptr)
    np.testing.assert_array_equal(threaded.indices, alone.indices)
    np.testing.assert_array_equal(threaded.data, alone.data)


def test_each_post_its_own_group_sums_to_the_counts_themselves(reddit_texts):
    counts = NgramEncoder(**SMALL).counts(reddit_texts[:50])
    assert summed_counts(counts, np.arange(50), 50) is counts
    shuffled = summed_counts(counts, np.arange(50)[::-1].copy(), 50)  # a permutation is not the identity
    np.testing.assert_array_equal(shuffled.toarray(), counts.toarray()[::-1])


def test_fitting_on_a_sample_of_rows_equals_fitting_on_a_copy_of_them(reddit_posts):
    encoder = NgramEncoder(**SMALL)
    counts = encoder.counts(list(reddit_posts["text"][:600]))
    rows = np.sort(np.random.default_rng(3).choice(600, size=250, replace=False))
    on_rows = NgramEncoder(**SMALL).fit(counts=counts, rows=rows)
    on_copy = NgramEncoder(**SMALL).fit(counts=counts[rows])
    on_all = NgramEncoder(**SMALL).fit(counts=counts)
    torch.testing.assert_close(on_rows.idf, on_copy.idf, rtol=0, atol=0)
    torch.testing.assert_close(on_rows.centre_sketch, on_copy.centre_sketch, rtol=1e-6, atol=1e-7)
    assert not torch.equal(on_rows.idf, on_all.idf)  # the sample is what was fitted, not the whole corpus


def test_only_the_rows_of_the_ngrams_in_the_batch_get_gradients():
    encoder = NgramEncoder(**TINY, table_rows=16).fit(["abc", "xyz"])
    profiles = encoder.profiles(encoder.counts(["ab", "bba"]))
    vectors = encoder(profiles)  # training mode: centred on the batch's mean
    (vectors[0] @ vectors[1]).backward()
    grad = encoder.table.weight.grad
    assert grad.is_sparse
    touched = set(grad.coalesce().indices()[0].tolist())
    assert touched == {bucket("a", 64) % 16, bucket("b", 64) % 16}  # bucket i reads row i mod table_rows
    weights = (
        encoder.sketch_weight.grad
    )  # the per-bucket weights: a gradient only where the batch has n-grams
    assert set(np.flatnonzero(weights.numpy()).tolist()) <= {bucket("a", 64), bucket("b", 64)}


def trained_like(encoder: NgramEncoder) -> NgramEncoder:
    """`encoder` moved off its seeded start, as training would (so save/load is tested on learned values)."""
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        encoder.table.weight.add_(0.01 * torch.randn(encoder.table.weight.shape, generator=generator))
        encoder.sketch_weight.mul_(torch.rand(encoder.n_features, generator=generator) + 0.5)
    return encoder


def test_save_and_load_give_identical_vectors(tmp_path, reddit_texts):
    encoder = trained_like(NgramEncoder(**SMALL, table_storage="float32").fit(reddit_texts))
    with torch.no_grad():  # the weights stored as float16 on disk: start from values float16 holds exactly
        encoder.sketch_weight.copy_(encoder.sketch_weight.half().float())
    before = encoder.eval().embed_texts(reddit_texts[:60])
    loaded = NgramEncoder.load(encoder.save(tmp_path / "model"))
    np.testing.assert_array_equal(loaded.embed_texts(reddit_texts[:60]), before)
    assert loaded.params == encoder.params


def test_int8_rows_keep_every_cosine_within_a_hundredth(tmp_path, reddit_texts):
    encoder = trained_like(NgramEncoder(**SMALL).fit(reddit_texts)).eval()
    before = encoder.embed_texts(reddit_texts[:60])
    folder = encoder.save(tmp_path / "model")
    loaded = NgramEncoder.load(folder)
    after = loaded.embed_texts(reddit_texts[:60])
    assert np.abs(after @ after.T - before @ before.T).max() < 0.01
    float32 = NgramEncoder(**{**SMALL, "table_storage": "float32"}).fit(reddit_texts).save(tmp_path / "f32")
    # int8 rows + one float16 scale per row: about a quarter of the float32 table
    ratio = (folder / "ngram.safetensors").stat().st_size / (float32 / "ngram.safetensors").stat().st_size
    assert ratio < 0.6


def test_a_folder_whose_settings_and_weights_disagree_is_refused_naming_the_file(tmp_path, reddit_texts):
    folder = NgramEncoder(**TINY).fit(reddit_texts).save(tmp_path / "model")
    config = json.loads((folder / "ngram.json").read_text())
    config["params"]["char_buckets"] = 128
    (folder / "ngram.json").write_text(json.dumps(config))
    with pytest.raises(
        NgramModelError, match=r"ngram\.safetensors: idf has shape \(64,\), but .*ngram\.json"
    ):
        NgramEncoder.load(folder)
    (folder / "ngram.safetensors").unlink()
    with pytest.raises(NgramModelError, match=r"ngram\.safetensors: missing"):
        NgramEncoder.load(folder)
    (folder / "ngram.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(NgramModelError, match=r"ngram\.safetensors: damaged"):
        NgramEncoder.load(folder)


def test_awkward_texts_featurise_and_an_account_without_ngrams_gets_a_zero_vector(reddit_texts):
    encoder = NgramEncoder(**SMALL).fit(reddit_texts).eval()
    awkward = ["", "a", "😀😀😀", "x" * 1_000_000, "caf\udce9 broken surrogate"]
    vectors = encoder.embed_texts(awkward)
    assert np.isfinite(vectors).all()
    assert np.linalg.norm(vectors[0]) == 0  # nothing to count: no direction, never NaN
    np.testing.assert_allclose(np.linalg.norm(vectors[1:], axis=1), 1, atol=1e-5)


def test_the_untrained_sketch_keeps_the_centred_profiles_cosines(reddit_texts):
    """A count sketch roughly keeps inner products (feature hashing): at 4,096 outputs, the untrained sketch
    path's cosines track those of the centred profiles themselves."""
    encoder = NgramEncoder(char_buckets=2**14, word_buckets=0, dim=0, sketch_dim=4096).fit(reddit_texts)
    vectors = encoder.eval().embed_texts(reddit_texts[:60])
    profiles = encoder.profiles(encoder.counts(reddit_texts[:60])).toarray()
    profiles -= profiles.mean(0)  # 60 posts >= MIN_CENTRE_GROUPS: centred on their own mean
    profiles /= np.linalg.norm(profiles, axis=1, keepdims=True)
    upper = np.triu_indices(60, k=1)
    exact, sketched = (profiles @ profiles.T)[upper], (vectors @ vectors.T)[upper]
    assert np.corrcoef(exact, sketched)[0, 1] > 0.9


def test_a_score_is_the_mix_of_the_two_paths_cosines(reddit_texts):
    encoder = trained_like(NgramEncoder(**SMALL, mix=0.25).fit(reddit_texts)).eval()
    vectors = encoder.embed_texts(reddit_texts[:80])
    a, b = vectors[:, :16] / math.sqrt(0.25), vectors[:, 16:] / math.sqrt(0.75)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(vectors @ vectors.T, 0.25 * a @ a.T + 0.75 * b @ b.T, atol=1e-5)


def test_groups_are_centred_on_their_own_mean_when_there_are_enough_else_on_the_stored_one(reddit_texts):
    encoder = trained_like(NgramEncoder(**SMALL).fit(reddit_texts)).eval()
    texts = reddit_texts[:120]
    groups = np.arange(120) // 2  # 60 groups of two posts
    summed = summed_counts(encoder.counts(texts), groups, 60)
    with torch.no_grad():
        a, b = encoder._paths(encoder.profiles(summed))

    def by_hand(centre_a, centre_b):
        parts = [(a - centre_a) / (a - centre_a).norm(dim=1, keepdim=True), (b - centre_b)]
        parts[1] = parts[1] / parts[1].norm(dim=1, keepdim=True)
        return torch.cat([math.sqrt(0.1) * parts[0], math.sqrt(0.9) * parts[1]], dim=1).numpy()

    own = encoder.embed_groups(texts, groups, 60)
    np.testing.assert_allclose(own, by_hand(a.mean(0), b.mean(0)), atol=1e-5)
    few = encoder.embed_groups(texts[:20], groups[:20], 10)  # 10 groups < MIN_CENTRE_GROUPS: the stored mean
    np.testing.assert_allclose(few, by_hand(encoder.centre_trained, encoder.centre_sketch)[:10], atol=1e-5)
    encoder.params["centre"] = "fixed"
    encoder.fit_centre(summed)  # the stored mean is now these 60 groups' own
    np.testing.assert_allclose(encoder.embed_groups(texts[:20], groups[:20], 10), own[:10], atol=1e-5)


def test_groups_of_two_sizes_are_centred_by_size_and_an_index_keeps_the_curve(tmp_path, reddit_texts):
    """40 one-post groups and 40 four-post groups: each centred on the mean of its own size (two knots); fixed to
    them, a later group of 2 posts is centred halfway between (log2), and the curve survives save and load."""
    encoder = trained_like(NgramEncoder(**SMALL, table_storage="float32").fit(reddit_texts)).eval()
    with torch.no_grad():  # stored as float16 on disk: start from values float16 holds exactly
        encoder.sketch_weight.copy_(encoder.sketch_weight.half().float())
    texts = reddit_texts[:200]
    groups = np.r_[np.arange(40), 40 + np.arange(160) // 4]
    sizes = np.bincount(groups)
    summed = summed_counts(encoder.counts(texts), groups, 80)
    raw, _ = encoder.raw_paths(summed)

    def by_hand(rows, centres):
        d = SMALL["dim"]
        a, b = rows[:, :d] - centres[:, :d], rows[:, d:] - centres[:, d:]
        a /= np.linalg.norm(a, axis=1, keepdims=True)
        b /= np.linalg.norm(b, axis=1, keepdims=True)
        return np.hstack([math.sqrt(0.1) * a, math.sqrt(0.9) * b])

    means = np.stack([raw[:40].mean(0), raw[40:].mean(0)])
    own = encoder.embed_groups(texts, groups, 80)
    np.testing.assert_allclose(own, by_hand(raw, means[(sizes == 4).astype(int)]), atol=1e-5)
    fixed = encoder.fixed_to(summed, sizes)
    np.testing.assert_allclose(fixed.sized_centre.positions, [0.0, 2.0])
    later = summed_counts(encoder.counts(texts[:2]), np.zeros(2, dtype=np.int64), 1)
    later_raw, _ = encoder.raw_paths(later)
    expected = by_hand(later_raw, means.mean(0, keepdims=True))
    np.testing.assert_allclose(
        fixed.embed_groups(texts[:2], np.zeros(2, dtype=np.int64), 1), expected, atol=1e-5
    )
    loaded = NgramEncoder.load(fixed.save(tmp_path / "fixed"))
    np.testing.assert_allclose(loaded.sized_centre.means, fixed.sized_centre.means)
    np.testing.assert_allclose(
        loaded.embed_groups(texts, groups, 80), fixed.embed_groups(texts, groups, 80), atol=1e-6
    )


def test_settings_outside_their_range_are_one_line_errors():
    with pytest.raises(NgramModelError, match="char_ngrams must be"):
        NgramEncoder(char_ngrams=[3, 1])
    with pytest.raises(NgramModelError, match="unknown n-gram setting"):
        NgramEncoder(buckets=4)
    with pytest.raises(NgramModelError, match="needs dim > 0"):
        NgramEncoder(dim=0, sketch_dim=0)
    with pytest.raises(NgramModelError, match="mix must be between 0 and 1"):
        NgramEncoder(mix=1.0)
    with pytest.raises(NgramModelError, match="centre must be one of corpus, fixed"):
        NgramEncoder(centre="batch")


@pytest.mark.parametrize("n, jobs", [(12_000, 1), (1_200, None), (12_000, 2)])  # serial, threads, processes
def test_counting_tells_each_chunk_it_counts_so_a_bar_can_show_progress(n, jobs):
    """Audit 11: embedding with `style` showed no progress at all while it counted n-grams (its slowest step)."""
    from authorid.encoders.hashing import count_ngrams

    told: list[int] = []
    texts = [f"post number {i} says hello" for i in range(n)]
    params = NgramEncoder(char_buckets=2**10, word_buckets=2**10, dim=8, table_rows=64, sketch_dim=16).params
    counts = count_ngrams(params, texts, jobs=jobs, on_counted=told.append)
    assert sum(told) == n == counts.shape[0] and len(told) > 1
