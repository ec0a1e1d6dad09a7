"""Published peer baselines for `scripts/bench_quality.py`, run on authorid's own data, splits and seeds.

A peer row is only worth printing if it is the published method, so every peer here calls the published
implementation and only adapts its interface: the PAN baselines are plain scikit-learn pipelines with the
baseline scripts' settings (they are short scripts, not packages, so they are re-typed here line for line);
Burrows' Delta, Cosine Delta and General Impostors are bitig's (`bitig.features.MFWExtractor`,
`bitig.methods.delta`, `bitig.forensic.GeneralImpostors`); LambdaG is the `lambdag` package's. bitig and
lambdag are the optional extra ``bench`` and are imported only when a peer that needs them is fitted.

Two interfaces, which the driver calls and nothing else:

* `LinkingPeer`: ``fit(groups)`` on every pseudo-account the setting evaluates (id -> its texts; corpus
  statistics only, never labels), then ``score_matrix(a, b)`` / ``pair_scores(a, b)`` over those ids, higher =
  more likely one author. Pair-only methods (General Impostors, LambdaG) have ``supports_ranking = False``.
* `AttributionPeer`: ``fit(texts, authors)`` then ``predict(texts)``.

A pseudo-account is scored as one document: its texts joined by a newline (the PAN verification problems and
LambdaG's corpus reader also treat an author's known texts as one document).
"""

from __future__ import annotations

import importlib
import zlib
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from authorid.errors import AuthoridError

MISSING_EXTRA = "install the benchmark extra: pip install -e '.[bench]'"
JOINER = "\n"


class MissingExtraError(AuthoridError):
    """A peer whose package (bitig, lambdag) is not installed."""


def _require(module: str) -> ModuleType:
    """Import `module` now (not at import time), so the char n-gram peers work without the extra."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(MISSING_EXTRA) from None


def _documents(groups: Mapping[str, Sequence[str]], what: str = "groups") -> tuple[list[str], list[str]]:
    """(ids, one document per id); a group without any non-blank text is refused, it has no style to measure."""
    if not groups:
        raise ValueError(f"{what} is empty: fit needs at least two accounts")
    ids, docs = [], []
    for gid, texts in groups.items():
        if isinstance(texts, str):
            raise ValueError(f"{what}[{gid!r}] is a string; give a sequence of texts")
        doc = JOINER.join(texts)
        if not doc.strip():
            raise ValueError(f"{what}[{gid!r}] has no text")
        ids.append(gid)
        docs.append(doc)
    if len(ids) < 2:
        raise ValueError(f"{what} has {len(ids)} account; fit needs at least two")
    return ids, docs


def _pair_seed(seed: int, a: str, b: str, direction: int = 0) -> int:
    """A seed per (unordered) pair: a pair's score does not depend on which other pairs are scored with it."""
    lo, hi = sorted((str(a), str(b)))
    words = [seed, zlib.crc32(lo.encode()), zlib.crc32(hi.encode()), direction]
    return int(np.random.SeedSequence(words).generate_state(1)[0])


# --------------------------------------------------------------------------------------------- linking


