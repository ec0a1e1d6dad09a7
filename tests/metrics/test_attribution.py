"""Attribution metrics: accuracy, macro-F1, top-k against sklearn; per-author and open-set AUROC by hand."""

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, top_k_accuracy_score

from authorid.metrics import (
    accuracy,
    attribution_metrics,
    macro_f1,
    open_set_auroc,
    per_author_report,
    top_k_accuracy,
)


def test_accuracy_and_macro_f1_match_sklearn():
    rng = np.random.default_rng(5)
    truth, pred = rng.integers(0, 7, 200), rng.integers(0, 7, 200)
    assert accuracy(truth, pred) == pytest.approx(accuracy_score(truth, pred))
    assert macro_f1(truth, pred) == pytest.approx(f1_score(truth, pred, average="macro"))


def test_macro_f1_over_given_labels_includes_unseen_authors():
    # authors 0 and 1 perfect (F1 1), author 2 never true nor predicted (F1 0): (1 + 1 + 0) / 3
    assert macro_f1(np.array([0, 0, 1]), np.array([0, 0, 1]), labels=[0, 1, 2]) == pytest.approx(2 / 3)


def test_top_k_accuracy_matches_sklearn_without_ties():
    rng = np.random.default_rng(6)
    scores, truth = rng.random((80, 6)), rng.integers(0, 6, 80)
    for k in range(1, 6):
        expected = top_k_accuracy_score(truth, scores, k=k, labels=np.arange(6))
        assert top_k_accuracy(scores, truth, k) == pytest.approx(expected)


def test_top_k_accuracy_counts_ties_against_the_true_author():
    scores = np.array([[0.5, 0.5, 0.1]])
    assert top_k_accuracy(scores, np.array([1]), 1) == 0.0
    assert top_k_accuracy(scores, np.array([1]), 2) == 1.0


def test_per_author_report_by_hand():
    report = per_author_report(np.array(["a", "a", "b", "c"]), np.array(["a", "b", "b", "b"]))
    assert report == {
        # a: predicted once, right once -> P 1; 1 of 2 found -> R 1/2; F1 2/3
        "a": {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3), "support": 2},
        # b: predicted 3 times, right once -> P 1/3; R 1; F1 1/2
        "b": {"precision": pytest.approx(1 / 3), "recall": 1.0, "f1": pytest.approx(0.5), "support": 1},
        # c: never predicted -> 0 / 0 = 0
        "c": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1},
    }


def test_attribution_metrics_by_hand():
    scores = np.array(
        [
            [0.9, 0.1, 0.0],  # true 0, predicted 0, rank 1
            [0.2, 0.7, 0.1],  # true 1, predicted 1, rank 1
            [0.6, 0.3, 0.5],  # true 2, predicted 0, rank 2
            [0.1, 0.8, 0.3],  # true 0, predicted 1, rank 3
        ]
    )
    truth = np.array([0, 1, 2, 0])
    # accuracy 2/4; per-author F1: 0 -> P 1/2 R 1/2 F1 1/2; 1 -> P 1/2 R 1 F1 2/3; 2 -> 0
    # macro-F1 = (1/2 + 2/3 + 0) / 3
    assert attribution_metrics(scores, truth, ks=(1, 2)) == {
        "accuracy": 0.5,
        "macro_f1": pytest.approx((1 / 2 + 2 / 3) / 3),
        "top@1": 0.5,
        "top@2": 0.75,
        "n_texts": 4,
        "n_authors": 3,
    }


def test_open_set_auroc_by_hand():
    # known {0.9, 0.8, 0.4} vs unknown {0.5, 0.3}: 0.9 and 0.8 beat both, 0.4 beats 0.3 only -> 5 of 6
    assert open_set_auroc(np.array([0.9, 0.8, 0.4]), np.array([0.5, 0.3])) == pytest.approx(5 / 6)
    assert open_set_auroc(np.array([0.5]), np.array([0.5])) == 0.5  # a tie counts 1/2


def test_open_set_auroc_needs_both_groups():
    with pytest.raises(ValueError, match="0 unknown"):
        open_set_auroc(np.array([0.9]), np.array([]))


@pytest.mark.parametrize(
    ("truth", "pred", "message"),
    [(np.array([]), np.array([]), "empty"), (np.array([0, 1]), np.array([0]), "2 entries but y_pred has 1")],
)
@pytest.mark.parametrize("metric", [accuracy, macro_f1, per_author_report])
def test_bad_prediction_input_raises(metric, truth, pred, message):
    with pytest.raises(ValueError, match=message):
        metric(truth, pred)


def test_attribution_metrics_rejects_a_relevance_matrix():
    with pytest.raises(ValueError, match="1-d"):
        attribution_metrics(np.zeros((2, 2)), np.eye(2, dtype=bool))
