"""`authorid calibrate` and `authorid score` end to end on enron_demo through CliRunner (stylometric model)."""

import csv
import json
import re

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from authorid.cli.score import calibrate_command, score_command
from authorid.verification import Calibrator

app = typer.Typer()
app.command("calibrate")(calibrate_command)
app.command("score")(score_command)
runner = CliRunner()

PAIRS = [("183141", "194257"), ("183141", "183141"), ("x64646719710", "265281")]


@pytest.fixture(scope="module")
def calibration(tmp_path_factory):
    out = tmp_path_factory.mktemp("cal") / "calibration.json"
    result = runner.invoke(
        app,
        [
            "calibrate",
            "stylometric",
            "enron_demo",
            "-o",
            str(out),
            "--method",
            "platt",
            "--target-fpr",
            "0.05",
            "--abstain",
            "c@1",
        ],
    )
    assert result.exit_code == 0, result.output
    return out, result.output


def test_calibrate_reads_account_sizes_by_default(tmp_path):
    import inspect

    from authorid.workflows.calibrate import DEFAULT_METHOD

    assert (
        inspect.signature(calibrate_command).parameters["method"].default == DEFAULT_METHOD == "platt-sizes"
    )
    out = tmp_path / "calibration.json"
    result = runner.invoke(app, ["calibrate", "stylometric", "enron_demo", "-o", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["method"] == "platt-sizes" and len(data["params"]["coef"]) == 32
    info = data["info"]
    assert info["pairs_from"] == "sybil k=2 by=random, each cut to 1/2/5/10/20/50 posts and whole"
    # the halves (24 e-mails an author, cut in two) are cut to 1, 2, 5 and 10 e-mails and taken whole (12)
    assert info["account_posts"] == [1, 12]
    assert info["account_chars"][0] < info["account_chars"][1]
    assert "platt-sizes calibration on" in result.output


def write_pairs(path, pairs):
    path.write_text(
        "account_a,account_b,note\n" + "".join(f"{a},{b},n{i}\n" for i, (a, b) in enumerate(pairs))
    )
    return path


def test_calibrate_records_what_it_did(calibration):
    path, output = calibration
    data = json.loads(path.read_text())
    assert data["method"] == "platt" and data["params"]["coef"] > 0
    info = data["info"]
    assert (info["pairs_from"], info["accounts"], info["persons"]) == ("sybil k=2 by=random", 80, 40)
    # 40 same-person pairs, each with 30 different-person pairs, cut in two stratified halves
    assert (info["pairs_fit"], info["pairs_held_out"], info["target_fpr"], info["abstain_rule"]) == (
        620,
        620,
        0.05,
        "c@1",
    )
    assert info["fit_prior"] == pytest.approx(40 / 1240)  # P(same person) is calibrated at that share
    assert info["held_out"]["fpr"] <= 0.05
    assert info["model_spec"] == "stylometric"
    assert f"calibration: {path}" in output and "platt calibration on 620 pairs" in output


def test_calibrate_needs_an_output_for_a_named_model():
    result = runner.invoke(app, ["calibrate", "stylometric", "enron_demo"])
    assert result.exit_code == 2
    assert (
        "error: model 'stylometric' is not a folder: give --out/-o for the calibration file" in result.output
    )


def test_score_adds_probability_and_decision(calibration, tmp_path):
    path, _ = calibration
    pairs = write_pairs(tmp_path / "pairs.csv", PAIRS)
    out = tmp_path / "scores.csv"
    result = runner.invoke(
        app,
        [
            "score",
            "stylometric",
            "enron_demo",
            "--pairs",
            str(pairs),
            "-o",
            str(out),
            "--calibration",
            str(path),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert [(r["account_a"], r["account_b"], r["note"]) for r in rows] == [
        (a, b, f"n{i}") for i, (a, b) in enumerate(PAIRS)
    ]
    calibrator = Calibrator.load(path)
    cosines = np.array([float(r["cosine"]) for r in rows])
    assert cosines[1] == pytest.approx(1.0, abs=1e-5)  # an account against itself (float32 vectors)
    np.testing.assert_allclose(
        [float(r["probability"]) for r in rows], calibrator.predict(cosines), atol=2e-6
    )
    assert [r["decision"] for r in rows] == calibrator.decide(
        [float(r["probability"]) for r in rows]
    ).tolist()
    assert rows[1]["decision"] == "same"
    assert "note: 1 pair pairs an account with itself (cosine 1: 'same' by construction)" in result.output
    assert f"scores: {out}" in result.output
    # fitted on sybil halves (fewer posts each), applied to whole accounts: the sizes it never saw are flagged
    low, high = calibrator.info["account_posts"]
    fewest, most = calibrator.info["account_chars"]
    accounts, texts = _demo_accounts()
    posts = {a: accounts.count(a) for a in set(accounts)}
    chars = {a: sum(len(t) for b, t in zip(accounts, texts, strict=True) if b == a) for a in set(accounts)}
    expected = [
        "yes" if all(low <= posts[x] <= high and fewest <= chars[x] <= most for x in pair) else "no"
        for pair in PAIRS
    ]
    assert [r["sizes_calibrated"] for r in rows] == expected and "no" in expected
    assert (
        f"warning: {expected.count('no')} pairs have an account outside the sizes the calibration was fitted on"
        f" ({low}-{high} posts, {fewest:,}-{most:,} characters)" in result.output
    )


def _demo_accounts() -> tuple[list[str], list[str]]:
    """Each post's account and text as the commands read enron_demo."""
    from authorid.cli.common import read_corpus

    posts, _ = read_corpus("enron_demo", map=None, preset=None, on_error="raise", quiet=True)
    return list(posts["account_id"]), list(posts["text"])


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("183141,nobody", "unknown account 'nobody' (not in the corpus)"),
        ("265281", "field account_b is missing (the header has 2 fields)"),
        ("183141,194257,extra,more", "4 fields where the header has 2"),
    ],
)
def test_score_names_the_line_of_a_bad_pair_and_counts_it_when_skipping(calibration, tmp_path, line, said):
    path, _ = calibration
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(f"account_a,account_b\n{','.join(PAIRS[0])}\n\n{line}\n", encoding="utf-8")
    args = ["score", "stylometric", "enron_demo", "--pairs", str(pairs), "-o", str(tmp_path / "s.csv")]
    result = runner.invoke(app, args + ["--calibration", str(path)])
    assert result.exit_code == 2, result.output
    assert f"error: {pairs} line 4: {said}" in " ".join(result.output.split())  # line 3 is blank
    result = runner.invoke(app, args + ["--calibration", str(path), "--on-error", "skip"])
    assert result.exit_code == 0, result.output
    assert "scored 1 pairs" in result.output
    # audit 9: the skipped pair is named by line and why, not only counted
    output = " ".join(result.output.split())
    assert "(1 pair skipped)" in output and f"skipped: {pairs} line 4: {said}" in output


def test_a_pairs_file_with_a_column_score_writes_is_refused(calibration, tmp_path):
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(
        "account_a,account_b,probability,decision\n183141,194257,my_note,keep\n", encoding="utf-8"
    )
    result = runner.invoke(
        app,
        ["score", "stylometric", "enron_demo", "--pairs", str(pairs), "--calibration", str(calibration[0]),
         "-o", str(tmp_path / "s.csv")],
    )  # fmt: skip
    assert result.exit_code == 2
    assert f"error: {pairs}: column probability, decision would be overwritten by score's own output" in (
        " ".join(result.output.split())
    )


def test_score_without_calibration_says_what_to_run(tmp_path):
    pairs = write_pairs(tmp_path / "pairs.csv", PAIRS)
    result = runner.invoke(
        app, ["score", "stylometric", "enron_demo", "--pairs", str(pairs), "-o", str(tmp_path / "s.csv")]
    )
    assert result.exit_code == 2
    assert "run `authorid calibrate stylometric enron_demo -o calibration.json`" in result.output


def test_score_explain_adds_each_pairs_shared_habits(calibration, tmp_path):
    path, _ = calibration
    pairs = write_pairs(tmp_path / "pairs.csv", PAIRS)
    out = tmp_path / "scores.csv"
    args = ["score", "stylometric", "enron_demo", "--pairs", str(pairs), "-o", str(out)]
    result = runner.invoke(app, [*args, "--calibration", str(path), "--explain"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert all(r["reason"] for r in rows)
    # an account against itself shares every habit: five of them, each with a positive contribution
    habits = rows[1]["reason"].split("; ")
    assert len(habits) == 5 and all(float(h.rsplit(" ", 1)[1]) > 0 for h in habits)
    # the corpus is read through ingest's cleaning: no address or link is ever shown as a habit
    assert not any(re.search(r"https?:|www\.|\w@\w", r["reason"]) for r in rows)


def test_score_prior_moves_every_probability_by_bayes_rule(calibration, tmp_path):
    path, _ = calibration
    pairs = write_pairs(tmp_path / "pairs.csv", PAIRS)
    args = ["score", "stylometric", "enron_demo", "--pairs", str(pairs), "--calibration", str(path)]
    plain = tmp_path / "plain.csv"
    moved = tmp_path / "moved.csv"
    assert runner.invoke(app, [*args, "-o", str(plain)]).exit_code == 0
    result = runner.invoke(app, [*args, "-o", str(moved), "--prior", "0.01"])
    assert result.exit_code == 0, result.output
    calibrator = Calibrator.load(path)
    before = np.array([float(r["probability"]) for r in csv.DictReader(plain.open())])
    after = np.array([float(r["probability"]) for r in csv.DictReader(moved.open())])
    # logit P' = logit P + logit(0.01) - logit(fit prior), where the 6 written decimals keep P's logit
    readable = (before > 1e-4) & (before < 1 - 1e-4)
    assert readable.sum() >= 2

    def logit(p):
        return np.log(p / (1 - p))

    shift = logit(0.01) - logit(calibrator.fit_prior)
    np.testing.assert_allclose(logit(after[readable]), logit(before[readable]) + shift, atol=1e-3)
    assert (after <= before).all()
    bad = runner.invoke(app, [*args, "-o", str(tmp_path / "x.csv"), "--prior", "1.5"])
    assert bad.exit_code == 2 and "--prior must be between 0 and 1" in bad.output


def test_score_with_a_packaged_model_uses_its_shipped_calibration(tmp_path):
    """`style` ships a calibration.json: `score style` without --calibration uses it (it was refused as if the
    model carried none)."""
    from authorid.model import load_model

    pairs = write_pairs(tmp_path / "pairs.csv", PAIRS[:2])
    out = tmp_path / "scores.csv"
    result = runner.invoke(app, ["score", "style", "enron_demo", "--pairs", str(pairs), "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    shipped = load_model("style").calibration
    cosines = np.array([float(r["cosine"]) for r in rows])
    # the shipped calibration reads both accounts' post and character counts (`platt-sizes`)
    accounts, texts = _demo_accounts()
    posts = {a: accounts.count(a) for a in set(accounts)}
    chars = {a: sum(len(t) for b, t in zip(accounts, texts, strict=True) if b == a) for a in set(accounts)}
    sizes = tuple(
        np.array([count[r[side]] for r in rows])
        for count in (posts, chars)
        for side in ("account_a", "account_b")
    )
    np.testing.assert_allclose(
        [float(r["probability"]) for r in rows], shipped.predict(cosines, sizes=sizes), atol=2e-6
    )
    # every P assumes the share of same-person pairs the calibration was fitted at: the output says which
    assert f"P(same person) assumes a share of {shipped.fit_prior:.3g} same-person pairs" in result.output


def test_a_calibration_that_records_no_prior_is_said_to_assume_balanced_pairs(calibration, tmp_path):
    """Audit 10: 0.5, the default for a calibration recording no fit prior, was said to be "the calibration's
    own"."""
    path, _ = calibration
    bare = json.loads(path.read_text())
    bare["info"].pop("fit_prior")
    (tmp_path / "bare.json").write_text(json.dumps(bare))
    pairs = write_pairs(tmp_path / "pairs.csv", PAIRS[:1])
    args = ["score", "stylometric", "enron_demo", "--pairs", str(pairs), "-o", str(tmp_path / "s.csv")]
    result = runner.invoke(app, [*args, "--calibration", str(tmp_path / "bare.json")])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert (
        "assumes a share of 0.5 same-person pairs (the calibration records none, so balanced pairs are assumed"
        in said
    )
    result = runner.invoke(app, [*args, "--calibration", str(path), "--overwrite"])
    assert "same-person pairs (the calibration's own; --prior changes it)" in " ".join(result.output.split())


def test_brackets_in_messages_and_paths_print_as_written(calibration, tmp_path):
    """The console prints no markup: "[low, high]" in an error and a path with brackets reach the user whole."""
    path, _ = calibration
    broken = json.loads(path.read_text())
    broken["abstain_band"] = [0.9, 0.1]
    named = tmp_path / "cal[red]v2.json"
    named.write_text(json.dumps(broken))
    pairs = write_pairs(tmp_path / "pairs[bold].csv", PAIRS[:1])
    args = ["score", "stylometric", "enron_demo", "--pairs", str(pairs), "-o", str(tmp_path / "s.csv")]
    result = runner.invoke(app, [*args, "--calibration", str(named)])
    assert result.exit_code == 2
    assert "abstain_band must be [low, high] with low <= high, got [0.9, 0.1]" in result.output
    assert "cal[red]v2.json" in result.output
    result = runner.invoke(app, [*args, "--calibration", str(path)])
    assert result.exit_code == 0, result.output
    assert "scored 1 pairs" in result.output


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ("", "empty (need a header line account_a,account_b, then one pair per line)"),
        ("account_a, account_b\n183141,194257\n", "no column account_b (need account_a, account_b; found"),
        ("account_a,account_b\n", "no pairs, only a header line"),
        ("account_a,account_b\n\xe9mile,183141\n".encode("latin-1"), "not a UTF-8 CSV file ('utf-8' codec"),
    ],
)
def test_a_pairs_file_without_pairs_is_a_one_line_error(calibration, tmp_path, content, said):
    """Said before the corpus is read: the corpus named here does not exist, and its error never comes."""
    pairs = tmp_path / "pairs.csv"
    pairs.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    result = runner.invoke(
        app,
        ["score", "stylometric", str(tmp_path / "never-read.jsonl"), "--pairs", str(pairs), "--calibration",
         str(calibration[0]), "-o", str(tmp_path / "s.csv")],
    )  # fmt: skip
    assert result.exit_code == 2
    assert f"error: {pairs}: {said}" in " ".join(result.output.split())
    assert len(result.output.strip().splitlines()) == 1 and "never-read" not in result.output


def test_score_without_pairs_says_to_give_them(calibration, tmp_path):
    result = runner.invoke(app, ["score", "stylometric", "enron_demo", "--calibration", str(calibration[0])])
    assert result.exit_code == 2
    assert "error: give --pairs: a CSV of the account pairs to score" in " ".join(result.output.split())


def test_a_folder_given_as_pairs_or_calibration_is_said_to_be_a_folder(tmp_path):
    # audit 9: both said "no such file"
    args = ["score", "stylometric", "enron_demo", "-o", str(tmp_path / "s.csv")]
    result = runner.invoke(app, [*args, "--pairs", str(tmp_path)])
    assert result.exit_code == 2
    assert " ".join(result.output.split()) == (
        f"error: --pairs {tmp_path} is a folder: give the CSV file of account pairs"
    )
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("account_a,account_b\n183141,194257\n")
    result = runner.invoke(app, [*args, "--pairs", str(pairs), "--calibration", str(tmp_path)])
    assert result.exit_code == 2
    assert " ".join(result.output.split()) == (
        f"error: --calibration {tmp_path} is a folder: give its calibration file (a model folder's own"
        " calibration.json is read without --calibration)"
    )


def test_the_python_score_reads_the_models_own_calibration_when_given_none(tmp_path):
    """Audit 11: `calibration` was required (undocumented) and None crashed on an attribute of None."""
    from authorid.data.readers import read_posts
    from authorid.model import load_model
    from authorid.workflows.score import score

    posts, _ = read_posts("enron_demo")
    pairs = write_pairs(tmp_path / "pairs.csv", PAIRS[:2])
    style = load_model("style")
    scored, _, _ = score(style, posts, pairs=pairs, out=tmp_path / "a.csv")
    given, _, _ = score(style, posts, pairs=pairs, out=tmp_path / "b.csv", calibration=style.calibration)
    assert [r["probability"] for r in scored] == [r["probability"] for r in given]
    stylometric = load_model("stylometric", fit_corpus=posts)
    with pytest.raises(
        ValueError, match="no calibration for model 'stylometric': fit one with `authorid calibrate`"
    ):
        score(stylometric, posts, pairs=pairs, out=tmp_path / "c.csv")
