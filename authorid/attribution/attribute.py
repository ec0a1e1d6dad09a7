"""`attribute`: which known author wrote each text (or each account)?

Methods ("auto", the default: "svm" for at most AUTO_CLASSIFIER_MAX_AUTHORS known authors, closed set or open,
"centroid" for more; `chosen_method`)
- "centroid": each known author's profile is the account vector of all their posts (`embed_accounts` of KNOWN);
  a query is scored by cosine with each profile. It scales to any number of authors.
  Probabilities: with a calibrated model, P(same person) = `calibration.predict(cosine)` for each author
  separately (they need not sum to 1); otherwise softmax(cosine / temperature) over the known authors.
  Open set: the query is `unknown` when its best score is below `open_set_threshold`, the score being the
  calibrated probability when the model has a calibration and the raw cosine when it has not.
- "logistic" / "svm": scikit-learn LogisticRegression / LinearSVC fitted on KNOWN's posts with their authors as
  labels: on the sparse n-gram profiles of an n-gram or stylometric model (`classifier_inputs`: what its
  vectors project), on the post vectors of any other. Probabilities: LogisticRegression's predict_proba; for
  LinearSVC the softmax of its decision values divided by a temperature fitted on KNOWN's own posts
  (temperature scaling: the T that gives 3-fold out-of-fold decision values the least log loss). Decision
  values of a linear SVM lie within about +-1, so a plain softmax spread over 40 authors gave at most 0.13 to the
  best one and any open-set threshold above that rejected everything; T keeps the ranking and makes the best
  author's probability about as often right as it says. Authors with a single known post cannot be held out, so
  T is fitted on the others; with fewer than two authors of two posts, T = 1 and params say it was not fitted.
  Open set: `unknown` when the best probability is below `open_set_threshold`. Its probabilities add up to 1
  among the known authors, yet a text by none of them gets a lower best one far more often than under the
  centroid (measured in docs/attribution.md, "Open set"), so it is the open-set method too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from authorid.attribution.result import UNKNOWN, AttributionResult
from authorid.data.arrow import canonical_order
from authorid.progress import counting_progress
from authorid.vectors import group_by_first_appearance

if TYPE_CHECKING:
    import datasets
    import scipy.sparse as sp

    from authorid.model import StyleModel

logger = logging.getLogger(__name__)

METHODS = ("auto", "centroid", "logistic", "svm")
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
    method: str = "auto",
    temperature: float = TEMPERATURE,
    progress: bool = False,
    texts_have_authors: bool = True,
) -> AttributionResult:
    """Rank KNOWN's authors for each post of TEXTS (level="text") or each account of TEXTS (level="account").

    See the module docstring for the methods ("auto": `chosen_method`), their probabilities and the open-set
    rule. `texts_have_authors=False`: TEXTS' account ids are no authors (texts of unknown authorship, read with
    `authors_optional`), so there is no true author to show or accuracy to measure (level "text" only).
    """
    if not texts_have_authors and level != "text":
        raise ValueError(
            "--level account groups the texts by their author: these texts have no author column"
        )
    _check(known, texts, level, top_k, method, temperature)
    # The classifiers' fits and the SVM temperature's folds walk the known texts in order: their canonical order,
    # so a shuffled copy of KNOWN gives the same probabilities (audit 15: up to 0.028 apart, and 2 of 96 texts
    # flipped between their author and unknown at --threshold 0.8)
    known = known.select(canonical_order(known))
    authors = len(set(known["account_id"]))
    if authors < 2 and open_set_threshold is None:
        raise ValueError(
            "closed-set attribution needs at least 2 known authors (found 1): every text would go to that one"
            " author with probability 1; pass an open-set threshold (--threshold) to ask whether it wrote them"
        )
    asked = method
    method, why = chosen_method(asked, authors=authors, open_set_threshold=open_set_threshold)
    calibration = getattr(model, "calibration", None) if method == "centroid" else None
    check_options(
        level=level, method=method, open_set_threshold=open_set_threshold, calibrated=calibration is not None
    )

    if level == "text":
        ids = [str(i) for i in texts["post_id"]]
        posts = list(texts["text"])
        if method == "centroid":  # each text an account of one post, finished (centred) as the profiles are
            queries = model.embed_groups(posts, np.arange(len(posts)), len(posts), progress=progress)
        else:  # the classifiers are fitted on posts, one by one
            queries = classifier_inputs(model, posts, progress=progress)
        true_authors = [str(a) for a in texts["account_id"]] if texts_have_authors else None
        query_posts = np.ones(len(ids), dtype=np.int64)
        query_chars = np.array([len(t) for t in posts], dtype=np.int64)
    elif method != "centroid" and model.has_sparse_profile:  # an account's n-gram profile, not its vector
        posts = list(texts["text"])
        ids, groups = group_by_first_appearance([str(a) for a in texts["account_id"]])
        queries = classifier_inputs(model, posts, groups, len(ids), progress=progress)
        true_authors = list(ids)
        query_posts, query_chars = None, None  # only a calibrated centroid reads sizes
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
        authors, scores, probabilities, svm_t = classify(model, known, queries, method, progress)
        open_set_score = probabilities

    k = min(top_k, len(authors))
    order = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]
    rows = np.arange(len(ids))[:, None]
    best = order[:, 0]
    outside = None  # texts whose best pair has an account outside the calibration's sizes: an extrapolated P
    if method == "centroid" and calibration is not None:
        chars = None if profiles.n_chars is None else profiles.n_chars[best]
        inside = calibration.within_sizes(query_posts, query_chars) & calibration.within_sizes(
            profiles.n_posts[best], chars
        )
        outside = int((~inside).sum())
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
            **({"method_asked": asked, "method_chosen_because": why} if asked != method else {}),
            "level": level,
            "top_k": k,
            "open_set_threshold": open_set_threshold,
            "open_set_on": "probability" if calibration is not None or method != "centroid" else "cosine",
            "probabilities": "calibration" if calibration is not None else _probability_kind(method, svm_t),
            "temperature": temperature if method == "centroid" and calibration is None else None,
            **({"svm_temperature": svm_t} if method == "svm" else {}),
            **({"features": _feature_kind(model)} if method != "centroid" else {}),
            **(
                {"outside_calibrated_sizes": outside, "calibrated_sizes": calibration.sizes_seen()}
                if outside is not None and calibration.info.get("account_posts")
                else {}
            ),
        },
    )


#: "auto" fits a classifier for at most this many known authors. LinearSVC fits one-vs-rest, so its time grows
#: with authors x posts: 3 minutes for Blog50's 50 authors and 52,829 posts (2 cores), hours for thousands of
#: forum accounts, where the centroid answers in seconds.
AUTO_CLASSIFIER_MAX_AUTHORS = 100
#: "auto" scores an open set of fewer known authors by the centroid: each author's P on its own.
MIN_OPEN_SET_CLASSIFIER_AUTHORS = 3


def chosen_method(method: str, *, authors: int, open_set_threshold: float | None) -> tuple[str, str | None]:
    """The method "auto" stands for, and why (None for a method named by the caller).

    At most AUTO_CLASSIFIER_MAX_AUTHORS known authors: "svm", for a closed set and an open one (a threshold).
    Measured (bench_attribution.py, docs/attribution.md): closed, Blog10 with every post 0.843 against the
    centroid's 0.515, C50 0.760 against 0.638; open, a fifth of the authors left out of the known, their texts
    told from the known authors' at AUROC 0.865 against 0.608 (Blog10), 0.835 against 0.573 (Blog50), 0.706
    against 0.705 (C50), with far more known authors' texts given their author at every threshold. More
    authors, or an open set of fewer than MIN_OPEN_SET_CLASSIFIER_AUTHORS: "centroid" (it scales to any number
    of authors, and its P of each author is that author's alone)."""
    if method != "auto":
        return method, None
    if authors > AUTO_CLASSIFIER_MAX_AUTHORS:
        return (
            "centroid",
            f"{authors:,} known authors (a classifier is fitted for at most {AUTO_CLASSIFIER_MAX_AUTHORS})",
        )
    if open_set_threshold is not None and authors < MIN_OPEN_SET_CLASSIFIER_AUTHORS:
        # the best of two probabilities that add up to 1 is at least 0.5: a threshold at or below it never
        # leaves a text unknown (and one author gives a classifier nothing to tell apart)
        return "centroid", f"an open set of {authors:,} known author{'s' if authors != 1 else ''}"
    kind = "an open set (a threshold)" if open_set_threshold is not None else "a closed set"
    return "svm", f"{kind} of {authors:,} known authors"


def check_options(
    *,
    level: str = "text",
    top_k: int = 5,
    method: str = "auto",
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
    # Without a calibration "auto"'s threshold is a probability or a cosine by the number of known authors
    # (`chosen_method`): `attribute` checks it again once the method is chosen.
    if open_set_threshold is not None and (calibrated or method not in ("centroid", "auto")):
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


def classify(model, known, queries, method: str, progress: bool = False):
    """Fit a linear classifier ("logistic" or "svm") on KNOWN's posts (their `classifier_inputs`) and apply it to
    `queries` (the same kind of inputs); (authors sorted, decision scores and probabilities per query and author,
    the SVM's temperature or None)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    labels = np.asarray([str(a) for a in known["account_id"]])
    if np.unique(labels).size < 2:
        raise ValueError(f"method {method!r} needs at least 2 known authors, got {np.unique(labels).size}")
    train = classifier_inputs(model, list(known["text"]), progress=progress)
    # Fitting takes minutes on tens of thousands of texts (LinearSVC: 3 on Blog50's 52,829, then as long again
    # for the temperature's folds): a bar over the fits, so a long run is never silent.
    fits = 1 + (TEMPERATURE_FOLDS if method == "svm" else 0)
    with counting_progress(enabled=progress, unit="fits") as bar:
        task = bar.add_task(f"fitting {method} on {train.shape[0]:,} known texts", total=fits)
        if method == "logistic":
            # C = 10: vectors are unit-norm, so a weak penalty is needed to separate authors (scikit-learn's
            # C = 1 underfits normalised style vectors).
            classifier = LogisticRegression(C=10.0, max_iter=2000).fit(train, labels)
            probabilities = classifier.predict_proba(queries)
            scores = classifier.decision_function(queries)
            temperature = None
        else:
            # seeded: its dual solver shuffles the samples
            classifier = LinearSVC(C=1.0, random_state=0).fit(train, labels)
            bar.advance(task)
            scores = _two_columns(classifier.decision_function(queries))
            temperature = svm_temperature(train, labels, fitted=lambda: bar.advance(task))
            probabilities = _softmax(scores / (temperature or 1.0))
        bar.update(task, completed=fits)
    return [str(c) for c in classifier.classes_], _two_columns(scores), probabilities, temperature


def classifier_inputs(
    model: StyleModel,
    texts: list[str],
    groups: np.ndarray | None = None,
    n_groups: int | None = None,
    *,
    progress: bool = False,
) -> np.ndarray | sp.csr_matrix:
    """What "logistic" and "svm" are fitted on and applied to, one row per text (or per group of texts).

    An `ngram` or `stylometric` model: the sparse n-gram profile its vectors are made from (every hashed bucket
    or vocabulary entry, tf-idf, unit rows). A linear classifier needs no projection of it, and the n-gram
    model's sketch is a random one: on Blog10 (all posts) an SVM on the `style` model's profiles is right for
    0.843 of the test posts against 0.798 on its vectors, and fits 30 times faster (docs/attribution.md).
    Any other model: its unit post vectors, or with `groups` its unit vectors of the groups as it pools them.
    """
    if groups is None:
        groups, n_groups = np.arange(len(texts)), len(texts)
    profiles = model.sparse_profiles(texts, groups, n_groups)
    if profiles is not None:
        return profiles
    if n_groups == len(texts) and np.array_equal(groups, np.arange(n_groups)):
        return _normalised(model.embed_posts(texts, progress=progress))
    return _normalised(model.embed_groups(texts, groups, n_groups, progress=progress))


def _two_columns(scores: np.ndarray) -> np.ndarray:
    """Two classes: scikit-learn gives one column, the score of classes_[1]; one column per class instead."""
    return np.stack([-scores, scores], axis=1) if scores.ndim == 1 else scores


#: Out-of-fold folds behind the SVM's temperature (fewer when an author has fewer known posts).
TEMPERATURE_FOLDS = 3


def svm_temperature(
    train: np.ndarray | sp.csr_matrix,
    labels: np.ndarray,
    *,
    seed: int = 0,
    fitted: Callable[[], None] | None = None,
) -> float | None:
    """The temperature T that makes softmax(decision / T) of a LinearSVC (C = 1) a probability: the one with the
    least log loss on out-of-fold decision values of the known posts (stratified folds) of the authors with two
    or more (a single post cannot be held out). None when fewer than two authors have two posts. `fitted` is
    called after each fold's fit (a progress bar)."""
    from scipy.optimize import minimize_scalar
    from scipy.special import log_softmax
    from sklearn.model_selection import StratifiedKFold
    from sklearn.svm import LinearSVC

    _, target, counts = np.unique(labels, return_inverse=True, return_counts=True)
    # An author with one known post cannot be held out: T is fitted on the others (it is one scale for all).
    rows_kept = counts[target] >= 2
    if np.count_nonzero(counts >= 2) < 2:
        return None
    train, labels = train[rows_kept], labels[rows_kept]
    _, target, counts = np.unique(labels, return_inverse=True, return_counts=True)
    folds = int(min(TEMPERATURE_FOLDS, counts.min()))
    classes = np.unique(labels)
    held_out = np.zeros((len(target), max(len(classes), 2)))
    # scikit-learn's cross_val_predict, fold by fold (so each fit can be reported); every fold keeps every author,
    # as each has >= folds posts, so its columns are `classes`
    for fit, held in StratifiedKFold(folds, shuffle=True, random_state=seed).split(
        np.zeros(len(labels)), labels
    ):
        classifier = LinearSVC(C=1.0, random_state=seed).fit(train[fit], labels[fit])
        held_out[held] = _two_columns(classifier.decision_function(train[held]))
        if fitted is not None:
            fitted()
    rows = np.arange(len(target))

    def log_loss(log_t: float) -> float:
        return float(-log_softmax(held_out / np.exp(log_t), axis=1)[rows, target].mean())

    best = minimize_scalar(log_loss, bounds=(np.log(1e-3), np.log(1e2)), method="bounded")
    return float(np.exp(best.x))


def _feature_kind(model: StyleModel) -> str:
    if model.has_sparse_profile:
        return f"sparse n-gram profile ({model.kind} model)"
    return "unit post vectors"


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
