"""The standard evaluation protocols: each takes a StyleModel (or any scorer) and posts, is seeded, and records
what it ran on.

- `sybil_protocol` (sybil.py): account linking of two halves of every account, and episode retrieval.
- `verification_protocol` (verification.py): balanced same/different-person pairs, PAN metrics and ECE.
- `clustering_protocol` (clustering.py): accounts -> persons with an unknown number of persons.
- `attribution_protocol` (attribution.py): closed-set and open-set attribution of posts to known authors.
- `evaluation_set`, `ProtocolResult` (base.py): what they share; `PostEmbeddings`, `VectorScorer` (scoring.py):
  what a protocol scores (a model's account vectors, or any scorer).
"""

from authorid.evaluation.protocols.attribution import attribution_protocol
from authorid.evaluation.protocols.base import (
    DEFAULT_MIN_POSTS,
    EvaluationSet,
    ProtocolError,
    ProtocolResult,
    evaluation_set,
)
from authorid.evaluation.protocols.clustering import clustering_protocol
from authorid.evaluation.protocols.scoring import PostEmbeddings, Scorer, VectorScorer
from authorid.evaluation.protocols.sybil import sybil_protocol
from authorid.evaluation.protocols.verification import verification_protocol

__all__ = [
    "DEFAULT_MIN_POSTS",
    "EvaluationSet",
    "PostEmbeddings",
    "ProtocolError",
    "ProtocolResult",
    "Scorer",
    "VectorScorer",
    "attribution_protocol",
    "clustering_protocol",
    "evaluation_set",
    "sybil_protocol",
    "verification_protocol",
]
