"""The n-gram style encoder: hashed character and word n-grams, a tf-idf profile, two linear paths, centred.

A post becomes counts of hashed n-grams (`authorid.encoders.hashing`: MurmurHash3 with a fixed seed, so the
same n-gram lands in the same bucket in every process), one block of buckets per kind (character n-grams,
word n-grams). A group of posts (an account, half of one, an episode) is the *sum* of its posts' counts, so
its vector depends neither on the order of its posts nor on how they were cut into episodes. The group's
profile is

    x = normalize( ⊕_blocks  w_b · normalize( (1 + ln tf) · idf ) )

(sublinear tf; smoothed idf fitted on the training corpus, as scikit-learn's; L2 per block, then overall), the
profile `StylometricEncoder` builds, over hashed buckets instead of a vocabulary. Two linear paths read it:

    a = x W          W: a trained (table_rows x dim) table; bucket i reads row i mod table_rows
                     (an `nn.EmbeddingBag` with sparse gradients: a step moves only its batch's rows)
    b = S (g ∘ x)    S: a seeded count sketch to sketch_dim outputs (one ±1 per bucket, nothing stored);
                     g: a learned weight per bucket (starts at 1: b starts as a random projection of x)

and the vector is

    v = [ sqrt(mix) · normalize(a - a̅),  sqrt(1 - mix) · normalize(b - b̅) ]

so cos(v, v') = mix · cos_a + (1 - mix) · cos_b. Why this shape (measured; BENCHMARKS.md, docs/ngram.md):
a narrow projection trained on one forum throws away what does not help on that forum and falls below the
untrained profile on other platforms; the wide sketch keeps the profile's information (and g learns which
n-grams matter), the trained table adds what the sketch misses. Subtracting the mean (a̅, b̅) removes what every
account shares (the language itself), which the cosine of raw profiles is dominated by: centring is the
largest single gain. The mean is the *corpus'* (the groups embedded together, when there are at least
MIN_CENTRE_GROUPS of them, and `centre` is "corpus") or the one stored in the model (the training corpus',
or the one `fit_centre` set), and it depends on each group's post count (`authorid.encoders.size_centre`:
what 2-post accounts share is not what 20-post accounts share). In training it is the batch's. Both paths are
linear in x, so a score splits exactly into per-n-gram contributions (`contributions`).

Saved as `ngram.json` (settings) + `ngram.safetensors` (idf, W as int8 rows with a per-row scale or float32,
g, the stored means); no pickle.
"""

from __future__ import annotations

import copy
import json
import logging
import math
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from authorid.encoders.hashing import count_ngrams
from authorid.encoders.size_centre import MIN_CENTRE_GROUPS, CentreSums, SizeCentre
from authorid.errors import AuthoridError
from authorid.io import atomic_write, atomic_write_text
from authorid.pretrained import is_packaged, packaged_model_path
from authorid.progress import counting_progress

logger = logging.getLogger(__name__)

CONFIG_FILE = "ngram.json"
WEIGHTS_FILE = "ngram.safetensors"
FORMAT = "authorid.ngram"
FORMAT_VERSION = 2
#: Groups projected at once by `embed_groups` (a chunk's sketch is dense: groups x sketch_dim floats). 256 keeps a
#: chunk's 17 MB of sketch near the cores' caches: 2,000 Reddit posts embed at 4,200 posts/s against 3,650 with
#: chunks of 2,048 (median of 6, the same vectors).
EMBED_CHUNK_GROUPS = 256
#: The smallest norm a path's output is divided by (`torch.nn.functional.normalize`'s eps).
NORM_EPS = 1e-12
#: Posts per pseudo-group when the stored mean is fitted on posts without accounts (`fit`).
CENTRE_POSTS_PER_GROUP = 8
#: Posts whose document frequencies are tallied at a time when fitting the idf (a bounded copy of their counts).
FIT_CHUNK_POSTS = 20_000


class NgramModelError(AuthoridError):
    """An n-gram model folder that is incomplete or inconsistent (hash settings, idf or weights)."""


#: The settings that decide which bucket an n-gram lands in (what counts computed once depend on).
HASHING_KEYS = ("char_ngrams", "char_buckets", "word_ngrams", "word_buckets", "lowercase_words")
TABLE_STORAGE = ("int8", "float32")
CENTRES = ("corpus", "fixed")

