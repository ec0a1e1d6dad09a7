"""`authorid embed` end to end on enron_demo through CliRunner."""

import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from authorid.cli.embed import embed_command
from authorid.encoders import AccountVectors

app = typer.Typer()
app.command("embed")(embed_command)
app.command("noop")(lambda: None)  # two commands, so `embed` is a subcommand as in the real app
runner = CliRunner()


def test_embed_accounts_stylometric(tmp_path):
    result = runner.invoke(app, ["embed", "stylometric:64", "enron_demo", "-o", str(tmp_path / "v.parquet")])
    assert result.exit_code == 0, result.output
    vectors = AccountVectors.from_parquet(tmp_path / "v.parquet")
    # 960 e-mails read; cleaning (as ingest's) drops 5 an author sent twice
    assert (len(vectors), vectors.dim, int(vectors.n_posts.sum())) == (40, 64, 955)
    assert "embedded 40 accounts with stylometric:64 (64 dims)" in result.output
    assert f"vectors: {tmp_path / 'v.parquet'}" in result.output


@pytest.mark.slow  # embeds all 960 e-mails with MiniLM on CPU
def test_embed_posts_minilm(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    out = tmp_path / "posts.parquet"
    result = runner.invoke(app, ["embed", "minilm", "enron_demo", "-o", str(out), "--level", "post"])
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert table.column_names == ["post_id", "account_id", "vector"]
    assert table.num_rows == 955 and len(table.column("vector")[0]) == 384  # 5 repeated e-mails dropped
    assert "embedded 955 posts with minilm (384 dims)" in result.output


def test_embed_unknown_level_is_one_line(tmp_path):
    result = runner.invoke(
        app, ["embed", "stylometric:8", "enron_demo", "-o", str(tmp_path / "x"), "--level", "x"]
    )
    assert result.exit_code == 2
    assert "error: --level must be 'account' or 'post', got 'x'" in result.output


@pytest.mark.parametrize("model", ["nonsense"])
def test_embed_unknown_model_is_one_line(model, tmp_path):
    result = runner.invoke(app, ["embed", model, "enron_demo", "-o", str(tmp_path / "x.parquet")])
    assert result.exit_code == 2 and "error: model 'nonsense'" in result.output


def test_embed_posts_stylometric(tmp_path):
    out = tmp_path / "posts.parquet"
    result = runner.invoke(app, ["embed", "stylometric:32", "enron_demo", "-o", str(out), "--level", "post"])
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert table.num_rows == 955 and len(table.column("vector")[0]) == 32  # 5 repeated e-mails dropped
    assert table.column("post_id")[0].as_py() == "LargeTrain/a1052.xml"
    assert "embedded 955 posts with stylometric:32 (32 dims)" in result.output


def test_the_python_embed_refuses_an_existing_file_as_the_command_does(tmp_path):
    # audit 8: `authorid.embed(..., out=FILE)` replaced an existing file without a word
    import authorid
    from authorid.errors import AuthoridError

    posts = authorid.load_posts("enron_demo")
    model = authorid.load_model("stylometric:16", fit_corpus=posts)
    out = tmp_path / "v.parquet"
    out.write_bytes(b"the user's own file")
    with pytest.raises(AuthoridError, match=f"out {out} exists; pass overwrite=True to replace it"):
        authorid.embed(model, posts, out=out)
    assert out.read_bytes() == b"the user's own file"
    authorid.embed(model, posts, out=out, overwrite=True)
    assert len(AccountVectors.from_parquet(out)) == 40


def test_the_corpus_read_is_never_the_output_even_with_overwrite(tmp_path):
    # audit 9: `embed CORPUS -o CORPUS --overwrite` replaced the user's corpus with account vectors
    from authorid.cli import app as full_app

    corpus = tmp_path / "posts.jsonl"
    corpus.write_text("".join(f'{{"author": "a{i % 3}", "text": "post {i} here"}}\n' for i in range(9)))
    kept = corpus.read_text()
    same = tmp_path / "posts.parquet"
    result = runner.invoke(full_app, ["ingest", str(corpus), "-o", str(same)])
    assert result.exit_code == 0, result.output
    before = same.read_bytes()
    for option, args in (
        ("-o", ["embed", "stylometric:2", str(same), "-o", str(same), "--overwrite"]),
        ("--out", ["ingest", str(same), "-o", str(same), "--overwrite"]),
    ):
        result = runner.invoke(full_app, args)
        assert result.exit_code == 2, (args, result.output)
        said = " ".join(result.output.split())
        assert said == f"error: {option} {same} is a file this command reads; give another file name", said
    assert same.read_bytes() == before and corpus.read_text() == kept


def test_a_command_stopped_after_writing_its_output_says_the_output_is_complete(tmp_path, monkeypatch):
    """Audit 9: SIGTERM right after `embed`'s final rename said "terminated" over a finished vectors file."""
    import authorid.cli.embed as cli_embed
    from authorid.cli.common import Terminated

    def stopped(*args, **kwargs):  # SIGTERM arriving as the summary is printed, the file already in place
        raise Terminated()

    monkeypatch.setattr(cli_embed, "say", stopped)
    out = tmp_path / "v.parquet"
    result = runner.invoke(app, ["embed", "stylometric:2", "enron_demo", "-o", str(out)])
    assert result.exit_code == 143
    assert result.output.strip().splitlines()[-1] == f"terminated after writing {out} (complete)"
    assert len(AccountVectors.from_parquet(out)) == 40
    # stopped before it wrote anything: no such claim
    monkeypatch.setattr(cli_embed, "say", lambda *a, **k: None)
    import authorid.workflows.embed as embed_workflow

    monkeypatch.setattr(embed_workflow, "embed", stopped)
    again = runner.invoke(app, ["embed", "stylometric:2", "enron_demo", "-o", str(tmp_path / "w.parquet")])
    assert again.exit_code == 143 and again.output.strip().splitlines()[-1] == "terminated"
