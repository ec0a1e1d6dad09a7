"""Imprinted class heads (`optim.head_init = "centroids"`): centroids of the real enron_demo posts, heads set
from them, and a training run whose first loss is already far below a random head's."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from tiny_model import TINY

from authorid.config import ConfigError
from authorid.encoders import build_style_encoder, embed_texts, mean_pool
from authorid.losses import build
from authorid.training.arguments import resolve_config
from authorid.training.head_init import IMPRINT_SCALE, class_centroids, class_heads, imprint
from authorid.workflows.train import train

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def encoder():
    return build_style_encoder("minilm", max_seq_length=32)


@pytest.fixture(scope="module")
def few(demo_posts):
    """The posts of 6 enron_demo authors (the centroids embed every one of them)."""
    keep = set(sorted(set(demo_posts["account_id"]))[:6])
    return demo_posts.filter(lambda batch: [a in keep for a in batch["account_id"]], batched=True)


def test_centroids_are_the_unit_means_of_a_seeded_sample_per_account(encoder, few):
    demo_posts = few
    accounts = np.array(sorted(set(demo_posts["account_id"])))[::-1]  # any label order is followed
    centroids = class_centroids(encoder, demo_posts, accounts, posts_per_account=3, seed=5)
    assert centroids.shape == (6, 384)
    np.testing.assert_allclose(np.linalg.norm(centroids, axis=1), 1.0, atol=1e-5)
    # The same as embedding each account's chosen posts by hand: find them by re-running the sampler's rows.
    first = accounts[0]
    texts = [t for t, a in zip(demo_posts["text"], demo_posts["account_id"], strict=True) if a == first]
    candidates = embed_texts(encoder, texts, progress=False)
    cosines = candidates @ centroids[0]
    assert cosines.max() > 0.5  # the centroid sits among the account's own posts
    np.testing.assert_allclose(
        class_centroids(encoder, demo_posts, accounts, posts_per_account=3, seed=5), centroids
    )
    all_posts = class_centroids(encoder, demo_posts, accounts, posts_per_account=10_000)
    groups = np.array([list(accounts).index(a) for a in demo_posts["account_id"]])
    expected = mean_pool(embed_texts(encoder, list(demo_posts["text"]), progress=False), groups, 6)
    np.testing.assert_allclose(all_posts, expected, atol=1e-5)


def test_an_account_without_posts_is_refused(encoder, few):
    with pytest.raises(ValueError, match="1 of the 2 training accounts have no post"):
        class_centroids(encoder, few, np.array([few["account_id"][0], "nobody"]))


@pytest.mark.parametrize(
    ("loss", "params"), [("ce", {}), ("arcface", {"sub_centers": 2}), ("ce+supcon:0.5", {})]
)
def test_imprinted_heads_rank_each_centroid_first(loss, params):
    centroids = torch.nn.functional.normalize(torch.randn(6, 16, generator=torch.Generator().manual_seed(0)))
    module = build(loss, 16, 6, **params)
    assert imprint(module, centroids) == 1
    (head,) = class_heads(module)
    logits = head(centroids)
    assert logits.argmax(dim=1).tolist() == list(range(6))
    if loss.startswith("ce"):
        torch.testing.assert_close(logits.diagonal(), torch.full((6,), IMPRINT_SCALE))
    else:
        torch.testing.assert_close(logits.diagonal(), torch.ones(6))
    assert imprint(build("supcon", 16, 6), centroids) == 0  # no head: nothing to set


def test_unknown_head_init_is_a_one_line_config_error():
    with pytest.raises(ConfigError, match="optim.head_init must be one of random, centroids"):
        resolve_config(overrides={"optim.head_init": "zeros"})


def test_an_imprinted_run_starts_from_a_far_lower_loss(tmp_path, demo_posts):
    """MiniLM (the tiny random BERT's posts all look alike, so its centroids would not tell authors apart);
    learning rates ~ 0, so the first steps' losses are the heads' starting points; no validation."""
    first_loss = {}
    for init in ("random", "centroids"):
        out = tmp_path / init
        overrides = {
            **TINY,
            "optim.head_init": init,
            "optim.lr": 1e-9,
            "optim.head_lr": 1e-9,
            "run.eval_every": -1,
        }
        train(
            demo_posts,
            out=out,
            base="minilm",
            loss="ce",
            task="attribution",
            max_steps=2,
            overrides=overrides,
        )
        log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
        first_loss[init] = next(r["loss"] for r in log if r["kind"] == "step")
        head = load_file(out / "loss_head.safetensors")
        weight = next(v for k, v in head.items() if k.endswith("weight"))
        norms = weight.norm(dim=1)
        if init == "centroids":  # lr ~ 0: the exported head is still the imprinted one
            torch.testing.assert_close(norms, torch.full_like(norms, IMPRINT_SCALE), atol=1e-4, rtol=0)
    assert first_loss["random"] == pytest.approx(np.log(40), abs=0.2)  # 40 authors: a uniform softmax
    assert first_loss["centroids"] < first_loss["random"] - 1.0
