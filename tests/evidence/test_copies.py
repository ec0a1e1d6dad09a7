"""Posts two accounts share word for word: counted beside P (score), shown on the evidence page (explain)."""

import csv
import json

import pytest
import typer
from samples import raw_records
from typer.testing import CliRunner

from authorid.cli.score import score_command
from authorid.evidence.copies import MIN_COPY_CHARS, CopiedPosts, copy_key


def cli(**commands) -> typer.Typer:
    """A local app of these commands (two at least, so that the first argument names one, as in `authorid`)."""
    app = typer.Typer()
    for name, command in {**commands, "noop": lambda: None}.items():
        app.command(name)(command)
    return app


TEMPLATE = "Your post was removed because it violated rule 3: Spam and self-promotion."


def test_copies_are_equal_texts_long_enough_whatever_the_spacing_and_case():
    copies = CopiedPosts(
        [
            ("mod_a", TEMPLATE),
            ("mod_b", "  your post was REMOVED because it violated rule 3:\nSpam and self-promotion. "),
            ("mod_c", TEMPLATE),
            ("mod_a", "Thank you so much!"),  # shorter than MIN_COPY_CHARS: strangers say it too
            ("mod_b", "Thank you so much!"),
            ("mod_b", TEMPLATE),  # the same text twice in one account counts once
        ]
    )
    assert len(copy_key("Thank you so much!") or "") < MIN_COPY_CHARS <= len(copy_key(TEMPLATE))
    assert copies.count("mod_a", "mod_b") == 1 and copies.count("mod_b", "mod_a") == 1
    assert copies.count("mod_a", "mod_a") == 0  # an account with itself: nothing copied
    assert copies.count("mod_a", "nobody") == 0
    assert copies.described("mod_a", "mod_c") == [{"text": TEMPLATE, "accounts": 3}]


@pytest.fixture(scope="module")
def reposted(tmp_path_factory):
    """Real Reddit accounts: `copier` is one account's posts plus a long post of `source`'s, reposted."""
    records = raw_records("reddit", 4000)
    by_author = {}
    for r in records:
        by_author.setdefault(r["author"], []).append(r)
    authors = [a for a, posts in by_author.items() if len(posts) >= 6][:60]
    source, copier = authors[0], authors[1]
    long_post = next(r["text"] for r in by_author[source] if len(r["text"]) > 200)
    rows = [{"author": a, "text": r["text"], "id": r["id"]} for a in authors for r in by_author[a]]
    rows.append({"author": copier, "text": long_post, "id": "repost"})
    folder = tmp_path_factory.mktemp("copies")
    corpus = folder / "pool.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in rows))
    pairs = folder / "pairs.csv"
    pairs.write_text(f"account_a,account_b\n{source},{copier}\n{source},{authors[2]}\n")
    return corpus, pairs, source, copier


def test_score_counts_the_posts_a_pair_shares_word_for_word_and_warns(reposted, tmp_path):
    # audit 12: a meme, a removal template or a repost gave two strangers P ~ 1 without a word
    corpus, pairs, source, copier = reposted
    app = cli(score=score_command)
    out = tmp_path / "scores.csv"
    args = ["score", "style", str(corpus), "--pairs", str(pairs), "-o", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert [r["copied_posts"] for r in rows] == ["1", "0"]
    said = " ".join(result.output.split())
    assert "warning: 1 pair share posts word for word" in said and "column copied_posts" in said
    summary = CliRunner().invoke(app, [*args[:-1], str(tmp_path / "j.csv"), "--json"])
    assert json.loads(summary.stdout)["pairs_with_copied_posts"] == 1


def test_explain_shows_the_copied_post_and_how_many_accounts_posted_it(reposted, tmp_path):
    from authorid.cli.explain import explain_command
    from authorid.evidence.copies import shorten

    corpus, _, source, copier = reposted
    app = cli(explain=explain_command)
    out = tmp_path / "evidence"
    # "--": a Reddit user name may start with "-"
    result = CliRunner().invoke(app, ["explain", "-o", str(out), "--", "style", str(corpus), source, copier])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "warning: the two accounts share 1 post word for word" in said
    assert "posted by 2 accounts of the corpus" in said
    evidence = json.loads((out / "evidence.json").read_text())
    long_post = next(
        json.loads(line)["text"] for line in corpus.read_text().splitlines() if '"id": "repost"' in line
    )
    assert evidence["copied_posts"] == [{"text": shorten(long_post), "accounts": 2}]
    assert "Posts both accounts share word for word: 1" in (out / "evidence.html").read_text()
    other = CliRunner().invoke(
        app, ["explain", "-o", str(tmp_path / "x"), "--", "style", str(corpus), source, "y"]
    )
    assert other.exit_code == 2 and "not in the corpus" in other.output


def test_cluster_counts_the_groups_whose_accounts_share_a_copied_post(reposted, tmp_path):
    # audit 12: a one-post account reposting another's post made a 2-account "person" at cohesion 1.00
    from authorid.cli.cluster import cluster_command

    corpus, _, source, copier = reposted
    records = [json.loads(line) for line in corpus.read_text().splitlines()]
    long_post = next(r["text"] for r in records if r["id"] == "repost")
    pool = tmp_path / "pool.jsonl"
    pool.write_text(
        corpus.read_text() + json.dumps({"author": "reposter", "text": long_post, "id": "r2"}) + "\n"
    )
    app = cli(cluster=cluster_command)
    result = CliRunner().invoke(app, ["cluster", "style", str(pool), "-o", str(tmp_path / "clusters")])
    assert result.exit_code == 0, result.output
    groups = [
        json.loads(line) for line in (tmp_path / "clusters" / "clusters.jsonl").read_text().splitlines()
    ]
    reposter = next(g for g in groups if "reposter" in g["members"])
    assert {source, copier} & set(reposter["members"]) and reposter["copied_pairs"] >= 1, reposter
    said = " ".join(result.output.split())
    assert "hold accounts that posted a text word for word (copied_pairs in clusters.jsonl)" in said
    assert "sharing a copied post" in said


def test_pairs_scored_from_vectors_say_copies_were_not_counted(reposted, tmp_path):
    # audit 13: --vectors (no posts) reported "pairs_with_copied_posts": 0 over an empty column
    from authorid.cli.embed import embed_command

    corpus, pairs, _, _ = reposted
    app = cli(score=score_command, embed=embed_command)
    vectors = tmp_path / "v.parquet"
    assert CliRunner().invoke(app, ["embed", "style", str(corpus), "-o", str(vectors)]).exit_code == 0
    args = ["score", "style", "--vectors", str(vectors), "--pairs", str(pairs), "-o", str(tmp_path / "s.csv")]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["pairs_with_copied_posts"] is None
    assert [r["copied_posts"] for r in csv.DictReader((tmp_path / "s.csv").open())] == ["", ""]
    said = CliRunner().invoke(app, [*args[:-1], str(tmp_path / "t.csv")])
    assert "note: posts copied between accounts were not counted" in " ".join(said.output.split())
