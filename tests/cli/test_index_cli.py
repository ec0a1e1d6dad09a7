"""`authorid index build|add` and `authorid link` end to end on enron_demo accounts (stylometric model)."""

import csv
import json

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from authorid.cli.index import index_app, link_command
from authorid.verification import Calibrator

app = typer.Typer()
app.add_typer(index_app, name="index")
app.command("link")(link_command)
runner = CliRunner()

# Of 20 enrolled authors queried with their other 12 e-mails, 10 rank first by cosine and 5 of those pass the
# threshold (cosine > 0.42); of the 5 authors never enrolled, 3 come out "unknown".
CORRECT, STRANGERS_UNKNOWN = 5, 3


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    """enrol: first 12 posts of 30 enron_demo accounts; more: 5 further accounts; query: the last 12 posts of
    20 enrolled accounts (as q-<id>) and of 5 accounts never enrolled (as q-<id>)."""
    from authorid.data.readers import read_posts

    posts, _ = read_posts("enron_demo")
    by_account = {}
    for row in posts:
        by_account.setdefault(row["account_id"], []).append(row)
    accounts = list(by_account)
    folder = tmp_path_factory.mktemp("corpora")

    def write(name, rows):
        path = folder / f"{name}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        return path

    def rows(account, part, rename=None):
        return [
            {"post_id": r["post_id"], "account_id": rename or account, "text": r["text"]}
            for r in by_account[account][part]
        ]

    enrol = write("enrol", [r for a in accounts[:30] for r in rows(a, slice(0, 12))])
    more = write("more", [r for a in accounts[30:35] for r in rows(a, slice(0, 12))])
    query = write(
        "query", [r for a in accounts[:20] + accounts[35:] for r in rows(a, slice(12, 24), rename=f"q-{a}")]
    )
    empty = write("empty", [])
    return {
        "enrol": enrol,
        "more": more,
        "query": query,
        "empty": empty,
        "accounts": accounts,
        "folder": folder,
    }


def queries_renamed(corpora, path, rename):
    """The query corpus written to `path` with each account id passed through `rename` (q-<id> -> <id>: the
    other halves of enrolled accounts under their names)."""
    rows = [json.loads(line) for line in corpora["query"].read_text().splitlines()]
    path.write_text("".join(json.dumps({**r, "account_id": rename(r["account_id"])}) + "\n" for r in rows))
    return path


def market_csv(source, path, header: list[str]):
    """`source`'s posts as another market would have them: a CSV of (account, text, post id) under `header`."""
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for line in source.read_text().splitlines():
            r = json.loads(line)
            writer.writerow([r["account_id"], r["text"], r["post_id"]])
    return path


