"""`authorid calibrate`, `score` and `cluster` with a calibration's cohort fit, end to end through CliRunner: the
packaged `style` model calibrated on enron_demo (80 sybil halves), then its e-mails cut into 80 half-accounts
(a pool large enough for a cohort) or kept as the 40 authors (too few: the cosine fit)."""

import csv
import json

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from authorid.cli.cluster import cluster_command
from authorid.cli.score import calibrate_command, score_command
from authorid.data.readers import read_posts
from authorid.verification import Calibrator

app = typer.Typer()
app.command("calibrate")(calibrate_command)
app.command("score")(score_command)
app.command("cluster")(cluster_command)
runner = CliRunner()


@pytest.fixture(scope="module")
def calibration(tmp_path_factory) -> Calibrator:
    out = tmp_path_factory.mktemp("cal") / "calibration.json"
    result = runner.invoke(app, ["calibrate", "style", "enron_demo", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert (
        "cohort-normalised fit (read by `score`, `cluster` and `link` in pools of >= 50 accounts)"
        in result.output
    )
    return Calibrator.load(out)


@pytest.fixture(scope="module")
def halves(tmp_path_factory):
    """enron_demo's e-mails, each author's cut into two half-accounts by the parity of their order: 80 accounts."""
    posts, _ = read_posts("enron_demo")
    folder = tmp_path_factory.mktemp("halves")
    seen: dict[str, int] = {}
    with (folder / "halves.jsonl").open("w", encoding="utf-8") as f:
        for row in posts:
            i = seen[row["account_id"]] = seen.get(row["account_id"], -1) + 1
            record = {
                "post_id": row["post_id"],
                "account_id": f"{row['account_id']}/{i % 2}",
                "text": row["text"],
            }
            f.write(json.dumps(record) + "\n")
    authors = sorted(seen)
    with (folder / "pairs.csv").open("w", encoding="utf-8") as f:
        f.write("account_a,account_b\n")
        f.writelines(f"{a}/0,{a}/1\n{a}/0,{b}/1\n" for a, b in zip(authors, authors[1:], strict=False))
    return folder


def test_calibrate_writes_a_cohort_fit_beside_the_cosine_fit(calibration):
    fit = calibration.cohort
    assert fit is not None and fit.reads_cohort and fit.method == calibration.method
    assert (fit.info["pool"], fit.info["accounts"]) == (80, 80)


def test_score_reads_the_cohort_fit_in_a_pool_of_80_accounts(calibration, halves, tmp_path):
    out = tmp_path / "scores.csv"
    calibration.save(tmp_path / "cal.json")
    result = runner.invoke(
        app,
        ["score", "style", str(halves / "halves.jsonl"), "--pairs", str(halves / "pairs.csv"), "--calibration",
         str(tmp_path / "cal.json"), "-o", str(out), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["scored_on"] == "cohort-normalised"
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 78 and all(r["cohort_score"] for r in rows)  # 39 same-author pairs, 39 others
    # P is the cohort fit's at each pair's score and sizes
    scores = np.array([float(r["cohort_score"]) for r in rows])
    cosines = np.array([float(r["cosine"]) for r in rows])
    assert not np.allclose(scores, cosines, atol=1e-4)  # every account's closeness to the others moved it
    same = np.array([r["account_a"].split("/")[0] == r["account_b"].split("/")[0] for r in rows])
    assert scores[same].mean() > scores[~same].mean()
    assert [r["decision"] for r in rows] == list(
        calibration.cohort.decide([float(r["probability"]) for r in rows])
    )


def test_score_reads_the_cosine_fit_among_40_accounts(calibration, tmp_path):
    calibration.save(tmp_path / "cal.json")
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("account_a,account_b\n183141,194257\n", encoding="utf-8")
    out = tmp_path / "scores.csv"
    args = ["score", "style", "enron_demo", "--pairs", str(pairs), "--calibration", str(tmp_path / "cal.json"),
            "-o", str(out)]  # fmt: skip
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["scored_on"] == "cosine"
    assert next(csv.DictReader(out.open(encoding="utf-8")))["cohort_score"] == ""
    # without --json the summary says why: 40 accounts are too few for a cohort
    result = runner.invoke(app, [*args, "--overwrite"])
    assert result.exit_code == 0, result.output
    assert (
        "P(same person) read from the cosine fit: 40 accounts are too few for a cohort (it needs 50); column"
        " cohort_score left empty" in " ".join(result.output.split())
    )


def test_cluster_says_it_read_the_cohort_fit(calibration, halves, tmp_path):
    calibration.save(tmp_path / "cal.json")
    out = tmp_path / "clusters"
    args = [
        "cluster",
        "style",
        str(halves / "halves.jsonl"),
        "--calibration",
        str(tmp_path / "cal.json"),
        "-o",
        str(out),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "edges read the calibration's cohort fit" in said
    # by default the threshold is raised until the clusters' pairs are right 9 times in 10 with probability 0.9:
    # on the cleaned e-mails, with twin-free densities (stop 39) and size-matched negatives (stop 43), 0.75; the
    # expected precision alone (until stop 40) stopped at 0.55, expecting 0.917 of more pairs
    assert (
        f"edges: P(same person) >= 0.75 at a prior of {1 / 79:.3g} (1/(accounts - 1); --prior changes it), from"
        f" --calibration {tmp_path / 'cal.json'} threshold raised from 0.5 to 0.75 to reach --min-precision 0.9"
        " with probability 0.92 (P read as calibrated; 0.9 asked): expected pairwise precision 0.950 over 21 pairs"
        " (the mean P of the pairs the clusters form); --min-precision 0 keeps 0.5" in said
    )
    result = runner.invoke(app, [*args, "--min-precision", "0.95", "--overwrite"])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    # 0.95 of fewer than 20 pairs is every one of them right: 9 pairs, at P >= 0.99
    assert f"edges: P(same person) >= 0.99 at a prior of {1 / 79:.3g}" in said
    assert (
        "threshold raised from 0.5 to 0.99 to reach --min-precision 0.95 with probability 0.97 (P read as"
        " calibrated; 0.9 asked): expected pairwise precision 0.997 over 9 pairs (the mean P of the pairs the"
        " clusters form); --min-precision 0 keeps 0.5" in said
    )
    assert json.loads((out / "authorid-manifest.json").read_text())["params"]["scores"] == "cohort-normalised"
    # asked only to be more likely than not to reach 0.9: about what the expected precision alone asked
    result = runner.invoke(app, [*args, "--confidence", "0.5", "--overwrite"])
    assert result.exit_code == 0, result.output
    assert (
        "threshold raised from 0.5 to 0.55 to reach --min-precision 0.9 with probability 0.67 (P read as"
        " calibrated; 0.5 asked): expected pairwise precision 0.916 over 24 pairs"
        in " ".join(result.output.split())
    )  # about the threshold and expected precision the rule of stops 33-39 chose (0.55, 0.917)
    result = runner.invoke(app, [*args, "--confidence", "1.5", "--overwrite"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: --confidence is a probability and must lie in [0, 1) (1 is a certainty no calibrated P gives), got"
        " 1.5"
    )
    result = runner.invoke(app, [*args, "--confidence", "0.8", "--threshold", "0.6", "--overwrite"])
    assert result.exit_code == 2  # nothing would be raised: the confidence would be silently ignored
    assert "error: --confidence says how sure --min-precision must be" in " ".join(result.output.split())


def test_a_threshold_raised_until_nothing_groups_says_what_it_dropped():
    from authorid.cli.cluster import raised_threshold_line

    params = {"threshold": 0.85, "min_precision": 0.9, "thresholds_tried": {"0.5": 0.8335, "0.85": None}}
    assert raised_threshold_line(params, {"expected_pairwise_precision": None}) == (
        "no two accounts were grouped: the threshold was raised from 0.5 to 0.85 to reach --min-precision 0.9"
        " (at 0.5 the clusters' expected pairwise precision was 0.834); --min-precision 0 keeps 0.5"
    )
    params["chances_tried"] = {"0.5": 0.2071, "0.85": None}
    assert raised_threshold_line(params, {"expected_pairwise_precision": None}) == (
        "no two accounts were grouped: the threshold was raised from 0.5 to 0.85 to reach --min-precision 0.9"
        " (at 0.5 the clusters' expected pairwise precision was 0.834, reaching 0.9 with probability 0.21);"
        " --min-precision 0 keeps 0.5"
    )
    # nothing grouped at the threshold it started from: nothing was dropped by the raise
    params = {"threshold": 0.5, "min_precision": 0.9, "thresholds_tried": {"0.5": None}}
    assert (
        raised_threshold_line(params, {"expected_pairwise_precision": None}) == "no two accounts were grouped"
    )
    assert raised_threshold_line({"threshold": 0.5}, {"expected_pairwise_precision": None}) == (
        "no two accounts were grouped"
    )


def test_the_threshold_line_says_how_sure_the_clusters_are_of_the_precision_asked():
    from authorid.cli.cluster import raised_threshold_line

    params = {"threshold": 0.5, "min_precision": 0.8, "confidence": 0.9, "thresholds_tried": {"0.5": 0.95}}
    stats = {"expected_pairwise_precision": 0.95, "pairs_formed": 40, "chance_of_min_precision": 0.9951}
    assert raised_threshold_line(params, stats) == (
        "expected pairwise precision 0.950 over 40 pairs (the mean P of the pairs the clusters form): it reaches"
        " --min-precision 0.8 with probability 1.00 (P read as calibrated; 0.9 asked) without raising the threshold"
    )
    # no step was sure enough: the highest one tried, and how unsure it still is
    params |= {"threshold": 0.99, "min_precision": 1.0, "thresholds_tried": {"0.5": 0.95, "0.99": 0.97}}
    stats = {"expected_pairwise_precision": 0.97, "pairs_formed": 3, "chance_of_min_precision": 0.9127}
    params["confidence"] = 0.95
    assert raised_threshold_line(params, stats) == (
        "warning: expected pairwise precision 0.970 over 3 pairs (the mean P of the pairs the clusters form); it"
        " reaches --min-precision 1 only with probability 0.91 even at the highest threshold tried (0.99)"
    )


def test_evaluate_says_the_clustering_threshold_it_used():
    from authorid.cli.evaluate import clustering_line

    settings = {
        "threshold_from": 0.5,
        "min_precision": 0.9,
        "thresholds_used": [0.75, 0.75, 0.7],
        "expected_pairwise_precision": 0.92341,
    }
    assert clustering_line(settings) == (
        "  threshold used 0.75, 0.7 (raised from 0.5 to reach --min-precision 0.9); expected pairwise precision"
        " 0.923"
    )
    assert clustering_line(settings | {"confidence": 0.9}) == (
        "  threshold used 0.75, 0.7 (raised from 0.5 to reach --min-precision 0.9 with probability 0.9); expected"
        " pairwise precision 0.923"
    )
    # audit 14: a threshold left at 0.5 with every account alone was said "raised from 0.5 to --min-precision"
    alone = settings | {"thresholds_used": [0.5, 0.5], "expected_pairwise_precision": None}
    assert clustering_line(alone) == (
        "  threshold used 0.5 (not raised: --min-precision 0.9 asked); no two accounts were grouped, so no"
        " precision is expected"
    )
