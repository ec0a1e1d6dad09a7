"""scripts/bench_quality.py's pieces: one scoring path equal to authorid's own protocols, fusion without
leakage, resumable results, and the per-author caps of the attribution settings (bundled enron_demo)."""

from __future__ import annotations

import numpy as np
import pytest
from benchlib.results import load_results, save_row, save_setting
from benchlib.scoring import (
    FusionScorer,
    VectorScorer,
    fused_svc_on_vectors,
    linking_metrics,
    linking_task,
    svc_on_vectors,
)
from benchlib.settings import PROFILES, _cap

from authorid.evaluation.protocols import PostEmbeddings, sybil_protocol, verification_protocol


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
        assert [r for r in rows if r.endswith("+imprinted")] == [
            f"{x}+imprinted" for x in profile.reddit_imprinted
        ]
        for setting in ("c50", "blog10", "blog50"):
            rows = rows_for(setting, profile)
            assert rows.index("supcon") < rows.index("fusion") and rows.index("stylometric") < rows.index(
                "fusion"
            )


@pytest.fixture(scope="module")
def attribution(enron, stylometric):
    """20 Enron authors with >= 12 posts: (train y, test y, stylometric train / test vectors, noise train / test),
    posts alternately into train and test; the noise block carries no author signal."""
    authors = np.asarray(enron["account_id"], dtype=object)
    keep = [a for a, n in zip(*np.unique(authors, return_counts=True), strict=True) if n >= 12][:20]
    rows = np.flatnonzero(np.isin(authors, keep))
    vectors = stylometric.embed_posts([enron[int(i)]["text"] for i in rows])
    train, test = np.arange(len(rows)) % 2 == 0, np.arange(len(rows)) % 2 == 1
    noise = np.random.default_rng(0).normal(size=(len(rows), 32))
    y = authors[rows]
    return y[train], y[test], (vectors[train], vectors[test]), (noise[train], noise[test])


def test_attribution_fusion_weighs_the_informative_probe_by_cross_validation(attribution):
    train_y, test_y, style, noise = attribution
    assert len(set(train_y)) == 20
    alone = svc_on_vectors(style[0], train_y, style[1])
    assert np.mean(np.array(alone) == test_y) > 0.3  # chance: 0.05
    predicted, details = fused_svc_on_vectors(noise, style, train_y)  # noise as the "neural" block
    assert details["neural_weight"] == 0.0 and predicted == alone
    predicted, details = fused_svc_on_vectors(style, noise, train_y)
    assert details["neural_weight"] == 1.0 and predicted == alone
    assert len(details["cv_accuracy_per_weight"]) == 11


def test_attribution_fusion_weight_never_sees_the_test_posts(attribution):
    train_y, _, style, noise = attribution
    _, before = fused_svc_on_vectors(style, noise, train_y)
    scrambled = (style[0], np.random.default_rng(1).permutation(style[1])), (noise[0], noise[1][::-1])
    _, after = fused_svc_on_vectors(*scrambled, train_y)
    assert before == after


def test_every_fine_tuned_row_pins_its_head_start_and_pooling():
    """A row must mean the same whatever authorid's training defaults are (they changed: head_init)."""
    from bench_quality import ROW_VARIANTS, rows_for

    for profile in PROFILES.values():
        for setting in ("reddit", "c50", "blog10", "blog50"):
            for row in rows_for(setting, profile):
                loss, _, variant = row.partition("+")
                if loss in {*profile.reddit_losses, *profile.attribution_losses}:
                    assert ROW_VARIANTS[variant]["optim.head_init"] in ("random", "centroids")
    assert ROW_VARIANTS["imprinted"] == {"optim.head_init": "centroids"}
    assert ROW_VARIANTS["attention"]["model.pooling"] == "attention"
