"""`link`: each query account's top-k enrolled accounts in an index, `unknown` when none passes (open set)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from authorid.index import COLUMNS, Links, link
from authorid.io import atomic_write_text
from authorid.verification import Calibrator
from authorid.workflows.index import index_calibration, open_index


def link_accounts(
    index: str | Path,
    posts,
    *,
    k: int = 10,
    calibration: Path | None = None,
    threshold: float | None = None,
    progress: bool = False,
) -> tuple[Links, int]:
    """Embed the accounts of `posts` with the index's model and link each; (links, number of queries).

    `calibration`: a calibration.json (default: the index's, else the model's; none: scores are cosines).
    """
    vector_index, model = open_index(index)
    calibrator = Calibrator.load(calibration) if calibration is not None else index_calibration(index, model)
    queries = model.embed_accounts(posts, progress=progress)
    return link(vector_index, queries, k=k, calibration=calibrator, threshold=threshold), len(queries)


def write_links(out: str | Path, links: Links) -> Path:
    """Every candidate row of `links` as CSV (columns `authorid.index.COLUMNS`)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(links.rows)
    return atomic_write_text(out, buffer.getvalue())
