"""`authorid.training.train` on the bundled enron_demo corpus with a tiny BERT: resume, outputs, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from tiny_model import TINY

from authorid.account_hashes import training_accounts_mask
from authorid.model import ModelError, load_model
from authorid.training import TrainingError
from authorid.workflows.train import resume_hint, resume_point, train

torch.set_num_threads(1)


def _weights(folder) -> dict[str, torch.Tensor]:
    tensors = load_file(str(folder / "model.safetensors"))
    if (folder / "loss_head.safetensors").is_file():
        tensors |= {f"head.{k}": v for k, v in load_file(str(folder / "loss_head.safetensors")).items()}
    return tensors


RESUME = {**TINY, "run.checkpoint_every": 2, "run.eval_every": -1, "data.val_accounts": 0}


@pytest.fixture(scope="module")
def whole_run(tmp_path_factory, tiny_base, demo_posts):
    """6 uninterrupted steps of nbc-softmax (a loss with a class head), checkpoints every 2 steps."""
    out = tmp_path_factory.mktemp("whole") / "model"
    train(demo_posts, out=out, base=tiny_base, loss="nbc-softmax", max_steps=6, overrides=RESUME)
    return _weights(out)


def _assert_same(a: dict, b: dict) -> None:
    assert sorted(a) == sorted(b) and any(k.startswith("head.") for k in a)
    assert max(float((a[k] - b[k]).abs().max()) for k in a) <= 1e-6


def test_paused_and_resumed_run_ends_with_the_same_weights(tmp_path, tiny_base, demo_posts, whole_run):
    parts = tmp_path / "parts"
    overrides = {**RESUME, "run.stop_after_steps": 4}
    paused = train(
        demo_posts, out=parts, base=tiny_base, loss="nbc-softmax", max_steps=6, overrides=overrides
    )
    assert paused.metadata == {}  # paused: no model folder yet, only checkpoints
    assert not (parts / "model.safetensors").exists()
    checkpoints = sorted(p.name for p in (parts / "training_state" / "checkpoints").iterdir())
    assert checkpoints == ["checkpoint_0", "checkpoint_1"]  # steps 2 and 4
    with pytest.raises(TrainingError, match="are not the ones the run started with"):
        train(demo_posts.select(range(900)), out=parts, resume=True)
    resumed = train(demo_posts, out=parts, resume=True)
    assert resumed.metadata["training"]["steps"] == 6
    _assert_same(whole_run, _weights(parts))
    steps = [json.loads(line)["step"] for line in (parts / "train_log.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4, 5, 6]
    assert not (parts / "training_state").exists()  # removed after a finished run


def test_killed_mid_epoch_and_resumed_run_ends_with_the_same_weights(
    tmp_path, tiny_base, demo_posts, whole_run, monkeypatch
):
    import authorid.losses

    real, calls = authorid.losses.total_loss, []

    def dies_in_step_5(parts):
        calls.append(1)
        if len(calls) == 5:  # after the step-4 checkpoint, in the middle of the first epoch (8 batches)
            raise KeyboardInterrupt
        return real(parts)

    out = tmp_path / "killed"
    monkeypatch.setattr(authorid.losses, "total_loss", dies_in_step_5)
    with pytest.raises(KeyboardInterrupt):
        train(demo_posts, out=out, base=tiny_base, loss="nbc-softmax", max_steps=6, overrides=RESUME)
    monkeypatch.setattr(authorid.losses, "total_loss", real)
    # Interrupted: the folder is a run to resume, not a model (no manifest, written last).
    assert resume_hint(out) == f"continue from the last checkpoint: authorid train --resume --out {out}"
    assert resume_point(out) == f"resuming {out} from checkpoint_1 (step 4)"  # checkpoints at steps 2 and 4
    with pytest.raises(ModelError, match="its training never finished .* `authorid train --resume --out"):
        load_model(out)
    train(demo_posts, out=out, resume=True)
    _assert_same(whole_run, _weights(out))
    assert resume_hint(out) == f"the model in {out} was finished"
    with pytest.raises(TrainingError, match="it holds a finished model"):
        train(demo_posts, out=out, resume=True)
    manifest = json.loads((out / "authorid-manifest.json").read_text())
    assert not any(name.startswith("training_state") for name in manifest["files"])
    load_model(out)  # a finished model loads


def test_loss_goes_down_and_validation_runs_every_epoch(tmp_path, tiny_base, demo_posts):
    out = tmp_path / "m"
    train(demo_posts, out=out, base=tiny_base, loss="supcon", max_steps=20, overrides=TINY)
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in log if r["kind"] == "step"]
    assert len(losses) == 20
    assert np.mean(losses[-6:]) < np.mean(losses[:6])
    # 32 training accounts / 4 per batch = 8 steps an epoch: validated before training, per epoch, at the end.
    assert [r["step"] for r in log if r["kind"] == "eval"] == [0, 8, 16, 20]


def test_output_folder_loads_everywhere(tmp_path, tiny_base, demo_posts):
    from sentence_transformers import SentenceTransformer

    from authorid.model import load_model

    out = tmp_path / "model"
    model = train(
        demo_posts,
        out=out,
        base=tiny_base,
        loss="ce",
        max_steps=4,
        overrides={**TINY, "model.pooling": "attention"},
    )
    names = {p.name for p in out.iterdir()}
    assert {
        "modules.json",
        "model.safetensors",
        "authorid.json",
        "loss_head.safetensors",
        "authorid_pooling",
        "training_curves.png",
        "train_log.jsonl",
        "README.md",
        "split_manifest.json",
        "training_accounts.json",
    } <= names
    meta = json.loads((out / "authorid.json").read_text())
    # Every account that trained or validated is recorded (salted), and no other.
    accounts = sorted(set(demo_posts["account_id"]))
    seen = training_accounts_mask(out, accounts)
    assert seen.sum() == 40 and training_accounts_mask(out, ["not-an-author"]).tolist() == [False]
    assert meta["loss"] == {"name": "ce", "params": {}, "defaults": {"ce": {}}}
    assert meta["data"]["train_accounts"] == 32 and meta["data"]["val_accounts"] == 8
    assert meta["validation"]["primary"] == "mrr" and meta["validation"]["initial"]["pool_size"] == 8
    assert set(meta["versions"]) >= {
        "authorid",
        "torch",
        "transformers",
        "sentence-transformers",
        "accelerate",
    }
    head = load_file(str(out / "loss_head.safetensors"))
    assert head["head.linear.weight"].shape == (32, 32)  # 32 training accounts x 32 dims

    loaded = load_model(out)
    assert loaded.pooling is not None and loaded.metadata["task"] == "open-world"
    assert (out / "calibration.json").is_file() and loaded.calibration is not None  # fitted on validation
    # the calibration reads the two accounts' sizes (posts, then characters), as every command passes them
    assert loaded.calibration.method == "platt-sizes"
    unit = np.ones(32) / np.sqrt(32)
    assert 0 <= loaded.score(unit, unit, sizes=(8, 8, 1200, 1200)) <= 1
    assert loaded.fingerprint() == model.fingerprint()
    texts = list(demo_posts.select(range(5))["text"])
    plain = SentenceTransformer(str(out), local_files_only=True)
    np.testing.assert_allclose(plain.encode(texts), loaded.embed_posts(texts), atol=1e-5)
    card = (out / "README.md").read_text()
    for section in ("## Intended use", "## Out-of-scope use", "## Risks for the people", "## Training data"):
        assert section in card
    assert "the full split in `split_manifest.json`" in card  # the file it names is there (see above)


def test_attribution_task_reports_accuracy(tmp_path, tiny_base, demo_posts):
    model = train(
        demo_posts,
        out=tmp_path / "a",
        base=tiny_base,
        loss="ce",
        task="attribution",
        max_steps=3,
        overrides=TINY,
    )
    val = model.metadata["validation"]
    assert val["primary"] == "accuracy"
    assert set(val["best"]) == {"accuracy", "macro_f1", "posts"}
    assert model.metadata["data"]["train_accounts"] == 40  # closed set: every author trains
    assert val["best"]["posts"] == model.metadata["data"]["val_posts"]


def test_existing_output_needs_overwrite(tmp_path, tiny_base, demo_posts):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "file").write_text("x")
    with pytest.raises(
        TrainingError, match="output folder .* exists; pass --overwrite to replace it or --resume"
    ):
        train(demo_posts, out=tmp_path / "out", base=tiny_base, max_steps=1, overrides=TINY)


def test_an_output_that_is_a_file_is_refused_and_kept(tmp_path, demo_posts, tiny_base):
    (tmp_path / "posts.jsonl").write_text("precious\n")
    with pytest.raises(TrainingError, match=r"--out .*posts\.jsonl is a file, not a folder"):
        train(
            demo_posts,
            out=tmp_path / "posts.jsonl",
            base=tiny_base,
            max_steps=1,
            overrides=TINY,
            overwrite=True,
        )
    assert (tmp_path / "posts.jsonl").read_text() == "precious\n"


def test_resume_without_checkpoint(tmp_path):
    with pytest.raises(TrainingError, match="nothing to resume: .* does not exist; train without --resume"):
        train(out=tmp_path / "none", resume=True)
    (tmp_path / "empty" / "training_state").mkdir(parents=True)
    with pytest.raises(TrainingError, match="it holds no usable checkpoint; train again with --overwrite"):
        train(out=tmp_path / "empty", resume=True)
    assert resume_hint(tmp_path / "empty").startswith(
        "no checkpoint was written yet: train again with --overwrite"
    )
    # stopped before it wrote anything: nothing to overwrite
    assert resume_hint(tmp_path / "never") == "no checkpoint was written yet: run the same command again"


def test_unknown_loss_and_base_fail_before_reading(tmp_path, tiny_base):
    from authorid.encoders import UnknownBaseError

    with pytest.raises(ValueError, match="unknown loss 'nbc'"):
        train("no-such-corpus", out=tmp_path / "x", base=tiny_base, loss="nbc")
    with pytest.raises(UnknownBaseError, match="unknown base 'no-such-model'"):
        train("no-such-corpus", out=tmp_path / "y", base="no-such-model")


def test_a_batch_bigger_than_the_corpus_is_scaled_down_and_said(tmp_path, tiny_base, demo_posts, caplog):
    # 40 demo accounts, 8 validate: a batch of 64 accounts becomes the 32 that train (it used to be an error, so
    # the README's example with the n-gram preset's 256 failed on any corpus under 256 accounts)
    model = train(
        demo_posts,
        out=tmp_path / "z",
        base=tiny_base,
        overrides={**TINY, "episodes.accounts_per_batch": 64, "run.max_steps": 1, "run.eval_every": -1},
    )
    assert (
        "training on batches of 32 accounts: episodes.accounts_per_batch 64 needs 64 accounts" in caplog.text
    )
    assert model.metadata["episodes"]["accounts_per_batch"] == 32


def test_the_card_of_posts_given_already_split_names_no_split_manifest(tmp_path, tiny_base, demo_posts):
    # the README's Python example gives train and val posts: the card said split_manifest.json was there
    ids = sorted(set(demo_posts["account_id"]))
    val_ids = set(ids[:8])
    given = train(
        demo_posts.filter(lambda row: row["account_id"] not in val_ids),
        val=demo_posts.filter(lambda row: row["account_id"] in val_ids),
        out=tmp_path / "given",
        base=tiny_base,
        overrides={**TINY, "run.max_steps": 1, "run.eval_every": -1},
    )
    card = (given.path / "README.md").read_text()
    assert "given already split; no split manifest was written" in card
    assert not (given.path / "split_manifest.json").exists()


@pytest.mark.slow
def test_two_steps_of_minilm_export_a_loadable_model(tmp_path, demo_posts):
    from authorid.model import load_model

    out = tmp_path / "minilm"
    train(
        demo_posts, out=out, base="minilm", loss="supcon", max_steps=2, overrides={**TINY, "optim.lr": 2e-5}
    )
    model = load_model(out)
    assert model.dim == 384
    assert model.metadata["base"] == "minilm" and model.metadata["training"]["steps"] == 2
    vectors = model.embed_accounts(demo_posts.select(range(48)))
    assert vectors.dim == 384 and np.allclose(np.linalg.norm(vectors.vectors, axis=1), 1, atol=1e-5)


def test_gradient_accumulation_and_checkpointing(tmp_path, tiny_base, demo_posts):
    overrides = {
        **TINY,
        "optim.gradient_accumulation_steps": 3,
        "model.gradient_checkpointing": True,
        "run.eval_every": -1,
    }
    model = train(
        demo_posts, out=tmp_path / "acc", base=tiny_base, loss="ms", max_steps=3, overrides=overrides
    )
    run = model.metadata["training"]
    # 3 optimizer steps x 3 accumulated batches x 4 accounts x 2 episodes; 9 of the 8 batches an epoch.
    assert run["episodes_seen"] == 3 * 3 * 4 * 2
    assert run["epochs"] == pytest.approx(9 / 8)
    assert model.metadata["validation"]["best"] is None


def test_a_run_stopped_before_its_first_checkpoint_is_not_sent_to_resume(tmp_path):
    # audit 9: `embed` on such a folder said "continue it with `authorid train --resume`", which then refused it
    out = tmp_path / "early"
    out.mkdir()
    (out / "train_log.jsonl").write_text('{"kind": "step", "step": 1}\n')
    with pytest.raises(ModelError) as err:
        load_model(out)
    assert str(err.value) == (
        f"{out}: its training never finished (no authorid-manifest.json, written last); it wrote no checkpoint to"
        " resume from: train again with --overwrite"
    )
