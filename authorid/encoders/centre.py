"""Centring mean-pooled account vectors: why `minilm`'s "same person" no longer drifts with account size.

An account vector of a transformer model is the normalised mean of its posts' vectors. Every post vector
shares a large component (what any English post looks like to the encoder), and the mean of n posts keeps that
component while the rest averages away, so the cosine of two *different* people rises with how many posts each
has (untuned MiniLM on held-out Reddit accounts: median 0.148 at 2 posts a side, 0.491 at 20; BENCHMARKS.md, "Do
scores drift with account size?"). Subtracting the mean account vector removes the shared component (centred:
-0.008 to -0.013 at every size):

    a' = normalize(a - c)        a: the account's mean-pooled unit vector; c: the centre

c is the centre of the accounts embedded together when there are MIN_CENTRE_GROUPS or more of them (their
corpus' own: measured best off Reddit, where a mean fitted on Reddit is the wrong one), taken at the account's
post count (`authorid.encoders.size_centre`: what 2-post accounts share is not what 20-post accounts share), else
the stored centre (fitted on Reddit training accounts for `minilm`); an index fixes the centre of its enrolled accounts
(`fixed_to`), so accounts added or linked later are centred alike. This is the rule the n-gram encoder
already follows (`authorid.encoders.ngram`), for the same reason.

Measured for untuned MiniLM (`minilm:raw` -> `minilm`; 2-core CPU, December 2026; docs/calibration.md has
the table and commands): Reddit benchmark MRR 0.147 -> 0.163 and AUC 0.845 -> 0.873 (halves of 8 posts); off
Reddit (scripts/bench_pretrained.py) MRR C50 0.570 -> 0.565, Blog10 0.623 -> 0.753, Blog50 0.561 -> 0.588,
Enron 0.418 -> 0.478, with verification AUC up on all four; the median cosine of two different accounts of the
demo corpus 0.68 -> -0.04.

Post vectors (`StyleModel.embed_posts`) stay the encoder's own: pooling reads them. Saved as
`centre.json` (the rule and what the stored centre was fitted on) and `centre.safetensors` (the centre, float32;
with `positions` when it is a curve over post counts); no pickle.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file

from authorid.encoders.size_centre import MIN_CENTRE_GROUPS, CentreSums, SizeCentre
from authorid.errors import AuthoridError
from authorid.io import atomic_write, atomic_write_text

CONFIG_FILE = "centre.json"
WEIGHTS_FILE = "centre.safetensors"
FORMAT = "authorid.centre"
MODES = ("corpus", "fixed")


class CentreError(AuthoridError):
    """A stored centre that is missing, damaged or of the wrong width."""


class AccountCentre:
    """The centre of mean-pooled account vectors: the stored one (`stored`, a SizeCentre: one float32 (d,) mean,
    or one per knot of post counts) and the rule ("corpus": accounts embedded together are centred on their own
    centre from MIN_CENTRE_GROUPS up; "fixed": always on the stored one)."""

    def __init__(self, stored, *, mode: str = "corpus", fitted_on: str = "") -> None:
        if mode not in MODES:
            raise CentreError(f"unknown centring mode {mode!r}; choose one of {', '.join(MODES)}")
        if not isinstance(stored, SizeCentre):
            stored = np.asarray(stored, dtype=np.float32)
            if stored.ndim != 1 or not np.isfinite(stored).all():
                raise CentreError(f"a stored centre must be one finite vector, got shape {stored.shape}")
            stored = SizeCentre.constant(stored)
        self.stored, self.mode, self.fitted_on = stored, mode, fitted_on

    @property
    def dim(self) -> int:
        return self.stored.dim

    @classmethod
    def fit(cls, vectors: np.ndarray, *, fitted_on: str, mode: str = "corpus") -> AccountCentre:
        """The centre stored as the mean of these account vectors (rows that are all zero left out)."""
        rows = np.asarray(vectors, dtype=np.float32)
        has_text = np.linalg.norm(rows, axis=1) > 0
        if not has_text.any():
            raise CentreError("cannot fit a centre on accounts without any vector")
        return cls(rows[has_text].mean(0, dtype=np.float64), mode=mode, fitted_on=fitted_on)

    def centre_for(self, vectors: np.ndarray, n_posts: np.ndarray) -> SizeCentre:
        """The centre these accounts (of `n_posts` posts each) are embedded with (see the class docstring)."""
        has_text = np.linalg.norm(vectors, axis=1) > 0
        if self.mode == "corpus" and int(has_text.sum()) >= MIN_CENTRE_GROUPS:
            return CentreSums(vectors.shape[1]).add(vectors, n_posts, has_text).centre()
        return self.stored

    def apply(
        self, vectors: np.ndarray, n_posts: np.ndarray, *, centre: SizeCentre | None = None
    ) -> np.ndarray:
        """Unit vectors of `vectors` (n, d) minus `centre_for(vectors, n_posts)` (or `centre`, when the caller
        has it already) at each account's post count; an all-zero row stays zero."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise CentreError(f"vectors of width {vectors.shape[-1]} for a centre of width {self.dim}")
        n_posts = np.asarray(n_posts)
        if len(n_posts) != len(vectors):
            raise CentreError(f"{len(n_posts)} post counts for {len(vectors)} account vectors")
        has_text = np.linalg.norm(vectors, axis=1) > 0
        centred = vectors.copy()
        (centre or self.centre_for(vectors, n_posts)).subtract_from(centred, n_posts)
        centred[~has_text] = 0.0
        norms = np.linalg.norm(centred, axis=1, keepdims=True)
        return np.divide(centred, norms, out=np.zeros_like(centred), where=norms > 0)

    def fixed_to(
        self, vectors: np.ndarray, n_posts: np.ndarray, *, fitted_on: str = "the enrolled accounts"
    ) -> AccountCentre:
        """The centre these (uncentred) accounts are embedded with, stored, and always used from now on."""
        centre = self.centre_for(np.asarray(vectors, dtype=np.float32), np.asarray(n_posts))
        return AccountCentre(centre, mode="fixed", fitted_on=fitted_on)

    def fingerprint_bytes(self) -> bytes:
        if self.stored.is_constant:  # as before curves existed, so a plain centre keeps its fingerprint
            return self.mode.encode() + self.stored.means[0].tobytes()
        return self.mode.encode() + self.stored.fingerprint_bytes()

    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        tensors = {"centre": self.stored.means[0]} if self.stored.is_constant else self.stored.tensors("")
        atomic_write(folder / WEIGHTS_FILE, lambda tmp: save_file(tensors, str(tmp)))
        config = {"format": FORMAT, "mode": self.mode, "dim": self.dim, "fitted_on": self.fitted_on}
        atomic_write_text(folder / CONFIG_FILE, json.dumps(config, indent=1) + "\n")
        return folder

    @classmethod
    def load(cls, folder: str | Path, *, dim: int | None = None) -> AccountCentre:
        """The centre saved in `folder`; one line naming the file when it is missing, damaged or (with `dim`)
        of another width than the model's vectors."""
        folder = Path(folder)
        config_path, weights_path = folder / CONFIG_FILE, folder / WEIGHTS_FILE
        for path in (config_path, weights_path):
            if not path.is_file():
                raise CentreError(f"{path}: missing (a centred model needs its centre)")
        try:
            config = json.loads(config_path.read_text(encoding="utf-8"))
            tensors = load_file(str(weights_path))
            if "positions" in tensors:  # a centre by post count
                stored = SizeCentre(tensors["positions"], tensors["means"])
            else:
                stored = tensors["centre"]
        except (ValueError, KeyError, OSError, SafetensorError) as err:
            raise CentreError(f"{config_path} / {weights_path}: damaged ({err})") from None
        if not isinstance(config, dict) or config.get("format") != FORMAT:
            raise CentreError(f"{config_path}: not an authorid centre (format {FORMAT!r} expected)")
        centre = cls(stored, mode=str(config.get("mode")), fitted_on=str(config.get("fitted_on", "")))
        if dim is not None and centre.dim != dim:
            raise CentreError(f"{weights_path}: a centre of width {centre.dim} for vectors of width {dim}")
        return centre
