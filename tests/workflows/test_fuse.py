"""`fuse`: two models as one folder whose cosine is the weighted sum of theirs, weights fitted on a corpus."""

from __future__ import annotations

import numpy as np
import pytest

from authorid.encoders import NgramEncoder
from authorid.model import load_model
from authorid.workflows.fuse import WEIGHT_GRID, fuse


@pytest.fixture(scope="module")
def ngram_folder(tmp_path_factory, enron_posts):
    """An (untrained) n-gram model folder: a 32-wide sketch of the enron profiles."""
    encoder = NgramEncoder(char_buckets=2**12, word_buckets=2**11, dim=0, sketch_dim=32)
    encoder.fit(list(enron_posts["text"]))
    return encoder.save(tmp_path_factory.mktemp("ngram") / "model")


def test_the_fused_cosine_is_the_weighted_sum_of_the_parts_cosines(tmp_path, enron_posts, ngram_folder):
    result = fuse(ngram_folder, "stylometric:32", enron_posts, out=tmp_path / "fused", seed=0)
    a = result.weights[0] ** 2
    assert f"{a:.2f}" in result.mrr_per_weight and len(result.mrr_per_weight) == len(WEIGHT_GRID)
    assert result.mrr_per_weight[f"{a:.2f}"] == max(result.mrr_per_weight.values())
    fused = load_model(tmp_path / "fused")
    assert fused.kind == "fused" and fused.dim == 64 and fused.calibration is not None
    sample = enron_posts.select(range(300))
    both = fused.embed_accounts(sample).vectors
    first = load_model(tmp_path / "fused" / "part0").embed_accounts(sample).vectors
    second = load_model(tmp_path / "fused" / "part1").embed_accounts(sample).vectors
    np.testing.assert_allclose(both @ both.T, a * first @ first.T + (1 - a) * second @ second.T, atol=1e-5)
    np.testing.assert_allclose(both, result.model.embed_accounts(sample).vectors, atol=1e-6)


def test_a_given_weight_is_kept_and_a_bad_one_refused(tmp_path, enron_posts, ngram_folder):
    result = fuse(
        ngram_folder, "stylometric:32", enron_posts, out=tmp_path / "f", first_weight=0.25, calibrate=False
    )
    assert result.weights == pytest.approx([0.5, np.sqrt(0.75)])
    with pytest.raises(ValueError, match="must lie in \\[0, 1\\]"):
        fuse(ngram_folder, "stylometric:32", enron_posts, out=tmp_path / "g", first_weight=1.5)


def test_a_part_with_its_own_calibration_leaves_a_usable_fused_model(tmp_path, enron_posts, ngram_folder):
    """A calibrated model folder (its manifest lists calibration.json) as a part: the part's copy leaves its
    calibration behind (the fused model has its own), so its manifest must not list it (until stop 34 every such
    fused model was refused as incomplete)."""
    import shutil

    from authorid.artefacts import MANIFEST_FILE, write_manifest
    from authorid.workflows.calibrate import fit_calibration

    calibrated = tmp_path / "calibrated"
    shutil.copytree(ngram_folder, calibrated)
    sample = enron_posts.select(range(600))
    fit_calibration(load_model(calibrated), sample, method="platt").save(calibrated / "calibration.json")
    write_manifest(calibrated, "model", model=load_model(calibrated).identity())
    fuse(calibrated, "stylometric:32", sample, out=tmp_path / "fused", seed=0, calibrate=False)
    assert "calibration.json" not in (tmp_path / "fused" / "part0" / MANIFEST_FILE).read_text()
    fused = load_model(tmp_path / "fused")
    assert fused.embed_accounts(sample.select(range(50))).vectors.shape[1] == 64


def test_fusing_style_leaves_out_its_training_accounts_and_records_its_own(tmp_path, reddit_posts):
    """The weights and the calibration are fitted on accounts `style` never trained on (on its own accounts a
    fused model's calibration promised clusters 0.90 precise that came out 0.54), and `evaluate` then leaves
    out both the parts' training accounts and the accounts the fusion was fitted on."""
    from authorid.workflows.common import without_training_accounts
    from authorid.workflows.evaluate import evaluate

    style = load_model("style")
    fresh, excluded = without_training_accounts(style, reddit_posts)
    assert excluded > 0 and len(fresh) > 0
    result = fuse(style, "stylometric:32", reddit_posts, out=tmp_path / "fused", seed=0, calibrate=False)
    assert result.model.metadata["fitted_on"]["excluded_training_accounts"] == excluded
    fused = load_model(tmp_path / "fused")
    left, gone = without_training_accounts(fused, reddit_posts)  # style's (in part0) and the fitted ones
    assert len(left) == 0 and gone == len(set(reddit_posts["account_id"]))
    with pytest.raises(
        ValueError, match="left out as the model's own .* too few left"
    ):  # nothing to evaluate on
        evaluate(fused, reddit_posts, protocol="sybil", min_posts=10)


@pytest.mark.slow  # fuses style with a stylometric profile on the demo corpus (about 30 s)
def test_fuse_says_what_calibration_it_fitted_and_on_which_accounts(tmp_path):
    # audit 8: `fuse` fitted and wrote a calibration without a word, on the accounts that chose the weight
    import json

    from typer.testing import CliRunner

    from authorid.cli import app

    args = ["fuse", "style", "stylometric", "enron_demo", "--first-weight", "0.95", "-o", str(tmp_path / "f")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "platt-sizes calibration on" in said and "held-out FPR" in said
    assert "note: the calibration is fitted on the accounts that chose the weight" in said
    result = CliRunner().invoke(app, [*args[:-1], str(tmp_path / "g"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["calibration"]["method"] == "platt-sizes"
