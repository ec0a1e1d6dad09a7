"""Attribution: which known author wrote this text (closed set), or none of them (open set)?

- `attribute` (attribute.py): centroid profiles by cosine, or a linear classifier on the model's sparse n-gram
  profile (or its post vectors); "auto" picks one (`chosen_method`).
- `AttributionResult`, `UNKNOWN` (result.py): ranked authors per query, accuracy, CSV, summary.
"""

from authorid.attribution.attribute import LEVELS, METHODS, attribute
from authorid.attribution.result import UNKNOWN, AttributionResult

__all__ = ["LEVELS", "METHODS", "UNKNOWN", "AttributionResult", "attribute"]
