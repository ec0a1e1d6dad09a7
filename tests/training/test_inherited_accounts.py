"""A model made from another (adapted by `train --base`, projected by `compress`) has seen the other's training
accounts too: its training_accounts.json keeps them, so `evaluate`, `calibrate` and `cluster` leave them out.

Audit 8: a model adapted from `style` recorded only its own run's 60 accounts, so `evaluate` scored it on 28 of 40
Reddit accounts `style` had trained on (and `demo` compared it with `style` on different queries)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from authorid.account_hashes import TRAINING_ACCOUNTS_FILE, training_accounts_mask, write_training_accounts
from authorid.cli import app
from authorid.pretrained import packaged_model_path


def test_a_model_made_from_another_inherits_its_training_accounts(tmp_path):
    base, made = tmp_path / "base", tmp_path / "made"
    base.mkdir(), made.mkdir()
    write_training_accounts(base, ["alice", "bob"])
    write_training_accounts(made, ["carol"], inherit=base)
    assert training_accounts_mask(made, ["alice", "bob", "carol", "dave"]).tolist() == [
        True,
        True,
        True,
        False,
    ]
    salt = json.loads((base / TRAINING_ACCOUNTS_FILE).read_text())["salt"]
    assert json.loads((made / TRAINING_ACCOUNTS_FILE).read_text())["salt"] == salt  # one file recognises both
    (tmp_path / "plain").mkdir()  # a base that records none (a transformer checkpoint): nothing inherited
    write_training_accounts(made, ["carol"], inherit=tmp_path / "plain")
    assert training_accounts_mask(made, ["alice", "carol"]).tolist() == [False, True]


def test_train_with_base_style_keeps_styles_training_accounts(tmp_path):
    out = tmp_path / "mine"
    result = CliRunner().invoke(
        app, ["train", "enron_demo", "--base", "style", "--max-steps", "2", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    styles = json.loads((packaged_model_path("style") / TRAINING_ACCOUNTS_FILE).read_text())
    mine = json.loads((out / TRAINING_ACCOUNTS_FILE).read_text())
    assert mine["salt"] == styles["salt"]
    assert set(styles["hashes"]) < set(mine["hashes"])  # style's accounts and the run's own
    own = json.loads((out / "authorid.json").read_text())["data"]
    assert mine["accounts"] == styles["accounts"] + own["train_accounts"] + own["val_accounts"]
