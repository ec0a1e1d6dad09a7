"""`attribute`: which known author wrote each text (or each account)?

Methods
- "centroid" (default; open-set friendly): each known author's profile is the account vector of all their posts
  (`embed_accounts` of KNOWN); a query is scored by cosine with each profile.
  Probabilities: with a calibrated model, P(same person) = `calibration.predict(cosine)` for each author
  separately (they need not sum to 1); otherwise softmax(cosine / temperature) over the known authors.
  Open set: the query is `unknown` when its best score is below `open_set_threshold`, the score being the
  calibrated probability when the model has a calibration and the raw cosine when it has not.
- "logistic" / "svm" (closed set): scikit-learn LogisticRegression / LinearSVC fitted on the post vectors of
  KNOWN with their authors as labels. Probabilities: LogisticRegression's predict_proba; for LinearSVC the
  softmax of its decision values divided by a temperature fitted on KNOWN's own posts (temperature scaling:
  the T that gives 3-fold out-of-fold decision values the least log loss). Decision values of a linear SVM
  lie within about +-1, so a plain softmax spread over 40 authors gave at most 0.13 to the best one and any
  open-set threshold above that rejected everything; T keeps the ranking and makes the best author's
  probability about as often right as it says. Authors with a single known post cannot be held out, so T is
  fitted on the others; with fewer than two authors of two posts, T = 1 and params say it was not fitted.
  Open set: `unknown` when the best probability is below `open_set_threshold`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from authorid.attribution.result import UNKNOWN, AttributionResult

if TYPE_CHECKING:
    import datasets

    from authorid.model import StyleModel

logger = logging.getLogger(__name__)

METHODS = ("centroid", "logistic", "svm")
LEVELS = ("text", "account")
#: Softmax temperature for uncalibrated cosines: cosines of style vectors differ by a few hundredths between
#: the best and the next author, so T = 0.05 spreads them into usable probabilities.
TEMPERATURE = 0.05


def attribute(
    model: StyleModel,
    known: datasets.Dataset,
    texts: datasets.Dataset,
    *,
    level: str = "text",
    top_k: int = 5,
    open_set_threshold: float | None = None,
    method: str = "centroid",
    temperature: float = TEMPERATURE,
    progress: bool = False,
) -> AttributionResult:
    """Rank KNOWN's authors for each post of TEXTS (level="text") or each account of TEXTS (level="account").

    See the module docstring for the methods, their probabilities and the open-set rule.
    """
    _check(known, texts, level, top_k, method, temperature)
    authors = len(set(known["account_id"]))
    if authors < 2 and open_set_threshold is None:
        raise ValueError(
            "closed-set attribution needs at least 2 known authors (found 1): every text would go to that one"
            " author with probability 1; pass an open-set threshold (--threshold) to ask whether it wrote them"
        )
    calibration = getattr(model, "calibration", None) if method == "centroid" else None
    check_options(
        level=level, method=method, open_set_threshold=open_set_threshold, calibrated=calibration is not None
    )

    if level == "text":
        ids = [str(i) for i in texts["post_id"]]
        posts = list(texts["text"])
        if method == "centroid":  # each text an account of one post, finished (centred) as the profiles are
            queries = model.embed_groups(posts, np.arange(len(posts)), len(posts), progress=progress)
        else:  # the classifiers are fitted on post vectors
            queries = _normalised(model.embed_posts(posts, progress=progress))
        true_authors = [str(a) for a in texts["account_id"]]
        query_posts = np.ones(len(ids), dtype=np.int64)
        query_chars = np.array([len(t) for t in posts], dtype=np.int64)
    else:
        account_vectors = model.embed_accounts(texts, progress=progress)
        ids, queries = list(account_vectors.account_ids), account_vectors.vectors
        true_authors = list(ids)
        query_posts, query_chars = account_vectors.n_posts, account_vectors.n_chars

    svm_t = None
    if method == "centroid":
        profiles = model.embed_accounts(known, progress=progress)
        authors = list(profiles.account_ids)
        scores = queries @ profiles.vectors.T
        if calibration is not None:
            sizes: tuple = (query_posts[:, None], profiles.n_posts[None, :])
            if query_chars is not None and profiles.n_chars is not None:
                sizes += (query_chars[:, None], profiles.n_chars[None, :])
            probabilities = np.asarray(calibration.predict(scores, sizes=sizes), dtype=np.float64).reshape(
                scores.shape
            )
        else:
            probabilities = _softmax(scores / temperature)
        open_set_score = probabilities if calibration is not None else scores
    else:
        authors, scores, probabilities, svm_t = _classify(model, known, queries, method, progress)
        open_set_score = probabilities

    k = min(top_k, len(authors))
    order = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]
    rows = np.arange(len(ids))[:, None]
    best = order[:, 0]
    predicted = [authors[j] for j in best]
    if open_set_threshold is not None:
        rejected = open_set_score[np.arange(len(ids)), best] < open_set_threshold
        predicted = [UNKNOWN if r else p for p, r in zip(predicted, rejected, strict=True)]
    return AttributionResult(
        ids=ids,
        level=level,
        authors=authors,
        predicted=predicted,
        probability=probabilities[np.arange(len(ids)), best],
        top_authors=[[authors[j] for j in row] for row in order],
        top_probabilities=probabilities[rows, order],
        top_scores=scores[rows, order],
        true_authors=true_authors,
        params={
            "method": method,
            "level": level,
            "top_k": k,
            "open_set_threshold": open_set_threshold,
            "open_set_on": "probability" if calibration is not None or method != "centroid" else "cosine",
            "probabilities": "calibration" if calibration is not None else _probability_kind(method, svm_t),
            "temperature": temperature if method == "centroid" and calibration is None else None,
            **({"svm_temperature": svm_t} if method == "svm" else {}),
        },
    )


def check_options(
    *,
    level: str = "text",
    top_k: int = 5,
    method: str = "centroid",
    temperature: float = TEMPERATURE,
    open_set_threshold: float | None = None,
    calibrated: bool = False,
) -> None:
    """The settings of `attribute`, checked on their own (the CLI does so before it reads a corpus).
    `calibrated`: the model carries a calibration, so a centroid's open-set threshold is a probability too."""
    if method not in METHODS:
        raise ValueError(f"unknown attribution method {method!r}; choose one of {', '.join(METHODS)}")
    if level not in LEVELS:
        raise ValueError(f"unknown attribution level {level!r}; choose one of {', '.join(LEVELS)}")
    if top_k < 1:
        raise ValueError(f"top_k must be at least 1, got {top_k}")
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    if open_set_threshold is not None and (calibrated or method != "centroid"):
        if not 0.0 <= open_set_threshold <= 1.0:
            raise ValueError(
                f"open-set threshold {open_set_threshold} is a probability here and must lie in [0, 1]"
            )


