"""scripts/bench_quality.py's pieces: one scoring path equal to authorid's own protocols, fusion without
leakage, resumable results, and the per-author caps of the attribution settings (bundled enron_demo)."""

from __future__ import annotations

import numpy as np
import pytest
from benchlib.results import load_results, save_row, save_setting
from benchlib.scoring import FusionScorer, VectorScorer, linking_metrics, linking_task
from benchlib.settings import PROFILES, _cap

from authorid.evaluation.protocols import sybil_protocol, verification_protocol
from authorid.evaluation.protocols.base import PostEmbeddings


@pytest.fixture(scope="module")
def enron():
    from authorid.data.readers import read_posts

    posts, _ = read_posts("enron_demo")
    return posts


@pytest.fixture(scope="module")
def stylometric(enron):
    from authorid.model import load_model

    return load_model("stylometric", fit_corpus=enron)


@pytest.fixture(scope="module")
def task(enron):
    return linking_task(enron, min_posts=8, max_posts=6, seed=0)


@pytest.fixture(scope="module")
def vectors(stylometric, task):
    return PostEmbeddings(stylometric, task.chosen.posts).accounts()


def test_vector_rows_score_exactly_as_the_protocols_do(enron, stylometric, task, vectors):
    ours = linking_metrics(VectorScorer(vectors), task)
    sybil = sybil_protocol(stylometric, enron, min_posts=8, max_posts=6, seed=0).metrics["linking"]
    verification = verification_protocol(stylometric, enron, min_posts=8, max_posts=6, seed=0)
    assert ours["linking"] == pytest.approx({k: sybil[k] for k in ours["linking"]})
    expected = verification.metrics["verification"]
    assert {k: ours["verification"][k] for k in expected} == pytest.approx(expected)
    assert ours["verification"]["sampled"] is False


def test_sampled_pairs_are_balanced_seeded_subsets(task):
    sample = task.sampled_pairs(20)
    again = task.sampled_pairs(20)
    assert [(a, b, y.tolist()) for a, b, y in sample] == [(a, b, y.tolist()) for a, b, y in again]
    for (a, b, y), (full_a, full_b, full_y) in zip(sample, task.pairs, strict=True):
        assert len(y) == 10 and int(y.sum()) == 5  # n/4 per class per fold
        full = set(zip(full_a, full_b, full_y.tolist(), strict=True))
        assert set(zip(a, b, y.tolist(), strict=True)) <= full


def test_pair_only_scorers_skip_ranking(task, vectors):
    class PairOnly(VectorScorer):
        supports_ranking = False

    out = linking_metrics(PairOnly(vectors), task, pairs=task.sampled_pairs(20))
    assert "linking" not in out and out["verification"]["n_pairs"] == 20 and out["verification"]["sampled"]


def test_fusion_of_a_fold_never_uses_that_folds_labels(task, vectors):
    """Flipping every label of fold 0 changes fold 1's fusion only; fold 0's pairs keep their scores."""
    noisy = VectorScorer(vectors)
    other = VectorScorer(vectors)
    other.vectors = type(vectors)(
        vectors.account_ids,
        np.roll(vectors.vectors, 1, axis=1),  # a second, different view of the same accounts
        vectors.n_posts,
    )
    before = FusionScorer(noisy, other, task)
    (a0, b0, y0), fold1 = task.pairs
    flipped = type(task)(task.chosen, task.queries, task.candidates, [(a0, b0, 1 - y0), fold1], task.seed)
    after = FusionScorer(noisy, other, flipped)
    np.testing.assert_allclose(before.pair_scores(a0, b0), after.pair_scores(a0, b0))
    assert not np.allclose(before.pair_scores(*fold1[:2]), after.pair_scores(*fold1[:2]))


def test_results_merge_row_by_row_and_never_mix_profiles(tmp_path):
    path = tmp_path / "quality.json"
    info = {"kind": "linking", "description": "d", "counts": {"n": 1}, "rows_order": ["a", "b"]}
    save_setting(path, "reddit", info, profile={"name": "cpu"}, command="python x")
    save_row(path, "reddit", "a", {"metrics": {"linking": {"mrr": 0.5}}})
    save_setting(path, "reddit", info, profile={"name": "cpu"}, command="python x --rows b")
    save_row(path, "reddit", "b", {"metrics": {}})
    results = load_results(path)
    assert list(results["settings"]["reddit"]["rows"]) == ["a", "b"]
    assert results["commands"] == ["python x", "python x --rows b"]
    save_setting(path, "reddit", {**info, "counts": {"n": 2}}, profile={"name": "cpu"}, command="python x")
    assert load_results(path)["settings"]["reddit"]["rows"] == {}  # other data: rows start over
    save_row(path, "reddit", "a", {"metrics": {}})
    save_setting(path, "c50", info, profile={"name": "full"}, command="python y")
    results = load_results(path)
    assert set(results["settings"]) == {"c50"} and results["commands"] == ["python y"]


def test_caps_keep_at_most_n_posts_per_author_seeded(enron):
    capped = _cap(enron, 5, seed=3)
    sizes = np.unique(np.asarray(capped["account_id"]), return_counts=True)[1]
    assert sizes.max() == 5 and len(sizes) == len(set(enron["account_id"]))
    assert capped["post_id"] == _cap(enron, 5, seed=3)["post_id"]
    assert capped["post_id"] != _cap(enron, 5, seed=4)["post_id"]
    assert _cap(enron, None, seed=0) is enron


def test_profiles_fine_tune_supcon_for_the_attention_and_fusion_rows():
    from bench_quality import rows_for

    for profile in PROFILES.values():
        rows = rows_for("reddit", profile)
        assert rows.index("supcon") < rows.index("supcon+attention") < rows.index("fusion")
        assert rows.index("stylometric") < rows.index("fusion")
        assert "fusion" not in rows_for("c50", profile)
