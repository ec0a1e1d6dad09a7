"""Mean and attention pooling of post vectors into account vectors; attention pooling save -> load."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from authorid.encoders import AttentionPooling, load_pooling, mean_pool, save_pooling


def test_mean_pool_is_the_normalised_mean_of_normalised_posts():
    posts = np.array([[3.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=np.float32)
    accounts = mean_pool(posts, groups=np.array([0, 0, 1]), n_groups=2)
    # Account 0: normalize(mean([1, 0], [0, 1])) = [0.7071, 0.7071]; the 3x length of post 0 does not count.
    np.testing.assert_allclose(accounts, [[0.70710677, 0.70710677], [0.70710677, 0.70710677]], atol=1e-7)
    accounts = mean_pool(posts, groups=np.array([1, 0, 0]), n_groups=2)
    a = np.array([0.0, 1.0]) + np.array([1.0, 1.0]) / np.sqrt(2)
    np.testing.assert_allclose(accounts, [a / np.linalg.norm(a), [1.0, 0.0]], atol=1e-6)


def _trained(dim=8, heads=2, reduce="mean"):
    torch.manual_seed(0)
    module = AttentionPooling(dim, heads=heads, reduce=reduce)
    torch.nn.init.normal_(module.attention.out_proj.weight, std=0.5)  # stands in for training
    return module.eval()


def test_untrained_attention_pooling_equals_mean_pooling():
    torch.manual_seed(1)
    x = torch.randn(3, 5, 8)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0], [1, 0, 0, 0, 0]], dtype=torch.bool)
    pooled = AttentionPooling(8, heads=2).eval()(x, mask)
    expected = [torch.nn.functional.normalize(x[i, mask[i]].mean(0), dim=0) for i in range(3)]
    torch.testing.assert_close(pooled, torch.stack(expected))


@pytest.mark.parametrize("reduce", ["mean", "max"])
def test_padding_posts_do_not_change_the_output(reduce):
    module = _trained(reduce=reduce)
    torch.manual_seed(2)
    real = torch.randn(1, 3, 8)
    padded = torch.cat([real, 100 * torch.randn(1, 4, 8)], dim=1)  # loud garbage in the padding slots
    mask = torch.tensor([[True] * 3 + [False] * 4])
    with torch.inference_mode():
        alone = module(real)
        with_padding = module(padded, mask)
    torch.testing.assert_close(with_padding, alone, rtol=1e-5, atol=1e-6)
    assert float(alone.norm()) == pytest.approx(1.0, abs=1e-6)
    # ...and the trained attention does mix the posts: the result is not their plain mean.
    plain = torch.nn.functional.normalize(real.mean(1), dim=-1)
    assert float((alone * plain).sum()) < 0.999


def test_all_padding_episode_is_rejected():
    with pytest.raises(ValueError, match="at least one real post"):
        AttentionPooling(8, heads=2)(
            torch.randn(2, 3, 8), torch.tensor([[1, 0, 0], [0, 0, 0]], dtype=torch.bool)
        )


def test_dim_must_divide_into_heads():
    with pytest.raises(ValueError, match="not divisible"):
        AttentionPooling(10, heads=4)


def test_save_load_round_trip_gives_identical_outputs_without_pickle(tmp_path):
    module = _trained(reduce="max")
    folder = save_pooling(module, tmp_path)
    assert folder == tmp_path / "authorid_pooling"
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]
    assert json.loads((folder / "config.json").read_text()) == {
        "type": "AttentionPooling",
        "dim": 8,
        "heads": 2,
        "dropout": 0.0,
        "reduce": "max",
    }
    loaded = load_pooling(tmp_path)
    x = torch.randn(4, 6, 8)
    mask = torch.rand(4, 6) > 0.4
    mask[:, 0] = True
    with torch.inference_mode():
        torch.testing.assert_close(loaded(x, mask), module(x, mask), rtol=0, atol=0)


def test_load_pooling_without_a_saved_module_is_none(tmp_path):
    assert load_pooling(tmp_path) is None
