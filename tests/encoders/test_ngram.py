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
from sklearn.utils import murmurhash3_32

from authorid.encoders import NgramEncoder, NgramModelError
from authorid.encoders.hashing import count_ngrams

#: Small enough to reason about by hand: unigram characters, no words, 64 buckets, an 8-dim projection.
TINY = {"char_ngrams": [1, 1], "char_buckets": 64, "word_buckets": 0, "dim": 8}


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


def test_the_account_vector_ignores_post_order_and_how_posts_are_cut_into_episodes(reddit_texts):
    encoder = NgramEncoder(char_buckets=2**12, word_buckets=2**12, dim=16).fit(reddit_texts)
    texts = reddit_texts[:12]
    whole = encoder.embed_groups(texts, np.zeros(12, dtype=int), 1)
    shuffled = encoder.embed_groups(texts[::-1], np.zeros(12, dtype=int), 1)
    np.testing.assert_array_equal(whole, shuffled)
    # Two episodes of six posts: their counts summed are the account's counts, so the same vector.
    episodes = encoder.counts(texts[:6]).sum(axis=0) + encoder.counts(texts[6:]).sum(axis=0)
    from_episodes = encoder(encoder.profiles(sp.csr_matrix(episodes))).detach().numpy()
    np.testing.assert_allclose(whole, from_episodes, atol=1e-6)


def test_the_hash_is_the_same_in_another_process_with_another_hash_seed():
    settings = {"char_ngrams": [1, 4], "char_buckets": 2**18, "word_ngrams": [1, 2], "word_buckets": 2**18}
    settings |= {"lowercase_words": True}
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


def test_only_the_rows_of_the_ngrams_in_the_batch_get_gradients():
    encoder = NgramEncoder(**TINY).fit(["abc", "xyz"])
    profiles = encoder.profiles(encoder.counts(["ab", "ba"]))
    encoder(profiles).sum().backward()
    grad = encoder.table.weight.grad
    assert grad.is_sparse
    touched = set(grad.coalesce().indices()[0].tolist())
    assert touched == {bucket("a", 64), bucket("b", 64)}


def test_save_and_load_give_identical_vectors(tmp_path, reddit_texts):
    encoder = NgramEncoder(char_buckets=2**12, word_buckets=2**11, dim=16, sketch_dim=32, sketch_weight=0.5)
    encoder.fit(reddit_texts)
    with torch.no_grad():
        encoder.table.weight.add_(0.01)  # as if trained: not the seeded start
    before = encoder.embed_texts(reddit_texts[:50])
    loaded = NgramEncoder.load(encoder.save(tmp_path / "model"))
    np.testing.assert_array_equal(loaded.embed_texts(reddit_texts[:50]), before)
    assert loaded.params == encoder.params


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
    encoder = NgramEncoder(char_buckets=2**12, word_buckets=2**12, dim=16).fit(reddit_texts)
    awkward = ["", "a", "😀😀😀", "x" * 1_000_000, "caf\udce9 broken surrogate"]
    vectors = encoder.embed_texts(awkward)
    assert np.isfinite(vectors).all()
    assert np.linalg.norm(vectors[0]) == 0  # nothing to count: no direction, never NaN
    np.testing.assert_allclose(np.linalg.norm(vectors[1:], axis=1), 1, atol=1e-5)


def test_the_untrained_projection_keeps_the_profiles_nearest_neighbours(reddit_texts):
    """A random projection roughly keeps cosines (Johnson-Lindenstrauss): at 512 dims, the untrained vectors'
    cosines track the profiles' own (noise ~ 1/sqrt(512) on each cosine)."""
    encoder = NgramEncoder(char_buckets=2**14, word_buckets=0, dim=512).fit(reddit_texts)
    counts = encoder.counts(reddit_texts[:60])
    profiles = encoder.profiles(counts).toarray()
    vectors = encoder.embed_texts(reddit_texts[:60])
    upper = np.triu_indices(60, k=1)
    exact, projected = (profiles @ profiles.T)[upper], (vectors @ vectors.T)[upper]
    assert np.corrcoef(exact, projected)[0, 1] > 0.7


def test_settings_outside_their_range_are_one_line_errors():
    with pytest.raises(NgramModelError, match="char_ngrams must be"):
        NgramEncoder(char_ngrams=[3, 1])
    with pytest.raises(NgramModelError, match="unknown n-gram setting"):
        NgramEncoder(buckets=4)
    with pytest.raises(NgramModelError, match="needs dim > 0"):
        NgramEncoder(dim=0)
