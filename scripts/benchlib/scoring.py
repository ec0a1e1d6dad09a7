"""One scoring path for every row of a setting, so peers and encoders are measured identically.

Linking: the evaluation set, its halves and its verification pairs come from authorid's own protocol code
(the public pieces of `authorid.evaluation.protocols`: `evaluation_set`, `halves`, `person_folds`,
`fold_pairs`, `VectorScorer`), so every row
ranks the same queries against the same candidates and scores the same pairs. A row is a *scorer*: anything
with ``pair_scores(a, b)`` (and ``score_matrix(a, b)`` when ``supports_ranking``) over the evaluated
(pseudo-)account ids — an encoder's account vectors (cosine), a peer (`benchlib.peers`), or a fusion of two.
Probabilities for verification are cross-fitted for every row alike: each fold of persons is scored by a Platt
calibration fitted on the other fold, so no row is favoured by a calibration that saw its test pairs.

Attribution: an encoder's post vectors (or a peer's features) train a LinearSVC on the train posts and predict
the test posts; accuracy and macro-F1 from `authorid.metrics.attribution`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from authorid.evaluation.protocols import (
    VectorScorer,
    cross_fitted_calibrators,
    evaluation_set,
    fold_pairs,
    halves,
    linking_ranks,
    person_folds,
)
from authorid.index import hubness
from authorid.metrics import accuracy, macro_f1, mean_reciprocal_rank, recall_at_k, verification_metrics
from authorid.verification import FusionCalibrator

KS = (1, 8)


@dataclass
class LinkingTask:
    """What every linking row is scored on: the evaluation set, its halves and its verification pairs."""

    chosen: Any  #: authorid.evaluation.protocols.base.EvaluationSet
    queries: list[str]
    candidates: list[str]
    pairs: list[tuple[list[str], list[str], np.ndarray]]  #: (a, b, labels) per fold of persons
    seed: int

    def groups(self) -> dict[str, list[str]]:
        """Pseudo-account id -> its texts (what the peers fit and score)."""
        out: dict[str, list[str]] = {}
        for account, text in zip(self.chosen.posts["account_id"], self.chosen.posts["text"], strict=True):
            out.setdefault(account, []).append(text)
        return out

    def sampled_pairs(self, n: int) -> list[tuple[list[str], list[str], np.ndarray]]:
        """A seeded, class-balanced sample of about n pairs (n/2 per fold) for the pair-only peers."""
        rng = np.random.default_rng([self.seed, 7])
        out = []
        for a, b, labels in self.pairs:
            keep = []
            for label in (0, 1):
                rows = np.flatnonzero(labels == label)
                keep.append(rng.choice(rows, size=min(len(rows), n // 4), replace=False))
            rows = np.sort(np.concatenate(keep))
            out.append(([a[i] for i in rows], [b[i] for i in rows], labels[rows]))
        return out


def linking_task(test_posts, *, min_posts: int, max_posts: int | None, seed: int) -> LinkingTask:
    chosen = evaluation_set(test_posts, min_posts=min_posts, max_posts=max_posts, seed=seed, cut=True)
    queries, candidates = halves(chosen.person_of)
    pairs = fold_pairs(chosen.person_of, person_folds(chosen.person_of, seed), seed=seed)
    return LinkingTask(chosen, queries, candidates, pairs, seed)


class FusionScorer:
    """Neural + stylometric: a logistic regression on the two cosines (`authorid.verification.FusionCalibrator`).

    The fusion is fitted per fold of persons on the *other* fold's verification pairs, and each query is ranked
    with the fusion of the fold its person is not in, so no score comes from weights fitted on its own person.
    """

    supports_ranking = True

    def __init__(self, neural: VectorScorer, stylometric: VectorScorer, task: LinkingTask):
        self.neural, self.stylometric = neural, stylometric
        folds = [
            (np.stack([neural.pair_scores(a, b), stylometric.pair_scores(a, b)], axis=1), y)
            for a, b, y in task.pairs
        ]
        # Calibrator for fold f is fitted on the other fold.
        self.fusions = [FusionCalibrator().fit(*folds[1 - f]) for f in (0, 1)]
        self.fold_of_person = person_folds(task.chosen.person_of, task.seed)
        self.person_of = task.chosen.person_of
        self.weights = [f.params for f in self.fusions]

    def _logit(self, fusion, s_neural: np.ndarray, s_stylo: np.ndarray) -> np.ndarray:
        w = fusion.params["weights"]
        return w[0] * s_neural + w[1] * s_stylo + fusion.params["intercept"]

    def _fused(self, a: Sequence[str], neural: np.ndarray, stylometric: np.ndarray) -> np.ndarray:
        """Each row of `a` scored by the fusion of the fold its person is not in."""
        fold = np.array([self.fold_of_person[self.person_of[x]] for x in a])
        out = np.empty_like(neural)
        for f in (0, 1):
            rows = fold == f
            out[rows] = self._logit(self.fusions[f], neural[rows], stylometric[rows])
        return out

    def score_matrix(self, a: Sequence[str], b: Sequence[str]) -> np.ndarray:
        return self._fused(a, self.neural.score_matrix(a, b), self.stylometric.score_matrix(a, b))

    def pair_scores(self, a: Sequence[str], b: Sequence[str]) -> np.ndarray:
        return self._fused(a, self.neural.pair_scores(a, b), self.stylometric.pair_scores(a, b))


def _ranking(ranks: np.ndarray, pool: int) -> dict[str, float]:
    out = {"mrr": mean_reciprocal_rank(ranks)}
    out |= {f"r@{k}": recall_at_k(ranks, k) for k in KS}
    return out | {"pool_size": int(pool), "n_queries": int(ranks.size)}


def linking_metrics(scorer: Any, task: LinkingTask, *, pairs=None) -> dict[str, Any]:
    """Linking (MRR, R@1, R@8 of each first half among all second halves; by score, and hubness-corrected as
    `authorid link` ranks where the pool allows) and verification (PAN metrics, EER, ECE on cross-fitted Platt
    probabilities) for one scorer on `task`. `pairs`: a subset of the task's pairs (the pair-only peers score a
    sample)."""
    out: dict[str, Any] = {}
    if scorer.supports_ranking:
        out["linking"] = _ranking(linking_ranks(scorer, task.queries, task.candidates), len(task.candidates))
        if hubness.applies(len(task.candidates)):
            # as `authorid link` ranks (authorid.index.hubness): same scorer, candidates discounted by density
            corrected = linking_ranks(scorer, task.queries, task.candidates, hubness=True)
            out["linking_hubness"] = _ranking(corrected, len(task.candidates))
    per_fold = [
        (np.asarray(scorer.pair_scores(a, b), dtype=np.float64), y) for a, b, y in (pairs or task.pairs)
    ]
    calibrators = cross_fitted_calibrators(per_fold)
    probabilities = np.concatenate([calibrators[f].predict(per_fold[f][0]) for f in (0, 1)])
    labels = np.concatenate([y for _, y in per_fold]).astype(np.int64)
    out["verification"] = verification_metrics(np.clip(probabilities, 0.0, 1.0), labels)
    out["verification"]["sampled"] = pairs is not None
    return out


def attribution_metrics_of(y_true: Sequence[str], y_pred: Sequence[str]) -> dict[str, float]:
    return {
        "accuracy": accuracy(list(y_true), list(y_pred)),
        "macro_f1": macro_f1(list(y_true), list(y_pred)),
        "n_test": len(y_true),
    }


#: Weights of the neural probe tried by `fused_svc_on_vectors` (1 - w goes to the stylometric probe).
FUSION_WEIGHTS = tuple(float(round(w, 1)) for w in np.linspace(0.0, 1.0, 11))


def _svc_scores(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, seed: int):
    from sklearn.preprocessing import normalize
    from sklearn.svm import LinearSVC

    classifier = LinearSVC(C=1.0, random_state=seed).fit(normalize(train_x), train_y)
    scores = classifier.decision_function(normalize(test_x))
    if scores.ndim == 1:  # two authors: one margin, positive for classes_[1]
        scores = np.stack([-scores, scores], axis=1)
    return classifier.classes_, scores


def svc_on_vectors(
    train_x: np.ndarray, train_y: Sequence[str], test_x: np.ndarray, seed: int = 0
) -> list[str]:
    """A linear probe: LinearSVC (C = 1) on L2-normalised post vectors (the classifier of the PAN18 char
    n-gram baseline, on the encoder's vectors instead of n-gram frequencies)."""
    classes, scores = _svc_scores(train_x, np.asarray(list(train_y), dtype=object), test_x, seed)
    return classes[scores.argmax(1)].tolist()


def fused_svc_on_vectors(
    neural: tuple[np.ndarray, np.ndarray],
    stylometric: tuple[np.ndarray, np.ndarray],
    train_y: Sequence[str],
    *,
    folds: int = 5,
    seed: int = 0,
) -> tuple[list[str], dict[str, Any]]:
    """Neural + stylometric attribution: one LinearSVC probe per encoder (as `svc_on_vectors`), the class
    chosen by ``w * neural + (1 - w) * stylometric`` of their decision scores.

    `neural` / `stylometric` are (train, test) post vectors. The weight is the one whose stratified `folds`-fold
    out-of-fold accuracy on the *training* posts is highest, so the test posts never choose it. When the neural
    encoder was fine-tuned on those same posts its out-of-fold scores are optimistic, which can only pull the
    weight toward it, away from the test optimum: the bias is against the fusion, never in its favour.
    Returns the predicted authors and the weight with its cross-validated accuracy per weight.
    """
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(list(train_y), dtype=object)
    classes = np.unique(y)
    blocks = (neural, stylometric)
    oof = [np.zeros((len(y), len(classes))) for _ in blocks]
    for fit, held in StratifiedKFold(folds, shuffle=True, random_state=seed).split(y, y):
        for out, (train_x, _) in zip(oof, blocks, strict=True):
            fold_classes, scores = _svc_scores(train_x[fit], y[fit], train_x[held], seed)
            out[np.ix_(held, np.searchsorted(classes, fold_classes))] = scores
    cv = [float(np.mean(classes[(w * oof[0] + (1 - w) * oof[1]).argmax(1)] == y)) for w in FUSION_WEIGHTS]
    weight = FUSION_WEIGHTS[int(np.argmax(cv))]  # ties: the smaller neural weight (argmax takes the first)
    (classes_n, test_n), (classes_s, test_s) = (_svc_scores(tr, y, te, seed) for tr, te in blocks)
    assert list(classes_n) == list(classes_s) == list(classes)
    predicted = classes[(weight * test_n + (1 - weight) * test_s).argmax(1)].tolist()
    per_weight = {f"{w:.1f}": acc for w, acc in zip(FUSION_WEIGHTS, cv, strict=True)}
    return predicted, {"neural_weight": weight, "cv_accuracy_per_weight": per_weight}
