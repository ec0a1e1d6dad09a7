"""Clustering metrics: B-cubed and pairwise by hand and against brute force; ARI/NMI/V against sklearn."""

import itertools

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, v_measure_score
from sklearn.metrics.cluster import pair_confusion_matrix

from authorid.metrics import bcubed, clustering_metrics, pairwise_prf

# Six items: true classes A = {1,2,3}, B = {4,5}, C = {6}; predicted clusters X = {1,2,3,4}, Y = {5,6}.
TRUE = np.array(["A", "A", "A", "B", "B", "C"])
PRED = np.array([0, 0, 0, 0, 1, 1])


def test_bcubed_by_hand():
    # precision per item: 3/4, 3/4, 3/4 (A in X), 1/4 (B in X), 1/2 (B in Y), 1/2 (C in Y) -> 3.5 / 6 = 7/12
    # recall per item:    1, 1, 1 (all of A in X), 1/2, 1/2 (B split), 1 (C)              -> 5 / 6
    # F1 = 2 * 7/12 * 5/6 / (7/12 + 5/6) = 35/51
    assert bcubed(TRUE, PRED) == {
        "precision": pytest.approx(7 / 12),
        "recall": pytest.approx(5 / 6),
        "f1": pytest.approx(35 / 51),
    }


def test_pairwise_by_hand():
    # contingency A-X 3, B-X 1, B-Y 1, C-Y 1: TP = C(3,2) = 3
    # predicted pairs C(4,2) + C(2,2) = 7, true pairs C(3,2) + C(2,2) = 4
    # P = 3/7, R = 3/4, F1 = 2 * 3/7 * 3/4 / (3/7 + 3/4) = 6/11
    assert pairwise_prf(TRUE, PRED) == {
        "precision": pytest.approx(3 / 7),
        "recall": pytest.approx(3 / 4),
        "f1": pytest.approx(6 / 11),
    }


def test_perfect_clustering_with_other_names_scores_one():
    truth, pred = np.array(["a", "a", "b", "c", "c"]), np.array([5, 5, 7, 1, 1])
    assert bcubed(truth, pred) == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert pairwise_prf(truth, pred) == {"precision": 1.0, "recall": 1.0, "f1": 1.0}


def test_all_singletons():
    # B-cubed: every cluster pure -> P = 1; item recall 1/|class|, summing to 1 per class -> R = 3 classes / 6
    assert bcubed(TRUE, np.arange(6)) == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3)}
    # pairwise: no predicted pair, so no wrong link -> P = 1 by convention; no true pair found -> R = 0
    assert pairwise_prf(TRUE, np.arange(6)) == {"precision": 1.0, "recall": 0.0, "f1": 0.0}


def test_one_big_cluster():
    # B-cubed P = (3^2 + 2^2 + 1^2) / 6 / 6 = 14/36; R = 1. Pairwise P = 4 true pairs / C(6,2) = 4/15.
    assert bcubed(TRUE, np.zeros(6)) == {
        "precision": pytest.approx(7 / 18),
        "recall": 1.0,
        "f1": pytest.approx(2 * 7 / 18 / (7 / 18 + 1)),
    }
    assert pairwise_prf(TRUE, np.zeros(6))["precision"] == pytest.approx(4 / 15)


def _brute_force(truth, pred):
    """O(n^2) definitions, straight from the papers."""
    n = len(truth)
    same_true = [[truth[i] == truth[j] for j in range(n)] for i in range(n)]
    same_pred = [[pred[i] == pred[j] for j in range(n)] for i in range(n)]
    correct = [[same_true[i][j] and same_pred[i][j] for j in range(n)] for i in range(n)]
    b_precision = np.mean([sum(correct[i]) / sum(same_pred[i]) for i in range(n)])
    b_recall = np.mean([sum(correct[i]) / sum(same_true[i]) for i in range(n)])
    pairs = list(itertools.combinations(range(n), 2))
    tp = sum(correct[i][j] for i, j in pairs)
    return (
        b_precision,
        b_recall,
        tp / sum(same_pred[i][j] for i, j in pairs),
        tp / sum(same_true[i][j] for i, j in pairs),
    )


def test_matches_brute_force_on_random_labels():
    rng = np.random.default_rng(3)
    truth, pred = rng.integers(0, 6, 60), rng.integers(0, 9, 60)
    b_precision, b_recall, p_precision, p_recall = _brute_force(truth, pred)
    assert bcubed(truth, pred)["precision"] == pytest.approx(b_precision)
    assert bcubed(truth, pred)["recall"] == pytest.approx(b_recall)
    assert pairwise_prf(truth, pred)["precision"] == pytest.approx(p_precision)
    assert pairwise_prf(truth, pred)["recall"] == pytest.approx(p_recall)


def test_pairwise_matches_sklearn_pair_confusion_on_100k_items():
    rng = np.random.default_rng(4)
    truth = rng.integers(0, 5000, 100_000)
    pred = np.where(rng.random(100_000) < 0.8, truth, rng.integers(0, 5000, 100_000))
    (_, fp), (fn, tp) = pair_confusion_matrix(truth, pred)  # ordered pairs: both halves count twice
    result = pairwise_prf(truth, pred)
    assert result["precision"] == pytest.approx(tp / (tp + fp))
    assert result["recall"] == pytest.approx(tp / (tp + fn))


def test_clustering_metrics_dict_uses_sklearn_for_ari_nmi_v():
    metrics = clustering_metrics(TRUE, PRED)
    assert metrics["ari"] == pytest.approx(adjusted_rand_score(TRUE, PRED))
    assert metrics["nmi"] == pytest.approx(normalized_mutual_info_score(TRUE, PRED))
    assert metrics["v_measure"] == pytest.approx(v_measure_score(TRUE, PRED))
    assert metrics["bcubed_f1"] == pytest.approx(35 / 51)
    assert metrics["pairwise_f1"] == pytest.approx(6 / 11)
    assert (metrics["n_items"], metrics["n_true"], metrics["n_pred"]) == (6, 3, 2)


@pytest.mark.parametrize(
    ("truth", "pred", "message"),
    [
        (np.array([]), np.array([]), "empty"),
        (np.array([0, 1]), np.array([0]), "2 entries but labels_pred has 1"),
        (np.array([[0, 1]]), np.array([[0, 1]]), "1-d"),
    ],
)
@pytest.mark.parametrize("metric", [bcubed, pairwise_prf, clustering_metrics])
def test_bad_clustering_input_raises(metric, truth, pred, message):
    with pytest.raises(ValueError, match=message):
        metric(truth, pred)
