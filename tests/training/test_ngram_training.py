"""The one trainer with the n-gram encoder: it learns on real Reddit accounts, resumes exactly (sparse optimiser
state included), trains a loss with a class head, and writes a model folder every command loads."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from authorid.model import load_model
from authorid.workflows.train import train

torch.set_num_threads(1)

#: Small buckets and width: a step takes milliseconds; 16 accounts x 2 disjoint episodes of <= 4 posts.
NGRAM = {
    "model.encoder": "ngram",
    "ngram.char_buckets": 2**14,
    "ngram.word_buckets": 2**13,
    "ngram.dim": 32,
    "ngram.sketch_dim": 512,
    "episodes.accounts_per_batch": 16,
    "episodes.posts_per_episode": 4,
    "episodes.disjoint": True,
    "data.min_posts": 4,
    "run.patience": None,
}


def _weights(folder) -> dict[str, torch.Tensor]:
    tensors = load_file(str(folder / "ngram.safetensors"))
    if (folder / "loss_head.safetensors").is_file():
        tensors |= {f"head.{k}": v for k, v in load_file(str(folder / "loss_head.safetensors")).items()}
    return tensors


def test_training_lowers_the_loss_and_raises_validation_mrr_on_reddit(tmp_path, reddit_posts):
    out = tmp_path / "model"
    settings = {**NGRAM, "data.val_accounts": 30, "run.eval_every": 20, "run.checkpoint_every": 100}
    model = train(reddit_posts, out=out, loss="supcon", max_steps=60, overrides=settings)
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in log if r["kind"] == "step"]
    assert np.mean(losses[-10:]) < np.mean(losses[:10])
    validation = model.metadata["validation"]
    assert validation["best"]["mrr"] > validation["initial"]["mrr"]
    loaded = load_model(out)
    assert loaded.kind == "ngram" and loaded.dim == 32 + 512 and loaded.calibration is not None
    np.testing.assert_array_equal(
        loaded.embed_accounts(reddit_posts.select(range(200))).vectors,
        model.embed_accounts(reddit_posts.select(range(200))).vectors,
    )


@pytest.mark.parametrize("loss", ["supcon", "nbc-softmax"])
def test_a_paused_and_resumed_run_ends_with_the_same_weights(tmp_path, reddit_posts, loss):
    settings = {**NGRAM, "data.val_accounts": 0, "run.checkpoint_every": 3}
    whole = tmp_path / "whole"
    train(reddit_posts, out=whole, loss=loss, max_steps=8, overrides=settings)
    parts = tmp_path / "parts"
    train(reddit_posts, out=parts, loss=loss, max_steps=8, overrides={**settings, "run.stop_after_steps": 5})
    assert not (parts / "ngram.safetensors").exists()
    train(reddit_posts, out=parts, resume=True)
    a, b = _weights(whole), _weights(parts)
    assert sorted(a) == sorted(b) and ("head.head.linear.weight" in a) == (loss == "nbc-softmax")
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=0, msg=name)


def test_the_card_of_a_run_without_validation_and_of_one_that_never_beat_its_start(
    tmp_path, reddit_posts, monkeypatch
):
    """Audit 12: the card said "None selects the checkpoint", "step None" and `base_model: None`; a run whose
    validation never beat step 0 exported its start and neither the card nor the command said so."""
    from types import SimpleNamespace

    from authorid.cli.train import _summary
    from authorid.training.card import model_card

    out = tmp_path / "model"
    train(reddit_posts, out=out, loss="supcon", max_steps=3, overrides={**NGRAM, "run.eval_every": -1})
    card = (out / "README.md").read_text()
    assert "None" not in card and "base_model" not in card
    assert "_No validation was run_ (run.eval_every -1, or no validation accounts)" in card
    assert "the weights of the last step (3) were exported" in card
    meta = json.loads((out / "authorid.json").read_text())
    meta["validation"] = {
        "primary": "mrr",
        "best_step": 0,
        "initial": {"mrr": 0.6954},
        "best": {"mrr": 0.6954},
    }
    assert "Validation never beat the starting weights in 3 steps" in model_card(meta)
    import authorid.cli.train as cli_train

    said = []
    printed = SimpleNamespace(print=lambda text, **_: said.append(str(text)))
    monkeypatch.setattr(cli_train, "console", printed)
    monkeypatch.setattr(cli_train, "err_console", printed)
    _summary(SimpleNamespace(metadata=meta, path=out, calibration=None), as_json=False)
    assert any(
        line.startswith("warning: validation never beat the starting weights in 3 steps") for line in said
    ), said
