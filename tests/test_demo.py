"""The demo pipeline end to end on the bundled corpus (stylometric only: the neural path is tested in encoders)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from authorid.demo import run_demo


def test_demo_pipeline_writes_every_output_and_links_accounts(tmp_path):
    result = run_demo(out=tmp_path, encoders=("stylometric",))
    assert set(result.outputs) == {
        "posts",
        "ingest report",
        "split manifest",
        "stylometric vectors",
        "linking report",
    }
    assert all(path.exists() for path in result.outputs.values())
    metrics = result.metrics["stylometric"]
    # 40 authors, each cut in two: 40 queries against a pool of 40
    assert metrics["pool_size"] == 40 and metrics["n_queries"] == 40
    # far above chance (MRR of a random ranking over 40 candidates is about 0.107)
    assert metrics["mrr"] > 0.4
    report = json.loads((tmp_path / "linking.json").read_text())
    assert report["protocol"] == {"name": "sybil linking", "cut": "random", "k": 2, "seed": 0}
    assert report["metrics"]["stylometric"]["mrr"] == metrics["mrr"]


def test_demo_is_deterministic_for_a_seed(tmp_path):
    first = run_demo(out=tmp_path / "a", encoders=("stylometric",), seed=3).metrics["stylometric"]
    second = run_demo(out=tmp_path / "b", encoders=("stylometric",), seed=3).metrics["stylometric"]
    assert first["mrr"] == second["mrr"]


def test_demo_command_rejects_an_unknown_corpus(tmp_path):
    from authorid.cli import app

    result = CliRunner().invoke(app, ["demo", "--corpus", "nowhere.jsonl", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "nowhere.jsonl: no such file or folder, and not a corpus preset" in result.output


def test_public_api_names_resolve():
    import authorid

    for name in authorid.__all__:
        assert getattr(authorid, name) is not None, name
