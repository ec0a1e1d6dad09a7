"""embed_texts / embed_accounts: same vectors as SentenceTransformer.encode, input order, account grouping."""

from __future__ import annotations

import numpy as np
import pytest

from authorid.encoders import AttentionPooling, embed_accounts, embed_texts
from authorid.schema import posts_from_records


def test_vectors_match_sentence_transformer_encode_on_real_posts(minilm32, reddit_texts):
    ours = embed_texts(minilm32, reddit_texts, batch_size=16, progress=False)
    reference = minilm32.encode(reddit_texts, batch_size=16, convert_to_numpy=True)
    assert ours.dtype == np.float32 and ours.shape == (100, 384)
    cosines = (ours * reference).sum(axis=1) / np.linalg.norm(reference, axis=1)
    assert cosines.min() >= 0.999
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_output_follows_input_order_not_length_order(minilm32, reddit_texts):
    # Lengths from 1 character to a truncated long post, deliberately out of length order.
    texts = ["ok", reddit_texts[0] * 5, "Is the library open on Sunday?", "y", reddit_texts[3]]
    vectors = embed_texts(minilm32, texts, batch_size=2, progress=False)
    one_by_one = np.stack([minilm32.encode([t], convert_to_numpy=True)[0] for t in texts])
    np.testing.assert_allclose(vectors, one_by_one, atol=1e-5)
    reversed_run = embed_texts(minilm32, texts[::-1], batch_size=2, progress=False)
    np.testing.assert_allclose(reversed_run[::-1], vectors, atol=1e-5)


def test_empty_input_gives_an_empty_matrix(minilm32):
    assert embed_texts(minilm32, [], progress=False).shape == (0, 384)


def test_non_string_text_is_rejected(minilm32):
    with pytest.raises(ValueError, match="text 1 is NoneType"):
        embed_texts(minilm32, ["fine", None], progress=False)


def _posts(reddit_texts):
    # Accounts interleaved on purpose: carol first, then alice, carol again, bob, alice.
    owners = ["carol", "alice", "carol", "bob", "alice", "alice"]
    return posts_from_records([{"account_id": a, "text": reddit_texts[i]} for i, a in enumerate(owners)])


def test_mean_account_vectors_equal_a_hand_computation(minilm32, reddit_texts):
    accounts = embed_accounts(minilm32, _posts(reddit_texts), progress=False)
    assert accounts.account_ids == ["carol", "alice", "bob"]
    assert accounts.n_posts.tolist() == [2, 3, 1]
    post = minilm32.encode(reddit_texts[:6], convert_to_numpy=True)
    post /= np.linalg.norm(post, axis=1, keepdims=True)
    for name, rows in {"carol": [0, 2], "alice": [1, 4, 5], "bob": [3]}.items():
        mean = post[rows].mean(axis=0)
        np.testing.assert_allclose(accounts[name], mean / np.linalg.norm(mean), atol=1e-5)


def test_attention_pooling_pools_each_account_as_one_episode(minilm32, reddit_texts):
    import torch

    torch.manual_seed(0)
    module = AttentionPooling(384, heads=4)
    torch.nn.init.normal_(module.attention.out_proj.weight, std=0.2)  # a non-trivial "trained" module
    posts = _posts(reddit_texts)
    accounts = embed_accounts(minilm32, posts, pooling=module, episode_batch_size=2, progress=False)
    post = torch.from_numpy(embed_texts(minilm32, reddit_texts[:6], progress=False))
    with torch.inference_mode():
        alice = module(post[[1, 4, 5]].unsqueeze(0))[0].numpy()
    np.testing.assert_allclose(accounts["alice"], alice, atol=1e-5)
    mean = embed_accounts(minilm32, posts, progress=False)
    assert float(accounts["alice"] @ mean["alice"]) < 0.9999  # the attention did change the vector


def test_unknown_pooling_name_is_rejected(minilm32, reddit_texts):
    with pytest.raises(ValueError, match="pooling must be"):
        embed_accounts(minilm32, _posts(reddit_texts), pooling="max", progress=False)
