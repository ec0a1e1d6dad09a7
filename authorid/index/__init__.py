"""Index: exact or approximate (faiss) inner-product search over account vectors; enrolment; linking.

- `VectorIndex` (base.py): the protocol, `len`, `add`, `search(query_vectors, k) -> (scores, ids)`, `save`.
- `ExactIndex` (exact.py): numpy matmul; `FaissIndex` (faiss_index.py): HNSW or IVF (float16 cells).
- `build_index`, `load_index` (build.py): choose by size, load with an identity check.
- `knn`, `top_k` (knn.py): each vector's nearest others (exact, or IVF cell by cell), top-k of a score matrix.
- `link`, `Links` (link.py): top-k enrolled accounts per query, calibrated, `unknown` when the first-ranked
  does not pass.
"""

from authorid.index.base import VectorIndex, VectorIndexError
from authorid.index.build import build_index, load_index
from authorid.index.exact import ExactIndex
from authorid.index.faiss_index import FaissIndex
from authorid.index.knn import EXACT_BELOW, knn, top_k
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
    "top_k",
]
