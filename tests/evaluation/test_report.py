"""evaluate(): metrics.json content, the self-contained HTML report, the figures, and comparing runs."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from rich.console import Console

from authorid.evaluation import plots
from authorid.evaluation.protocols import ProtocolError
from authorid.metrics.verification import reliability_curve
from authorid.workflows.compare import comparison_table
from authorid.workflows.evaluate import evaluate, protocol_names

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def enron():
    from authorid.data.readers import read_posts

    posts, _ = read_posts("enron_demo")
    return posts


@pytest.fixture(scope="module")
def run_dir(enron, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval") / "run"
    evaluate("stylometric", enron, protocol="all", accounts=8, seed=0, out=out, corpus="enron_demo")
    return out


def test_metrics_json_has_every_section(run_dir, enron):
    from authorid.data.splits import fingerprint

    run = json.loads((run_dir / "metrics.json").read_text())
    assert set(run) == {
        "authorid_version", "created", "seed", "model", "data", "protocols", "timing_s", "versions", "outputs",
    }  # fmt: skip
    assert run["data"] == {
        "corpus": "enron_demo",
        "fingerprint": fingerprint(enron),
        "corpus_fingerprint": fingerprint(enron),  # the same: no account was left out
        "posts": 960,
        "accounts": 40,
        "excluded_training_accounts": 0,  # a model fitted on the corpus records no training accounts
        "training_accounts_kept": None,  # no reason to keep them (an attribution model's own split)
        "cleaning": None,  # the Python API takes posts as given; the CLI records what cleaning did
    }
    assert run["model"]["name"] == "stylometric" and run["model"]["kind"] == "stylometric"
    assert set(run["model"]) >= {"dim", "fingerprint", "fitted_on"}
    assert list(run["protocols"]) == ["sybil", "verification", "clustering", "attribution"]
    for entry in run["protocols"].values():
        assert set(entry) == {"metrics", "settings", "timing_s", "queries_sha256"}
        assert entry["settings"]["seed"] == 0 and entry["settings"]["accounts"] == 8
    assert run["protocols"]["sybil"]["metrics"]["linking"]["pool_size"] == 8
    assert {"python", "numpy", "torch", "scikit-learn", "matplotlib"} <= set(run["versions"])


def test_manifests_are_written_per_protocol(run_dir):
    names = sorted(p.name for p in (run_dir / "manifests").iterdir())
    assert names == ["attribution.json", "clustering.json", "sybil.json", "verification.json"]
    sybil = json.loads((run_dir / "manifests" / "sybil.json").read_text())
    assert len(sybil["queries"]) == 8 and len(sybil["posts"]) == 16


def test_report_is_self_contained_with_one_image_per_figure(run_dir):
    page = (run_dir / "report.html").read_text()
    images = re.findall(r'<img src="([^"]*)"', page)
    # sybil: scores, linking ranks, episode ranks; verification: scores, ROC, reliability; clustering: cluster
    # sizes; attribution: confusion matrix.
    assert len(images) == 8
    assert all(src.startswith("data:image/png;base64,") for src in images)
    assert not re.search(r"https?://|//cdn|<link |<script", page)
    assert page.count("<section") == 4


def test_the_page_says_which_accounts_were_left_out_and_times_as_measured(run_dir):
    """Audit 10: the page called the accounts left after leaving out the model's training accounts "the
    corpus" without a word, and printed 0.0061 s as 0.0100 (rounded to 2 places, shown with 4)."""
    from authorid.evaluation.report import render_report

    run = json.loads((run_dir / "metrics.json").read_text())
    assert "left out" not in render_report(run, {})
    run["data"].update(accounts=9, excluded_training_accounts=151)
    run["protocols"]["sybil"]["timing_s"] = {"prepare": 0.006111, "embed": 0.002728}
    page = render_report(run, {})
    assert "left out 151 of its 160 accounts: stylometric trained or validated on them" in page
    assert '<td>prepare</td><td class="num">0.0061</td>' in page
    assert '<td>embed</td><td class="num">0.0027</td>' in page


def test_same_seed_same_metrics(enron, run_dir):
    again = evaluate("stylometric", enron, protocol="sybil", accounts=8, seed=0)
    first = json.loads((run_dir / "metrics.json").read_text())["protocols"]["sybil"]
    assert again["protocols"]["sybil"]["metrics"] == first["metrics"]
    assert again["protocols"]["sybil"]["queries_sha256"] == first["queries_sha256"]


def test_a_pool_too_small_for_the_hubness_correction_says_so(enron, caplog):
    run = evaluate("stylometric", enron, protocol="sybil", accounts=8, seed=0)
    assert "linking_hubness" not in run["protocols"]["sybil"]["metrics"]
    assert (
        "linking_hubness not measured: the hubness correction needs 50 candidates or more, this pool has 8"
        in (caplog.text)
    )


