"""`link`: each query account's top-k enrolled accounts in an index, `unknown` when none passes (open set)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from authorid.index import COLUMNS, Links, link
from authorid.index.opening import index_calibration, open_index
from authorid.io import atomic_write_text
from authorid.workflows.common import check_calibration_model, load_calibration, load_vectors


def link_accounts(
    index: str | Path,
    posts,
    *,
    k: int = 10,
    calibration: Path | None = None,
    threshold: float | None = None,
    vectors: Path | None = None,
    force: bool = False,
    progress: bool = False,
) -> tuple[Links, int]:
    """Embed the accounts of `posts` with the index's model (or read them from a `vectors` file the model
    wrote) and link each; (links, number of queries).

    `calibration`: a calibration.json (default: the index's, else the model's; none: scores are cosines); one
    made for another model is refused unless `force`.
    """
    vector_index, model = open_index(index)
    if calibration is not None:
        calibrator = load_calibration(calibration)
        check_calibration_model(calibrator, model, force=force)
    else:
        calibrator = index_calibration(index, model)
    if vectors is not None:
        queries = load_vectors(vectors, model, force=force)
    else:
        queries = model.embed_accounts(posts, progress=progress)
    return link(vector_index, queries, k=k, calibration=calibrator, threshold=threshold), len(queries)


def write_links(out: str | Path, links: Links) -> Path:
    """Every candidate row of `links` as CSV (columns `authorid.index.COLUMNS`)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(links.rows)
    return atomic_write_text(out, buffer.getvalue())
