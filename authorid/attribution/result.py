"""`AttributionResult`: for each text (or account), the ranked known authors, a prediction, and a CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from authorid.io import atomic_write_text

#: The prediction when the best author's score is below the open-set threshold.
UNKNOWN = "unknown"


@dataclass
class AttributionResult:
    """Row i: query `ids[i]` (a post_id, or an account_id at level "account").

    `top_authors[i]` are the `top_k` best known authors, best first, with `top_probabilities[i]` and the raw
    `top_scores[i]` (cosines, or classifier decision values). `predicted[i]` is `top_authors[i][0]`, or
    `UNKNOWN` when the open-set test rejected it; `probability[i]` is the best author's probability either way.
    `true_authors` holds each query's account_id when the queries carried one (for a quick accuracy).
    """

    ids: list[str]
    level: str
    authors: list[str]
    predicted: list[str]
    probability: np.ndarray
    top_authors: list[list[str]]
    top_probabilities: np.ndarray
    top_scores: np.ndarray
    true_authors: list[str] | None = None
    params: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def n_unknown(self) -> int:
        """How many queries were left `unknown` (open set: below the threshold)."""
        return sum(p == UNKNOWN for p in self.predicted)

    def probability_matrix(self, authors: list[str] | None = None) -> np.ndarray:
        """(queries x authors) probabilities, the columns in the order of `authors` (the same authors as
        `self.authors`, which a centroid lists in order of first post; default: that order); needs every author
        ranked (`top_k` = the number of authors)."""
        if self.top_probabilities.shape[1] != len(self.authors):
            raise ValueError(
                f"{self.top_probabilities.shape[1]} of the {len(self.authors)} authors were ranked: attribute with"
                " top_k = every author for the whole matrix"
            )
        authors = list(self.authors) if authors is None else list(authors)
        if sorted(authors) != sorted(self.authors):
            raise ValueError("the authors asked for are not the authors attributed to")
        column = {author: j for j, author in enumerate(authors)}
        where = np.array([[column[a] for a in row] for row in self.top_authors], dtype=np.int64)
        matrix = np.empty(self.top_probabilities.shape, dtype=np.float64)
        np.put_along_axis(matrix, where.reshape(matrix.shape), self.top_probabilities, axis=1)
        return matrix

    def open_set_scores(self) -> np.ndarray:
        """Each query's best score as an open-set threshold reads it (`params["open_set_on"]`): its best
        author's probability, or its best cosine."""
        if self.params.get("open_set_on") == "cosine":
            return np.asarray(self.top_scores[:, 0], dtype=np.float64)
        return np.asarray(self.probability, dtype=np.float64)

    def accuracy(self) -> float | None:
        """Share of queries by a known author whose prediction is that author (UNKNOWN counts as wrong).

        None when the queries carry no author, or none of them is a known author.
        """
        if self.true_authors is None:
            return None
        known = set(self.authors)
        pairs = [(p, t) for p, t in zip(self.predicted, self.true_authors, strict=True) if t in known]
        return sum(p == t for p, t in pairs) / len(pairs) if pairs else None

    def to_csv(self, path: str | Path) -> Path:
        """id, predicted_author, probability, [true_author,] author_1, probability_1, ... author_k, probability_k."""
        id_column = "post_id" if self.level == "text" else "account_id"
        k = self.top_probabilities.shape[1]
        header = [id_column, "predicted_author", "probability"]
        header += ["true_author"] if self.true_authors is not None else []
        for rank in range(1, k + 1):
            header += [f"author_{rank}", f"probability_{rank}"]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        for i, query in enumerate(self.ids):
            row = [query, self.predicted[i], f"{self.probability[i]:.6f}"]
            row += [self.true_authors[i]] if self.true_authors is not None else []
            for author, probability in zip(self.top_authors[i], self.top_probabilities[i], strict=True):
                row += [author, f"{probability:.6f}"]
            writer.writerow(row)
        return atomic_write_text(path, buffer.getvalue())

    def _method(self) -> str:
        method = self.params.get("method", "?")
        why = self.params.get("method_chosen_because")
        return f"{method}: {self.params.get('method_asked')} chose it for {why}" if why else method

    def summary(self) -> str:
        """A line or two for people: what was attributed, how many rejected as unknown, accuracy if known."""
        unknown = self.n_unknown
        what = "texts" if self.level == "text" else "accounts"
        lines = [
            f"{len(self):,} {what} read: {len(self) - unknown:,} attributed among {len(self.authors):,} known"
            f" authors ({self._method()}), {unknown:,} left unknown"
        ]
        accuracy = self.accuracy()
        if accuracy is not None:
            lines.append(f"accuracy on {what} by known authors: {accuracy:.3f}")
        return "\n".join(lines)
