"""`build_index` (choose exact or faiss by size) and `load_index` (with an identity check)."""

from __future__ import annotations

from pathlib import Path

from authorid.index.base import VectorIndex, VectorIndexError, check_identity, generation_folder, read_meta
from authorid.index.exact import ExactIndex
from authorid.index.faiss_index import FaissIndex
from authorid.index.knn import EXACT_BELOW
from authorid.vectors import AccountVectors

KINDS = ("auto", "exact", "hnsw", "ivf")


def build_index(
    vectors: AccountVectors,
    *,
    kind: str = "auto",
    model_identity: dict,
    model_spec: str | None = None,
    **params,
) -> VectorIndex:
    """An index holding `vectors`. kind: "auto" (exact below 50k vectors, else "hnsw"), "exact", "hnsw", "ivf".

    `params` go to FaissIndex (m, ef_construction, ef_search, nlist, nprobe). `model_identity` (from
    `StyleModel.identity()`) is recorded so that vectors of another model are refused later.
    """
    if kind not in KINDS:
        raise VectorIndexError(f"unknown index kind {kind!r}; valid: {', '.join(KINDS)}")
    if model_identity.get("dim") not in (None, vectors.dim):
        raise VectorIndexError(
            f"vectors have dimension {vectors.dim}, model {model_identity.get('name')!r} has {model_identity['dim']}"
        )
    if kind == "auto":
        kind = "exact" if len(vectors) < EXACT_BELOW else "hnsw"
        if kind == "exact":
            params = {}  # search parameters only matter once the collection is large enough for faiss
    if kind == "exact":
        if params:
            raise VectorIndexError(f"the exact index takes no parameters, got {', '.join(params)}")
        index: VectorIndex = ExactIndex(vectors.dim, model_identity=model_identity, model_spec=model_spec)
    else:
        index = FaissIndex(
            vectors.dim, kind=kind, model_identity=model_identity, model_spec=model_spec, **params
        )
    index.add(vectors)
    return index


def load_index(folder: str | Path, *, model_identity: dict | None = None) -> VectorIndex:
    """The index saved in `folder`; with `model_identity`, a one-line error if it was built with another model."""
    folder = Path(folder)
    meta = read_meta(folder)
    check_identity(meta["model"], model_identity, str(folder))
    loader = ExactIndex if meta["kind"] == "exact" else FaissIndex
    return loader.load_from(generation_folder(folder, meta), meta)
