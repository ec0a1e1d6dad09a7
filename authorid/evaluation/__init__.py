"""Evaluation: metrics for linking, verification, clustering and attribution (see :mod:`.metrics`)."""

from authorid.evaluation.metrics import *  # noqa: F403
from authorid.evaluation.metrics import __all__  # noqa: F401
