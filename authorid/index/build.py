"""`build_index` (choose exact or faiss by size) and `load_index` (with an identity check)."""

from __future__ import annotations

from pathlib import Path

from authorid.index.base import VectorIndex, VectorIndexError, check_identity, generation_folder, read_meta
from authorid.index.exact import ExactIndex
from authorid.index.faiss_index import FaissIndex
from authorid.index.knn import EXACT_BELOW
from authorid.vectors import AccountVectors

KINDS = ("auto", "exact", "hnsw", "ivf")


def chosen_kind(kind: str, n: int) -> str:
    """The index kind `kind` means for `n` vectors: "auto" is exact below EXACT_BELOW, else ivf."""
    if kind not in KINDS:
        raise VectorIndexError(f"unknown index kind {kind!r}; valid: {', '.join(KINDS)}")
    if kind == "auto":
        return "exact" if n < EXACT_BELOW else "ivf"
    return kind


def build_index(
    vectors: AccountVectors,
    *,
    kind: str = "auto",
    model_identity: dict,
    model_spec: str | None = None,
    **params,
) -> VectorIndex:
    """An index holding `vectors`. kind: "auto" (exact below 50k vectors, else "ivf"), "exact", "hnsw", "ivf".

    "auto" picks IVF over HNSW from measurements (BENCHMARKS.md, one million accounts): at 100k both reach
    recall@10 0.99 in ~1.7 ms, but IVF builds in 2.9 s against HNSW's 22.5 s; at 1M IVF reaches 0.994 (22 ms)
    and builds in 47 s, while HNSW stopped at 0.980 (efSearch 2,048, 9 ms) after a 704 s build. IVF is also
    the index Ray builds in parallel (one trained quantiser, shards merged).

    `params` go to FaissIndex (m, ef_construction, ef_search, nlist, nprobe). `model_identity` (from
    `StyleModel.identity()`) is recorded so that vectors of another model are refused later.
    """
    if model_identity.get("dim") not in (None, vectors.dim):
        raise VectorIndexError(
            f"vectors have dimension {vectors.dim}, model {model_identity.get('name')!r} has {model_identity['dim']}"
        )
    if kind == "auto" and chosen_kind(kind, len(vectors)) == "exact":
        params = {}  # search parameters only matter once the collection is large enough for faiss
    kind = chosen_kind(kind, len(vectors))
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
    current = generation_folder(folder, meta)
    index = loader.load_from(current, meta)
    index.folder = current  # where the enrolled accounts' densities are kept (`hubness.index_densities`)
    return index
