"""The standard evaluation protocols: each takes a StyleModel and posts, is seeded, and records what it ran on.

- `sybil_protocol` (sybil.py): account linking of two halves of every account, and episode retrieval.
- `verification_protocol` (verification.py): balanced same/different-person pairs, PAN metrics and ECE.
- `clustering_protocol` (clustering.py): accounts -> persons with an unknown number of persons.
- `attribution_protocol` (attribution.py): closed-set and open-set attribution of posts to known authors.
- `evaluation_set`, `PostEmbeddings`, `ProtocolResult` (base.py): what they share.
"""

from authorid.evaluation.protocols.attribution import attribution_protocol
from authorid.evaluation.protocols.base import (
    DEFAULT_MIN_POSTS,
    EvaluationSet,
    PostEmbeddings,
    ProtocolError,
    ProtocolResult,
    evaluation_set,
)
from authorid.evaluation.protocols.clustering import clustering_protocol
from authorid.evaluation.protocols.sybil import sybil_protocol
from authorid.evaluation.protocols.verification import verification_protocol

#: Protocol name -> function(model, posts, *, accounts, seed, progress, **settings) -> ProtocolResult.
PROTOCOLS = {
    "sybil": sybil_protocol,
    "verification": verification_protocol,
    "clustering": clustering_protocol,
    "attribution": attribution_protocol,
}

__all__ = [
    "DEFAULT_MIN_POSTS",
    "PROTOCOLS",
    "EvaluationSet",
    "PostEmbeddings",
    "ProtocolError",
    "ProtocolResult",
    "attribution_protocol",
    "clustering_protocol",
    "evaluation_set",
    "sybil_protocol",
    "verification_protocol",
]
