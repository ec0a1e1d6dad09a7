"""The standard evaluation protocols: each takes a StyleModel (or any scorer) and posts, is seeded, and records
what it ran on.

- `sybil_protocol` (sybil.py): account linking of two halves of every account, and episode retrieval.
- `verification_protocol` (verification.py): balanced same/different-person pairs, PAN metrics and ECE.
- `clustering_protocol` (clustering.py): accounts -> persons with an unknown number of persons.
- `attribution_protocol` (attribution.py): closed-set and open-set attribution of posts to known authors.
- `evaluation_set`, `ProtocolResult` (base.py): what they share; `PostEmbeddings`, `VectorScorer` (scoring.py):
  what a protocol scores (a model's account vectors, or any scorer); `person_folds`, `fold_pairs`,
  `cross_fitted_calibrators` (pairs.py): the verification pairs. Benchmarks build on these public pieces.
"""

from authorid.evaluation.protocols.attribution import attribution_protocol
from authorid.evaluation.protocols.base import (
    DEFAULT_MIN_POSTS,
    EvaluationSet,
    ProtocolError,
    ProtocolResult,
    cap_posts,
    evaluation_set,
    sample_eligible_accounts,
    select_accounts,
)
from authorid.evaluation.protocols.clustering import clustering_protocol
from authorid.evaluation.protocols.pairs import cross_fitted_calibrators, fold_pairs, person_folds
from authorid.evaluation.protocols.scoring import PostEmbeddings, Scorer, VectorScorer, linking_ranks
from authorid.evaluation.protocols.sybil import halves, sybil_protocol
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
    "cap_posts",
    "clustering_protocol",
    "cross_fitted_calibrators",
    "evaluation_set",
    "fold_pairs",
    "halves",
    "linking_ranks",
    "person_folds",
    "sample_eligible_accounts",
    "select_accounts",
    "sybil_protocol",
    "verification_protocol",
]
