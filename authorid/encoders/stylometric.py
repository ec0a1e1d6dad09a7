"""A stylometric encoder: character n-gram TF-IDF profiles, optionally with function words and POS n-grams.

No GPU and no training: `fit` learns a vocabulary and idf weights from a corpus. Each feature block b is
weighted w_b(t, x) = (1 + ln tf(t, x)) · idf_b(t), idf(t) = ln((1 + n) / (1 + df(t))) + 1 (scikit-learn's
smoothed idf, i.e. `TfidfVectorizer(analyzer="char", sublinear_tf=True)`), L2-normalised per block; the
blocks are concatenated and the whole vector L2-normalised again. With `dim`, a TruncatedSVD (LSA) fitted
on the corpus' post profiles maps profiles to `dim` dense components, re-normalised.

Account vectors are the profile of the account's concatenated posts (n-gram counts summed over its posts,
then weighted), not the mean of post profiles: forum posts are short, so a single post's counts are sparse
and noisy, and summing counts before the sublinear damping is the profile-based method that does best on
short texts (Stamatatos 2009, section 4; Potha & Stamatatos 2014). It also makes an account's vector
independent of how its text is split into posts.

Vectors are dense float32. Without `dim` their width is the vocabulary size (at most `max_features` plus the
spaCy blocks); pass `dim=256` or `512` for vectors that share a faiss index with neural ones.
Saved as `stylometric.json` (parameters and vocabularies) + `stylometric.safetensors` (idf, SVD); no pickle.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from safetensors.numpy import load_file, save_file
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.preprocessing import normalize

from authorid.encoders.spacy_features import FUNCTION_WORDS, function_words_and_pos
from authorid.io import atomic_write, atomic_write_text
from authorid.vectors import AccountVectors, characters_per_group, group_by_first_appearance

if TYPE_CHECKING:
    import datasets

logger = logging.getLogger(__name__)

CONFIG_FILE = "stylometric.json"
ARRAYS_FILE = "stylometric.safetensors"
_FORMAT_VERSION = 1
#: Posts counted at once when embedding; bounds the memory of the sparse n-gram counts.
CHUNK_POSTS = 20_000
#: Posts a fit reads at most (a seeded sample of larger corpora).
FIT_MAX_POSTS = 100_000


class StylometricEncoder:
    """Char n-gram TF-IDF profiles (+ optional spaCy function-word and POS n-gram blocks), dense float32.

    ngram_range / max_features: the character n-grams kept (the `max_features` most frequent in the corpus).
    lowercase: False by default, because capitalisation habits ("i think", "ALL CAPS") are style.
    function_words / pos_ngrams: add spaCy blocks (en_core_web_sm); pos_ngram_range, pos_max_features bound
    the POS block. dim: reduce with TruncatedSVD to `dim` components (seeded by `seed`); None keeps the full
    profile.
    """

    def __init__(
        self,
        *,
        ngram_range: tuple[int, int] = (1, 4),
        max_features: int = 100_000,
        lowercase: bool = False,
        function_words: bool = False,
        pos_ngrams: bool = False,
        pos_ngram_range: tuple[int, int] = (1, 3),
        pos_max_features: int = 20_000,
        dim: int | None = None,
        seed: int = 0,
    ) -> None:
        for name, (low, high) in (("ngram_range", ngram_range), ("pos_ngram_range", pos_ngram_range)):
            if not 1 <= low <= high:
                raise ValueError(f"{name} must be (low, high) with 1 <= low <= high, got {(low, high)}")
        if max_features <= 0 or pos_max_features <= 0:
            raise ValueError("max_features and pos_max_features must be positive")
        if dim is not None and dim <= 0:
            raise ValueError(f"dim must be positive or None, got {dim}")
        self.params = {
            "ngram_range": [int(ngram_range[0]), int(ngram_range[1])],
            "max_features": int(max_features),
            "lowercase": bool(lowercase),
            "function_words": bool(function_words),
            "pos_ngrams": bool(pos_ngrams),
            "pos_ngram_range": [int(pos_ngram_range[0]), int(pos_ngram_range[1])],
            "pos_max_features": int(pos_max_features),
            "dim": None if dim is None else int(dim),
            "seed": int(seed),
        }
        self._counters: dict[str, CountVectorizer] = {}
        self._weights: dict[str, TfidfTransformer] = {}
        self._svd_components: np.ndarray | None = None  # (dim, n_features) float32

    # -- blocks -----------------------------------------------------------------------------------------------

    def _block_names(self) -> list[str]:
        return ["char"] + ["fw"] * self.params["function_words"] + ["pos"] * self.params["pos_ngrams"]

    def _counter(self, block: str, vocabulary: list[str] | None = None) -> CountVectorizer:
        p = self.params
        if block == "char":
            return CountVectorizer(
                analyzer="char",
                ngram_range=tuple(p["ngram_range"]),
                lowercase=p["lowercase"],
                max_features=None if vocabulary else p["max_features"],
                vocabulary=vocabulary,
                dtype=np.float32,
            )
        if block == "fw":
            return CountVectorizer(
                token_pattern=r"\S+",
                lowercase=False,
                vocabulary=vocabulary or list(FUNCTION_WORDS),
                dtype=np.float32,
            )
        return CountVectorizer(
            token_pattern=r"\S+",
            lowercase=False,
            ngram_range=tuple(p["pos_ngram_range"]),
            max_features=None if vocabulary else p["pos_max_features"],
            vocabulary=vocabulary,
            dtype=np.float32,
        )

    def _block_inputs(self, texts: list[str]) -> dict[str, list[str]]:
        inputs = {"char": texts}
        if self.params["function_words"] or self.params["pos_ngrams"]:
            pairs = list(function_words_and_pos(texts, pos=self.params["pos_ngrams"]))
            inputs["fw"] = [words for words, _ in pairs]
            inputs["pos"] = [tags for _, tags in pairs]
        return inputs

    def _counts(self, texts: list[str], *, fit: bool = False) -> dict[str, sp.csr_matrix]:
        inputs = self._block_inputs(texts)
        counts = {}
        for block in self._block_names():
            if fit:
                self._counters[block] = self._counter(block)
                counts[block] = self._counters[block].fit_transform(inputs[block])
            else:
                counts[block] = self._counters[block].transform(inputs[block])
        return counts

    def _profiles(self, counts: dict[str, sp.csr_matrix]) -> sp.csr_matrix:
        """Sublinear tf · idf per block, L2 per block, concatenated, L2 overall: (n, n_features) float32."""
        blocks = [self._weights[b].transform(counts[b]) for b in self._block_names()]
        return normalize(sp.hstack(blocks, format="csr", dtype=np.float32)).astype(np.float32)

    def _dense(self, profiles: sp.csr_matrix) -> np.ndarray:
        if self._svd_components is None:
            return np.asarray(profiles.toarray(), dtype=np.float32)
        reduced = np.asarray(profiles @ self._svd_components.T, dtype=np.float32)
        return normalize(reduced).astype(np.float32)

    # -- public -----------------------------------------------------------------------------------------------

    @property
    def is_fitted(self) -> bool:
        return bool(self._weights)

    @property
    def dim(self) -> int:
        """Width of the vectors `embed_texts` and `embed_accounts` return."""
        self._require_fitted()
        if self._svd_components is not None:
            return int(self._svd_components.shape[0])
        return len(self.feature_names())

    def feature_names(self) -> list[str]:
        """Names of the profile columns, prefixed by block: "char:the ", "fw:the", "pos:PRON VERB"."""
        self._require_fitted()
        return [f"{b}:{t}" for b in self._block_names() for t in self._counters[b].get_feature_names_out()]

    def fit(self, corpus: Sequence[str] | datasets.Dataset) -> StylometricEncoder:
        """Learn vocabularies and idf weights (and the SVD with `dim`) from a corpus of posts."""
        texts = _texts_of(corpus)
        if not texts:
            raise ValueError("cannot fit a StylometricEncoder on an empty corpus")
        # Fitted on the texts in sorted order, not the corpus' row order, so a shuffled copy gives the same model:
        # vocabulary and idf do not depend on the order, but the randomized SVD's trailing components do (audit
        # 16: a shuffled file moved 120 accounts' vectors by up to 0.36 and flipped 10 of 419 `score` decisions).
        texts = sorted(texts)
        if len(texts) > FIT_MAX_POSTS:
            # Vocabulary and idf settle long before a forum's full size; a seeded sample bounds memory and time.
            rng = np.random.default_rng(self.params["seed"])
            keep = np.sort(rng.choice(len(texts), size=FIT_MAX_POSTS, replace=False))
            logger.info("fitting on a seeded sample of %d of %d posts", FIT_MAX_POSTS, len(texts))
            texts = [texts[i] for i in keep]
        counts = self._counts(texts, fit=True)
        self._weights = {b: TfidfTransformer(sublinear_tf=True).fit(counts[b]) for b in self._block_names()}
        dim = self.params["dim"]
        if dim is not None:
            profiles = self._profiles(counts)
            if dim >= min(profiles.shape):
                raise ValueError(f"dim={dim} must be below min(posts, features) = {min(profiles.shape)}")
            svd = TruncatedSVD(n_components=dim, algorithm="randomized", random_state=self.params["seed"])
            svd.fit(profiles)
            self._svd_components = np.ascontiguousarray(svd.components_, dtype=np.float32)
        logger.info(
            "fitted stylometric encoder on %d posts: %d features", len(texts), len(self.feature_names())
        )
        return self

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Sparse L2-normalised profiles (n, n_features) float32, before any SVD."""
        self._require_fitted()
        return self._profiles(self._counts(list(texts)))

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Dense float32 (n, dim) post vectors, L2-normalised (all-zero for a post with no known feature)."""
        self._require_fitted()
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # In chunks: the sparse n-gram counts of a whole forum would not fit in memory at once.
        return np.concatenate(
            [
                self._dense(self.transform(texts[i : i + CHUNK_POSTS]))
                for i in range(0, len(texts), CHUNK_POSTS)
            ]
        )

    def embed_groups(
        self,
        texts: Sequence[str],
        groups: np.ndarray,
        n_groups: int,
        *,
        progress: bool = False,  # noqa: ARG002 - counted with scikit-learn in one call: no bar to show
    ) -> np.ndarray:
        """One vector per group of posts: the profile of the group's summed n-gram counts, float32 (n_groups, d).

        `groups[i]` (0 <= g < n_groups) is the group of texts[i]; a group without posts gets a zero vector.
        """
        return self._dense(self.group_profiles(texts, groups, n_groups))

    def group_profiles(self, texts: Sequence[str], groups: np.ndarray, n_groups: int) -> sp.csr_matrix:
        """The sparse profile of each group's summed n-gram counts, before any SVD: CSR float32 (n_groups,
        n_features), unit rows (a group without posts: an empty row)."""
        self._require_fitted()
        texts, groups = list(texts), np.asarray(groups, dtype=np.int64)
        summed: dict[str, sp.csr_matrix] = {}
        # Posts are counted CHUNK_POSTS at a time and summed into per-group counts, so memory stays bounded
        # by (groups x features) however many posts there are.
        for start in range(0, len(texts), CHUNK_POSTS):
            stop = min(start + CHUNK_POSTS, len(texts))
            counts = self._counts(texts[start:stop])
            # Indicator matrix (groups x posts of the chunk): one product sums every group's post counts.
            membership = sp.csr_matrix(
                (np.ones(stop - start, dtype=np.float32), (groups[start:stop], np.arange(stop - start))),
                shape=(n_groups, stop - start),
            )
            for block, c in counts.items():
                part = membership @ c
                summed[block] = part if block not in summed else summed[block] + part
        if not summed:
            return sp.csr_matrix((n_groups, len(self.feature_names())), dtype=np.float32)
        return self._profiles(summed)

    def embed_accounts(self, posts: datasets.Dataset) -> AccountVectors:
        """One vector per account (order of first post): the profile of its summed post counts."""
        account_ids, groups = group_by_first_appearance(list(posts["account_id"]))
        texts = _texts_of(posts)
        return AccountVectors(
            account_ids=account_ids,
            vectors=self.embed_groups(texts, groups, len(account_ids)),
            n_posts=np.bincount(groups, minlength=len(account_ids)),
            n_chars=characters_per_group(texts, groups, len(account_ids)),
        )

    def fitted_arrays(self) -> dict[str, np.ndarray]:
        """What the fit learned besides the vocabulary: each block's idf ("idf.BLOCK") and the SVD
        ("svd_components", with `dim`). Saved in `stylometric.safetensors`; part of the model's fingerprint."""
        self._require_fitted()
        arrays = {f"idf.{b}": np.ascontiguousarray(self._weights[b].idf_) for b in self._block_names()}
        if self._svd_components is not None:
            arrays["svd_components"] = self._svd_components
        return arrays

    def save(self, path: str | Path) -> Path:
        """Write `stylometric.json` and `stylometric.safetensors` into folder `path`; returns the folder."""
        self._require_fitted()
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        arrays = self.fitted_arrays()
        config = {
            "format": "authorid.stylometric",
            "version": _FORMAT_VERSION,
            "params": self.params,
            "vocabulary": {
                b: self._counters[b].get_feature_names_out().tolist() for b in self._block_names()
            },
        }
        atomic_write(folder / ARRAYS_FILE, lambda tmp: save_file(arrays, str(tmp)))
        atomic_write_text(folder / CONFIG_FILE, json.dumps(config, ensure_ascii=False) + "\n")
        return folder

    @classmethod
    def load(cls, path: str | Path) -> StylometricEncoder:
        folder = Path(path)
        if not (folder / CONFIG_FILE).is_file():
            raise ValueError(f"{folder} holds no stylometric encoder ({CONFIG_FILE} missing)")
        config = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
        if config.get("format") != "authorid.stylometric" or config.get("version") != _FORMAT_VERSION:
            raise ValueError(f"{folder / CONFIG_FILE}: not a version {_FORMAT_VERSION} stylometric encoder")
        p = config["params"]
        p = {**p, "ngram_range": tuple(p["ngram_range"]), "pos_ngram_range": tuple(p["pos_ngram_range"])}
        encoder = cls(**p)
        arrays = load_file(str(folder / ARRAYS_FILE))
        for block in encoder._block_names():
            encoder._counters[block] = encoder._counter(block, vocabulary=config["vocabulary"][block])
            weights = TfidfTransformer(sublinear_tf=True)
            weights.idf_ = arrays[f"idf.{block}"]
            encoder._weights[block] = weights
        encoder._svd_components = arrays.get("svd_components")
        return encoder

    def _require_fitted(self) -> None:
        if not self.is_fitted:
            raise ValueError(
                "the StylometricEncoder is not fitted; call fit(corpus) or StylometricEncoder.load"
            )


def _texts_of(corpus: Sequence[str] | datasets.Dataset) -> list[str]:
    texts = list(corpus["text"]) if hasattr(corpus, "column_names") else list(corpus)
    bad = next((i for i, t in enumerate(texts) if not isinstance(t, str)), None)
    if bad is not None:
        raise ValueError(f"text {bad} is {type(texts[bad]).__name__}, not a string")
    return texts