@pytest.fixture(scope="module")
def index_folder(corpora):
    calibration = Calibrator.from_dict(
        {
            "format": "authorid.calibration",
            "version": 1,
            "method": "platt",
            "params": {"coef": 50.0, "intercept": -21.0},
            "info": {"fit_prior": 1 / 30},
        }
    )  # P(same) > 0.5 exactly when the cosine is above 0.42, at link's default prior for 30 enrolled: 1/30
    calibration.save(corpora["folder"] / "calibration.json")
    out = corpora["folder"] / "idx"
    result = runner.invoke(
        app,
        [
            "index",
            "build",
            "stylometric",
            str(corpora["enrol"]),
            "-o",
            str(out),
            "--calibration",
            str(corpora["folder"] / "calibration.json"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "enrolled 30 accounts (exact index" in result.output and f"index: {out}" in result.output
    said = " ".join(result.output.split())
    assert f"calibration kept with the index for `link`: {corpora['folder'] / 'calibration.json'}" in said
    return out


def test_build_records_the_model_and_keeps_the_encoder(index_folder):
    meta = json.loads((index_folder / "index.json").read_text())
    assert (meta["kind"], meta["count"], meta["model_spec"], meta["model"]["kind"]) == (
        "exact",
        30,
        "stylometric",
        "stylometric",
    )
    generation = index_folder / meta["generation"]  # the vectors and what travels with them, one generation
    assert (generation / "encoder" / "stylometric.json").is_file()
    assert (generation / "vectors.npy").is_file() and (generation / "ids.parquet").is_file()
    assert set(meta["files"]) >= {
        "vectors.npy",
        "ids.parquet",
        "calibration.json",
        "encoder/stylometric.json",
    }


def test_link_finds_enrolled_authors_and_says_unknown(index_folder, corpora, tmp_path):
    out = tmp_path / "links.csv"
    result = runner.invoke(app, ["link", str(index_folder), str(corpora["query"]), "-k", "3", "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 25 * 3 and [r["rank"] for r in rows[:3]] == ["1", "2", "3"]
    answers = {r["query_account"]: r["link"] for r in rows}
    enrolled = corpora["accounts"][:20]
    correct = sum(answers[f"q-{a}"] == a for a in enrolled)
    unknown_strangers = sum(answers[f"q-{a}"] == "unknown" for a in corpora["accounts"][35:])
    assert (correct, unknown_strangers) == (CORRECT, STRANGERS_UNKNOWN)
    assert all(r["decision"] == ("same" if float(r["probability"]) > 0.5 else "different") for r in rows)
    assert f"links: {out}" in result.output and "unknown" in result.output
    said = " ".join(result.output.split())
    assert "P(same person) assumes a share of 0.0333 same-person pairs" in said
    # 30 enrolled: no hubness correction, and a calibration without a cohort fit; each said in one line
    assert "candidates ranked by cosine: 30 enrolled accounts are too few for the hubness correction" in said
    assert "P(same person) read from the cosine fit: this calibration has no cohort fit" in said
    assert "P(same)" in said  # the table's column holds the probability, not the ranking score
    assert f"calibration: the index's ({index_folder}/" in said


def test_link_says_when_queries_are_enrolled_under_their_own_id(index_folder, corpora, tmp_path):
    # audit 8: linking accounts the index already holds gave each itself at cosine 1.0, "same", without a word
    args = ["link", str(index_folder), str(corpora["enrol"]), "-k", "2"]
    result = runner.invoke(app, [*args, "-o", str(tmp_path / "self.csv")])
    assert result.exit_code == 0, result.output
    assert (
        "warning: 30 query accounts have the id of an enrolled account (30 of them rank it first): a query the"
        " index already holds is found as itself" in " ".join(result.output.split())
    )
    result = runner.invoke(app, ["link", str(index_folder), str(corpora["query"]), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["linked_to_themselves"] == summary["named_as_enrolled"] == 0
    # 9 of the 25 queries (as q-<id>) have their own account as best candidate
    assert sum(1 for query, row in summary["best"].items() if row["account_id"] == query[2:]) == 9
    # audit 10: the other halves of 20 enrolled accounts under their ids were counted only when ranked first
    named = queries_renamed(corpora, tmp_path / "named.jsonl", lambda a: a[2:])
    result = runner.invoke(app, ["link", str(index_folder), str(named), "--json"])
    summary = json.loads(result.stdout)
    assert summary["named_as_enrolled"] == 20 and summary["linked_to_themselves"] == 9


def test_link_without_calibration_or_threshold_says_nothing_was_decided(corpora, tmp_path):
    """Audit 10: "linked 0 of 25; 25 unknown" was said where no query had been decided at all."""
    index = tmp_path / "bare"
    built = runner.invoke(app, ["index", "build", "stylometric", str(corpora["enrol"]), "-o", str(index)])
    assert built.exit_code == 0, built.output
    result = runner.invoke(app, ["link", str(index), str(corpora["query"])])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "ranked the enrolled accounts for 25 query accounts; nothing decided" in said
    assert "give --threshold COSINE, or --calibration" in said and "linked 0" not in said
    result = runner.invoke(app, ["link", str(index), str(corpora["query"]), "--threshold", "0.42"])
    assert "linked 9 of 25 query accounts; 16 unknown (no calibration: scores are cosines)" in result.output


def test_link_explain_with_gives_each_best_candidate_its_shared_habits(index_folder, corpora, tmp_path):
    out = tmp_path / "links.csv"
    args = ["link", str(index_folder), str(corpora["query"]), "-k", "2", "-o", str(out)]
    result = runner.invoke(app, [*args, "--explain-with", str(corpora["enrol"])])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    best = [r for r in rows if r["rank"] == "1"]
    assert len(best) == 25 and all(r["reason"] for r in best)
    assert all(r["reason"] == "" for r in rows if r["rank"] != "1")
    # each habit carries its exact contribution; together they never exceed the pair's cosine
    for row in best:
        contributions = [float(h.rsplit(" ", 1)[1]) for h in row["reason"].split("; ")]
        assert all(c > 0 for c in contributions) and sum(contributions) <= float(row["cosine"]) + 1e-6
        shown = [h.rsplit(" (", 1)[0] for h in row["reason"].split("; ")]
        assert len(shown) == len(set(shown)), row["reason"]  # one string, one entry (its features summed)
    # a corpus the candidates are not in (the queries' own) is refused, not read as posts-less accounts
    wrong = runner.invoke(app, [*args[:-1], str(tmp_path / "w.csv"), "--explain-with", str(corpora["query"])])
    assert wrong.exit_code == 2 and "best candidates are not accounts of that corpus" in wrong.output


def test_explain_with_a_corpus_in_another_format_reads_it_with_its_own_map(index_folder, corpora, tmp_path):
    """Audit 12: two markets in two formats. The --explain-with corpus was read with the query's --map, so no
    map could read both; its columns are now checked before the query corpus is read, and --explain-map maps
    them."""
    market = market_csv(corpora["enrol"], tmp_path / "market.csv", ["vendor", "message", "ref"])
    args = ["link", str(index_folder), str(corpora["query"]), "-k", "1", "--explain-with", str(market)]
    refused = runner.invoke(app, [*args, "-o", str(tmp_path / "a.csv")])
    assert refused.exit_code == 2
    said = " ".join(refused.output.split())
    assert "--explain-with" in said and "name it with --explain-map COLUMN=account_id" in said, said
    assert "read " not in said  # before the query corpus was read
    mapped = ["--explain-map", "vendor=account_id,message=text,ref=post_id"]
    result = runner.invoke(app, [*args, *mapped, "-o", str(tmp_path / "b.csv")])
    assert result.exit_code == 0, result.output
    # a malformed map is said as the option's own fault (the review: a --map typo was blamed on --explain-with)
    for option in ("--map", "--explain-map"):
        typo = runner.invoke(app, [*args, option, "vendor=account_id,body", "-o", str(tmp_path / "t.csv")])
        assert typo.exit_code == 2
        assert f"error: {option} entry 'body' is not SOURCE=CANONICAL" in " ".join(typo.output.split())
    plain = runner.invoke(app, [*args[:-1], str(corpora["enrol"]), "-o", str(tmp_path / "c.csv")])
    assert plain.exit_code == 0, plain.output
    assert (tmp_path / "b.csv").read_text() == (tmp_path / "c.csv").read_text()


def test_explain_with_an_ingested_parquet_needs_no_map_whatever_the_query_map(
    index_folder, corpora, tmp_path
):
    """Audit 13: the query corpus' --map was applied to an `ingest` Parquet (canonical columns), and refused."""
    from authorid.cli.ingest import ingest_command

    ingest_app = typer.Typer()
    ingest_app.command("ingest")(ingest_command)
    ingest_app.command("noop")(lambda: None)
    enrolled = tmp_path / "enrol.parquet"
    made = runner.invoke(ingest_app, ["ingest", str(corpora["enrol"]), "-o", str(enrolled)])
    assert made.exit_code == 0, made.output
    market = market_csv(corpora["query"], tmp_path / "market.csv", ["handle", "message", "ref"])
    args = [
        "link",
        str(index_folder),
        str(market),
        "-k",
        "1",
        "--map",
        "handle=account_id,message=text,ref=post_id",
    ]
    result = runner.invoke(app, [*args, "--explain-with", str(enrolled), "-o", str(tmp_path / "a.csv")])
    assert result.exit_code == 0, result.output
    assert all(r["reason"] for r in csv.DictReader((tmp_path / "a.csv").open()))


def test_a_query_named_as_an_enrolled_account_is_explained_by_its_own_posts(index_folder, corpora, tmp_path):
    """A query whose id is an enrolled account's (its other half, as a sybil check gives them) gets the reason
    the same posts get under another id: its posts are not merged into the enrolled account's."""
    reasons = {}
    for name, rename in (("same", lambda a: a[2:]), ("other", lambda a: a)):
        path = queries_renamed(corpora, tmp_path / f"{name}.jsonl", rename)
        out = tmp_path / f"{name}.csv"
        result = runner.invoke(
            app,
            [
                "link",
                str(index_folder),
                str(path),
                "-k",
                "1",
                "-o",
                str(out),
                "--explain-with",
                str(corpora["enrol"]),
            ],
        )
        assert result.exit_code == 0, result.output
        reasons[name] = [(r["account_id"], r["cosine"], r["reason"]) for r in csv.DictReader(out.open())]
    assert reasons["same"] == reasons["other"]
    assert len(reasons["same"]) == 25 and all(reason for _, _, reason in reasons["same"])


def test_add_enrols_more_then_refuses_duplicates(index_folder, corpora, tmp_path):
    import shutil

    folder = tmp_path / "idx"
    shutil.copytree(index_folder, folder)
    result = runner.invoke(app, ["index", "add", str(folder), str(corpora["more"])])
    assert result.exit_code == 0, result.output
    assert "enrolled 5 new accounts, 35 in all" in result.output
    assert json.loads((folder / "index.json").read_text())["count"] == 35
    again = runner.invoke(app, ["index", "add", str(folder), str(corpora["more"])])
    assert again.exit_code == 2 and "5 account(s) already enrolled" in again.output
    said = " ".join(again.output.split())
    assert "pass --on-duplicate replace to embed them again from these posts, or skip to keep" in said
    skipped = runner.invoke(
        app, ["index", "add", str(folder), str(corpora["more"]), "--on-duplicate", "skip"]
    )
    assert skipped.exit_code == 0 and "5 already enrolled, skipped" in skipped.output
    assert "another number of posts" not in skipped.output  # the same posts as enrolled


def day_two(corpora, path):
    """The next day's dump: every post of the first 10 enrolled accounts (24: they gained 12 since), the same
    12 of the next 5, and 5 accounts new to the index."""
    from authorid.data.readers import read_posts

    posts, _ = read_posts("enron_demo")
    accounts = corpora["accounts"]
    grown, same, new = set(accounts[:10]), set(accounts[10:15]), set(accounts[30:35])
    seen: dict[str, int] = {}
    rows = []
    for row in posts:
        nth = seen[row["account_id"]] = seen.get(row["account_id"], -1) + 1
        if row["account_id"] in grown or (row["account_id"] in same | new and nth < 12):
            rows.append({"post_id": row["post_id"], "account_id": row["account_id"], "text": row["text"]})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path, sorted(grown)


def test_day_two_accounts_that_gained_posts_are_said_skipped_or_embedded_again(
    index_folder, corpora, tmp_path
):
    """Audit 14: `--on-duplicate skip` kept the vectors of accounts that had gained posts, dropped their new
    posts and said only "skipped"; nothing could embed them again, and a duplicate was refused only after the
    whole corpus had been embedded."""
    import shutil

    from authorid.index.opening import open_index

    dump, grown = day_two(corpora, tmp_path / "day2.jsonl")
    folder = tmp_path / "idx"
    shutil.copytree(index_folder, folder)
    refused = runner.invoke(app, ["index", "add", str(folder), str(dump)])
    assert refused.exit_code == 2 and "15 account(s) already enrolled" in refused.output
    assert "counting" not in refused.output and "embedding" not in refused.output  # refused before embedding
    skipped = runner.invoke(app, ["index", "add", str(folder), str(dump), "--on-duplicate", "skip", "--json"])
    assert skipped.exit_code == 0, skipped.output
    summary = json.loads(skipped.stdout)
    assert {
        k: summary[k] for k in ("added", "replaced", "skipped", "skipped_with_other_posts", "accounts")
    } == {
        "added": 5,
        "replaced": 0,
        "skipped": 15,
        "skipped_with_other_posts": 10,
        "accounts": 35,
    }
    index, model = open_index(folder)
    before = index.vectors_at(np.array([index.positions[a] for a in grown]))
    replaced = runner.invoke(app, ["index", "add", str(folder), str(dump), "--on-duplicate", "replace"])
    assert replaced.exit_code == 0, replaced.output
    said = " ".join(replaced.output.split())
    assert "enrolled 0 new accounts, 35 in all (20 already enrolled, embedded again from these posts)" in said
    index, model = open_index(folder)
    from authorid.workflows.common import read_corpus

    posts, _ = read_corpus(dump)  # read and cleaned as the command reads it
    expected = model.embed_accounts(posts.filter(lambda row: row["account_id"] in set(grown)))
    after = index.vectors_at(np.array([index.positions[a] for a in expected.account_ids]))
    np.testing.assert_allclose(after, expected.vectors, atol=1e-6)  # each grown account's 24 posts
    assert not np.allclose(before, index.vectors_at(np.array([index.positions[a] for a in grown])))
    enrolled_posts = [int(index.n_posts[index.positions[a]]) for a in expected.account_ids]
    assert enrolled_posts == expected.n_posts.tolist() and sum(enrolled_posts) == 235 and len(index) == 35


def test_remove_drops_accounts_and_says_which_were_not_enrolled(index_folder, corpora, tmp_path):
    import shutil

    folder = tmp_path / "idx"
    shutil.copytree(index_folder, folder)
    gone = corpora["accounts"][:3]
    ids_file = tmp_path / "erase.txt"
    ids_file.write_text(f"{gone[2]}\n\n  nobody  \n")
    result = runner.invoke(
        app, ["index", "remove", str(folder), gone[0], gone[1], "--ids-file", str(ids_file)]
    )
    assert result.exit_code == 0, result.output
    assert "removed 3 accounts, 27 left" in result.output
    assert "1 of the ids given are not enrolled ('nobody')" in result.output
    meta = json.loads((folder / "index.json").read_text())
    assert meta["count"] == 27 and (folder / meta["generation"] / "calibration.json").is_file()
    out = tmp_path / "links.csv"
    links = runner.invoke(app, ["link", str(folder), str(corpora["query"]), "-k", "30", "-o", str(out)])
    assert links.exit_code == 0, links.output
    candidates = {row["account_id"] for row in csv.DictReader(out.open())}
    assert len(candidates) == 27 and not candidates & set(gone)
    every = runner.invoke(app, ["index", "remove", str(folder), *corpora["accounts"][3:30]])
    assert every.exit_code == 2 and "would leave" in every.output and "empty" in every.output
    nothing = runner.invoke(app, ["index", "remove", str(folder)])
    assert nothing.exit_code == 2 and "no account to remove" in nothing.output


def test_explain_with_another_dump_than_the_index_was_built_from_is_refused(index_folder, corpora, tmp_path):
    """Audit 14: `link --explain-with` took the day-2 dump, and its reasons cited posts the index never
    embedded (some of them the query's own)."""
    from authorid.data.readers import read_posts

    posts, _ = read_posts("enron_demo")
    enrolled = set(corpora["accounts"][:30])
    dump = tmp_path / "later.jsonl"  # every enrolled account with all 24 of its posts: 12 the index never saw
    rows = [
        {"post_id": r["post_id"], "account_id": r["account_id"], "text": r["text"]}
        for r in posts
        if r["account_id"] in enrolled
    ]
    dump.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "links.csv"
    args = ["link", str(index_folder), str(corpora["query"]), "-k", "1", "-o", str(out)]
    right = runner.invoke(app, [*args, "--explain-with", str(corpora["enrol"])])
    assert right.exit_code == 0, right.output
    wrong = runner.invoke(app, [*args, "--explain-with", str(dump), "--overwrite"])
    assert wrong.exit_code == 2, wrong.output
    said = " ".join(wrong.output.split())
    assert "best candidates' posts there give another vector than the index holds" in said


def test_link_an_empty_query_corpus_is_a_clear_error(index_folder, corpora):
    result = runner.invoke(app, ["link", str(index_folder), str(corpora["empty"])])
    assert result.exit_code == 2
    assert "error:" in result.output and ("no posts" in result.output or "empty" in result.output)


def test_link_on_a_folder_that_is_no_index(tmp_path, corpora):
    result = runner.invoke(app, ["link", str(tmp_path), str(corpora["query"])])
    assert result.exit_code == 2 and "is not an authorid index (no index.json)" in result.output


def test_add_past_four_times_an_ivf_index_trained_size_says_to_rebuild(corpora, tmp_path):
    """IVF cells trained on 5 accounts; enrolling 30 more makes 35 > 4 x 5: the accounts are enrolled and the
    user is told to rebuild (queries slow down as the cells fill)."""
    folder = tmp_path / "ivf"
    built = runner.invoke(
        app, ["index", "build", "style", str(corpora["more"]), "-o", str(folder), "--kind", "ivf"]
    )
    assert built.exit_code == 0, built.output
    assert json.loads((folder / "index.json").read_text())["params"]["trained_on"] == 5
    result = runner.invoke(app, ["index", "add", str(folder), str(corpora["enrol"])])
    assert result.exit_code == 0, result.output
    assert "enrolled 30 new accounts, 35 in all" in result.output
    # `style` keeps the centre of the 5 accounts it was built on: said, with how to refit it
    assert "note: the new accounts were centred as the accounts enrolled at build time are" in result.output
    assert "more than 4 times the 5 its IVF cells were trained on" in result.output
    assert "rebuild it with `authorid index build`" in result.output
    quiet = runner.invoke(app, ["index", "add", str(folder), str(corpora["query"]), "--json"])
    assert quiet.exit_code == 0 and json.loads(quiet.stdout)["needs_rebuild"] is True


def test_link_prior_is_stated_checked_and_moves_every_probability(index_folder, corpora):
    def linked(*options):
        result = runner.invoke(
            app, ["link", str(index_folder), str(corpora["query"]), "-k", "1", "--json", *options]
        )
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    default, balanced = linked(), linked("--prior", "0.5")
    assert default["prior"] == pytest.approx(1 / 30) and balanced["prior"] == 0.5
    # the calibration was fitted at 1/30: at 0.5 every P rises, by Bayes' rule, and more queries link
    for query, row in default["best"].items():
        assert balanced["best"][query]["probability"] > row["probability"]
    assert balanced["linked"] > default["linked"]
    result = runner.invoke(app, ["link", str(index_folder), str(corpora["query"]), "--prior", "1.5"])
    assert result.exit_code != 0 and "--prior must be between 0 and 1 (exclusive), got 1.5" in result.output


def test_queries_embedded_with_the_index_as_model_link_as_their_corpus_does(corpora, tmp_path):
    """Audit 10: `link --vectors` refused every file `embed style` can write (centred on its own corpus, where
    the index centres on its enrolled accounts); the index itself, as MODEL, embeds queries as `link` does."""
    from authorid.cli import app as authorid

    index = tmp_path / "style-index"
    assert (
        runner.invoke(
            authorid, ["index", "build", "style", str(corpora["enrol"]), "-o", str(index)]
        ).exit_code
        == 0
    )
    own, centred = tmp_path / "own.parquet", tmp_path / "centred.parquet"
    for model, out in (("style", own), (str(index), centred)):
        result = runner.invoke(authorid, ["embed", model, str(corpora["query"]), "-o", str(out)])
        assert result.exit_code == 0, result.output
    refused = runner.invoke(
        authorid, ["link", str(index), "--vectors", str(own), "-o", str(tmp_path / "r.csv")]
    )
    assert refused.exit_code == 2 and "embed it with the index as MODEL" in " ".join(refused.output.split())
    outputs = {}
    for name, source in (("corpus", [str(corpora["query"])]), ("vectors", ["--vectors", str(centred)])):
        out = tmp_path / f"{name}.csv"
        result = runner.invoke(authorid, ["link", str(index), *source, "-k", "3", "-o", str(out)])
        assert result.exit_code == 0, result.output
        outputs[name] = list(csv.DictReader(out.open()))
    assert len(outputs["corpus"]) == 75
    for by_corpus, by_vectors in zip(outputs["corpus"], outputs["vectors"], strict=True):
        assert (by_corpus["query_account"], by_corpus["account_id"]) == (
            by_vectors["query_account"],
            by_vectors["account_id"],
        )
        assert abs(float(by_corpus["cosine"]) - float(by_vectors["cosine"])) < 1e-5


def test_link_to_a_file_prints_the_first_queries_and_says_where_the_rest_are(index_folder, corpora, tmp_path):
    """Audit 11: 500 queries printed a 500-row table though every row was in the file."""
    out = tmp_path / "links.csv"
    result = runner.invoke(
        app, ["link", str(index_folder), str(corpora["query"]), "-o", str(out)], terminal_width=200
    )
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert f"the first 20 of 25 queries; every one in {out}" in said
    shown = [
        q
        for q in (f"q-{a}" for a in corpora["accounts"][:20] + corpora["accounts"][35:])
        if f"│ {q} " in said
    ]
    assert len(shown) == 20 and len({r["query_account"] for r in csv.DictReader(out.open())}) == 25
    printed = runner.invoke(app, ["link", str(index_folder), str(corpora["query"])], terminal_width=200)
    assert "the first 20" not in printed.output  # no file: the table is the output, whole


def test_an_index_whose_model_folder_is_gone_says_so_before_reading_the_corpus(corpora, tmp_path):
    """Audit 14: a model folder moved away read "not a known name ... nor a model folder", and `index add`
    said so only after reading (and cleaning) the whole corpus."""
    import shutil

    from authorid.model import packaged_model_path

    model = tmp_path / "models" / "style-copy"
    shutil.copytree(packaged_model_path("style"), model)
    folder = tmp_path / "idx"
    built = runner.invoke(app, ["index", "build", str(model), str(corpora["more"]), "-o", str(folder)])
    assert built.exit_code == 0, built.output
    model.rename(tmp_path / "models" / "archived")
    for args in (["index", "add", str(folder), str(corpora["enrol"])], ["index", "remove", str(folder), "a"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2
        said = " ".join(result.output.split())
        assert f"was built with the model folder {model}, which is no longer there: put it" in said
        assert "read " not in said  # before the corpus is read


def test_removing_from_an_hnsw_index_says_its_graph_was_built_again(corpora, tmp_path):
    folder = tmp_path / "hnsw"
    built = runner.invoke(
        app, ["index", "build", "stylometric", str(corpora["enrol"]), "-o", str(folder), "--kind", "hnsw"]
    )
    assert built.exit_code == 0, built.output
    result = runner.invoke(app, ["index", "remove", str(folder), corpora["accounts"][0]])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "removed 1 accounts, 29 left" in said
    assert "an HNSW graph cannot drop an account, so it was built again from the 29 accounts enrolled" in said