class LinkingPeer(ABC):
    """Scores pairs of the pseudo-accounts it was fitted on; higher = more likely one author."""

    name: str
    supports_ranking: bool = True
    settings: dict[str, Any]

    def __init__(self) -> None:
        self._index: dict[str, int] | None = None

    def fit(self, groups: Mapping[str, Sequence[str]]) -> LinkingPeer:
        """Corpus statistics of `groups` (vocabulary, MFW list and z-score stats, impostor pool): no labels."""
        ids, docs = _documents(groups)
        self._index = {gid: i for i, gid in enumerate(ids)}
        self._ids, self._docs = ids, docs
        self._fit(ids, docs)
        return self

    @abstractmethod
    def _fit(self, ids: list[str], docs: list[str]) -> None: ...

    def _rows(self, ids: Sequence[str]) -> np.ndarray:
        if self._index is None:
            raise ValueError(f"{self.name}: call fit(groups) before scoring")
        if isinstance(ids, str):
            raise ValueError(f"{self.name}: give a sequence of account ids, not the string {ids!r}")
        rows = []
        for gid in ids:
            row = self._index.get(gid)
            if row is None:
                raise ValueError(
                    f"{self.name}: unknown account id {gid!r} (not among the {len(self._index)} fitted groups)"
                )
            rows.append(row)
        return np.asarray(rows, dtype=np.int64)

    def score_matrix(self, a: Sequence[str], b: Sequence[str]) -> np.ndarray:
        """(len(a), len(b)) float64: the score of every a against every b."""
        if not self.supports_ranking:
            raise ValueError(f"{self.name} scores pairs only (pair_scores); it cannot rank a candidate pool")
        out = self._matrix(self._rows(a), self._rows(b))
        return np.asarray(out, dtype=np.float64).reshape(len(a), len(b))

    def pair_scores(self, a: Sequence[str], b: Sequence[str]) -> np.ndarray:
        """(len(a),) float64: the score of a[i] against b[i]."""
        if len(a) != len(b):
            raise ValueError(f"{self.name}: pair_scores needs as many a as b (got {len(a)} and {len(b)})")
        ra, rb = self._rows(a), self._rows(b)
        return np.asarray(self._pairs(ra, rb), dtype=np.float64).reshape(len(ra))

    def _matrix(self, ra: np.ndarray, rb: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @abstractmethod
    def _pairs(self, ra: np.ndarray, rb: np.ndarray) -> np.ndarray: ...


class CharNgramLinking(LinkingPeer):
    """PAN 2020 authorship-verification baseline: cosine of TF-IDF character 4-gram profiles.

    Settings of pan-webis-de/pan-code clef20/authorship-verification/pan20-verif-baseline.py ("Naive,
    Distance-Based Baseline", Kestemont et al.): ``TfidfVectorizer(max_features=3000, analyzer='char',
    ngram_range=(4, 4))`` with scikit-learn's other defaults (lower-cased, smooth idf, raw tf, l2 rows), fitted
    on all texts to be compared, score = cosine. Left out, as not needed here: its p1/p2 rescaling (a monotone
    map for c@1, fitted on labelled pairs; the driver calibrates every row alike) and its bootstrapped feature
    dropout (off by default there, ``num_iterations=0``).
    """

    name = "char 4-gram tf-idf cosine (PAN20 baseline)"

    def __init__(self, *, ngram: int = 4, max_features: int = 3000) -> None:
        super().__init__()
        self.ngram, self.max_features = ngram, max_features
        self.settings = {
            "reference": "PAN 2020 authorship verification baseline (pan20-verif-baseline.py)",
            "features": f"char {ngram}-grams, TF-IDF (smooth idf, raw tf, l2), lower-cased",
            "max_features": max_features,
            "fitted_on": "every group's texts joined (one document per group)",
            "score": "cosine",
        }

    def _fit(self, ids: list[str], docs: list[str]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer(
            analyzer="char", ngram_range=(self.ngram, self.ngram), max_features=self.max_features
        )
        self._profiles = vectorizer.fit_transform(docs).astype(np.float64).tocsr()
        self.vocabulary_size = len(vectorizer.vocabulary_)

    def _matrix(self, ra: np.ndarray, rb: np.ndarray) -> np.ndarray:
        return (self._profiles[ra] @ self._profiles[rb].T).toarray()

    def _pairs(self, ra: np.ndarray, rb: np.ndarray) -> np.ndarray:
        return np.asarray(self._profiles[ra].multiply(self._profiles[rb]).sum(axis=1)).ravel()


def _mfw(groups_docs: list[str], n: int) -> tuple[Any, np.ndarray]:
    """bitig's MFW table (relative frequencies z-scored over these documents, stylo's convention)."""
    _require("bitig")
    from bitig.corpus import Corpus, Document
    from bitig.features import MFWExtractor

    corpus = Corpus(documents=[Document(id=str(i), text=d) for i, d in enumerate(groups_docs)])
    extractor = MFWExtractor(n=n, scale="zscore", lowercase=True)
    return extractor, extractor.fit_transform(corpus).X.astype(np.float64)


def _mfw_transform(extractor: Any, texts: Sequence[str]) -> np.ndarray:
    from bitig.corpus import Corpus, Document

    corpus = Corpus(documents=[Document(id=str(i), text=t) for i, t in enumerate(texts)])
    return extractor.transform(corpus).X.astype(np.float64)


def _delta_class(kind: str) -> type:
    _require("bitig")
    from bitig.methods.delta import BurrowsDelta, CosineDelta

    return {"burrows": BurrowsDelta, "cosine": CosineDelta}[kind]


class _DeltaLinking(LinkingPeer):
    """Delta between two pseudo-accounts' MFW z-score profiles, by bitig's Delta classifier.

    bitig's Delta is a nearest-centroid classifier whose ``decision_function`` is minus the Delta distance to
    each class centroid; with one class per candidate account (its centroid is its profile) that is exactly
    the (len(a), len(b)) matrix of -Delta, so the published kernel is used as it is.
    """

    kind: str
    reference: str

    def __init__(self, *, mfw: int = 300) -> None:
        super().__init__()
        self.mfw = mfw
        self.settings = {
            "reference": self.reference,
            "implementation": f"bitig MFWExtractor(n={mfw}, scale='zscore', lowercase=True) + bitig "
            f"{'BurrowsDelta' if self.kind == 'burrows' else 'CosineDelta'}",
            "mfw": mfw,
            "z_scores_over": "the fitted groups (one document per group)",
            "score": "-Burrows' Delta"
            if self.kind == "burrows"
            else "cosine of z-score profiles (1 - Delta)",
        }

    def _fit(self, ids: list[str], docs: list[str]) -> None:
        self._delta = _delta_class(self.kind)
        self._extractor, self._profiles = _mfw(docs, self.mfw)

    def _to_score(self, neg_delta: np.ndarray) -> np.ndarray:
        # Cosine Delta's distance is 1 - cosine; the score reported is the cosine itself.
        return neg_delta if self.kind == "burrows" else 1.0 + neg_delta

    def _matrix(self, ra: np.ndarray, rb: np.ndarray) -> np.ndarray:
        clf = self._delta().fit(self._profiles[rb], np.arange(len(rb)))
        return self._to_score(clf.decision_function(self._profiles[ra]))

    def _pairs(self, ra: np.ndarray, rb: np.ndarray) -> np.ndarray:
        out = np.empty(len(ra), dtype=np.float64)
        for i, (x, y) in enumerate(zip(ra, rb, strict=True)):
            clf = self._delta().fit(self._profiles[[y]], np.zeros(1, dtype=np.int64))
            out[i] = clf.decision_function(self._profiles[[x]])[0, 0]
        return self._to_score(out)


class BurrowsDeltaLinking(_DeltaLinking):
    """Burrows' Delta (Burrows 2002): mean absolute difference of MFW z-scores; score = -Delta."""

    name = "bitig burrows delta"
    kind = "burrows"
    reference = "Burrows 2002, 'Delta': a measure of stylistic difference (bitig 0.3.1)"


class CosineDeltaLinking(_DeltaLinking):
    """Cosine Delta (Smith & Aldridge 2011; Evert et al. 2017): cosine of MFW z-score profiles."""

    name = "bitig cosine delta"
    kind = "cosine"
    reference = "Smith & Aldridge 2011; Evert et al. 2017, Cosine Delta (bitig 0.3.1)"


class _PoolPeer(LinkingPeer):
    """A pair-only method that compares a pair against a pool of other accounts (impostors, references).

    By default the pool is every fitted group except the pair's two. In a setting where each person has two
    pseudo-accounts this pool holds the *other* half of each account in a different-author pair (never in a
    same-author pair), which such relative methods can exploit, as they would on a real forum with sock
    puppets; pass ``impostors=`` (accounts of persons outside the evaluated ones) for a pool without them.
    """

    supports_ranking = False

    def fit(
        self, groups: Mapping[str, Sequence[str]], *, impostors: Mapping[str, Sequence[str]] | None = None
    ) -> LinkingPeer:
        """`groups`: the accounts to score; `impostors`: the pool (default: the other groups of each pair)."""
        self._pool: tuple[list[str], list[str]] | None = None
        if impostors is not None:
            pool_ids, pool_docs = _documents(impostors, "impostors")
            clash = set(pool_ids) & set(groups)
            if clash:
                raise ValueError(f"impostors and groups share the account id {sorted(clash)[0]!r}")
            self._pool = (pool_ids, pool_docs)
        return super().fit(groups)


class GeneralImpostorsLinking(_PoolPeer):
    """General Impostors verification (Koppel & Winter 2014; Seidman 2013): bitig's `forensic.GeneralImpostors`.

    Features are bitig's MFW z-scores over the fitted groups and the pool; each pair is verified with bitig's
    defaults (100 iterations, half the features and ceil(sqrt(pool)) impostors per iteration, cosine similarity
    to the known profile). The score is the mean win fraction of both directions (a known, b questioned and
    the reverse), so it does not depend on the order of the pair; each pair's iterations are seeded from the
    seed and the two ids.
    """

    name = "bitig general impostors"

    def __init__(
        self, *, seed: int = 0, mfw: int = 300, n_iterations: int = 100, feature_subsample_rate: float = 0.5
    ) -> None:
        super().__init__()
        self.seed, self.mfw = seed, mfw
        self.n_iterations, self.feature_subsample_rate = n_iterations, feature_subsample_rate
        self.settings = {
            "reference": "Koppel & Winter 2014; Seidman 2013 (bitig 0.3.1 forensic.GeneralImpostors)",
            "features": f"bitig MFW z-scores, {mfw} words, lower-cased",
            "n_iterations": n_iterations,
            "feature_subsample_rate": feature_subsample_rate,
            "impostors_per_iteration": "ceil(sqrt(pool size)) (bitig default)",
            "similarity": "cosine, to the known profile (bitig default)",
            "pool": "the other fitted groups (or impostors= given to fit)",
            "score": "win fraction, mean of both directions",
            "seed": seed,
        }

    def _fit(self, ids: list[str], docs: list[str]) -> None:
        _require("bitig")
        from bitig.features import FeatureMatrix
        from bitig.forensic import GeneralImpostors

        self._gi, self._fm = GeneralImpostors, FeatureMatrix
        pool_docs = self._pool[1] if self._pool else []
        _, table = _mfw(docs + pool_docs, self.mfw)
        self._profiles, self._pool_profiles = table[: len(docs)], table[len(docs) :]
        self._names = [f"w{j}" for j in range(table.shape[1])]

    def _matrix_of(self, rows: np.ndarray, ids: list[str]) -> Any:
        return self._fm(X=rows, document_ids=ids, feature_names=self._names, feature_type="mfw")

    def _impostors(self, x: int, y: int) -> Any:
        if self._pool:
            return self._matrix_of(self._pool_profiles, self._pool[0])
        keep = np.ones(len(self._profiles), dtype=bool)
        keep[[x, y]] = False
        return self._matrix_of(self._profiles[keep], [self._ids[i] for i in np.flatnonzero(keep)])

    def _verify(self, questioned: int, known: int, impostors: Any) -> float:
        """bitig's verify of one direction, seeded by the seed, the two ids and which of them is known."""
        q, k = self._ids[questioned], self._ids[known]
        seed = _pair_seed(self.seed, q, k, int(str(k) > str(q)))
        gi = self._gi(
            n_iterations=self.n_iterations, feature_subsample_rate=self.feature_subsample_rate, seed=seed
        )
        result = gi.verify(
            questioned=self._matrix_of(self._profiles[[questioned]], [self._ids[questioned]]),
            known=self._matrix_of(self._profiles[[known]], [self._ids[known]]),
            impostors=impostors,
        )
        return float(result.values["score"])

    def _pairs(self, ra: np.ndarray, rb: np.ndarray) -> np.ndarray:
        out = np.empty(len(ra), dtype=np.float64)
        for i, (x, y) in enumerate(zip(ra.tolist(), rb.tolist(), strict=True)):
            pool = self._impostors(x, y)
            out[i] = (self._verify(y, x, pool) + self._verify(x, y, pool)) / 2
        return out


class LambdaGLinking(_PoolPeer):
    """LambdaG (Nini et al. 2025, Grammar as a behavioral biometric): the `lambdag` package's `LambdaGMethod`.

    The score is the raw lambda_G of b (the unknown document) given a (the known one): the log-likelihood ratio
    of b's sentences under a token n-gram model of a against models of reference sentences from the other
    accounts. The package's settings of its README example: tokens, order 10, 30 references, Kneser-Ney; texts
    lower-cased and split into sentences. The paper's logistic calibration is a monotone map of this score
    fitted on labelled pairs, left to the driver (which calibrates every row alike). The paper recommends
    POSNoise-masked input; the peer runs on the raw text, as every other row does. Each pair is scored with a
    fresh LambdaGMethod seeded from the seed and the two ids.
    """

    name = "lambdag"

    def __init__(
        self, *, seed: int = 0, order: int = 10, num_references: int = 30, basis: str = "tokens"
    ) -> None:
        super().__init__()
        self.seed, self.order, self.num_references, self.basis = seed, order, num_references, basis
        self.settings = {
            "reference": "Nini et al. 2025, LambdaG (lambdag 0.2.0 LambdaGMethod)",
            "basis": basis,
            "order": order,
            "smoothing": "kneser_ney",
            "num_references": num_references,
            "lowercasing": True,
            "sentenize": True,
            "references": "sentences of the other fitted groups (or impostors= given to fit)",
            "score": "raw lambda_G of b given a (uncalibrated log10 likelihood ratio)",
            "seed": seed,
        }

    def _fit(self, ids: list[str], docs: list[str]) -> None:
        self._method = _require("lambdag").LambdaGMethod
        pool_ids, pool_docs = self._pool if self._pool else (ids, docs)
        self._references = {gid: [doc] for gid, doc in zip(pool_ids, pool_docs, strict=True)}

    def _pairs(self, ra: np.ndarray, rb: np.ndarray) -> np.ndarray:
        import contextlib
        import io

        out = np.empty(len(ra), dtype=np.float64)
        for i, (x, y) in enumerate(zip(ra.tolist(), rb.tolist(), strict=True)):
            a, b = self._ids[x], self._ids[y]
            method = self._method(
                basis=self.basis,
                order=self.order,
                smoothing="kneser_ney",
                lowercasing=True,
                sentenize=True,
                num_references=self.num_references,
                random_seed=_pair_seed(self.seed, a, b),
            )
            problem = (self._docs[x], a, self._docs[y], b)
            # lambdag draws a tqdm bar per call; one call per pair would flood the driver's output.
            with contextlib.redirect_stderr(io.StringIO()):
                out[i] = float(method.lambdag([problem], self._references)[0])
        return out


# ----------------------------------------------------------------------------------------- attribution


class AttributionPeer(ABC):
    """Closed-set attribution: fitted on texts of known authors, predicts one of them for each text."""

    name: str
    settings: dict[str, Any]

    def fit(self, texts: Sequence[str], authors: Sequence[str]) -> AttributionPeer:
        texts, authors = list(texts), [str(a) for a in authors]
        if len(texts) != len(authors):
            raise ValueError(f"{self.name}: {len(texts)} texts but {len(authors)} authors")
        _check_texts(self.name, texts)
        if len(set(authors)) < 2:
            raise ValueError(f"{self.name}: attribution needs at least two authors (got {len(set(authors))})")
        self._fit(texts, authors)
        self._fitted = True
        return self

    def predict(self, texts: Sequence[str]) -> list[str]:
        if not getattr(self, "_fitted", False):
            raise ValueError(f"{self.name}: call fit(texts, authors) before predict")
        texts = list(texts)
        if not texts:
            return []
        _check_texts(self.name, texts)
        return [str(a) for a in self._predict(texts)]

    @abstractmethod
    def _fit(self, texts: list[str], authors: list[str]) -> None: ...

    @abstractmethod
    def _predict(self, texts: list[str]) -> Sequence[str]: ...


def _check_texts(name: str, texts: list[str]) -> None:
    if not texts:
        raise ValueError(f"{name}: no texts")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise ValueError(f"{name}: text {i} is a {type(text).__name__}, not a string")
        if not text.strip():
            raise ValueError(f"{name}: text {i} is empty")


class CharNgramAttribution(AttributionPeer):
    """PAN 2018 cross-domain authorship-attribution baseline: character 3-gram frequencies + linear SVM.

    Settings of pan-webis-de/pan-code clef18/authorship-attribution/pan18-cdaa-baseline.py (Stamatatos): case
    kept, character 3-grams occurring at least 5 times in the training texts, counts divided by the text's
    length in characters, MaxAbsScaler fitted on the training texts, ``OneVsRestClassifier(LinearSVC(C=1))``.
    (It weights by relative frequency, not TF-IDF; the PAN 2019 SVM baseline is the same with a reject option
    for open-set problems, not needed for closed-set C50 and Blog50.)
    """

    name = "char 3-gram + LinearSVC (PAN18 baseline)"

    def __init__(self, *, seed: int = 0, ngram: int = 3, min_count: int = 5, c: float = 1.0) -> None:
        self.seed, self.ngram, self.min_count, self.c = seed, ngram, min_count, c
        self.settings = {
            "reference": "PAN 2018 cross-domain authorship attribution baseline (pan18-cdaa-baseline.py)",
            "features": f"char {ngram}-grams, case kept, count >= {min_count} in training texts",
            "weighting": "count / text length (chars), MaxAbsScaler",
            "classifier": f"OneVsRestClassifier(LinearSVC(C={c}))",
            "seed": seed,
        }

    def _features(self, texts: list[str], counts: Any = None) -> Any:
        """Counts of the kept n-grams divided by each text's length in characters (the baseline's tf)."""
        import scipy.sparse as sp

        if counts is None:
            counts = self._vectorizer.transform(texts)
        lengths = np.array([len(t) for t in texts], dtype=np.float64)
        return sp.diags(1.0 / lengths) @ counts[:, self._keep].astype(np.float64)

    def _fit(self, texts: list[str], authors: list[str]) -> None:
        from sklearn.feature_extraction.text import CountVectorizer
        from sklearn.multiclass import OneVsRestClassifier
        from sklearn.preprocessing import MaxAbsScaler
        from sklearn.svm import LinearSVC

        self._vectorizer = CountVectorizer(
            analyzer="char", ngram_range=(self.ngram, self.ngram), lowercase=False
        )
        counts = self._vectorizer.fit_transform(texts)
        totals = np.asarray(counts.sum(axis=0)).ravel()
        self._keep = np.flatnonzero(totals >= self.min_count)
        if self._keep.size == 0:
            raise ValueError(f"{self.name}: no character {self.ngram}-gram occurs {self.min_count} times")
        self.vocabulary_size = int(self._keep.size)
        self._scaler = MaxAbsScaler()
        train = self._scaler.fit_transform(self._features(texts, counts))
        self._classifier = OneVsRestClassifier(LinearSVC(C=self.c, random_state=self.seed)).fit(
            train, authors
        )

    def _predict(self, texts: list[str]) -> Sequence[str]:
        return self._classifier.predict(self._scaler.transform(self._features(texts))).tolist()


class _DeltaAttribution(AttributionPeer):
    """Nearest author by Delta, as bitig classifies: MFW z-scores over the training texts, one centroid per
    author (the mean of their training texts' profiles), each text given to the author at the smallest Delta."""

    kind: str
    reference: str

    def __init__(self, *, mfw: int = 500) -> None:
        self.mfw = mfw
        self.settings = {
            "reference": self.reference,
            "implementation": f"bitig MFWExtractor(n={mfw}, scale='zscore', lowercase=True) + bitig "
            f"{'BurrowsDelta' if self.kind == 'burrows' else 'CosineDelta'}",
            "mfw": mfw,
            "z_scores_over": "the training texts",
            "decision": "nearest author centroid",
        }

    def _fit(self, texts: list[str], authors: list[str]) -> None:
        delta = _delta_class(self.kind)
        self._extractor, table = _mfw(texts, self.mfw)
        self._classifier = delta().fit(table, np.asarray(authors, dtype=object))

    def _predict(self, texts: list[str]) -> Sequence[str]:
        return self._classifier.predict(_mfw_transform(self._extractor, texts)).tolist()


class BurrowsDeltaAttribution(_DeltaAttribution):
    """Burrows' Delta attribution (Burrows 2002) by bitig's `BurrowsDelta`."""

    name = "bitig burrows delta"
    kind = "burrows"
    reference = BurrowsDeltaLinking.reference


class CosineDeltaAttribution(_DeltaAttribution):
    """Cosine Delta attribution (Smith & Aldridge 2011; Evert et al. 2017) by bitig's `CosineDelta`."""

    name = "bitig cosine delta"
    kind = "cosine"
    reference = CosineDeltaLinking.reference


def linking_peers(seed: int = 0) -> list[LinkingPeer]:
    """Every linking peer with its default settings (the pair-only ones last)."""
    return [
        CharNgramLinking(),
        BurrowsDeltaLinking(),
        CosineDeltaLinking(),
        GeneralImpostorsLinking(seed=seed),
        LambdaGLinking(seed=seed),
    ]


def attribution_peers(seed: int = 0) -> list[AttributionPeer]:
    """Every attribution peer with its default settings."""
    return [CharNgramAttribution(seed=seed), BurrowsDeltaAttribution(), CosineDeltaAttribution()]
