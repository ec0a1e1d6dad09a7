"""`attribute`: which known author wrote each text (closed set), or nobody known (open set)?"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from authorid.attribution import AttributionResult
from authorid.attribution import attribute as attribute_posts
from authorid.attribution.attribute import check_options  # noqa: F401  (the CLI checks options with it)
from authorid.data.arrow import read_columns
from authorid.workflows.common import model_for

if TYPE_CHECKING:
    import datasets


def texts_among_known(known: datasets.Dataset, texts: datasets.Dataset) -> int:
    """How many TEXTS are, word for word (whitespace aside), posts of KNOWN: answered by looking them up, not
    attributed, so an accuracy over them flatters (audit 12: C50 given whole as --known and its test half as
    TEXTS scored 1.000, the official split 0.944)."""

    def same(text: str) -> str:
        return " ".join(text.split())

    seen = {same(t) for t in read_columns(known, ["text"]).column("text").to_pylist()}
    return sum(1 for t in read_columns(texts, ["text"]).column("text").to_pylist() if same(t) in seen)


def attribute(
    model: Any, known: datasets.Dataset, texts: datasets.Dataset, **options: Any
) -> AttributionResult:
    """Rank KNOWN's authors for each post (or account) of TEXTS (`result.to_csv(path)` writes them).

    `model`: a StyleModel or a MODEL argument (a model fitted on a corpus is fitted on KNOWN). `options` are
    those of `authorid.attribution.attribute` (level, top_k, open_set_threshold, method, temperature,
    progress): its methods, their probabilities and the open-set rule.
    """
    if len(known) == 0:
        raise ValueError("the known corpus has no posts: no authors to attribute to")
    if len(texts) == 0:
        raise ValueError("the corpus to attribute has no posts: nothing to attribute")
    return attribute_posts(model_for(model, known), known, texts, **options)
