"""`authorid train` through typer's CliRunner on the bundled enron_demo corpus with a tiny BERT."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from authorid.cli.train import CONTEXT_SETTINGS, train_command

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))
from tiny_model import make_tiny_base  # noqa: E402

app = typer.Typer()
app.command("train", context_settings=CONTEXT_SETTINGS)(train_command)
app.command("noop")(lambda: None)  # a second command, so "train" is a subcommand as in the real app

runner = CliRunner()
SMALL = ["--episodes.accounts_per_batch", "4", "--episodes.posts_per_episode", "2", "--model.max_seq_length", "32",
         "--data.val_accounts", "8"]  # fmt: skip


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> str:
    return make_tiny_base(tmp_path_factory.mktemp("tiny_cli"))


def test_train_writes_a_model_and_names_the_folder(tmp_path, tiny):
    out = tmp_path / "model"
    result = runner.invoke(
        app,
        [
            "train",
            "enron_demo",
            "--base",
            tiny,
            "--loss",
            "supcon",
            "--max-steps",
            "2",
            "--out",
            str(out),
            *SMALL,
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"model: {out}" in result.output
    assert "trained supcon on 32 accounts: 2 steps" in result.output
    meta = json.loads((out / "authorid.json").read_text())
    assert meta["config"]["episodes"]["accounts_per_batch"] == 4
    assert meta["data"]["source"] == "enron_demo"
    assert "the model's calibration" not in result.output  # fitted on enough pairs: nothing to warn of


def test_train_says_when_its_calibration_has_too_few_pairs_to_trust(tmp_path, tiny):
    """Audit 10: the calibration fitted on a few validation accounts warned only inside calibration.json, and
    `score`, `cluster` and `link` read it by default."""
    out = tmp_path / "model"
    args = ["train", "enron_demo", "--base", tiny, "--max-steps", "1", "--out", str(out), *SMALL[:-2]]
    result = runner.invoke(app, [*args, "--data.val_accounts", "3"])
    assert result.exit_code == 0, result.output
    warnings = json.loads((out / "calibration.json").read_text())["info"]["warnings"]
    assert warnings and warnings[0].startswith("few pairs: FPR")
    said = " ".join(result.output.split())
    assert f"warning: the model's calibration (calibration.json): {warnings[0]}" in said


def test_unknown_override_is_one_line(tmp_path, tiny):
    result = runner.invoke(
        app, ["train", "enron_demo", "--base", tiny, "--out", str(tmp_path / "m"), "--optim.rate", "1"]
    )
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: unknown config key optim.rate; valid keys: optim.lr, optim.head_lr")


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        (["--optim.max_grad_norm", "-1"], "optim.max_grad_norm must be > 0 (or none: no clipping), got -1.0"),
        (["--optim.weight_decay", "-5"], "optim.weight_decay must be >= 0, got -5.0"),
        (["--run.patience", "-1"], "run.patience must be >= 1, got -1"),
        (["--run.eval_every", "-5"], "run.eval_every must be >= -1, got -5"),
        (["--data.max_accounts", "0"], "data.max_accounts must be >= 1, got 0"),
        (["--episodes.posts_per_episode", "0"], "episodes.posts_per_episode must be >= 1, or [lo, hi]"),
        (["--ngram.mix", "5"], "ngram.mix must be in [0, 1], got 5.0"),
        (["--loss.params.foo", "1"], "loss 'supcon' does not take foo"),
        (["--optim.lr", "0.5"], "optim.lr is the transformer's and does not apply to the n-gram encoder"),
        (["--optim.weight_decay", "0.5"], "optim.weight_decay is the transformer's and does not apply"),
        (["--seed", "3", "--run.seed", "4"], "--seed 3 and --run.seed 4 disagree: give one"),
    ],
)
def test_settings_out_of_range_or_unused_are_refused_before_the_corpus_is_read(tmp_path, setting, said):
    """Audit 12: these trained on in silence (a negative clip norm turned the dense gradients around, optim.lr
    was recorded for an n-gram run that never read it), or stopped only after the corpus was read and split."""
    unread = tmp_path / "unread.jsonl"
    unread.write_text("not JSON: reading it would fail with another message\n")
    args = ["train", str(unread), "--encoder", "ngram", "--out", str(tmp_path / "m"), *setting]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {said}"), result.output
    assert "malformed JSON" not in result.output and not (tmp_path / "m").exists()


def test_existing_output_is_refused(tmp_path, tiny):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "x").write_text("")
    result = runner.invoke(app, ["train", "enron_demo", "--base", tiny, "--out", str(tmp_path / "m")])
    assert result.exit_code == 2
    assert "exists; pass --overwrite to replace it or --resume" in result.output


def test_unknown_loss(tmp_path, tiny):
    result = runner.invoke(app, ["train", "enron_demo", "--loss", "triplet", "--out", str(tmp_path / "m")])
    assert result.exit_code == 2
    assert "error: unknown loss 'triplet' in 'triplet'; known losses: ce, nbc-softmax" in result.output


def test_paused_run_resumes_without_the_corpus(tmp_path, tiny):
    out = tmp_path / "m"
    args = ["train", "enron_demo", "--base", tiny, "--max-steps", "2", "--out", str(out), *SMALL]
    result = runner.invoke(app, [*args, "--run.stop_after_steps", "1", "--run.eval_every", "-1"])
    assert result.exit_code == 0, result.output
    assert f"paused; continue with: authorid train --resume --out {out}" in result.output
    # audit 6: `--resume --loss ce` trained on with the saved loss, without a word: a change is refused
    result = runner.invoke(app, ["train", "--resume", "--out", str(out), "--loss", "ce", "--seed", "7"])
    assert result.exit_code == 2
    said = " ".join(result.output.split())
    assert "--resume continues" in said and "it cannot change loss.name, run.seed (only" in said
    result = runner.invoke(app, ["train", "--resume", "--out", str(out), "--encoder", "ngram"])
    assert result.exit_code == 2
    assert "it cannot change model.encoder (only" in " ".join(result.output.split())
    # the run's own settings given again are no change: "4" on the command line is the saved 4; and without a
    # CORPUS an override is read as one (audit 9: click took `--episodes.accounts_per_batch` for the CORPUS)
    result = runner.invoke(
        app, ["train", "--resume", "--out", str(out), "--episodes.accounts_per_batch", "4"]
    )
    assert result.exit_code == 0, result.output
    assert "trained nbc-softmax on 32 accounts: 2 steps" in result.output


def test_resuming_an_ngram_run_as_a_transformer_is_refused_as_a_change(tmp_path):
    """Audit 10: the saved n-gram settings were checked with the new encoder first, and the error blamed
    episodes.disjoint, which the user never gave, instead of saying --resume cannot change the encoder."""
    out = tmp_path / "m"
    args = ["train", "enron_demo", "--encoder", "ngram", "--max-steps", "2", "--out", str(out)]
    result = runner.invoke(app, [*args, "--run.stop_after_steps", "1", "--run.eval_every", "-1"])
    assert result.exit_code == 0, result.output
    for change in (["--encoder", "transformer"], ["--pooling", "attention"]):
        result = runner.invoke(app, ["train", "--resume", "--out", str(out), *change])
        assert result.exit_code == 2
        said = " ".join(result.output.split())
        assert "--resume continues" in said and "it cannot change model." in said, said
    # the paused run is no base to adapt: said as a MODEL argument says it (it blamed a missing config.json)
    result = runner.invoke(app, ["train", "enron_demo", "--base", str(out), "--out", str(tmp_path / "b")])
    assert result.exit_code == 2
    assert (
        f"{out}: its training never finished (no authorid-manifest.json, written last); continue it with"
        in (" ".join(result.output.split()))
    )


def test_a_model_adapted_from_an_ngram_base_is_described_as_it_was_trained(tmp_path):
    """Audit 10: a model continued from an n-gram base keeps the base's shape and idf, but its card and
    authorid.json described the [ngram] settings (the defaults, or what --ngram.* asked, silently ignored)."""
    small = tmp_path / "small"
    shape = ["--ngram.dim", "32", "--ngram.char_buckets", "4096", "--ngram.word_buckets", "4096",
             "--ngram.table_rows", "2048", "--ngram.sketch_dim", "1024"]  # fmt: skip
    result = runner.invoke(
        app, ["train", "enron_demo", "--encoder", "ngram", "--max-steps", "1", *shape, "--out", str(small)]
    )
    assert result.exit_code == 0, result.output
    adapted = tmp_path / "adapted"
    result = runner.invoke(
        app, ["train", "enron_demo", "--base", str(small), "--max-steps", "1", "--out", str(adapted)]
    )
    assert result.exit_code == 0, result.output
    card = " ".join((adapted / "README.md").read_text().split())
    assert "char [1, 4]-grams in 4,096 buckets, word [1, 2]-grams in 4,096 buckets" in card
    assert (
        f"idf fitted on the base model {small}; a trained 32-dim projection (2,048 table rows) and a 1,024-dim"
        in card
    )
    meta = json.loads((adapted / "authorid.json").read_text())["ngram"]
    assert (meta["dim"], meta["char_buckets"], meta["sketch_dim"]) == (32, 4096, 1024)
    # a shape asked with a base that fixes it is refused, not ignored
    args = ["train", "enron_demo", "--base", str(small), "--ngram.dim", "64", "--out", str(tmp_path / "x")]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    said = " ".join(result.output.split())
    assert f"--base {small} is continued with its own n-gram settings, so ngram.dim cannot apply" in said


def test_overwrite_keeps_the_old_model_when_the_new_run_cannot_start(tmp_path):
    # audit 9: `train --overwrite` deleted the finished model before it read the corpus, so a mistyped path left
    # no model at all
    from authorid.artefacts import write_manifest

    old = tmp_path / "m"
    old.mkdir()
    (old / "weights.bin").write_text("the old model")
    write_manifest(old, "model")
    args = ["train", str(tmp_path / "nosuch.jsonl"), "--preset", "ngram", "--out", str(old), "--overwrite"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "nosuch.jsonl: no such file or folder" in result.output
    assert (old / "weights.bin").read_text() == "the old model"


def test_train_says_how_many_malformed_records_it_skipped(tmp_path):
    # audit 9: `train --on-error skip` skipped them without a word, where every other command counts them
    from authorid.data.readers import read_posts

    posts, _ = read_posts("enron_demo")
    lines = [
        json.dumps({"author": a, "text": t}) for a, t in zip(posts["account_id"], posts["text"], strict=True)
    ]
    lines[10:10] = ["not json", '{"author": "x", "text": 5}']
    corpus = tmp_path / "bad.jsonl"
    corpus.write_text("\n".join(lines) + "\n")
    args = ["train", str(corpus), "--preset", "ngram", "--max-steps", "2", "--on-error", "skip"]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "m"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["cleaning"]["malformed_records_skipped"] == 2
    meta = json.loads((tmp_path / "m" / "authorid.json").read_text())
    assert meta["data"]["cleaning"]["malformed_records_skipped"] == 2
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "m"), "--overwrite"])
    assert result.exit_code == 0, result.output
    assert "read: 2 malformed records skipped (--on-error skip)" in result.stderr
