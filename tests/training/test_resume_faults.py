"""Resuming from a damaged checkpoint: a truncated or foreign file makes the resume fall back to the checkpoint
before it (the run still ends bit-exact); a random state that cannot be read is said, never skipped silently.
And the quick preset trains on a 40-author corpus (its 50 validation accounts scale down)."""

from __future__ import annotations

import logging
import pickle

import pytest
import torch
from safetensors.torch import load_file
from tiny_model import TINY

from authorid.workflows.train import train

torch.set_num_threads(1)

RESUME = {**TINY, "run.checkpoint_every": 2, "run.eval_every": -1, "data.val_accounts": 0}


def _weights(folder):
    return load_file(str(folder / "model.safetensors"))


@pytest.fixture(scope="module")
def whole_run(tmp_path_factory, tiny_base, demo_posts):
    out = tmp_path_factory.mktemp("whole") / "model"
    train(demo_posts, out=out, base=tiny_base, loss="supcon", max_steps=6, overrides=RESUME)
    return _weights(out)


def _paused(tmp_path, tiny_base, demo_posts):
    out = tmp_path / "run"
    overrides = {**RESUME, "run.stop_after_steps": 4, "run.checkpoints_to_keep": 3}
    train(demo_posts, out=out, base=tiny_base, loss="supcon", max_steps=6, overrides=overrides)
    return out, out / "training_state" / "checkpoints"


def test_a_truncated_checkpoint_falls_back_to_the_one_before(
    tmp_path, tiny_base, demo_posts, whole_run, caplog
):
    out, checkpoints = _paused(tmp_path, tiny_base, demo_posts)
    newest = checkpoints / "checkpoint_1"
    weights = newest / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    with caplog.at_level(logging.WARNING):
        train(demo_posts, out=out, resume=True)
    assert "checkpoint_1 is damaged (model.safetensors" in caplog.text
    final = _weights(out)
    assert max(float((final[k] - whole_run[k]).abs().max()) for k in final) <= 1e-6


def test_a_pickle_where_the_random_state_should_be_is_said_not_run(tmp_path, tiny_base, demo_posts, caplog):
    out, checkpoints = _paused(tmp_path, tiny_base, demo_posts)
    for state in checkpoints.glob("checkpoint_*/random_states_0.pkl"):
        state.write_bytes(pickle.dumps(Exception("a payload that must never be unpickled")))
    with caplog.at_level(logging.WARNING):
        model = train(demo_posts, out=out, resume=True)
    assert "the random state cannot be restored" in caplog.text and "not be bit-exact" in caplog.text
    assert model.metadata["training"]["steps"] == 6


def test_the_quick_preset_trains_on_a_40_author_corpus(tmp_path, tiny_base, demo_posts, caplog):
    with caplog.at_level(logging.WARNING):
        model = train(demo_posts, out=tmp_path / "m", base=tiny_base, preset="quick", max_steps=2)
    assert "validating on 8 of the 40 accounts with >= 16 posts, not data.val_accounts 50" in caplog.text
    assert model.metadata["data"]["val_accounts"] == 8 and model.metadata["data"]["train_accounts"] == 32
