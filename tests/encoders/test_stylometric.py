"""StylometricEncoder: the TF-IDF formula by hand, account profiles, spaCy blocks, SVD, save -> load."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from authorid.encoders import AccountVectors, StylometricEncoder, embed_accounts, embed_texts
from authorid.schema import posts_from_records


@pytest.fixture(scope="module")
def reddit_posts_small(reddit_posts):
    return reddit_posts.select(range(200))


def test_profile_is_sublinear_tf_idf_l2_normalised_by_hand():
    encoder = StylometricEncoder(ngram_range=(1, 2)).fit(["ab", "abb"])
    assert encoder.feature_names() == ["char:a", "char:ab", "char:b", "char:bb"]
    # "abb": tf a=1, ab=1, b=2, bb=1; df a=ab=b=2, bb=1 over n=2 posts; idf = ln((1+n)/(1+df)) + 1.
    idf = [1.0, 1.0, 1.0, math.log(3 / 2) + 1]
    weights = np.array([1.0, 1.0, 1 + math.log(2), 1.0]) * idf
    np.testing.assert_allclose(encoder.embed_texts(["abb"])[0], weights / np.linalg.norm(weights), rtol=1e-6)


def test_vectors_are_dense_float32_l2_normalised_and_deterministic(reddit_posts_small):
    texts = list(reddit_posts_small["text"])
    first = StylometricEncoder(max_features=5000).fit(texts)
    second = StylometricEncoder(max_features=5000).fit(texts)
    assert first.feature_names() == second.feature_names() and first.dim == 5000
    vectors = first.embed_texts(texts)
    assert vectors.dtype == np.float32 and vectors.shape == (200, 5000)
    norms = np.linalg.norm(vectors, axis=1)
    # Post 4 is the single emoji "✋🏼", none of whose n-grams is among the 5000 kept: a zero vector.
    assert texts[4] == "✋🏼" and norms[4] == 0
    np.testing.assert_allclose(np.delete(norms, 4), 1.0, atol=1e-5)
    np.testing.assert_array_equal(vectors, second.embed_texts(texts))


def test_case_is_kept_by_default():
    encoder = StylometricEncoder(ngram_range=(1, 1)).fit(["I think", "i think"])
    assert "char:I" in encoder.feature_names() and "char:i" in encoder.feature_names()


def test_account_profile_sums_post_counts_before_weighting():
    encoder = StylometricEncoder(ngram_range=(1, 2)).fit(["ab", "abb", "ba"])
    posts = posts_from_records(
        [
            {"account_id": "x", "text": "ab"},
            {"account_id": "y", "text": "ba"},
            {"account_id": "x", "text": "bb"},
        ]
    )
    accounts = encoder.embed_accounts(posts)
    assert accounts.account_ids == ["x", "y"] and accounts.n_posts.tolist() == [2, 1]
    # x's profile comes from its summed counts a=1, ab=1, b=3, bb=1 (no n-gram spans two posts); df over the
    # fitted corpus ["ab", "abb", "ba"]: a=3, ab=2, b=3, ba=1, bb=1; idf = ln(4 / (1 + df)) + 1.
    assert encoder.feature_names() == ["char:a", "char:ab", "char:b", "char:ba", "char:bb"]
    counts = np.array([1, 1, 3, 0, 1])
    df = np.array([3, 2, 3, 1, 1])
    weights = np.where(counts > 0, 1 + np.log(np.maximum(counts, 1)), 0) * (np.log(4 / (1 + df)) + 1)
    np.testing.assert_allclose(accounts["x"], weights / np.linalg.norm(weights), rtol=1e-6)
    np.testing.assert_allclose(accounts["y"], encoder.embed_texts(["ba"])[0], rtol=1e-6)


def test_spacy_function_word_and_pos_blocks():
    texts = ["I think the cat sat on the mat.", "She said that we would go there."]
    encoder = StylometricEncoder(ngram_range=(1, 1), function_words=True, pos_ngrams=True).fit(texts)
    names = encoder.feature_names()
    assert "fw:the" in names and "pos:PRON VERB" in names and "pos:DET NOUN VERB" in names
    vector = dict(zip(names, encoder.embed_texts(["I think the dog ran."])[0], strict=True))
    assert vector["fw:the"] > 0 and vector["pos:PRON VERB"] > 0 and vector["pos:DET NOUN VERB"] > 0
    assert vector["fw:she"] == 0 and vector["pos:PRON AUX"] == 0
    assert np.linalg.norm(list(vector.values())) == pytest.approx(1.0, abs=1e-6)


def test_svd_dim_gives_dense_normalised_vectors(reddit_posts_small):
    encoder = StylometricEncoder(max_features=3000, dim=16).fit(reddit_posts_small)
    accounts = embed_accounts(encoder, reddit_posts_small)
    assert isinstance(accounts, AccountVectors) and accounts.vectors.shape == (len(accounts), 16)
    assert len(accounts) == len(set(reddit_posts_small["account_id"]))
    np.testing.assert_allclose(np.linalg.norm(accounts.vectors, axis=1), 1.0, atol=1e-5)
    assert embed_texts(encoder, ["hello there"]).shape == (1, 16)


def test_the_same_posts_in_another_order_give_the_same_svd(reddit_posts):
    # audit 16: the randomized SVD was fitted in row order, and its trailing components depend on it: a shuffled
    # file moved account vectors by up to 0.36 and flipped `score` decisions
    texts = list(reddit_posts["text"])
    shuffled = [texts[i] for i in np.random.default_rng(3).permutation(len(texts))]
    first = StylometricEncoder(max_features=5000, dim=64).fit(texts)
    again = StylometricEncoder(max_features=5000, dim=64).fit(shuffled)
    np.testing.assert_array_equal(first.embed_texts(texts[:300]), again.embed_texts(texts[:300]))


def test_the_fingerprint_tells_apart_fits_on_other_posts(reddit_posts_small):
    # audit 16: it hashed the first 1,000 feature names only, so fits on corpora sharing them were one model to
    # the checks that keep a calibration or a vectors file with the model that made them
    from authorid.model import StyleModel

    texts = list(reddit_posts_small["text"])

    def fingerprint(corpus):
        return StyleModel(name="stylometric:16", encoder=StylometricEncoder(dim=16).fit(corpus)).fingerprint()

    first = fingerprint(texts)
    assert fingerprint(list(reversed(texts))) == first  # the same posts: the same model
    # 20 posts twice: the same vocabulary, other idf and SVD
    assert fingerprint(texts + texts[:20]) != first


@pytest.mark.parametrize("options", [{}, {"dim": 12}, {"function_words": True, "pos_ngrams": True}])
def test_save_load_round_trip_gives_identical_vectors(tmp_path, reddit_posts_small, options):
    texts = list(reddit_posts_small["text"])[:60]
    encoder = StylometricEncoder(max_features=2000, **options).fit(texts)
    encoder.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stylometric.json", "stylometric.safetensors"]
    assert json.loads((tmp_path / "stylometric.json").read_text())["params"]["max_features"] == 2000
    loaded = StylometricEncoder.load(tmp_path)
    assert loaded.feature_names() == encoder.feature_names()
    np.testing.assert_array_equal(loaded.embed_texts(texts), encoder.embed_texts(texts))


def test_unfitted_encoder_and_bad_options_raise(tmp_path):
    with pytest.raises(ValueError, match="not fitted"):
        StylometricEncoder().embed_texts(["x"])
    with pytest.raises(ValueError, match="ngram_range"):
        StylometricEncoder(ngram_range=(3, 2))
    with pytest.raises(ValueError, match="stylometric.json missing"):
        StylometricEncoder.load(tmp_path)


def test_chunked_embedding_equals_embedding_all_posts_at_once(reddit_posts_small, monkeypatch):
    from authorid.encoders import stylometric

    encoder = StylometricEncoder(ngram_range=(1, 3)).fit(reddit_posts_small)
    whole_accounts = encoder.embed_accounts(reddit_posts_small)
    whole_posts = encoder.embed_texts(reddit_posts_small["text"])
    # chunks of 7 posts cut through accounts: their counts must still be summed across chunks
    monkeypatch.setattr(stylometric, "CHUNK_POSTS", 7)
    chunked_accounts = encoder.embed_accounts(reddit_posts_small)
    assert chunked_accounts.account_ids == whole_accounts.account_ids
    np.testing.assert_allclose(chunked_accounts.vectors, whole_accounts.vectors, atol=1e-6)
    np.testing.assert_allclose(encoder.embed_texts(reddit_posts_small["text"]), whole_posts, atol=1e-6)
