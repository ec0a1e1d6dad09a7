"""`authorid cluster` end to end on the bundled Enron demo corpus, and its one-line errors."""

from __future__ import annotations

import csv
import gzip
import json

import pytest
import typer
from typer.testing import CliRunner

from authorid.cli.cluster import cluster_command
from tests.samples import REPO

runner = CliRunner()


@pytest.fixture(scope="module")
def app():
    app = typer.Typer()
    app.command("cluster")(cluster_command)
    app.command("other")(lambda: None)  # a second command keeps `cluster` a subcommand
    return app


def test_cluster_writes_clusters_and_assignments_and_prints_a_summary(app, tmp_path):
    out = tmp_path / "clusters"
    result = runner.invoke(
        app, ["cluster", "stylometric", "enron_demo", "-o", str(out), "--threshold", "0.6"]
    )
    assert result.exit_code == 0, result.output
    assert "no calibration" in result.output  # the warning: threshold read as a cosine
    assert "40 accounts ->" in result.output
    assert f"clusters:    {out / 'clusters.jsonl'}" in result.output.replace("\n", "")
    rows = [json.loads(line) for line in (out / "clusters.jsonl").read_text().splitlines()]
    assert set(rows[0]) == {"cluster_id", "size", "members", "cohesion", "evidence"}
    assert sum(r["size"] for r in rows) == 40
    assert [r["size"] for r in rows] == sorted((r["size"] for r in rows), reverse=True)
    with (out / "assignments.csv").open() as fh:
        assignments = list(csv.DictReader(fh))
    assert len(assignments) == 40 and set(assignments[0]) == {"account_id", "cluster_id"}
    member_of = {m: r["cluster_id"] for r in rows for m in r["members"]}
    assert all(member_of[a["account_id"]] == int(a["cluster_id"]) for a in assignments)


def test_cluster_explain_gives_every_evidence_pair_its_shared_habits(app, tmp_path):
    out = tmp_path / "clusters"
    args = ["cluster", "stylometric", "enron_demo", "-o", str(out), "--threshold", "0.3", "--explain"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (out / "clusters.jsonl").read_text().splitlines()]
    pairs = [pair for row in rows if row["size"] > 1 for pair in row["evidence"]]
    assert pairs and all(pair["reason"] for pair in pairs)
    # each habit carries its exact (positive) contribution to the pair's similarity
    for pair in pairs:
        contributions = [float(h.rsplit(" ", 1)[1]) for h in pair["reason"].split("; ")]
        assert all(c > 0 for c in contributions) and sum(contributions) <= pair["cosine"] + 1e-6
    result = runner.invoke(
        app, ["cluster", "stylometric", "-o", str(tmp_path / "v"), "--explain", "--vectors", "x"]
    )
    assert result.exit_code != 0


def test_an_unknown_method_is_a_one_line_error(app, tmp_path):
    result = runner.invoke(
        app, ["cluster", "stylometric", "enron_demo", "-o", str(tmp_path), "--method", "dbscan"]
    )
    assert result.exit_code == 2
    assert "error: unknown clustering method 'dbscan'" in result.output


def test_a_probability_threshold_outside_0_1_with_a_calibration_is_refused(app, tmp_path):
    from authorid.verification import Calibrator

    calibration = Calibrator("platt").fit([0.1, 0.2, 0.3, 0.6, 0.7, 0.8], [0, 0, 1, 0, 1, 1])
    calibration = calibration.save(tmp_path / "calibration.json")
    result = runner.invoke(
        app,
        [
            "cluster",
            "stylometric",
            "enron_demo",
            "-o",
            str(tmp_path / "c"),
            "--calibration",
            str(calibration),
            "--threshold",
            "1.5",
        ],
    )
    assert result.exit_code == 2, result.output
    assert "must lie in [0, 1]" in result.output


def test_an_empty_corpus_is_a_one_line_error(app, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = runner.invoke(app, ["cluster", "stylometric", str(empty), "-o", str(tmp_path / "c")])
    assert result.exit_code == 2
    assert result.output.count("error:") == 1


def test_previous_carries_cluster_ids_to_a_later_run_without_one_account(app, tmp_path):
    # week 1: the demo corpus; week 2: the same e-mails in reverse order, less one account of the 3-account group
    week1 = tmp_path / "week1"
    low = ["--threshold", "0.02", "--min-precision", "0"]  # low enough that the demo's 40 writers form groups
    result = runner.invoke(app, ["cluster", "style", "enron_demo", "-o", str(week1), *low])
    assert result.exit_code == 0, result.output
    before = [json.loads(line) for line in (week1 / "clusters.jsonl").read_text().splitlines()]
    assert [r["size"] for r in before[:3]] == [3, 2, 1]
    gone = before[0]["members"][1]
    raw = gzip.open(REPO / "corpora" / "enron_demo" / "enron_demo.jsonl.gz", "rt").read().splitlines()
    kept = [line for line in reversed(raw) if json.loads(line)["author"] != gone]
    (tmp_path / "week2.jsonl").write_text("\n".join(kept) + "\n")
    week2 = tmp_path / "week2"
    args = [
        "cluster",
        "style",
        str(tmp_path / "week2.jsonl"),
        "-o",
        str(week2),
        *low,
        "--previous",
        str(week1),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    after = [json.loads(line) for line in (week2 / "clusters.jsonl").read_text().splitlines()]
    earlier = {r["cluster_id"]: set(r["members"]) for r in before}
    # the group that lost an account keeps its id, every other cluster its id and its very accounts
    assert (after[0]["cluster_id"], after[0]["since_previous"]) == (before[0]["cluster_id"], "changed")
    assert set(after[0]["members"]) == earlier[before[0]["cluster_id"]] - {gone}
    assert all(
        r["since_previous"] == "same" and set(r["members"]) == earlier[r["cluster_id"]] for r in after[1:]
    )
    assert len(after) == len(before)  # the group of 3 is a group of 2 now: no cluster more or less
    said = " ".join(result.output.split())
    assert (
        f"ids carried over from {week1}: {len(after)} clusters keep an earlier id ({len(after) - 1} with the same"
        " accounts), 0 get a new id; 0 earlier ids are given to no cluster" in said
    )
    assert "its id kept, its accounts changed" in said
    manifest = json.loads((week2 / "authorid-manifest.json").read_text())
    assert manifest["params"]["carried_ids"]["kept_ids"] == len(after)
    result = runner.invoke(app, [*args[:4], str(tmp_path / "w3"), *low, "--previous", str(tmp_path / "none")])
    assert result.exit_code != 0 and "no such folder" in result.output