DEFAULTS: dict = {
    "char_ngrams": [1, 4],
    "char_buckets": 2**18,
    "word_ngrams": [1, 2],
    "word_buckets": 2**18,
    "lowercase_words": False,
    "block_weights": [1.0, 1.0],
    "dim": 128,
    "table_rows": 2**17,
    "init_scale": 0.1,
    "sketch_dim": 16384,
    "sketch_weights": True,
    "mix": 0.1,
    "train_mix": 0.3,
    "centre": "corpus",
    "table_storage": "int8",
    "seed": 0,
}


def ngram_model_folder(base: str) -> Path | None:
    """The trained n-gram model folder a `model.base` names (a packaged model such as `style`, or a folder
    `--encoder ngram` wrote), which training continues from with its settings, idf and table; None otherwise."""
    folder = packaged_model_path(base) if is_packaged(base) else Path(base).expanduser()
    return folder if (folder / CONFIG_FILE).is_file() else None


class NgramEncoder(nn.Module):
    """Hashed char / word n-gram profiles -> [trained projection, weighted profile sketch], centred, unit norm.

    Settings (see DEFAULTS and the module docstring): char_ngrams / word_ngrams as [low, high] (word_buckets 0
    disables words), char_buckets / word_buckets, lowercase_words, block_weights (char, word), dim (trained
    width; 0: none), table_rows (rows of W; 0: one per bucket), init_scale (W's random start, per column
    init_scale / sqrt(dim)), sketch_dim (0: none), sketch_weights (learn g), mix / train_mix (the trained
    path's share of the cosine when scoring / training), centre ("corpus": groups embedded together are centred
    on their own mean; "fixed": always on the stored mean; both by post count), table_storage (int8 | float32 on
    disk), seed.
    """

    counts_ngrams = True

    def __init__(self, *, random_init: bool = True, **settings):
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
        if p["dim"]:
            rows = min(p["table_rows"] or self.n_features, self.n_features)
            # `_weight`: no default init (load() overwrites the table; random_init draws the seeded start)
            self.table = nn.EmbeddingBag(
                rows, p["dim"], mode="sum", sparse=True, _weight=torch.empty(rows, p["dim"])
            )
            if random_init:
                generator = torch.Generator().manual_seed(p["seed"])
                with torch.no_grad():  # a random projection: untrained, cosines of profiles are roughly kept
                    self.table.weight.copy_(torch.randn(rows, p["dim"], generator=generator))
                    self.table.weight.mul_(p["init_scale"] / math.sqrt(p["dim"]))
        self.register_buffer("centre_trained", torch.zeros(p["dim"]))
        self.register_buffer("centre_sketch", torch.zeros(p["sketch_dim"]))
        #: The stored centre by post count (`fit_centre` with post counts; None: the plain mean above).
        self.sized_centre: SizeCentre | None = None
        #: The centre the last `embed_summed` call centred on (what a vectors file keeps for an index to fix).
        self.centre_used: SizeCentre | None = None
        if p["sketch_dim"]:
            rng = np.random.default_rng([p["seed"], 17])
            columns = rng.integers(0, p["sketch_dim"], size=self.n_features)
            signs = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=self.n_features)
            # Drawn again from the seed on load: not saved, not in the state dict.
            self.register_buffer("sketch_column", torch.from_numpy(columns), persistent=False)
            self.register_buffer("sketch_sign", torch.from_numpy(signs), persistent=False)
            weight = torch.ones(self.n_features)
            if p["sketch_weights"]:
                self.sketch_weight = nn.Parameter(weight)
            else:
                self.register_buffer("sketch_weight", weight)
        else:
            self.sketch_weight = None

    # -- features ---------------------------------------------------------------------------------------------

    def counts(
        self, texts: Sequence[str], *, jobs: int | None = None, progress: bool = False
    ) -> sp.csr_matrix:
        """Hashed n-gram counts per post (`authorid.encoders.hashing.count_ngrams`): CSR (n, n_features).
        `progress`: a bar with posts/s (counting is most of embedding a corpus)."""
        with counting_progress(enabled=progress) as bar:
            task = bar.add_task("counting n-grams", total=len(texts))
            return count_ngrams(self.params, texts, jobs=jobs, on_counted=lambda n: bar.advance(task, n))

    def fit(
        self,
        texts: Sequence[str] | None = None,
        *,
        counts: sp.csr_matrix | None = None,
        rows: np.ndarray | None = None,
    ) -> NgramEncoder:
        """Fit the idf on a corpus of posts (smoothed: ln((1 + n) / (1 + df)) + 1, df counted over posts), and
        a first stored mean on groups of CENTRE_POSTS_PER_GROUP consecutive posts. `rows` (sorted) fits on
        those posts of `counts` only, without copying them (a 200k-post sample of the Reddit pool's counts is
        1 GB)."""
        counts = self.counts(texts) if counts is None else counts
        rows = np.arange(counts.shape[0]) if rows is None else np.asarray(rows)
        if len(rows) == 0:
            raise ValueError("cannot fit an NgramEncoder's idf on an empty corpus")
        df = np.zeros(self.n_features, dtype=np.float64)
        for start in range(0, len(rows), FIT_CHUNK_POSTS):
            df += np.bincount(
                counts[rows[start : start + FIT_CHUNK_POSTS]].indices, minlength=self.n_features
            )
        idf = np.log((1 + len(rows)) / (1 + df)) + 1
        self.idf.copy_(torch.from_numpy(idf.astype(np.float32)))
        self.fitted = True
        groups = np.arange(len(rows)) // CENTRE_POSTS_PER_GROUP
        self.fit_centre(summed_counts(counts, groups, int(groups[-1]) + 1, rows=rows))
        return self

    @torch.no_grad()
    def fit_centre(self, summed: sp.csr_matrix, n_posts: np.ndarray | None = None) -> NgramEncoder:
        """Store the mean of both paths over these groups' summed counts (rows without n-grams are left out):
        the centre of groups embedded on their own, or of every group when `centre` is "fixed". With the
        groups' post counts, the stored centre is a curve over post counts (`SizeCentre`), else one mean."""
        self._require_fitted()
        sums = CentreSums(self.dim)
        sizes = np.ones(summed.shape[0], dtype=np.int64) if n_posts is None else np.asarray(n_posts)
        for start in range(0, summed.shape[0], EMBED_CHUNK_GROUPS):
            rows = slice(start, start + EMBED_CHUNK_GROUPS)
            raw, has_text = self.raw_paths(summed[rows])
            sums.add(raw, sizes[rows], has_text)
        if sums.count == 0:
            raise ValueError("cannot centre an NgramEncoder on groups without any n-gram")
        mean = torch.from_numpy(sums.mean())
        self.centre_trained.copy_(mean[: self.params["dim"]])
        self.centre_sketch.copy_(mean[self.params["dim"] :])
        self.sized_centre = None if n_posts is None else sums.centre()
        return self

    def fixed_to(self, summed: sp.csr_matrix, n_posts: np.ndarray) -> NgramEncoder:
        """A copy of this encoder whose stored centre is these groups' (by their post counts `n_posts`) and that
        always centres on it (what an index keeps, so accounts added or linked later are centred like the
        enrolled ones)."""
        adapted = copy.deepcopy(self).eval()
        adapted.params["centre"] = "fixed"
        return adapted.fit_centre(summed, n_posts)

    def fixed_on(self, centre: SizeCentre) -> NgramEncoder:
        """`fixed_to` for groups already embedded: a copy that always centres on `centre`, the one they were
        centred on (`centre_used`, kept in a vectors file), so an index built from their vectors centres
        accounts added or linked later as `fixed_to` their posts would."""
        if centre.dim != self.dim:
            raise ValueError(f"a centre of width {centre.dim} for an n-gram encoder of width {self.dim}")
        adapted = copy.deepcopy(self).eval()
        adapted.params["centre"] = "fixed"
        mean = torch.from_numpy(centre.means.mean(0))  # the plain centre; the curve below is what is used
        adapted.centre_trained.copy_(mean[: self.params["dim"]])
        adapted.centre_sketch.copy_(mean[self.params["dim"] :])
        adapted.sized_centre = centre
        return adapted

    def stored_centre(self) -> SizeCentre:
        """The centre stored in the model (by post count when it was fitted so)."""
        if self.sized_centre is not None:
            return self.sized_centre
        return SizeCentre.constant(torch.cat([self.centre_trained, self.centre_sketch]).float().cpu().numpy())

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

    def group_profiles(self, texts: Sequence[str], groups: np.ndarray, n_groups: int) -> sp.csr_matrix:
        """The profile x of each group's summed counts (what both paths read): CSR float32 (n_groups,
        n_features), unit rows (a group without any n-gram: an empty row)."""
        self._require_fitted()
        return self.profiles(summed_counts(self.counts(texts), np.asarray(groups, dtype=np.int64), n_groups))

    # -- vectors ----------------------------------------------------------------------------------------------

    @property
    def dim(self) -> int:
        return self.params["dim"] + self.params["sketch_dim"]

    def forward(self, profiles: sp.csr_matrix) -> torch.Tensor:
        """Vectors (n, dim) of profile rows, differentiable in W (sparse gradients) and g. Training: centred on
        the batch's mean, train_mix; otherwise centred on the stored mean, mix."""
        a, b = self._paths(profiles)
        if self.training:
            centres = [None if part is None else part.mean(0) for part in (a, b)]
        else:
            centres = [self.centre_trained, self.centre_sketch]
        return self._combine(a, b, *centres, mix=self.params["train_mix" if self.training else "mix"])

    def _paths(
        self, profiles: sp.csr_matrix, *, out: torch.Tensor | None = None
    ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """(x W, S (g ∘ x)) of profile rows, uncentred; None for a path the settings leave out. `out`: a zeroed
        float32 (n, dim) tensor the two paths are written into, side by side (then returned as views of it)."""
        device = self.idf.device
        n, dim = profiles.shape[0], self.params["dim"]
        indices = torch.from_numpy(profiles.indices.astype(np.int64)).to(device)
        values = torch.from_numpy(profiles.data.astype(np.float32)).to(device)
        a = b = None
        if self.table is not None:
            offsets = torch.from_numpy(profiles.indptr[:-1].astype(np.int64)).to(device)
            a = self.table(indices % self.table.num_embeddings, offsets, per_sample_weights=values)
            if out is not None:
                out[:, :dim] = a
                a = out[:, :dim]
        if self.params["sketch_dim"]:
            k = self.params["sketch_dim"]
            width = k if out is None else self.dim
            first = 0 if out is None else dim
            rows = torch.repeat_interleave(
                torch.arange(n, device=device), torch.from_numpy(np.diff(profiles.indptr)).to(device)
            )
            weighted = values * self.sketch_sign[indices] * self.sketch_weight[indices]
            flat = rows * width + (self.sketch_column[indices] + first)
            # The sketch is scattered straight into `out` when given: a second (n, k) buffer and its copy
            # cost 17 MB of fresh pages per 256 groups.
            target = torch.zeros(n * k, device=device, dtype=weighted.dtype) if out is None else out.view(-1)
            target.index_add_(0, flat, weighted)
            b = target.view(n, width)[:, first:]
        return a, b

    @staticmethod
    def _combine(a, b, centre_a, centre_b, *, mix: float) -> torch.Tensor:
        if a is None or b is None:
            only, centre = (a, centre_a) if b is None else (b, centre_b)
            return nn.functional.normalize(only - centre, dim=-1)
        return torch.cat(
            [
                math.sqrt(mix) * nn.functional.normalize(a - centre_a, dim=-1),
                math.sqrt(1 - mix) * nn.functional.normalize(b - centre_b, dim=-1),
            ],
            dim=-1,
        )

    @torch.no_grad()
    def embed_groups(
        self,
        texts: Sequence[str],
        groups: np.ndarray,
        n_groups: int,
        *,
        then: Callable[[np.ndarray], np.ndarray] | None = None,
        progress: bool = False,
    ) -> np.ndarray:
        """One unit vector per group of posts, from the group's summed counts: float32 (n_groups, dim). Centred
        on these groups' own centre (by post count) when `centre` is "corpus" and there are MIN_CENTRE_GROUPS or
        more with text; otherwise on the stored one. A group without any n-gram gets a zero vector (never NaN).
        `then`: see `embed_summed`; `progress`: a bar while the posts are counted."""
        self._require_fitted()
        groups = np.asarray(groups, dtype=np.int64)
        summed = summed_counts(self.counts(texts, progress=progress), groups, n_groups)
        return self.embed_summed(summed, np.bincount(groups, minlength=n_groups), then=then)

    @torch.no_grad()
    def embed_summed(
        self,
        summed: sp.csr_matrix,
        n_posts: np.ndarray,
        *,
        then: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> np.ndarray:
        """`embed_groups` for groups' summed counts (rows of `summed_counts`) of `n_posts` posts each. With
        `then` (a compact model's projection), `then(vectors)` computed chunk by chunk, so that the full-width
        vectors of every group (7.5 GB for the 114k accounts of the Reddit dump) are never held at once: the paths
        are computed twice, once to sum the centre and once to finish each chunk, with the same chunks, so the
        same vectors."""
        if then is None:
            raw, has_text = self.raw_paths(summed)
            self.centre_used = self.centre_for(raw, has_text, n_posts)
            # In place: a second (accounts x dim) array is 7.5 GB for the Reddit dump's accounts.
            return self.vectors_of(raw, has_text, self.centre_used, n_posts, out=raw)
        chunks = [
            slice(start, start + EMBED_CHUNK_GROUPS)
            for start in range(0, summed.shape[0], EMBED_CHUNK_GROUPS)
        ]
        sums = CentreSums(self.dim)
        for rows in chunks:
            raw, has_text = self.raw_paths(summed[rows])
            sums.add(raw, n_posts[rows], has_text)
        centre = self.centre_used = self.centre_from_sums(sums)
        parts = []
        for rows in chunks:
            raw, has_text = self.raw_paths(summed[rows])
            parts.append(then(self.vectors_of(raw, has_text, centre, n_posts[rows], out=raw)))
        return np.concatenate(parts) if parts else then(np.zeros((0, self.dim), dtype=np.float32))

    @torch.no_grad()
    def raw_paths(self, summed: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        """(both paths' outputs per group, uncentred: float32 (n, dim); whether each group has any n-gram)."""
        self._require_fitted()
        n_groups, p = summed.shape[0], self.params
        raw = np.zeros((n_groups, self.dim), dtype=np.float32)
        chunks = [
            slice(start, start + EMBED_CHUNK_GROUPS) for start in range(0, n_groups, EMBED_CHUNK_GROUPS)
        ]
        if self.idf.device.type == "cpu":
            # Written in place (rows of `raw` are contiguous, so a chunk is one flat tensor), chunks side by side
            # on torch's number of threads: each chunk's numpy and torch calls let go of the GIL.
            def project(rows: slice) -> None:
                with torch.no_grad():
                    self._paths(self.profiles(summed[rows]), out=torch.from_numpy(raw[rows]))

            threads = min(torch.get_num_threads(), len(chunks))
            if threads > 1:
                with ThreadPoolExecutor(max_workers=threads) as pool:
                    list(pool.map(project, chunks))
            else:
                for rows in chunks:
                    project(rows)
            return raw, np.diff(summed.indptr) > 0
        for rows in chunks:
            a, b = self._paths(self.profiles(summed[rows]))
            if a is not None:
                raw[rows, : p["dim"]] = a.float().cpu().numpy()
            if b is not None:
                raw[rows, p["dim"] :] = b.float().cpu().numpy()
        return raw, np.diff(summed.indptr) > 0

    def centre_for(self, raw: np.ndarray, has_text: np.ndarray, n_posts: np.ndarray) -> SizeCentre:
        """The centre these groups (of `n_posts` posts each) are embedded with: their own, by post count, when
        `centre` is "corpus" and at least MIN_CENTRE_GROUPS have text, else the stored one (both: trained part,
        then sketch part)."""
        return self.centre_from_sums(CentreSums(self.dim).add(raw, n_posts, has_text))

    def centre_from_sums(self, sums: CentreSums) -> SizeCentre:
        """`centre_for` from the sums of the raw rows: what shards computed apart (`authorid.scaleout.embed`)
        add up to."""
        if self.params["centre"] == "corpus" and sums.count >= MIN_CENTRE_GROUPS:
            return sums.centre()
        return self.stored_centre()

    @torch.no_grad()
    def vectors_of(
        self,
        raw: np.ndarray,
        has_text: np.ndarray,
        centre: SizeCentre,
        n_posts: np.ndarray,
        *,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """Unit vectors of raw path outputs of groups of `n_posts` posts, centred on `centre` at their sizes; zero
        for groups without any n-gram. `out` (may be `raw` itself: each chunk is read before it is written)
        receives them."""
        p = self.params
        n_posts = np.asarray(n_posts)
        out = np.zeros_like(raw) if out is None else out
        # `_combine` in numpy, in place, chunk by chunk: the same vectors with one pass over memory per step.
        # (first column, end column, weight) of the trained path and of the sketch; an empty one is skipped.
        paths = [(0, p["dim"], 1.0), (p["dim"], self.dim, 1.0)]
        if p["dim"] and p["sketch_dim"]:
            paths = [(0, p["dim"], math.sqrt(p["mix"])), (p["dim"], self.dim, math.sqrt(1 - p["mix"]))]
        for start in range(0, len(raw), EMBED_CHUNK_GROUPS):
            chunk = out[start : start + EMBED_CHUNK_GROUPS]
            if out is not raw:
                chunk[:] = raw[start : start + EMBED_CHUNK_GROUPS]
            centre.subtract_from(chunk, n_posts[start : start + EMBED_CHUNK_GROUPS])
            for first, stop, weight in paths:
                if stop > first:
                    part = chunk[:, first:stop]
                    # In float64: a float32 sum of 16k squares is off by ~1e-6, which `explain`'s exact
                    # split of a score would show.
                    norms = np.sqrt(np.einsum("ij,ij->i", part, part, dtype=np.float64))
                    part *= (weight / np.maximum(norms, NORM_EPS))[:, None]
        out[~has_text] = 0
        return out

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """One unit vector per post (each post its own group)."""
        texts = list(texts)
        return self.embed_groups(texts, np.arange(len(texts)), len(texts))

    # -- files ------------------------------------------------------------------------------------------------

    def save(self, path: str | Path, **_) -> Path:
        """Write `ngram.json` and `ngram.safetensors` into folder `path` (keyword options are ignored, so the
        trainer's `encoder.save(folder, safe_serialization=True)` works for every encoder); returns the folder.
        With table_storage int8, W is stored as int8 rows and one float16 scale per row (a quarter of float32;
        measured to change no benchmark figure)."""
        self._require_fitted()
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        tensors = {
            "idf": self.idf.detach().cpu().contiguous(),
            "centre_trained": self.centre_trained.detach().cpu().contiguous(),
            "centre_sketch": self.centre_sketch.detach().cpu().contiguous(),
        }
        if self.sized_centre is not None:
            tensors |= {
                k: torch.from_numpy(v.copy()) for k, v in self.sized_centre.tensors("centre_").items()
            }
        if self.params["sketch_dim"]:
            tensors["sketch_weight"] = self.sketch_weight.detach().cpu().half().contiguous()
        if self.table is not None:
            table = self.table.weight.detach().cpu().float()
            if self.params["table_storage"] == "int8":
                tensors.update(quantize_rows(table))
            else:
                tensors["table"] = table.contiguous()
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
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as err:
            raise NgramModelError(f"{config_file}: unreadable ({err})") from None
        if not isinstance(config, dict) or config.get("format") != FORMAT:
            raise NgramModelError(
                f"{config_file}: not an authorid n-gram encoder (format {FORMAT!r} expected)"
            )
        if config.get("version") != FORMAT_VERSION:
            raise NgramModelError(
                f"{config_file}: version {config.get('version')!r} is not {FORMAT_VERSION}; retrain the model"
                " with this authorid"
            )
        try:
            encoder = cls(random_init=False, **config.get("params", {}))
        except NgramModelError as err:
            raise NgramModelError(f"{config_file}: {err}") from None
        try:
            tensors = load_file(str(weights_file))
        except FileNotFoundError:
            raise NgramModelError(f"{weights_file}: missing; the model folder is incomplete") from None
        except Exception as err:  # noqa: BLE001 - safetensors raises its own error types for damaged files
            raise NgramModelError(f"{weights_file}: damaged ({err}); train or copy the model again") from None
        p = encoder.params
        expected = {
            "idf": (encoder.n_features,),
            "centre_trained": (p["dim"],),
            "centre_sketch": (p["sketch_dim"],),
        }
        if p["sketch_dim"]:
            expected["sketch_weight"] = (encoder.n_features,)
        if encoder.table is not None:
            rows = encoder.table.num_embeddings
            if p["table_storage"] == "int8":
                expected |= {"table_int8": (rows, p["dim"]), "table_scale": (rows,)}
            else:
                expected["table"] = (rows, p["dim"])
        if "centre_positions" in tensors:  # a centre by post count (`fit_centre` with post counts)
            knots = tuple(tensors["centre_positions"].shape)
            expected["centre_means"] = (knots[0] if len(knots) == 1 else -1, encoder.dim)
        for name, shape in expected.items():
            found = tuple(tensors[name].shape) if name in tensors else None
            if found != shape:
                raise NgramModelError(
                    f"{weights_file}: {name} has shape {found}, but {config_file} asks for {shape}"
                )
        with torch.no_grad():
            encoder.idf.copy_(tensors["idf"].float())
            encoder.centre_trained.copy_(tensors["centre_trained"].float())
            encoder.centre_sketch.copy_(tensors["centre_sketch"].float())
            if "centre_positions" in tensors:
                try:
                    encoder.sized_centre = SizeCentre(
                        tensors["centre_positions"].double().numpy(), tensors["centre_means"].float().numpy()
                    )
                except ValueError as err:
                    raise NgramModelError(f"{weights_file}: {err}") from None
            if p["sketch_dim"]:
                encoder.sketch_weight.copy_(tensors["sketch_weight"].float())
            if encoder.table is not None:
                table = tensors.get("table")
                if table is None:
                    table = tensors["table_int8"].float() * tensors["table_scale"].float()[:, None]
                encoder.table.weight.copy_(table.float())
        encoder.fitted = True
        return encoder.eval()

    def _require_fitted(self) -> None:
        if not self.fitted:
            raise ValueError("the NgramEncoder has no idf yet; call fit(texts) or NgramEncoder.load")


def summed_counts(
    counts: sp.csr_matrix, groups: np.ndarray, n_groups: int, *, rows: np.ndarray | None = None
) -> sp.csr_matrix:
    """Row g = the sum of the counts of the posts in group g (`groups[i]` is post i's group): CSR. With `rows`,
    `groups[i]` is the group of post `rows[i]` and the other posts are left out, without copying `counts`. When
    each post is its own group, `counts` itself (not a copy)."""
    if rows is None:
        if len(groups) != counts.shape[0]:
            raise ValueError(f"{len(groups)} groups given for {counts.shape[0]} posts")
        if n_groups == len(groups) and np.array_equal(groups, np.arange(n_groups)):
            return counts  # each post its own group (`embed_texts`): the sums are the counts
        rows = np.arange(len(groups))
    membership = sp.csr_matrix(
        (np.ones(len(groups), dtype=np.float32), (groups, rows)),
        shape=(n_groups, counts.shape[0]),
    )
    return (membership @ counts).tocsr()


def quantize_rows(table: torch.Tensor) -> dict[str, torch.Tensor]:
    """int8 rows and a float16 scale per row (row ≈ int8 * scale; the largest entry of a row is ±127)."""
    scale = (table.abs().amax(dim=1) / 127).clamp_min(1e-12).half()
    quantized = torch.round(table / scale.float()[:, None]).clamp(-127, 127).to(torch.int8)
    return {"table_int8": quantized.contiguous(), "table_scale": scale.contiguous()}


def _checked(p: dict) -> dict:
    for key in ("char_ngrams", "word_ngrams"):
        low, high = (int(v) for v in p[key])
        if not 1 <= low <= high:
            raise NgramModelError(f"{key} must be [low, high] with 1 <= low <= high, got {p[key]}")
        p[key] = [low, high]
    for key in ("char_buckets", "word_buckets", "dim", "table_rows", "sketch_dim", "seed"):
        p[key] = int(p[key])
        if p[key] < 0:
            raise NgramModelError(f"{key} must be >= 0, got {p[key]}")
    if p["char_buckets"] < 1:
        raise NgramModelError("char_buckets must be >= 1")
    if p["dim"] == 0 and p["sketch_dim"] == 0:
        raise NgramModelError("an n-gram encoder needs dim > 0 (trained table) or sketch_dim > 0 (sketch)")
    p["block_weights"] = [float(w) for w in p["block_weights"]]
    if len(p["block_weights"]) != 2 or min(p["block_weights"]) < 0:
        raise NgramModelError(
            f"block_weights must be two weights >= 0 (char, word), got {p['block_weights']}"
        )
    for key in ("mix", "train_mix"):
        p[key] = float(p[key])
        if not 0 < p[key] < 1:
            raise NgramModelError(f"{key} must be between 0 and 1 (exclusive), got {p[key]}")
    p["init_scale"] = float(p["init_scale"])
    if p["init_scale"] <= 0:
        raise NgramModelError(f"init_scale must be > 0, got {p['init_scale']}")
    for key, choices in (("table_storage", TABLE_STORAGE), ("centre", CENTRES)):
        if p[key] not in choices:
            raise NgramModelError(f"{key} must be one of {', '.join(choices)}, got {p[key]!r}")
    p["lowercase_words"] = bool(p["lowercase_words"])
    p["sketch_weights"] = bool(p["sketch_weights"])
    return p
