"""Index: exact or approximate (faiss) inner-product search over account vectors; enrolment; linking.

- `VectorIndex` (base.py): the protocol, `len`, `add`, `search(query_vectors, k) -> (scores, ids)`, `save`.
- `ExactIndex` (exact.py): numpy matmul; `FaissIndex` (faiss_index.py): HNSW or IVF-Flat.
- `build_index`, `load_index`, `knn` (build.py): choose by size, load with an identity check, kNN lists.
- `link`, `Links` (link.py): top-k enrolled accounts per query, calibrated, `unknown` when none passes.
"""

from authorid.index.base import VectorIndex, VectorIndexError
from authorid.index.build import EXACT_BELOW, build_index, knn, load_index
from authorid.index.exact import ExactIndex
from authorid.index.faiss_index import FaissIndex
from authorid.index.link import COLUMNS, UNKNOWN, Links, link

__all__ = [
    "COLUMNS",
    "EXACT_BELOW",
    "UNKNOWN",
    "ExactIndex",
    "FaissIndex",
    "Links",
    "VectorIndex",
    "VectorIndexError",
    "build_index",
    "knn",
    "link",
    "load_index",
]
