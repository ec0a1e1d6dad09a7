"""`authorid evaluate` and `authorid compare` through typer's CliRunner, on the bundled enron_demo."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from authorid.cli.evaluate import compare_command, evaluate_command

runner = CliRunner()


@pytest.fixture(scope="module")
def app():
    # The lead registers these in authorid/cli/__init__.py; a local app tests them on their own.
    local = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    local.command("evaluate")(evaluate_command)
    local.command("compare")(compare_command)
    return local


@pytest.fixture(scope="module")
def run_dir(app, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    result = runner.invoke(
        app,
        ["evaluate", "stylometric", "enron_demo", "--accounts", "8", "--recall-at", "1,2,8", "-o", str(out)],
    )
    assert result.exit_code == 0, result.output
    return out, result.output


def test_evaluate_writes_metrics_and_report_and_says_where(run_dir):
    out, output = run_dir
    assert f"metrics: {out / 'metrics.json'}" in output
    assert f"report:  {out / 'report.html'}" in output
    assert "sybil: linking mrr" in output and "linking pool_size 8" in output
    run = json.loads((out / "metrics.json").read_text())
    assert list(run["protocols"]) == ["sybil"]
    assert run["protocols"]["sybil"]["settings"]["cut_by"] == "random"
    assert run["protocols"]["sybil"]["settings"]["ks"] == [1, 2, 8]
    assert set(run["protocols"]["sybil"]["metrics"]["linking"]) == {
        "mrr", "r@1", "r@2", "r@8", "pool_size", "n_queries"
    }  # fmt: skip


def test_compare_prints_a_table(app, run_dir):
    out, _ = run_dir
    result = runner.invoke(app, ["compare", str(out), str(out / "metrics.json")])
    assert result.exit_code == 0, result.output
    assert "sybil linking mrr" in result.output and "sybil same queries" in result.output


def test_compare_json_and_a_warning_when_the_queries_differ(app, run_dir, tmp_path):
    out, _ = run_dir
    result = runner.invoke(app, ["compare", str(out), str(out / "metrics.json"), "--json"])
    assert result.exit_code == 0, result.output
    compared = json.loads(result.stdout)
    first = json.loads((out / "metrics.json").read_text())["protocols"]["sybil"]["metrics"]["linking"]
    assert [run["metrics"]["sybil linking mrr"] for run in compared["runs"]] == [first["mrr"]] * 2
    assert compared["why_queries_differ"] == {}
    assert compared["same_queries"] == {"sybil": True}
    assert "warning" not in result.output
    other = tmp_path / "seed1"  # another seed samples other accounts
    made = runner.invoke(
        app, ["evaluate", "stylometric", "enron_demo", "--accounts", "8", "--seed", "1", "-o", str(other)]
    )
    assert made.exit_code == 0, made.output
    result = runner.invoke(app, ["compare", str(out), str(other)])
    assert result.exit_code == 0, result.output
    assert " ".join(result.stderr.split()) == (
        "warning: the runs did not score the same queries, so these figures are not comparable: sybil: seed 0 / 1"
    )
    alone = json.loads(runner.invoke(app, ["compare", str(out), "--json"]).stdout)
    assert alone["same_queries"] == {} and alone["why_queries_differ"] == {}  # one run: nothing to compare


def test_unknown_protocol_is_a_one_line_error(app, tmp_path):
    result = runner.invoke(
        app, ["evaluate", "stylometric", "enron_demo", "--protocol", "bogus", "-o", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: unknown protocol bogus; valid: sybil, verification, clustering, attribution, all"
    ]


def test_too_few_accounts_is_a_one_line_error(app, tmp_path):
    result = runner.invoke(
        app, ["evaluate", "stylometric", "enron_demo", "--accounts", "500", "-o", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == (
        "error: need 500 accounts with >= 20 posts, found 40 (of 40); lower --accounts or --min-posts"
    )


def test_bad_recall_at_is_a_one_line_error(app, tmp_path):
    result = runner.invoke(
        app, ["evaluate", "stylometric", "enron_demo", "--recall-at", "1,x", "-o", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert (
        result.output.strip() == "error: --recall-at must be positive integers separated by commas, got '1,x'"
    )


def test_compare_of_a_missing_run_is_a_one_line_error(app, tmp_path):
    result = runner.invoke(app, ["compare", str(tmp_path / "nothing")])
    assert result.exit_code == 2
    assert result.output.startswith(
        f"error: {tmp_path / 'nothing'}: no such file (give an `authorid evaluate`"
    )
    (tmp_path / "links.csv").write_text("query_account,account_id\n")
    result = runner.invoke(app, ["compare", str(tmp_path / "links.csv")])
    assert result.exit_code == 2
    assert " ".join(result.output.split()) == (
        f"error: {tmp_path / 'links.csv'}: not the metrics.json of an evaluation run (not JSON; `authorid evaluate`"
        " writes one)"
    )


def test_the_clustering_protocol_takes_cluster_s_options_and_says_the_threshold_it_used(app, tmp_path):
    out = tmp_path / "clusters"
    args = ["evaluate", "style", "enron_demo", "--protocol", "clustering", "--accounts", "20", "-o", str(out)]
    result = runner.invoke(
        app, [*args, "--min-precision", "0", "--threshold", "0.6", "--cluster-method", "leiden"]
    )
    assert result.exit_code == 0, result.output
    assert "clustering: bcubed_f1 " in result.output  # the task named as its protocol is said once
    assert "  threshold used 0.6; expected pairwise precision" in result.output
    settings = json.loads((out / "metrics.json").read_text())["protocols"]["clustering"]["settings"]
    assert (settings["method"], settings["threshold_from"], settings["min_precision"]) == ("leiden", 0.6, 0.0)
    assert settings["thresholds_used"] == [0.6]
    report = (out / "report.html").read_text()
    assert '<td>thresholds_used</td><td class="num">0.6' in report


def test_the_clustering_protocol_takes_how_sure_min_precision_must_be(app, tmp_path):
    out = tmp_path / "clusters"
    args = ["evaluate", "style", "enron_demo", "--protocol", "clustering", "--accounts", "20", "-o", str(out)]
    result = runner.invoke(app, [*args, "--min-precision", "0.8", "--confidence", "0.6"])
    assert result.exit_code == 0, result.output
    assert "(raised from 0.5 to reach --min-precision 0.8 with probability 0.6)" in result.output
    settings = json.loads((out / "metrics.json").read_text())["protocols"]["clustering"]["settings"]
    assert (settings["min_precision"], settings["confidence"]) == (0.8, 0.6)
    assert len(settings["chances_of_min_precision"]) == len(settings["thresholds_used"])
    result = runner.invoke(app, [*args, "--confidence", "2", "--overwrite"])
    assert result.exit_code == 2
    assert "--confidence is a probability and must lie in [0, 1], got 2.0" in result.output


def test_the_attribution_protocol_takes_attribute_s_method(app, tmp_path):
    out = tmp_path / "attribution"
    args = [
        "evaluate",
        "stylometric",
        "enron_demo",
        "--protocol",
        "attribution",
        "--accounts",
        "12",
        "-o",
        str(out),
    ]
    result = runner.invoke(app, [*args, "--attribution-method", "centroid"])
    assert result.exit_code == 0, result.output
    settings = json.loads((out / "metrics.json").read_text())["protocols"]["attribution"]["settings"]
    assert (settings["method"], settings["method_asked"]) == ("centroid", "centroid")
    result = runner.invoke(app, [*args, "--attribution-method", "knn", "--overwrite"])
    assert result.exit_code == 2
    assert "--attribution-method must be one of auto, centroid, logistic, svm, got 'knn'" in result.output
    sybil = [
        "evaluate",
        "stylometric",
        "enron_demo",
        "-o",
        str(tmp_path / "sybil"),
        "--attribution-method",
        "svm",
    ]
    result = runner.invoke(app, sybil)
    assert result.exit_code == 2
    assert "--attribution-method sets the attribution protocol; add --protocol attribution" in result.output


def test_an_attribution_model_is_evaluated_on_the_test_texts_of_the_corpus_it_split(app, tmp_path, caplog):
    """Audit 12: a model trained with --task attribution on C50's train texts had every author left out as a
    training account, and the error advised lowering --accounts or --min-posts."""
    from samples import raw_records

    from authorid.workflows.train import train

    authors = {"AaronPressman", "AlanCrosby", "AlexanderSmith", "BenjaminKangLim"}
    rows = [r for r in raw_records("reuters") if r["author"] in authors]
    corpus = tmp_path / "c50.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in rows))
    model = tmp_path / "model"
    settings = {
        "ngram.char_buckets": 2**14,
        "ngram.word_buckets": 2**13,
        "ngram.dim": 16,
        "ngram.sketch_dim": 256,
    }
    train(
        str(corpus),
        out=model,
        encoder="ngram",
        loss="ce",
        task="attribution",
        max_steps=2,
        overrides=settings,
    )
    result = runner.invoke(
        app, ["evaluate", str(model), str(corpus), "--protocol", "attribution", "-o", str(tmp_path / "run")]
    )
    assert result.exit_code == 0, result.output
    assert "training accounts kept" in caplog.text  # the CLI's log handler prints it as a warning
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["data"]["excluded_training_accounts"] == 0
    attribution = metrics["protocols"]["attribution"]
    assert attribution["settings"]["split"] == "corpus split column"
    assert attribution["metrics"]["closed_set"]["n_texts"] == 199  # the test texts (one repeat cleaned away)
    # another protocol on the same accounts leaves them out, and says how to keep them
    refused = runner.invoke(
        app, ["evaluate", str(model), str(corpus), "--protocol", "sybil", "-o", str(tmp_path / "sybil")]
    )
    assert refused.exit_code == 2
    said = " ".join(refused.output.split())
    assert "4 of 4 accounts left out as the model's own" in said and "--include-training-accounts" in said
