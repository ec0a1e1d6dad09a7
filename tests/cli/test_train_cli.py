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


def test_unknown_override_is_one_line(tmp_path, tiny):
    result = runner.invoke(
        app, ["train", "enron_demo", "--base", tiny, "--out", str(tmp_path / "m"), "--optim.rate", "1"]
    )
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: unknown config key optim.rate; valid keys: optim.lr, optim.head_lr")


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
    # the run's own settings given again are no change: "4" on the command line is the saved 4
    result = runner.invoke(
        app, ["train", "enron_demo", "--resume", "--out", str(out), "--episodes.accounts_per_batch", "4"]
    )
    assert result.exit_code == 0, result.output
    assert "trained nbc-softmax on 32 accounts: 2 steps" in result.output
