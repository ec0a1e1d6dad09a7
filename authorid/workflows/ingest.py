"""`ingest`: read a dump, clean it, and write canonical posts to Parquet with the report beside them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import datasets
import pyarrow.parquet as pq

from authorid.artefacts import check_output_file
from authorid.data.arrow import read_columns
from authorid.data.clean import CleanConfig, clean
from authorid.data.readers import OnError, read_posts
from authorid.data.report import IngestReport, report_path_for
from authorid.io import atomic_write

#: Uncompressed bytes of posts per Parquet row group `ingest` writes (`datasets`' own target).
ROW_GROUP_BYTES = 100 * 2**20


@dataclass
class IngestResult:
    posts: datasets.Dataset
    report: IngestReport
    posts_path: Path | None
    report_path: Path | None


def ingest(
    corpus: str | Path,
    *,
    out: str | Path | None = None,
    columns: dict[str, str] | str | None = None,
    preset: str | None = None,
    on_error: OnError = "raise",
    limit: int | None = None,
    clean_config: CleanConfig | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> IngestResult:
    """Read `corpus`, clean it with `clean_config` (defaults if None) and, with `out`, write the posts to Parquet
    (atomically) and the IngestReport as JSON beside them (`<name>.report.json`). An existing output is
    refused unless `overwrite`, before anything is read."""
    out_path = Path(out) if out is not None else None
    if out_path is not None:
        check_output_file(out_path, overwrite=overwrite, inputs=(corpus,))
        check_output_file(report_path_for(out_path), overwrite=overwrite)
    posts, report = read_posts(
        corpus, columns=columns, preset=preset, on_error=on_error, limit=limit, progress=progress
    )
    report.read["accounts_before_cleaning"] = (
        report.accounts_out
    )  # the table shows what cleaning left of them
    posts, report = clean(posts, clean_config, report=report, progress=progress)
    report_path = None
    if out_path is not None:
        # pyarrow writes to the path itself: `Dataset.to_parquet` writes through a Python file object, and an
        # interrupt raised inside Arrow's writer callback aborted the process (exit 134) with a C++ check failure
        # (audit 9); here Ctrl-C lands after the write, as a clean "interrupted"
        table = read_columns(posts, posts.column_names)
        # row groups of about ROW_GROUP_BYTES, as `datasets` writes them: Ray Data splits a file's read by them
        rows = max(1, int(table.num_rows * ROW_GROUP_BYTES / max(table.nbytes, 1)))
        atomic_write(out_path, lambda tmp: pq.write_table(table, str(tmp), row_group_size=rows))
        report_path = report.save(report_path_for(out_path))
    return IngestResult(posts=posts, report=report, posts_path=out_path, report_path=report_path)
