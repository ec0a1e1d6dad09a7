"""`authorid corpora` and `authorid ingest` end to end through typer's CliRunner."""

from __future__ import annotations

import json
import re

import datasets
import pytest
from typer.testing import CliRunner

from authorid.cli import app

runner = CliRunner()


def test_corpora_lists_presets_and_finds_the_bundled_demo():
    result = runner.invoke(app, ["corpora"], terminal_width=200)
    assert result.exit_code == 0, result.output
    for name in ("enron_demo", "reddit_college", "reuters_c50", "blog50", "enron_pan11"):
        assert name in result.output
    assert "enron_demo.jsonl.gz" in result.output


def test_corpora_json_lists_each_preset_with_its_file():
    result = runner.invoke(app, ["corpora", "--json"])
    assert result.exit_code == 0, result.output
    presets = {p["preset"]: p for p in json.loads(result.stdout)["presets"]}
    assert {"enron_demo", "reddit_college", "reuters_c50", "blog50", "enron_pan11"} <= set(presets)
    assert presets["enron_demo"]["path"].endswith("enron_demo.jsonl.gz")
    assert presets["reuters_c50"]["columns"]["author"] == "account_id"
    # where the files are looked for, so "not found" says where to put them (audit 11)
    searched = json.loads(result.stdout)["searched"]
    assert searched[-1].endswith("shared/corpora") and any(s.endswith("/corpora") for s in searched)


def test_corpora_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTHORID_CORPORA", str(tmp_path))
    result = runner.invoke(app, ["corpora"], terminal_width=200)
    said = " ".join(result.output.split())
    assert (
        f"searched, in order: {tmp_path}, " in said and "(AUTHORID_CORPORA adds folders before them)" in said
    )


def test_ingest_demo_writes_posts_and_report(tmp_path):
    out = tmp_path / "posts.parquet"
    result = runner.invoke(app, ["ingest", "enron_demo", "-o", str(out)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "id -> post_id, author -> account_id, text -> text, split -> split" in result.output
    assert f"posts:  {out}" in result.output
    report = json.loads((tmp_path / "posts.report.json").read_text())
    posts = datasets.Dataset.from_parquet(str(out))
    assert len(posts) == report["posts_out"]
    assert report["read"]["records"] == 960
    # every post read is either kept or counted as dropped
    assert report["posts_out"] + sum(report["dropped"].values()) == 960
    assert set(posts.column_names) == {"post_id", "account_id", "text", "split"}


def test_ingest_reads_its_own_output_back(tmp_path):
    first = tmp_path / "a.parquet"
    assert runner.invoke(app, ["ingest", "enron_demo", "-o", str(first)]).exit_code == 0
    second = tmp_path / "b.parquet"
    result = runner.invoke(app, ["ingest", str(first), "-o", str(second)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "post_id -> post_id, account_id -> account_id, text -> text" in result.output
    assert (
        datasets.Dataset.from_parquet(str(second))["text"]
        == datasets.Dataset.from_parquet(str(first))["text"]
    )


@pytest.mark.parametrize(
    "lines, args, message",
    [
        (['{"author": "a", "text": "x"}', "{oops"], [], "bad.jsonl: line 2: malformed JSON"),
        (['{"who": "a", "said": "x"}'], [], "no column for account_id, text; columns found: 'who', 'said'"),
        (['{"author": "a", "text": "x"}'], ["--map", "body"], "--map entry 'body' is not SOURCE=CANONICAL"),
        (['{"author": "a", "text": ""}'], [], "cleaning left no posts: filter 'empty' removed the last ones"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, lines, args, message):
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    result = runner.invoke(
        app, ["ingest", str(path), "-o", str(tmp_path / "o.parquet"), *args], terminal_width=300
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert message in result.output
    assert result.output.strip().startswith("error:")


def test_on_error_skip_counts_and_reports(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"author": "a", "text": "hello there"}\n{oops\n{"author": "b", "text": "hi there"}\n')
    result = runner.invoke(
        app,
        ["ingest", str(path), "-o", str(tmp_path / "o.parquet"), "--on-error", "skip"],
        terminal_width=300,
    )
    assert result.exit_code == 0, result.output
    assert "skipped errors" in result.output
    assert "line 2: malformed JSON" in result.output
    report = json.loads((tmp_path / "o.report.json").read_text())
    assert report["read"]["skipped_errors"] == 1 and report["posts_out"] == 2


def test_a_json_summary_counts_the_malformed_records_skipped(tmp_path):
    # audit 5: stderr said "(5 malformed records skipped)" but the --json summaries of embed, link and index
    # build did not, so a script lost the count --on-error skip is there to report
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"author": "a", "text": "hello there"}\n{oops\n{"author": "b", "text": "hi there"}\n[1, 2\n'
        '{"author": "a", "text": "and again"}\n'
    )
    args = ["embed", "style", str(path), "--on-error", "skip", "--json", "-o"]
    result = runner.invoke(app, [*args, str(tmp_path / "v.parquet")])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["malformed_records_skipped"] == 2
    clean = tmp_path / "clean.jsonl"
    clean.write_text('{"author": "a", "text": "hello there"}\n{"author": "b", "text": "hi there"}\n')
    result = runner.invoke(app, ["embed", "style", str(clean), "--json", "-o", str(tmp_path / "w.parquet")])
    assert result.exit_code == 0, result.output
    assert (
        json.loads(result.stdout)["malformed_records_skipped"] == 0
    )  # counted per command, not carried over


def test_ingest_never_loads_torch_even_as_it_settles_its_outputs(tmp_path):
    # audit 9: settling the outputs at the end went through workflows.common, which loads torch: 4-5 s after the
    # work was done, in which an interrupt turned a finished ingest into exit 130
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from authorid.cli import app\n"
        f"result = CliRunner().invoke(app, ['ingest', 'enron_demo', '-o', {str(tmp_path / 'p.parquet')!r}])\n"
        "assert result.exit_code == 0, result.output\n"
        "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_ingest_names_the_accounts_cleaning_left_with_no_post(tmp_path):
    """Audit 11: the accounts read and those cleaning emptied were said by every verb but `ingest` (17 Reddit
    accounts vanished from the whole corpus without a word)."""
    dump = tmp_path / "dump.jsonl"
    rows = [("alice", "> quoted only"), ("bob", "a post of its own"), ("carol", "   ")]
    dump.write_text("".join(json.dumps({"author": a, "text": t}) + "\n" for a, t in rows))
    out = tmp_path / "posts.parquet"
    result = runner.invoke(app, ["ingest", str(dump), "-o", str(out)], terminal_width=200)
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert (
        "2 accounts left with no post, and so absent from the output: 'alice', 'carol' (the report names them)"
        in said
    )
    assert re.search(r"accounts left with no post\s*│\s*2 ", said) and re.search(
        r"before cleaning\s*│\s*3 ", said
    )
    report = json.loads((tmp_path / "posts.report.json").read_text())
    assert report["emptied_accounts"] == {"count": 2, "first": ["alice", "carol"]}
    assert (report["read"]["accounts_before_cleaning"], report["accounts_out"]) == (3, 1)
