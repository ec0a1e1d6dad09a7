"""The n-gram style encoder: hashed character and word n-grams, a tf-idf profile, a trained linear projection.

A post becomes counts of hashed n-grams (`authorid.encoders.hashing`: MurmurHash3 with a fixed seed, so the
same n-gram lands in the same bucket in every process), one block of buckets per kind (character n-grams,
word n-grams). A group of posts (an account, half of one, an episode) is the *sum* of its posts' counts, so
its vector depends neither on the order of its posts nor on how they were cut into episodes. The group's
profile is

    x = normalize( ⊕_blocks  w_b · normalize( (1 + ln tf) · idf ) )

(sublinear tf; smoothed idf fitted on the training corpus, as scikit-learn's; L2 per block, then overall), the
profile `StylometricEncoder` builds, over hashed buckets instead of a vocabulary. The vector is

    v = normalize( [ a · normalize(x W),  b · normalize(S x) ] )

with W the trained (buckets x dim) table, an `nn.EmbeddingBag` with sparse gradients (a step touches only the
rows of the n-grams in its batch), and S an optional fixed count sketch of the profile (each bucket added,
with a seeded sign, to one of `sketch_dim` outputs: a random projection that keeps the untrained profile's
information in the vector, which a projection trained on one forum throws away). Both parts are linear in x,
so a cosine between two accounts splits exactly into per-n-gram contributions.

Saved as `ngram.json` (settings) + `ngram.safetensors` (idf, W); no pickle.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from authorid.encoders.hashing import count_ngrams
from authorid.errors import AuthoridError
from authorid.io import atomic_write, atomic_write_text

logger = logging.getLogger(__name__)

CONFIG_FILE = "ngram.json"
WEIGHTS_FILE = "ngram.safetensors"
FORMAT = "authorid.ngram"
FORMAT_VERSION = 1
#: Posts embedded at once by `embed_groups` (bounds the memory of the summed counts).
EMBED_CHUNK_GROUPS = 20_000


class NgramModelError(AuthoridError):
    """An n-gram model folder that is incomplete or inconsistent (hash settings, idf or weights)."""


#: The settings that decide which bucket an n-gram lands in (what counts computed once depend on).
HASHING_KEYS = ("char_ngrams", "char_buckets", "word_ngrams", "word_buckets", "lowercase_words")

DEFAULTS: dict = {
    "char_ngrams": [1, 4],
    "char_buckets": 2**18,
    "word_ngrams": [1, 2],
    "word_buckets": 2**18,
    "lowercase_words": True,
    "block_weights": [1.0, 1.0],
    "dim": 256,
    "sketch_dim": 0,
    "sketch_weight": 0.0,
    "seed": 0,
}


class NgramEncoder(nn.Module):
    """Hashed char / word n-gram profiles -> trained linear projection (+ optional profile sketch), unit norm.

    Settings (see DEFAULTS): char_ngrams / word_ngrams as [low, high] (word_buckets 0 disables words),
    char_buckets / word_buckets (hash buckets per block), lowercase_words, block_weights (weight of each
    block in the profile), dim (trained projection width; 0: none), sketch_dim / sketch_weight (the fixed
    count sketch of the profile appended to the vector; 0: none), seed (initial W and the sketch).
    """

    counts_ngrams = True

    def __init__(self, **settings):
        super().__init__()
        unknown = sorted(set(settings) - set(DEFAULTS))
        if unknown:
            raise NgramModelError(
                f"unknown n-gram setting(s) {', '.join(unknown)}; valid: {', '.join(DEFAULTS)}"
            )
        self.params = _checked({**DEFAULTS, **settings})
        p = self.params
        self.n_features = p["char_buckets"] + p["word_buckets"]
        self.register_buffer("idf", torch.ones(self.n_features))
        self.fitted = False
        self.table: nn.EmbeddingBag | None = None
        if p["dim"] > 0:
            self.table = nn.EmbeddingBag(self.n_features, p["dim"], mode="sum", sparse=True)
            generator = torch.Generator().manual_seed(p["seed"])
            with torch.no_grad():  # a random projection: untrained, cosines of profiles are roughly kept
                self.table.weight.copy_(torch.randn(self.n_features, p["dim"], generator=generator))
                self.table.weight.mul_(1 / math.sqrt(p["dim"]))
        self._sketch = _count_sketch(self.n_features, p["sketch_dim"], p["seed"]) if p["sketch_dim"] else None

    # -- features ---------------------------------------------------------------------------------------------

    def counts(self, texts: Sequence[str], *, jobs: int | None = None) -> sp.csr_matrix:
        """Hashed n-gram counts per post (`authorid.encoders.hashing.count_ngrams`): CSR (n, n_features)."""
        return count_ngrams(self.params, texts, jobs=jobs)

    def fit(self, texts: Sequence[str] | None = None, *, counts: sp.csr_matrix | None = None) -> NgramEncoder:
        """Fit the idf on a corpus of posts (smoothed: ln((1 + n) / (1 + df)) + 1, df counted over posts)."""
        counts = self.counts(texts) if counts is None else counts
        if counts.shape[0] == 0:
            raise ValueError("cannot fit an NgramEncoder's idf on an empty corpus")
        df = np.bincount(counts.indices, minlength=self.n_features).astype(np.float64)
        idf = np.log((1 + counts.shape[0]) / (1 + df)) + 1
        self.idf.copy_(torch.from_numpy(idf.astype(np.float32)))
        self.fitted = True
        return self

    def profiles(self, summed: sp.csr_matrix) -> sp.csr_matrix:
        """The profile x of each row of summed counts (see the module docstring): CSR float32, unit rows."""
        x = sp.csr_matrix(summed, dtype=np.float32, copy=True)
        x.sum_duplicates()
        x.data = 1 + np.log(np.maximum(x.data, 1e-30, dtype=np.float32))
        x.data *= self.idf.detach().cpu().numpy()[x.indices]
        rows = np.repeat(np.arange(x.shape[0]), np.diff(x.indptr))
        starts = np.cumsum([0, self.params["char_buckets"]])
        weights = self.params["block_weights"]
        if self.params["word_buckets"]:
            block = (x.indices >= starts[1]).astype(np.int64)
            norms = np.zeros((x.shape[0], 2))
            np.add.at(norms, (rows, block), x.data.astype(np.float64) ** 2)
            norms = np.sqrt(norms)
            scale = np.asarray(weights, dtype=np.float64)[block] / np.where(norms == 0, 1, norms)[rows, block]
            x.data = (x.data * scale).astype(np.float32)
        total = np.sqrt(np.bincount(rows, weights=x.data.astype(np.float64) ** 2, minlength=x.shape[0]))
        x.data = (x.data / np.where(total == 0, 1, total)[rows]).astype(np.float32)
        return x

    # -- vectors ----------------------------------------------------------------------------------------------

    @property
    def dim(self) -> int:
        return self.params["dim"] + self.params["sketch_dim"]

    def forward(self, profiles: sp.csr_matrix) -> torch.Tensor:
        """Unit vectors (n, dim) of profile rows; differentiable in W (sparse gradients)."""
        p = self.params
        parts = []
        if self.table is not None:
            device = self.table.weight.device
            indices = torch.from_numpy(profiles.indices.astype(np.int64)).to(device)
            offsets = torch.from_numpy(profiles.indptr[:-1].astype(np.int64)).to(device)
            weights = torch.from_numpy(profiles.data.astype(np.float32)).to(device)
            z = self.table(indices, offsets, per_sample_weights=weights)
            parts.append(nn.functional.normalize(z, dim=-1) * _part_weight(p, "trained"))
        if self._sketch is not None:
            sketched = np.asarray((profiles @ self._sketch).todense(), dtype=np.float32)
            s = nn.functional.normalize(torch.from_numpy(sketched).to(self.idf.device), dim=-1)
            parts.append(s * _part_weight(p, "sketch"))
        return nn.functional.normalize(torch.cat(parts, dim=-1), dim=-1)

    @torch.no_grad()
    def embed_groups(self, texts: Sequence[str], groups: np.ndarray, n_groups: int) -> np.ndarray:
        """One unit vector per group of posts, from the group's summed counts: float32 (n_groups, dim)."""
        self._require_fitted()
        groups = np.asarray(groups, dtype=np.int64)
        counts = self.counts(texts)
        membership = sp.csr_matrix(
            (np.ones(len(groups), dtype=np.float32), (groups, np.arange(len(groups)))),
            shape=(n_groups, len(groups)),
        )
        summed = (membership @ counts).tocsr()
        out = np.zeros((n_groups, self.dim), dtype=np.float32)
        for start in range(0, n_groups, EMBED_CHUNK_GROUPS):
            stop = min(start + EMBED_CHUNK_GROUPS, n_groups)
            vectors = self(self.profiles(summed[start:stop])).float().cpu().numpy()
            empty = np.diff(summed.indptr[start : stop + 1]) == 0
            vectors[empty] = 0  # a group with no n-gram (no usable text) points nowhere, never NaN
            out[start:stop] = vectors
        return out

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """One unit vector per post (each post its own group)."""
        texts = list(texts)
        return self.embed_groups(texts, np.arange(len(texts)), len(texts))

    # -- files ------------------------------------------------------------------------------------------------

    def save(self, path: str | Path, **_) -> Path:
        """Write `ngram.json` and `ngram.safetensors` into folder `path` (keyword options are ignored, so the
        trainer's `encoder.save(folder, safe_serialization=True)` works for every encoder); returns the folder."""
        self._require_fitted()
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        tensors = {"idf": self.idf.detach().cpu().contiguous()}
        if self.table is not None:
            tensors["table"] = self.table.weight.detach().cpu().contiguous()
        atomic_write(folder / WEIGHTS_FILE, lambda tmp: save_file(tensors, str(tmp)))
        config = {"format": FORMAT, "version": FORMAT_VERSION, "params": self.params}
        atomic_write_text(folder / CONFIG_FILE, json.dumps(config, indent=2) + "\n")
        return folder

    @classmethod
    def load(cls, path: str | Path) -> NgramEncoder:
        """The encoder saved in folder `path`; NgramModelError naming the file when it is missing or disagrees."""
        folder = Path(path)
        config_file, weights_file = folder / CONFIG_FILE, folder / WEIGHTS_FILE
        try:
            config = json.loads(config_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise NgramModelError(f"{config_file}: missing; not an n-gram model folder") from None
        except (OSError, json.JSONDecodeError) as err:
            raise NgramModelError(f"{config_file}: unreadable ({err})") from None
        if not isinstance(config, dict) or config.get("format") != FORMAT:
            raise NgramModelError(
                f"{config_file}: not an authorid n-gram encoder (format {FORMAT!r} expected)"
            )
        if config.get("version") != FORMAT_VERSION:
            raise NgramModelError(f"{config_file}: version {config.get('version')!r} is not {FORMAT_VERSION}")
        encoder = cls(**config.get("params", {}))
        try:
            tensors = load_file(str(weights_file))
        except FileNotFoundError:
            raise NgramModelError(f"{weights_file}: missing; the model folder is incomplete") from None
        except Exception as err:  # noqa: BLE001 - safetensors raises its own error types for damaged files
            raise NgramModelError(f"{weights_file}: damaged ({err}); train or copy the model again") from None
        expected = {"idf": (encoder.n_features,)}
        if encoder.table is not None:
            expected["table"] = (encoder.n_features, encoder.params["dim"])
        for name, shape in expected.items():
            found = tuple(tensors[name].shape) if name in tensors else None
            if found != shape:
                raise NgramModelError(
                    f"{weights_file}: {name} has shape {found}, but {config_file} asks for {shape}"
                )
        with torch.no_grad():
            encoder.idf.copy_(tensors["idf"].float())
            if encoder.table is not None:
                encoder.table.weight.copy_(tensors["table"].float())
        encoder.fitted = True
        return encoder.eval()

    def _require_fitted(self) -> None:
        if not self.fitted:
            raise ValueError("the NgramEncoder has no idf yet; call fit(texts) or NgramEncoder.load")


def _checked(p: dict) -> dict:
    for key in ("char_ngrams", "word_ngrams"):
        low, high = (int(v) for v in p[key])
        if not 1 <= low <= high:
            raise NgramModelError(f"{key} must be [low, high] with 1 <= low <= high, got {p[key]}")
        p[key] = [low, high]
    for key in ("char_buckets", "word_buckets", "dim", "sketch_dim", "seed"):
        p[key] = int(p[key])
        if p[key] < 0:
            raise NgramModelError(f"{key} must be >= 0, got {p[key]}")
    if p["char_buckets"] < 1:
        raise NgramModelError("char_buckets must be >= 1")
    if p["dim"] == 0 and p["sketch_dim"] == 0:
        raise NgramModelError(
            "an n-gram encoder needs dim > 0 (trained) or sketch_dim > 0 (untrained sketch)"
        )
    p["block_weights"] = [float(w) for w in p["block_weights"]]
    if len(p["block_weights"]) != 2 or min(p["block_weights"]) < 0:
        raise NgramModelError(
            f"block_weights must be two weights >= 0 (char, word), got {p['block_weights']}"
        )
    p["sketch_weight"] = float(p["sketch_weight"])
    if not 0 <= p["sketch_weight"] <= 1 or (p["sketch_dim"] and p["dim"] == 0 and p["sketch_weight"] == 0):
        raise NgramModelError(
            f"sketch_weight must be in [0, 1] (and > 0 without dim), got {p['sketch_weight']}"
        )
    p["lowercase_words"] = bool(p["lowercase_words"])
    return p


def _part_weight(p: dict, part: str) -> float:
    """Weight of the trained part and of the sketch in the concatenated vector (squares sum to 1)."""
    if not p["sketch_dim"]:
        return 1.0
    if not p["dim"]:
        return 1.0
    sketch = p["sketch_weight"]
    return math.sqrt(1 - sketch**2) if part == "trained" else sketch


def _count_sketch(n_features: int, width: int, seed: int) -> sp.csr_matrix:
    """(n_features, width) sparse matrix with one seeded ±1 per row: feature hashing of the profile."""
    rng = np.random.default_rng([seed, 17])
    columns = rng.integers(0, width, size=n_features)
    signs = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=n_features)
    return sp.csr_matrix(
        (signs, (np.arange(n_features), columns)), shape=(n_features, width), dtype=np.float32
    )
