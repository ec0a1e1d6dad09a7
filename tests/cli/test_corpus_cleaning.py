"""Every verb cleans a raw CORPUS as `authorid ingest` does, since models are trained and calibrated on cleaned
posts; an ingested Parquet file is read as it is.

Before stop 37 only `train` cleaned: `cluster` read raw Reddit text (quoted replies, links, HTML entities, posts
pasted twice), and where one account in ten had a twin its clusters delivered 0.742 pairwise precision against
0.910 promised; the same accounts cleaned delivered 0.861 (BENCHMARKS.md, "Clustering where few accounts have a
twin").
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from authorid.cli import app
from authorid.vectors import AccountVectors
from authorid.workflows.common import ingested

runner = CliRunner()


def _embed(corpus, out) -> dict:
    result = runner.invoke(app, ["embed", "style", str(corpus), "--json", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_raw_corpus_is_cleaned_and_each_change_counted(tmp_path):
    raw = tmp_path / "raw.jsonl"
    records = [
        ("a", "> what the other person said\nI disagree with that, honestly."),  # a quoted reply
        ("a", "see https://example.com/page for the details &amp; more"),  # a link, an HTML entity
        ("a", "I disagree with that, honestly."),  # the first post once its quote is stripped: a duplicate
        ("b", "> only a quote"),  # nothing left once the quote is stripped
        ("b", "my own words, for once"),
    ]
    raw.write_text("".join(json.dumps({"author": a, "text": t}) + "\n" for a, t in records))
    summary = _embed(raw, tmp_path / "v.parquet")
    cleaning = summary["cleaning"]
    assert cleaning["posts_read"] == 5
    assert cleaning["posts_kept"] == 3 and cleaning["accounts_kept"] == 2
    assert cleaning["changed"]["quotes_stripped"] == 2
    assert cleaning["changed"]["urls_masked"] == 1
    assert cleaning["changed"]["html_unescaped"] == 1
    assert cleaning["dropped"] == {"retweet": 0, "empty": 1, "duplicate_in_account": 1}
    assert summary["rows"] == 2

    result = runner.invoke(app, ["embed", "style", str(raw), "-o", str(tmp_path / "w.parquet")])
    assert result.exit_code == 0, result.output
    assert "read 5 posts of 2 accounts" in result.output
    assert (
        "2 of 5 posts dropped (1 empty, 1 repeated by their author); 3 posts of 2 accounts kept"
        in result.output
    )


def test_the_raw_demo_corpus_embeds_as_its_ingested_parquet_and_that_is_not_cleaned_again(tmp_path):
    posts = tmp_path / "posts.parquet"
    result = runner.invoke(app, ["ingest", "enron_demo", "-o", str(posts)])
    assert result.exit_code == 0, result.output
    assert ingested(posts)
    from_raw = _embed("enron_demo", tmp_path / "raw.parquet")
    from_ingested = _embed(posts, tmp_path / "ingested.parquet")
    assert from_ingested["cleaning"] == {
        "corpus": str(posts),
        "read_as_it_is": "an `authorid ingest` output",
        "dropped_at_ingest": {"duplicate_in_account": 5},  # what the file no longer holds, from its report
    }
    ingest_report = json.loads((tmp_path / "posts.report.json").read_text())
    assert from_raw["cleaning"]["posts_kept"] == ingest_report["posts_out"]
    assert from_raw["cleaning"]["dropped"] == ingest_report["dropped"]
    a = AccountVectors.from_parquet(tmp_path / "raw.parquet")
    b = AccountVectors.from_parquet(tmp_path / "ingested.parquet")
    assert list(a.account_ids) == list(b.account_ids)
    np.testing.assert_allclose(a.vectors, b.vectors, atol=1e-6)


def test_only_a_parquet_file_with_ingests_report_beside_it_counts_as_ingested(tmp_path):
    plain = tmp_path / "mine.parquet"
    plain.write_bytes(b"PAR1")
    assert not ingested(plain)  # a Parquet file a user wrote: cleaned like any other corpus
    (tmp_path / "mine.report.json").write_text('{"note": "mine"}')
    assert not ingested(plain)  # a report that is not an IngestReport
    (tmp_path / "mine.report.json").write_text('{"changed": {}, "dropped": {}, "posts_out": 3}')
    assert ingested(plain)
    upper = tmp_path / "MINE.PARQUET"
    upper.write_bytes(b"PAR1")
    (tmp_path / "MINE.report.json").write_text('{"changed": {}, "dropped": {}, "posts_out": 3}')
    assert ingested(upper)
    assert not ingested(tmp_path / "posts.jsonl")
    assert not ingested("enron_demo")


def test_an_account_cleaning_emptied_is_named_as_such_not_as_unknown(tmp_path):
    corpus = tmp_path / "c.jsonl"
    records = [("solid", f"I think post {i} is fine, honestly.") for i in range(3)]
    records += [("other", f"Number {i} looks different to me!") for i in range(3)]
    records += [("quoter", "> quoted only"), ("quoter", "> another quote\n> more")]
    corpus.write_text("".join(json.dumps({"author": a, "text": t}) + "\n" for a, t in records))
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("account_a,account_b\nsolid,other\nsolid,quoter\nsolid,nobody\n")
    args = ["score", "style", str(corpus), "--pairs", str(pairs), "-o", str(tmp_path / "s.csv")]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    said = " ".join(result.output.split())
    assert "6 posts of 2 accounts kept; 1 left with no post, and so absent from the output: 'quoter'" in said
    assert f"{pairs} line 3: account 'quoter' has no post left after cleaning" in said
    result = runner.invoke(app, [*args, "--on-error", "skip", "--overwrite", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["skipped"] == 2  # quoter's pair and nobody's
    assert summary["skipped_pairs"] == [
        f"{pairs} line 3: account 'quoter' has no post left after cleaning: each was empty once cleaned (a quote"
        " only, or blank) or a retweet (`authorid ingest --no-strip-quotes` / `--no-drop-retweets` keeps those)",
        f"{pairs} line 4: unknown account 'nobody' (not in the corpus)",
    ]
    assert summary["cleaning"]["accounts_left_with_no_post"] == ["quoter"]
    assert summary["cleaning"]["accounts_read"] == 3


def test_explain_reads_an_ingested_file_as_score_does_so_both_give_one_p(tmp_path):
    # audit 7: `explain` cleaned an ingested file again (undoing `ingest --no-strip-quotes`), so its P differed
    # from `score`'s for the same pair
    posts = tmp_path / "posts.parquet"
    result = runner.invoke(app, ["ingest", "enron_demo", "--no-strip-quotes", "-o", str(posts)])
    assert result.exit_code == 0, result.output
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("account_a,account_b\n183141,194257\n")
    args = ["score", "style", str(posts), "--pairs", str(pairs), "-o", str(tmp_path / "s.csv"), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    with (tmp_path / "s.csv").open() as fh:
        scored = next(csv.DictReader(fh))
    args = ["explain", "style", str(posts), "183141", "194257", "-o", str(tmp_path / "ev"), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    evidence = json.loads(result.stdout)
    assert evidence["cleaning"]["read_as_it_is"] == "an `authorid ingest` output"
    assert evidence["similarity"] == pytest.approx(float(scored["cosine"]), abs=1e-6)
    assert evidence["probability"] == pytest.approx(float(scored["probability"]), abs=1e-6)


def test_train_says_what_cleaning_did_and_records_it_in_the_model(tmp_path):
    # audit 7: train cleaned a raw corpus without a word (the model recorded only "clean": true)
    args = [
        "train",
        "enron_demo",
        "--preset",
        "ngram",
        "--max-steps",
        "2",
        "-o",
        str(tmp_path / "m"),
        "--json",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    cleaning = json.loads(result.stdout)["cleaning"]
    assert (cleaning["posts_read"], cleaning["posts_kept"]) == (960, 955)
    assert cleaning["dropped"]["duplicate_in_account"] == 5
    meta = json.loads((tmp_path / "m" / "authorid.json").read_text())
    assert meta["data"]["cleaning"] == cleaning


def test_a_folder_of_ingested_files_is_read_as_it_is_and_their_reports_are_not_posts(tmp_path):
    # audit 7: a folder holding two `ingest` outputs failed ("malformed JSON" in a report), and would have been
    # cleaned again
    folder = tmp_path / "ingested"
    folder.mkdir()
    for name, author in (("one", "a"), ("two", "b")):
        raw = tmp_path / f"{name}.jsonl"
        raw.write_text(
            "".join(
                json.dumps({"author": author, "text": f"post {i} of {name}, as ever"}) + "\n"
                for i in range(3)
            )
        )
        result = runner.invoke(app, ["ingest", str(raw), "-o", str(folder / f"{name}.parquet")])
        assert result.exit_code == 0, result.output
    assert ingested(folder)
    summary = _embed(folder, tmp_path / "v.parquet")
    assert summary["rows"] == 2
    assert summary["cleaning"]["read_as_it_is"] == "an `authorid ingest` output"
    (folder / "three.jsonl").write_text('{"author": "c", "text": "> a quote\\nand words"}\n')
    assert not ingested(folder)  # one raw file: the folder is cleaned
    summary = _embed(folder, tmp_path / "w.parquet")
    assert summary["rows"] == 3 and summary["cleaning"]["changed"]["quotes_stripped"] == 1


def test_attribute_says_an_ingested_texts_file_lost_the_texts_its_authors_repeated(tmp_path):
    # audit 7: `attribute` keeps a text its author repeated, but an ingested texts file had lost them at ingest
    # (dedupe), so those texts got no answer without a word
    texts = tmp_path / "texts.jsonl"
    records = [("a", "the same words, sent twice"), ("a", "the same words, sent twice"), ("a", "other words")]
    records += [("b", "a different author writes this"), ("b", "and this as well, differently")]
    texts.write_text("".join(json.dumps({"author": a, "text": t}) + "\n" for a, t in records))
    args = ["attribute", "stylometric", "--known", "enron_demo", "-o", str(tmp_path / "p.csv"), "--json"]
    result = runner.invoke(app, [*args[:2], str(texts), *args[2:]])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["texts"] == 5 and "warning" not in result.stderr
    posts = tmp_path / "texts.parquet"
    result = runner.invoke(app, ["ingest", str(texts), "-o", str(posts)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, [*args[:2], str(posts), *args[2:], "--overwrite"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["texts"] == 4
    said = " ".join(result.stderr.split())
    assert (
        "cleaned: already, by `authorid ingest` (its report beside it: 1 post dropped, 1 repeated by their author)"
    ) in said
    assert (
        f"warning: {posts} was ingested with the texts its authors repeated dropped (1), so those get no answer:"
        " attribute the raw file, or ingest it with --no-dedupe"
    ) in said


def test_evaluate_records_cleaning_says_who_it_left_out_and_compare_tells_cleaned_from_raw(tmp_path):
    # audit 7: evaluate's metrics.json did not record cleaning, so `compare` put a run on raw posts beside one on
    # cleaned posts without a word; nor did it say that cleaning took an account below --min-posts
    corpus = tmp_path / "c.jsonl"
    records = [(a, f"{a} writes post number {i} in their own way") for a in "abcd" for i in range(4)]
    records[-1] = ("d", records[-2][1])  # d's last post repeats the one before: cleaning drops it
    corpus.write_text("".join(json.dumps({"author": a, "text": t}) + "\n" for a, t in records))
    out = tmp_path / "run"
    args = ["evaluate", "stylometric", str(corpus), "--min-posts", "4", "-o", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    said = " ".join(result.stdout.split())
    assert "sybil: 3 of 4 accounts have >= 4 posts after cleaning (--min-posts 4): 1 left out" in said
    run = json.loads((out / "metrics.json").read_text())
    cleaning = run["data"]["cleaning"]
    assert (cleaning["posts_read"], cleaning["posts_kept"]) == (16, 15)
    assert cleaning["dropped"]["duplicate_in_account"] == 1
    assert "cleaned (0 changes, 1 of 16 posts dropped)" in (out / "report.html").read_text()
    before = run | {
        "data": {k: v for k, v in run["data"].items() if k not in ("cleaning", "corpus_fingerprint")}
    }  # as runs before stop 37
    (tmp_path / "before.json").write_text(json.dumps(before))
    result = runner.invoke(app, ["compare", str(out), str(tmp_path / "before.json"), "--json"])
    assert result.exit_code == 0, result.output
    why = json.loads(result.stdout)["why_queries_differ"]
    assert why == {}  # the same queries: the runs scored the same posts, whatever was recorded
    before["protocols"]["sybil"]["queries_sha256"] = "0" * 64  # a raw run scores other text
    before["data"]["fingerprint"] = "1" * 64
    (tmp_path / "before.json").write_text(json.dumps(before))
    result = runner.invoke(app, ["compare", str(out), str(tmp_path / "before.json"), "--json"])
    why = json.loads(result.stdout)["why_queries_differ"]
    assert why == {
        "sybil": "sybil: another corpus, cleaning: cleaned (0 changes, 1 of 16 posts dropped) / cleaning not recorded"
    }


def test_a_file_that_is_not_utf8_is_refused_by_every_command_or_under_skip_named(tmp_path):
    # audit 9: a cp1252 CSV was read with U+FFFD in place of every accent, and `embed`, `score` and `cluster` said
    # "no text changed"
    corpus = tmp_path / "latin1.csv"
    rows = "".join(f'a{i % 3},"Caf\xe9 d\xe9j\xe0 vu number {i}, na\xefve r\xe9sum\xe9"\n' for i in range(9))
    corpus.write_bytes(("author,text\n" + rows).encode("cp1252"))
    args = ["embed", "stylometric:2", str(corpus), "-o", str(tmp_path / "v.parquet")]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    said = " ".join(result.output.split())
    assert said == (
        f"error: {corpus}: line 2: bytes that are not UTF-8 (and on 8 more lines); convert the file to UTF-8 (e.g."
        " `iconv -f cp1252 -t utf-8`), or pass --on-error skip to read each such byte as U+FFFD"
    )
    result = runner.invoke(app, [*args, "--on-error", "skip"])
    assert result.exit_code == 0, result.output
    said = " ".join(result.stderr.split())
    assert (
        f"warning: {corpus}: line 2: bytes that are not UTF-8 (and on 8 more lines), read as U+FFFD" in said
    )
