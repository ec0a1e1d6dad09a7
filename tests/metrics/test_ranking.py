"""Ranking / linking metrics: hand-computed ranks, MRR and R@k, including ties and the rank == k boundary."""

import numpy as np
import pytest

from authorid.metrics import mean_reciprocal_rank, ranking_metrics, ranks_of_true, recall_at_k

# Three queries, four candidates.
#   q0: true 0 scores 0.9, nobody higher                          -> rank 1
#   q1: true 1 scores 0.4; 0.5 and 0.8 are higher                 -> rank 3
#   q2: true 3 scores 0.7; candidates 1 and 2 tie with it at 0.7  -> rank 3 (ties count against the query)
SCORES = np.array(
    [
        [0.9, 0.1, 0.2, 0.3],
        [0.5, 0.4, 0.8, 0.1],
        [0.2, 0.7, 0.7, 0.7],
    ]
)
TRUE = np.array([0, 1, 3])


def test_ranks_are_one_based_and_ties_pessimistic():
    assert ranks_of_true(SCORES, TRUE).tolist() == [1, 3, 3]


def test_constant_scores_give_the_worst_rank():
    assert ranks_of_true(np.zeros((1, 4)), np.array([2])).tolist() == [4]


def test_mrr_by_hand():
    # (1/1 + 1/3 + 1/3) / 3 = 5/9
    assert mean_reciprocal_rank(np.array([1, 3, 3])) == pytest.approx(5 / 9)


def test_recall_at_k_counts_rank_equal_to_k():
    ranks = np.array([1, 3, 3])
    assert recall_at_k(ranks, 1) == pytest.approx(1 / 3)
    assert recall_at_k(ranks, 2) == pytest.approx(1 / 3)
    assert recall_at_k(ranks, 3) == 1.0  # rank 3 == k: found (LUAR's off-by-one would give 1/3)


def test_ranking_metrics_dict():
    metrics = ranking_metrics(SCORES, TRUE, ks=(1, 3))
    assert metrics == {
        "mrr": pytest.approx(5 / 9),
        "r@1": pytest.approx(1 / 3),
        "r@3": 1.0,
        "pool_size": 4,
        "n_queries": 3,
    }


def test_single_query_with_k_beyond_the_pool():
    # One query, true candidate 0 scores 0.3 < 0.6 -> rank 2; MRR 1/2; R@1 0; R@8 over a pool of 2 is 1.
    assert ranking_metrics(np.array([[0.3, 0.6]]), np.array([0])) == {
        "mrr": 0.5,
        "r@1": 0.0,
        "r@8": 1.0,
        "pool_size": 2,
        "n_queries": 1,
    }


def test_relevance_matrix_ranks_the_best_relevant_candidate():
    scores = np.array([[0.9, 0.8, 0.7, 0.95], [0.5, 0.5, 0.1, 0.0]])
    relevant = np.array([[False, True, True, False], [True, True, False, False]])
    # row 0: best relevant 0.8; wrong 0.9 and 0.95 are higher -> rank 3
    # row 1: two relevant tie at 0.5; a tie between relevant candidates costs nothing -> rank 1
    assert ranks_of_true(scores, relevant).tolist() == [3, 1]


def test_matches_argsort_on_1000_by_1000_without_ties():
    rng = np.random.default_rng(0)
    scores = rng.standard_normal((1000, 1000))
    true = rng.integers(0, 1000, size=1000)
    order = np.argsort(-scores, axis=1)
    expected = np.argmax(order == true[:, None], axis=1) + 1
    np.testing.assert_array_equal(ranks_of_true(scores, true), expected)


@pytest.mark.parametrize(
    ("scores", "true_index", "message"),
    [
        (SCORES, np.array([0, 1]), "3 queries"),
        (SCORES, np.array([0, 1, 4]), r"\[0, 4\)"),
        (SCORES, np.array([0, 1, -1]), r"\[0, 4\)"),
        (SCORES, np.array([0.0, 1.0, 3.0]), "integer"),
        (np.zeros((0, 4)), np.array([], dtype=int), "empty"),
        (np.array([0.1, 0.2]), np.array([0]), "2-d"),
        (np.array([[np.nan, 0.2]]), np.array([0]), "NaN"),
        (np.array([[0.1, 0.2]]), np.array([[False, False]]), "no relevant candidate"),
        (np.array([[0.1, 0.2]]), np.array([[1, 0]]), "boolean"),
    ],
)
def test_bad_ranking_input_raises(scores, true_index, message):
    with pytest.raises(ValueError, match=message):
        ranks_of_true(scores, true_index)


@pytest.mark.parametrize("ranks", [np.array([]), np.array([0, 1]), np.array([[1, 2]])])
def test_bad_ranks_raise(ranks):
    with pytest.raises(ValueError, match="ranks"):
        mean_reciprocal_rank(ranks)


@pytest.mark.parametrize("k", [0, -1, 1.5, True])
def test_bad_k_raises(k):
    with pytest.raises(ValueError, match="k must be a positive integer"):
        recall_at_k(np.array([1, 2]), k)
