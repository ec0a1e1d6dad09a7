"""`attribute`: which known author wrote each text (closed set), or nobody known (open set)?"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from authorid.attribution import AttributionResult
from authorid.attribution import attribute as attribute_posts
from authorid.attribution.attribute import check_options  # noqa: F401  (the CLI checks options with it)
from authorid.data.arrow import read_columns
from authorid.workflows.common import model_for

if TYPE_CHECKING:
    import datasets


class KnownTexts(NamedTuple):
    """TEXTS found word for word (whitespace aside) among KNOWN's posts (`texts_among_known`)."""

    by_their_author: (
        int  #: a known post of the text's own author: answered by recall, so an accuracy flatters
    )
    by_another: (
        int  #: only other authors' known posts (stock replies: "Thank you!"): they go to those authors
    )
    unknown_author: int  #: TEXTS carry no author to tell which

    @property
    def total(self) -> int:
        return self.by_their_author + self.by_another + self.unknown_author


def texts_among_known(
    known: datasets.Dataset, texts: datasets.Dataset, *, texts_have_authors: bool = True
) -> KnownTexts:
    """Which TEXTS are, word for word (whitespace aside), posts of KNOWN, and whose (audit 12: C50 given whole as
    --known and its test half as TEXTS scored 1.000, the official split 0.944; audit 14: on Reddit the texts
    found there were other accounts' stock replies, and the accuracy over them was far below the rest's)."""

    def same(text: str) -> str:
        return " ".join(text.split())

    table = read_columns(known, ["account_id", "text"])
    posted_by: dict[str, set[str]] = {}
    for author, text in zip(*(table.column(c).to_pylist() for c in ("account_id", "text")), strict=True):
        posted_by.setdefault(same(text), set()).add(author)
    columns = ["account_id", "text"] if texts_have_authors else ["text"]
    asked = read_columns(texts, columns)
    found = [0, 0, 0]
    authors = asked.column("account_id").to_pylist() if texts_have_authors else [None] * asked.num_rows
    for author, text in zip(authors, asked.column("text").to_pylist(), strict=True):
        posters = posted_by.get(same(text))
        if posters:
            found[2 if author is None else 0 if author in posters else 1] += 1
    return KnownTexts(*found)


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