def _check(known, texts, level: str, top_k: int, method: str, temperature: float) -> None:
    check_options(level=level, top_k=top_k, method=method, temperature=temperature)
    if len(known) == 0:
        raise ValueError("the known corpus is empty: there are no authors to attribute to")
    if len(texts) == 0:
        raise ValueError("there are no texts to attribute (the corpus is empty)")


def _classify(model, known, queries: np.ndarray, method: str, progress: bool):
    """Fit a linear classifier on KNOWN's post vectors; (authors, decision scores and probabilities per query,
    the SVM's temperature or None)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    labels = np.asarray([str(a) for a in known["account_id"]])
    if np.unique(labels).size < 2:
        raise ValueError(f"method {method!r} needs at least 2 known authors, got {np.unique(labels).size}")
    train = _normalised(model.embed_posts(list(known["text"]), progress=progress))
    if method == "logistic":
        # C = 10: vectors are unit-norm, so a weak penalty is needed to separate authors (scikit-learn's C = 1
        # underfits normalised style vectors).
        classifier = LogisticRegression(C=10.0, max_iter=2000).fit(train, labels)
        probabilities = classifier.predict_proba(queries)
        scores = classifier.decision_function(queries)
        temperature = None
    else:
        classifier = LinearSVC(C=1.0).fit(train, labels)
        scores = _two_columns(classifier.decision_function(queries))
        temperature = svm_temperature(train, labels)
        probabilities = _softmax(scores / (temperature or 1.0))
    return [str(c) for c in classifier.classes_], _two_columns(scores), probabilities, temperature


def _two_columns(scores: np.ndarray) -> np.ndarray:
    """Two classes: scikit-learn gives one column, the score of classes_[1]; one column per class instead."""
    return np.stack([-scores, scores], axis=1) if scores.ndim == 1 else scores


#: Out-of-fold folds behind the SVM's temperature (fewer when an author has fewer known posts).
TEMPERATURE_FOLDS = 3


def svm_temperature(train: np.ndarray, labels: np.ndarray, *, seed: int = 0) -> float | None:
    """The temperature T that makes softmax(decision / T) of a LinearSVC (C = 1) a probability: the one with the
    least log loss on out-of-fold decision values of the known posts (stratified folds) of the authors with two
    or more (a single post cannot be held out). None when fewer than two authors have two posts."""
    from scipy.optimize import minimize_scalar
    from scipy.special import log_softmax
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.svm import LinearSVC

    _, target, counts = np.unique(labels, return_inverse=True, return_counts=True)
    # An author with one known post cannot be held out: T is fitted on the others (it is one scale for all).
    rows_kept = counts[target] >= 2
    if np.count_nonzero(counts >= 2) < 2:
        return None
    train, labels = train[rows_kept], labels[rows_kept]
    _, target, counts = np.unique(labels, return_inverse=True, return_counts=True)
    folds = int(min(TEMPERATURE_FOLDS, counts.min()))
    held_out = _two_columns(
        cross_val_predict(
            LinearSVC(C=1.0),
            train,
            labels,
            cv=StratifiedKFold(folds, shuffle=True, random_state=seed),
            method="decision_function",
        )
    )
    rows = np.arange(len(target))

    def log_loss(log_t: float) -> float:
        return float(-log_softmax(held_out / np.exp(log_t), axis=1)[rows, target].mean())

    best = minimize_scalar(log_loss, bounds=(np.log(1e-3), np.log(1e2)), method="bounded")
    return float(np.exp(best.x))


def _probability_kind(method: str, svm_temperature: float | None = None) -> str:
    if method == "svm" and svm_temperature is None:
        return "softmax(decision), not calibrated: fewer than two known authors have two posts to hold out"
    return {
        "centroid": "softmax(cosine / T)",
        "logistic": "predict_proba",
        "svm": "softmax(decision / T), T fitted out of fold",
    }[method]


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def _normalised(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)
