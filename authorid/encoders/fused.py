"""A fused encoder: two (or more) style encoders as one, their account vectors concatenated with weights.

    v = [ w_1 · v_1, w_2 · v_2, ... ]      with each v_i unit length and Σ w_i² = 1, so |v| = 1 and
    cos(v, v') = Σ w_i² cos(v_i, v'_i)

The views fail differently (a transformer reads topic and paraphrase, character n-grams read spelling and
punctuation habits), so a weighted sum of their cosines links better than either (score-level fusion, as PAN
verification systems do); concatenating the weighted vectors makes that sum an ordinary cosine, so an index,
clustering, scoring and attribution use the fused model unchanged. `authorid fuse` fits the weights on
validation accounts (`authorid.workflows.fuse`).

Saved as `fused.json` (the weights and each part's folder, relative, or a bundled model's name) with each part
in its own sub-folder.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from authorid.errors import AuthoridError
from authorid.io import atomic_write_text

CONFIG_FILE = "fused.json"
FORMAT = "authorid.fused"
FORMAT_VERSION = 1


class FusedModelError(AuthoridError):
    """A fused model folder that is incomplete or inconsistent."""


class FusedEncoder:
    """Parts (encoder, pooling) with weights; pools a group of posts as each part does, then concatenates."""

    def __init__(
        self, parts: Sequence[tuple[object, object]], weights: Sequence[float], names: Sequence[str]
    ):
        if len(parts) < 2 or len(parts) != len(weights) or len(names) != len(parts):
            raise FusedModelError("a fused encoder needs two or more parts, each with a weight and a name")
        w = np.asarray(weights, dtype=np.float64)
        if (w < 0).any() or not w.any():
            raise FusedModelError(f"fusion weights must be >= 0 and not all 0, got {list(weights)}")
        self.parts = list(parts)
        self.weights = (w / np.linalg.norm(w)).tolist()  # Σ w² = 1: the concatenation stays unit length
        self.names = list(names)

    @property
    def dims(self) -> list[int]:
        return [int(part.dim) for part in self.parts]

    @property
    def dim(self) -> int:
        return sum(self.dims)

    def embed_groups(
        self, texts: Sequence[str], groups: np.ndarray, n_groups: int, *, progress: bool = False
    ) -> np.ndarray:
        """One vector per group of posts: the weighted concatenation of every part's group vector."""
        texts = list(texts)
        blocks = [
            weight * part.embed_groups(texts, groups, n_groups, progress=progress)
            for part, weight in zip(self.parts, self.weights, strict=True)
        ]
        out = np.concatenate(blocks, axis=1).astype(np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        # A part that saw no feature gives a zero block: renormalise what is left (all zero stays zero).
        return np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        return self.embed_groups(texts, np.arange(len(texts)), len(texts))

    def save(self, folder: str | Path, locations: Sequence[dict]) -> Path:
        """Write `fused.json`; `locations[i]` is {"folder": sub-folder} (the caller wrote part i there) or
        {"spec": name} for a bundled model (`minilm`), which is not copied."""
        folder = Path(folder)
        parts = [
            {"name": name, **where, "weight": weight, "dim": dim}
            for name, where, weight, dim in zip(self.names, locations, self.weights, self.dims, strict=True)
        ]
        config = {"format": FORMAT, "version": FORMAT_VERSION, "parts": parts}
        atomic_write_text(folder / CONFIG_FILE, json.dumps(config, indent=2) + "\n")
        return folder


def read_config(folder: Path) -> dict:
    """The checked content of `folder/fused.json`; FusedModelError naming the file otherwise."""
    path = folder / CONFIG_FILE
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise FusedModelError(f"{path}: unreadable ({err})") from None
    if (
        not isinstance(config, dict)
        or config.get("format") != FORMAT
        or config.get("version") != FORMAT_VERSION
    ):
        raise FusedModelError(f"{path}: not a version {FORMAT_VERSION} authorid fused model")
    parts = config.get("parts")
    if not isinstance(parts, list) or len(parts) < 2:
        raise FusedModelError(f"{path}: 'parts' must list two or more parts")
    for part in parts:
        if not isinstance(part, dict):
            raise FusedModelError(f"{path}: part {part!r} is not an object")
        if part.get("spec") is None and not (folder / str(part.get("folder", ""))).is_dir():
            raise FusedModelError(f"{path}: part {part.get('name')!r} names no folder inside {folder}")
        weight = part.get("weight")
        if not isinstance(weight, int | float) or weight < 0 or math.isnan(weight):
            raise FusedModelError(
                f"{path}: part {part.get('name')!r} has weight {weight!r}, not a number >= 0"
            )
    return config
