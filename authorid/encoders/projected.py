"""A compact (projected) encoder: a base model's account vectors through a linear projection fitted by PCA.

    v = normalize( P (u - m) )       u: the base model's unit account vector (d_in, e.g. 16,512 for `style`)
                                     m: the mean of the account vectors P was fitted on (d_in)
                                     P: the top d_out principal axes of those vectors (d_out x d_in)

The packaged `style` model gives 16,512-dimensional vectors: 66 KB an account, 66 GB for a million accounts,
too wide to index or cluster at that size. PCA keeps the directions in which accounts differ most, so a
256-dimensional vector keeps most of the linking quality (measured: docs/scale.md, BENCHMARKS.md) at 1/64 of
the width. The base embeds a corpus exactly as it does on its own (an n-gram base still centres the accounts it
embeds together on their mean, or on its fixed centre: `fixed_to`), then the projection applies; a group
without any feature stays a zero vector. `authorid compress` fits P (`authorid.workflows.compress`).

A compact model folder is self-contained: `projected.json` (format, the base, d_in, d_out, how P is stored and
what it was fitted on) and `projected.safetensors` (P as float16 or float32, m as float32); no pickle. The base
is a packaged or bundled model's name (`style`, `minilm`: not copied) or a copy of the base model's folder
inside the compact one (`base/`), so the folder moves and loads on its own.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from authorid.errors import AuthoridError
from authorid.io import atomic_write, atomic_write_text

CONFIG_FILE = "projected.json"
WEIGHTS_FILE = "projected.safetensors"
FORMAT = "authorid.projected"
FORMAT_VERSION = 1
#: Sub-folder of a compact model holding the copy of its base model (when the base is a folder).
BASE_FOLDER = "base"
#: How P is stored on disk. float16 halves the file; measured to change Reddit MRR by < 0.001 (docs/scale.md).
STORAGES = ("float16", "float32")
#: Account vectors projected at once (bounds the float32 (chunk x d_in) centred copy).
PROJECT_CHUNK = 4096


class ProjectedModelError(AuthoridError):
    """A compact (projected) model folder that is incomplete, damaged or inconsistent with its base."""


class ProjectedEncoder:
    """A base model (anything with `embed_groups(texts, groups, n_groups)` and `dim`: a StyleModel) and a
    projection P (d_out x d_in) with mean m (d_in); see the module docstring."""

    def __init__(
        self,
        base: Any,
        projection: np.ndarray,
        mean: np.ndarray,
        *,
        storage: str = "float16",
        info: dict | None = None,
    ):
        if storage not in STORAGES:
            raise ProjectedModelError(f"storage must be one of {', '.join(STORAGES)}, got {storage!r}")
        projection = np.asarray(projection, dtype=np.float32)
        mean = np.asarray(mean, dtype=np.float32)
        if projection.ndim != 2 or mean.shape != (projection.shape[1],):
            raise ProjectedModelError(
                f"a projection is (d_out, d_in) with a mean of d_in, got {projection.shape} and {mean.shape}"
            )
        if projection.shape[1] != int(base.dim):
            raise ProjectedModelError(
                f"the projection reads {projection.shape[1]} dimensions, the base model gives {base.dim}"
            )
        if storage == "float16":  # what is kept in memory is exactly what a saved copy reloads
            projection = projection.astype(np.float16).astype(np.float32)
        self.base = base
        self.projection = np.ascontiguousarray(projection)
        self.mean = np.ascontiguousarray(mean)
        self.storage = storage
        self.info = dict(info or {})

    @property
    def dim(self) -> int:
        return int(self.projection.shape[0])

    @property
    def base_dim(self) -> int:
        return int(self.projection.shape[1])

    def with_base(self, base: Any) -> ProjectedEncoder:
        """The same projection over another base of the same width (e.g. the base with its centre fixed)."""
        return ProjectedEncoder(base, self.projection, self.mean, storage=self.storage, info=self.info)

    def fixed_to(self, posts) -> ProjectedEncoder:
        """This encoder over its base fixed to the accounts of `posts` (`StyleModel.fixed_to`: an n-gram base
        then centres every account on their mean, as an index needs)."""
        return self.with_base(self.base.fixed_to(posts))

    @torch.no_grad()
    def project(self, vectors: np.ndarray) -> np.ndarray:
        """normalize(P (u - m)) of base vectors u, row by row: float32 (n, d_out); zero rows stay zero."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.base_dim:
            raise ProjectedModelError(
                f"vectors of dimension {vectors.shape[-1]} cannot be projected from {self.base_dim}"
            )
        projection = torch.from_numpy(self.projection)
        mean = torch.from_numpy(self.mean)
        out = np.zeros((len(vectors), self.dim), dtype=np.float32)
        for start in range(0, len(vectors), PROJECT_CHUNK):
            chunk = torch.from_numpy(vectors[start : start + PROJECT_CHUNK])
            projected = (chunk - mean) @ projection.T
            norms = projected.norm(dim=1, keepdim=True)
            empty = (chunk.abs().amax(dim=1, keepdim=True) == 0) | (norms == 0)
            projected = torch.where(empty, torch.zeros_like(projected), projected / norms.clamp_min(1e-12))
            out[start : start + len(chunk)] = projected.numpy()
        return out

    def embed_groups(
        self, texts: Sequence[str], groups: np.ndarray, n_groups: int, *, progress: bool = False
    ) -> np.ndarray:
        """One unit vector per group of posts: the base's group vector, projected (over an n-gram base, chunk by
        chunk: `NgramEncoder.embed_summed`)."""
        if getattr(self.base, "kind", None) == "ngram":
            return self.base.encoder.embed_groups(
                list(texts), groups, n_groups, then=self.project, progress=progress
            )
        return self.project(self.base.embed_groups(list(texts), groups, n_groups, progress=progress))

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        return self.embed_groups(texts, np.arange(len(texts)), len(texts))

    # -- files ------------------------------------------------------------------------------------------------

    def save(self, folder: str | Path, base_location: dict) -> Path:
        """Write `projected.json` and `projected.safetensors` into `folder`; `base_location` is {"spec": name}
        (a packaged or bundled model) or {"folder": sub-folder} (the caller copied the base there)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        dtype = torch.float16 if self.storage == "float16" else torch.float32
        tensors = {
            "projection": torch.from_numpy(self.projection).to(dtype).contiguous(),
            "mean": torch.from_numpy(self.mean).contiguous(),
        }
        atomic_write(folder / WEIGHTS_FILE, lambda tmp: save_file(tensors, str(tmp)))
        config = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "base": dict(base_location),
            "base_dim": self.base_dim,
            "dim": self.dim,
            "storage": self.storage,
            "fitted": self.info,
        }
        atomic_write_text(folder / CONFIG_FILE, json.dumps(config, indent=2) + "\n")
        return folder

    @classmethod
    def load(cls, folder: str | Path, base: Any) -> ProjectedEncoder:
        """The projection saved in `folder` over `base` (loaded by the caller from `read_config(folder)["base"]`);
        ProjectedModelError naming the file when it is missing, damaged or does not fit the base."""
        folder = Path(folder)
        config = read_config(folder)
        weights_file = folder / WEIGHTS_FILE
        try:
            tensors = load_file(str(weights_file))
        except FileNotFoundError:
            raise ProjectedModelError(
                f"{weights_file}: missing; the compact model folder is incomplete"
            ) from None
        except Exception as err:  # noqa: BLE001 - safetensors raises its own error types for damaged files
            reason = " ".join(str(err).split())[:200]
            raise ProjectedModelError(
                f"{weights_file}: damaged ({reason}); run `authorid compress` again or copy the model again"
            ) from None
        expected = {"projection": (config["dim"], config["base_dim"]), "mean": (config["base_dim"],)}
        for name, shape in expected.items():
            found = tuple(tensors[name].shape) if name in tensors else None
            if found != shape:
                raise ProjectedModelError(
                    f"{weights_file}: {name} has shape {found}, but {folder / CONFIG_FILE} asks for {shape}"
                )
        if int(base.dim) != config["base_dim"]:
            raise ProjectedModelError(
                f"{folder / CONFIG_FILE}: the projection reads {config['base_dim']} dimensions, but its base"
                f" {config['base']} gives {base.dim}"
            )
        return cls(
            base,
            tensors["projection"].float().numpy(),
            tensors["mean"].float().numpy(),
            storage=config["storage"],
            info=config.get("fitted") or {},
        )


def read_config(folder: Path) -> dict:
    """The checked content of `folder/projected.json`; ProjectedModelError naming the file otherwise."""
    path = Path(folder) / CONFIG_FILE
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProjectedModelError(f"{path}: missing; not a compact model folder") from None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ProjectedModelError(f"{path}: unreadable ({' '.join(str(err).split())})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ProjectedModelError(f"{path}: not an authorid compact model (format {FORMAT!r} expected)")
    if config.get("version") != FORMAT_VERSION:
        raise ProjectedModelError(
            f"{path}: version {config.get('version')!r} is not {FORMAT_VERSION}; run `authorid compress` again"
        )
    base = config.get("base")
    if not isinstance(base, dict) or not (
        isinstance(base.get("spec"), str) or isinstance(base.get("folder"), str)
    ):
        raise ProjectedModelError(f"{path}: 'base' must name a model ({{'spec': NAME}} or {{'folder': DIR}})")
    if base.get("spec") is None and not (Path(folder) / base["folder"]).is_dir():
        raise ProjectedModelError(
            f"{path}: the base model folder {base['folder']!r} is missing from {folder}"
        )
    for key in ("dim", "base_dim"):
        if not isinstance(config.get(key), int) or config[key] < 1:
            raise ProjectedModelError(f"{path}: {key!r} must be a positive integer, got {config.get(key)!r}")
    if config.get("storage") not in STORAGES:
        raise ProjectedModelError(f"{path}: storage must be one of {', '.join(STORAGES)}")
    return config


def fit_projection(vectors: np.ndarray, dim: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray, float]:
    """(P (dim x d_in), m (d_in), share of the variance P keeps) of account vectors by PCA (scikit-learn,
    randomized SVD, seeded). Rows that are all zero (accounts without any feature) are left out."""
    from sklearn.decomposition import PCA

    vectors = np.asarray(vectors, dtype=np.float32)
    vectors = vectors[np.abs(vectors).max(axis=1) > 0] if len(vectors) else vectors
    if dim < 1:
        raise ValueError(f"--dim must be a positive number of dimensions, got {dim}")
    if dim > vectors.shape[1]:
        raise ValueError(f"--dim {dim} is wider than the base model's {vectors.shape[1]} dimensions")
    if len(vectors) <= dim:
        raise ValueError(
            f"fitting {dim} dimensions needs more than {dim} accounts with text, the corpus has {len(vectors)}"
        )
    pca = PCA(n_components=dim, svd_solver="randomized", random_state=seed).fit(vectors)
    return (
        pca.components_.astype(np.float32),
        pca.mean_.astype(np.float32),
        float(np.sum(pca.explained_variance_ratio_)),
    )