def test_compare_prints_runs_side_by_side(enron, run_dir, tmp_path):
    other = tmp_path / "seed1"
    evaluate("stylometric", enron, protocol="sybil", accounts=8, seed=1, out=other)
    console = Console(record=True, width=200)
    console.print(comparison_table([run_dir, other]))
    text = console.export_text()
    mrr_row = next(line for line in text.splitlines() if "sybil linking mrr" in line)
    first = json.loads((run_dir / "metrics.json").read_text())
    expected = first["protocols"]["sybil"]["metrics"]["linking"]["mrr"]
    assert f"{expected:.4f}" in mrr_row
    # another seed samples other accounts: the first run is the reference, the second differs from it
    assert re.search(r"sybil same queries as \S+\s*│\s*yes\s*│\s*NO", text)
    # The seed-1 run made only the sybil protocol: its other cells are "-".
    assert re.search(r"clustering ari\s*│\s*-?[0-9.]+\s*│\s*-\s*│", text)  # not "clustering clustering"


def test_compare_of_three_runs_says_which_scored_the_first_ones_queries_and_names_another_corpus(
    enron, run_dir, tmp_path
):
    """Audit 12: three runs of which two scored the same queries were all "NO", and runs on two corpora were
    said to differ in cleaning and accounts, never in corpus."""
    from authorid.workflows.compare import comparison

    again, other_seed, other_corpus = tmp_path / "again", tmp_path / "seed1", tmp_path / "corpus"
    evaluate("stylometric", enron, protocol="sybil", accounts=8, seed=0, out=again, corpus="enron")
    evaluate("stylometric", enron, protocol="sybil", accounts=8, seed=1, out=other_seed, corpus="enron")
    fewer = enron.select(range(len(enron) // 2))
    evaluate(
        "stylometric", fewer, protocol="sybil", accounts=8, seed=0, out=other_corpus, corpus="enron-half"
    )
    compared = comparison([run_dir, again, other_seed])
    assert compared["same_queries_as_first"]["sybil"] == [True, True, False]
    assert compared["same_queries"]["sybil"] is False
    why = comparison([again, other_corpus])["why_queries_differ"]["sybil"]
    assert why.startswith("sybil: another corpus: enron / enron-half"), why
    # the review: a run without the protocol first marked every other run NO
    verification = tmp_path / "verification"
    evaluate(
        "stylometric", enron, protocol="verification", accounts=8, seed=0, out=verification, corpus="enron"
    )
    assert comparison([verification, again, run_dir])["same_queries_as_first"]["sybil"] == [None, True, True]
    # one corpus named two ways is one corpus (its fingerprint), not "another corpus"
    renamed = json.loads((again / "metrics.json").read_text())
    renamed["data"]["corpus"] = "/somewhere/else/enron"
    renamed["data"]["excluded_training_accounts"] = 3
    renamed["protocols"]["sybil"]["queries_sha256"] = "0" * 64
    (tmp_path / "renamed.json").write_text(json.dumps(renamed))
    why = comparison([again, tmp_path / "renamed.json"])["why_queries_differ"]["sybil"]
    assert "another corpus" not in why and "training accounts left out 0 / 3" in why, why


def test_unknown_protocol_and_setting_are_one_line_errors(enron):
    with pytest.raises(
        ProtocolError, match=r"^unknown protocol bogus; valid: sybil, verification, clustering"
    ):
        protocol_names("bogus")
    unknown = r"^unknown setting\(s\) threshold \(--threshold\) for protocol\(s\) sybil$"
    with pytest.raises(ProtocolError, match=unknown):
        evaluate("stylometric", enron, protocol="sybil", threshold=0.3)
    assert protocol_names("all") == ["sybil", "verification", "clustering", "attribution"]
    assert protocol_names("sybil, attribution") == ["sybil", "attribution"]


def test_every_plot_is_a_png():
    rng = np.random.default_rng(0)
    labels = np.r_[np.ones(50, dtype=int), np.zeros(50, dtype=int)]
    scores = np.r_[rng.normal(0.6, 0.1, 50), rng.normal(0.3, 0.1, 50)]
    probabilities = 1 / (1 + np.exp(-(scores - 0.45) * 10))
    figures = [
        plots.score_distributions(scores[:50], scores[50:]),
        plots.roc_curve(scores, labels, auc=0.9),
        plots.reliability_diagram(reliability_curve(probabilities, labels), ece=0.05),
        plots.rank_histogram(np.array([1, 1, 2, 5, 40]), pool_size=50),
        plots.cluster_sizes(np.array([2, 2, 1, 1, 1]), np.array([2, 2, 2, 1])),
        plots.confusion_matrix(np.array([0, 1, 2, 2]), np.array([0, 2, 2, 1]), ["a", "b", "c"]),
    ]
    assert all(png.startswith(PNG) and len(png) > 5_000 for png in figures)


def test_protocols_on_the_same_accounts_embed_them_once(enron, monkeypatch):
    from authorid.model import load_model

    model = load_model("stylometric", fit_corpus=enron)
    calls = []
    embed = model.encoder.embed_groups
    monkeypatch.setattr(
        model.encoder,
        "embed_groups",
        lambda texts, groups, n, **options: calls.append(len(texts)) or embed(texts, groups, n, **options),
    )
    run = evaluate(model, enron, protocol="sybil,verification", accounts=6, seed=0)
    # The sybil cut's 12 halves once (shared with verification), then its 18 episodes of 8 posts.
    assert calls == [144, 144]
    assert run["protocols"]["verification"]["settings"]["evaluated_posts"] == 144
