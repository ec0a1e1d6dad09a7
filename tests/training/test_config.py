"""TrainConfig from TOML, presets and dotted overrides (authorid.config + authorid.training.arguments)."""

from __future__ import annotations

import pytest

from authorid.config import ConfigError, apply_overrides, coerce, parse_overrides
from authorid.training.arguments import PRESETS, TrainConfig, resolve_config


def test_parse_overrides_pairs_flags_and_equals():
    args = ["--optim.lr", "3e-5", "--run.cpu", "--episodes.posts-per-episode=4,8", "--run.seed", "7"]
    assert parse_overrides(args) == {
        "optim.lr": "3e-5",
        "run.cpu": True,
        "episodes.posts_per_episode": "4,8",
        "run.seed": "7",
    }


def test_parse_overrides_refuses_a_bare_value():
    with pytest.raises(ConfigError, match="unexpected argument 'stray'"):
        parse_overrides(["stray"])


def test_overrides_convert_to_the_field_types():
    cfg = apply_overrides(
        TrainConfig(),
        {
            "optim.lr": "3e-5",
            "run.max_steps": "12",
            "run.cpu": "true",
            "run.patience": "none",
            "episodes.posts_per_episode": "4,8",
            "loss.params.temperature": "0.1",
        },
    )
    assert cfg.optim.lr == 3e-5
    assert cfg.run.max_steps == 12
    assert cfg.run.cpu is True
    assert cfg.run.patience is None
    assert cfg.episodes.posts_per_episode == [4, 8]
    assert cfg.loss.params == {"temperature": 0.1}
    assert TrainConfig().loss.params == {}  # the default was copied, not changed


def test_int_or_list_field_prefers_int():
    assert coerce("8", int | list[int], "episodes.posts_per_episode") == 8


def test_unknown_key_is_one_line_listing_valid_keys():
    with pytest.raises(ConfigError) as err:
        apply_overrides(TrainConfig(), {"optim.learning_rate": "1"})
    message = str(err.value)
    assert message.startswith("unknown config key optim.learning_rate; valid keys: optim.lr, optim.head_lr,")
    assert "\n" not in message
    with pytest.raises(
        ConfigError, match="unknown config key optimizer.lr; valid keys: data.corpus, data.map,"
    ):
        apply_overrides(TrainConfig(), {"optimizer.lr": "1"})


def test_bad_value_names_the_key():
    with pytest.raises(ConfigError, match="run.max_steps must be an integer, got 'many'"):
        apply_overrides(TrainConfig(), {"run.max_steps": "many"})


def test_toml_then_overrides_over_preset(tmp_path):
    path = tmp_path / "train.toml"
    path.write_text('[optim]\nlr = 1e-4\n[loss]\nname = "supcon"\n[loss.params]\ntemperature = 0.2\n')
    cfg = resolve_config(path, preset="quick", overrides={"run.max_steps": 5})
    assert cfg.optim.lr == 1e-4  # the file beats the preset
    assert cfg.model.max_seq_length == PRESETS["quick"]["model.max_seq_length"]  # the preset beats defaults
    assert cfg.run.max_steps == 5  # overrides beat the file
    assert (cfg.loss.name, cfg.loss.params) == ("supcon", {"temperature": 0.2})


def test_toml_unknown_section_key(tmp_path):
    path = tmp_path / "train.toml"
    path.write_text("[optim]\nlearning_rate = 1e-4\n")
    with pytest.raises(
        ConfigError, match="unknown config key optim.learning_rate; valid keys: optim.lr, optim.head_lr"
    ):
        resolve_config(path)


def test_out_of_range_values():
    with pytest.raises(ConfigError, match="model.pooling must be one of mean, attention, got 'max'"):
        resolve_config(overrides={"model.pooling": "max"})
    with pytest.raises(ConfigError, match="unknown preset 'huge'; valid: quick, cpu, ngram, gpu"):
        resolve_config(preset="huge")


def test_shipped_example_config_loads():
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "corpora" / "presets" / "train-reddit-nbc.toml"
    cfg = resolve_config(path)
    assert (cfg.data.corpus, cfg.loss.name, cfg.episodes.accounts_per_batch) == (
        "reddit_college",
        "nbc-softmax",
        32,
    )
