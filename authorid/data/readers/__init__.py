"""Readers: forum dumps (JSONL, CSV/TSV, Parquet, or a folder of them) -> canonical posts (an Arrow Dataset).

Records stream from disk into an Arrow file written batch by batch, which the returned `datasets.Dataset`
memory-maps, so a dump far larger than memory loads in bounded memory. Each record is mapped onto the canonical
schema (`authorid.schema`) with a column map: given explicitly, taken from a corpus preset, or recognised from
common names. A malformed record raises `InputError` naming the file, line and field; with `on_error="skip"`
it is counted in the IngestReport instead.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import zlib
from pathlib import Path
from typing import Literal

import datasets
import pyarrow as pa
import pyarrow.compute as pc
from datasets.arrow_writer import ArrowWriter

from authorid.data.presets import CorpusPreset, get_preset, is_preset_name
from authorid.data.readers.columns import (
    _canonical_row,
    late_field_target,
    parse_column_map,
    resolve_column_map,
)
from authorid.data.readers.formats import (
    _BATCH_ROWS,
    CSV_SUFFIXES,
    JSON_SUFFIXES,
    PARQUET_SUFFIXES,
    _iter_records,
    corpus_format,
    source_columns,
)
from authorid.data.report import IngestReport, report_path_for
from authorid.errors import InputError
from authorid.progress import reading_progress
from authorid.schema import CANONICAL_COLUMNS, features_for

__all__ = [
    "CSV_SUFFIXES",
    "JSON_SUFFIXES",
    "PARQUET_SUFFIXES",
    "OnError",
    "check_columns",
    "corpus_format",
    "load_posts",
    "parse_column_map",
    "read_posts",
    "resolve_column_map",
    "resolve_corpus",
    "source_columns",
]

logger = logging.getLogger(__name__)

OnError = Literal["raise", "skip"]


def _ingest_report(path: Path) -> bool:
    """Whether `path` is the report `authorid ingest` wrote beside a Parquet file (`NAME.report.json` beside
    `NAME.parquet`): a folder of ingested files holds both, and the report is not posts."""
    if not path.name.endswith(".report.json"):
        return False
    stem = path.name[: -len(".report.json")]
    beside = (path.with_name(stem + suffix) for suffix in (".parquet", ".PARQUET"))
    return any(posts.is_file() and report_path_for(posts) == path for posts in beside)


def resolve_corpus(corpus: str | Path, preset: str | None = None) -> tuple[list[Path], CorpusPreset | None]:
    """The files a CORPUS argument names (a file, a folder of files, or a preset name) and the preset in force."""
    chosen = get_preset(preset) if preset else None
    path = Path(corpus)
    if not path.exists() and is_preset_name(str(corpus)):
        named = get_preset(str(corpus))
        located = named.locate()
        if located is None:
            raise InputError(
                f"corpus preset {named.name!r}: file {named.relative_path} not found in the corpora folders "
                "(set AUTHORID_CORPORA to the folder that holds it)"
            )
        return [located], chosen or named
    if not path.exists():
        raise InputError(f"{path}: no such file or folder, and not a corpus preset (see `authorid corpora`)")
    if path.is_dir():
        files = sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and not p.name.startswith(".") and corpus_format(p) and not _ingest_report(p)
        )
        if not files:
            raise InputError(f"{path}: folder holds no .jsonl/.json/.csv/.tsv/.parquet files (plain or .gz)")
        return files, chosen
    if corpus_format(path) is None:
        raise InputError(f"{path}: unknown format; expected .jsonl, .json, .csv, .tsv or .parquet (or .gz)")
    return [path], chosen


def _session_cache_dir() -> Path:
    """A per-process folder for the Arrow files that back read corpora; removed when the process exits."""
    global _CACHE_DIR
    if _CACHE_DIR is None:
        _CACHE_DIR = Path(tempfile.mkdtemp(prefix="authorid-arrow-"))
        atexit.register(shutil.rmtree, _CACHE_DIR, True)
    return _CACHE_DIR


_CACHE_DIR: Path | None = None


def _source_names(files: list[Path]) -> dict[Path, str]:
    """What a post without an id is named after, with its line: its file's name, or for a folder's files their
    paths inside the folder (two files named posts.jsonl in x/ and y/ once gave their posts the same ids)."""
    if len(files) == 1:
        return {files[0]: files[0].name}
    root = Path(os.path.commonpath([str(f.parent) for f in files]))
    return {f: f.relative_to(root).as_posix() for f in files}


def read_posts(
    corpus: str | Path,
    *,
    columns: dict[str, str] | str | None = None,
    preset: str | None = None,
    on_error: OnError = "raise",
    limit: int | None = None,
    progress: bool = False,
    cache_dir: str | Path | None = None,
    authors_optional: bool = False,
) -> tuple[datasets.Dataset, IngestReport]:
    """Read a corpus (file, folder or preset name) into canonical posts, with the report of what was read.

    `columns` maps source columns to canonical ones (a dict or "author=account_id,body=text"); `preset` names
    a corpus preset whose map applies; `on_error="skip"` counts malformed records instead of raising;
    `limit` stops after that many posts. `authors_optional`: a file without an author column is read too
    (texts of unknown authorship, `attribute`'s TEXTS), each post an account of its own (account_id = its
    post_id; `report.column_map` then names no account_id). Raises `InputError` for anything wrong with the
    input.
    """
    if on_error not in ("raise", "skip"):
        raise InputError(f"on_error must be 'raise' or 'skip', not {on_error!r}")
    if limit is not None and limit < 1:
        raise InputError(f"--limit must be >= 1 post, got {limit}")
    explicit = parse_column_map(columns) if isinstance(columns, str | type(None)) else dict(columns)
    files, chosen_preset = resolve_corpus(corpus, preset)
    columns, mappings = _column_maps(files, explicit, chosen_preset, authors_optional)
    report = IngestReport(sources=[str(f) for f in files])
    report.column_map = {target: source for source, target in mappings[files[0]].items()}
    if len({tuple(sorted(m.items())) for m in mappings.values()}) > 1:
        report.file_column_maps = {str(f): {t: s for s, t in m.items()} for f, m in mappings.items()}
    names = _source_names(files)
    present = {"post_id", "account_id"} | {t for m in mappings.values() for t in m.values()}
    features = features_for([c for c in CANONICAL_COLUMNS if c in present])
    total_bytes = sum(f.stat().st_size for f in files)

    arrow_path = Path(tempfile.mkstemp(suffix=".arrow", dir=cache_dir or _session_cache_dir())[1])
    writer = ArrowWriter(features=features, path=str(arrow_path))
    n_posts = 0
    late: dict[tuple[Path, str], int] = {}  # (file, field first seen after the peeked records) -> records
    with reading_progress(progress, total_bytes) as bar:
        done_bytes = 0
        for path in files:
            # JSON's columns come from its first records: a field first seen later is counted, and said below
            peeked = set(columns[path]) | set(mappings[path]) if corpus_format(path) == "json" else None
            records, counter = _iter_records(path, report)
            records = _damage_named(records, path, report, on_error)
            batch: list[dict] = []
            for record in records:
                report.count_read("records")
                if peeked is not None and record.fields is not None and not record.fields.keys() <= peeked:
                    for field in record.fields.keys() - peeked:
                        late[path, field] = late.get((path, field), 0) + 1
                if record.warning is not None:
                    report.note_warning(f"{path}: {record.warning}")
                try:
                    if record.error is not None:
                        raise ValueError(record.error)
                    row = _canonical_row(
                        record.fields, mappings[path], f"{names[path]}:{record.where}", report
                    )
                except ValueError as exc:
                    message = f"{path}: {record.where}: {exc}"
                    if on_error == "raise":
                        records.close()
                        raise InputError(
                            message + " (use --on-error skip to count and skip such records)"
                        ) from None
                    report.note_error(message)
                    continue
                batch.append(row)
                n_posts += 1
                if len(batch) >= _BATCH_ROWS:
                    _write(writer, batch, features)
                    bar.update(done_bytes + (counter.position() if counter else 0), n_posts)
                if limit is not None and n_posts >= limit:
                    break
            if batch:
                _write(writer, batch, features)
            records.close()
            _check_undecodable(path, report, on_error)
            done_bytes += path.stat().st_size
            bar.update(done_bytes, n_posts)
            if limit is not None and n_posts >= limit:
                report.count_read("stopped_at_limit", limit)
                report.sources = report.sources[: files.index(path) + 1]  # the files after it were never read
                break
    writer.finalize()
    writer.close()
    for (path, field), n in late.items():
        target = late_field_target(field, explicit, chosen_preset, mappings[path])
        if target is not None:
            report.note_warning(
                f"{path}: field {field!r} first appears after the records the columns are read from, so it was"
                f" not read ({n:,} records have it): read it with --map {field}={target}"
            )

    if n_posts == 0:
        skipped = report.read.get("skipped_errors", 0)
        raise InputError(
            f"{corpus}: no posts read ({report.read.get('records', 0)} records, {skipped} skipped)"
        )
    posts = datasets.Dataset.from_file(str(arrow_path))
    duplicates = n_posts - pc.count_distinct(posts.data.column("post_id")).as_py()
    if duplicates:
        report.count_read("duplicate_post_ids", duplicates)
        # audit 14: overlapping dumps hold an edited post twice under one id, and nothing said which was kept
        logger.warning(
            "%s: %d post ids occur more than once; all are kept (cleaning drops only a text its author repeated"
            " word for word), so a post edited between two dumps counts twice: keep one version of each post"
            " (the later dump's) before reading them together",
            corpus,
            duplicates,
        )
    report.posts_out = n_posts
    report.accounts_out = pc.count_distinct(posts.data.column("account_id")).as_py()
    return posts, report


def _check_undecodable(path: Path, report: IngestReport, on_error: str) -> None:
    """A file with bytes that are not UTF-8 is refused under --on-error raise (its text would be changed
    silently: U+FFFD in place of every such byte), and named as a warning under skip, where they are read so."""
    lines, count = report.undecodable_lines, report.undecodable_in_file
    if not count:
        return
    where = f"{path}: line {lines[0]}: bytes that are not UTF-8" + (
        f" (and on {count - 1:,} more lines)" if count > 1 else ""
    )
    lines.clear()
    report.undecodable_in_file = 0
    if on_error == "raise":
        raise InputError(
            f"{where}; convert the file to UTF-8 (e.g. `iconv -f cp1252 -t utf-8`), or pass --on-error skip to"
            " read each such byte as U+FFFD"
        )
    report.note_warning(f"{where}, read as U+FFFD")


def check_columns(
    corpus: str | Path, columns: dict[str, str] | str | None = None, preset: str | None = None
) -> None:
    """What `read_posts` checks before it reads a record (the files, each one's columns and their map, from
    its first records), so that a command reading two corpora stops on the second's columns before it has
    read the first (`link --explain-with`). Raises `InputError`."""
    explicit = parse_column_map(columns) if isinstance(columns, str | type(None)) else dict(columns)
    files, chosen_preset = resolve_corpus(corpus, preset)
    _column_maps(files, explicit, chosen_preset, authors_optional=False)


def _column_maps(
    files: list[Path], explicit: dict[str, str], chosen_preset: CorpusPreset | None, authors_optional: bool
) -> tuple[dict[Path, list[str]], dict[Path, dict[str, str]]]:
    """(each file's source columns, each file's map source -> canonical) of a corpus' files."""
    available = {f: _columns_of(f) for f in files}
    mappings = {
        f: resolve_column_map(
            f,
            available[f],
            explicit,
            chosen_preset,
            authors_optional=authors_optional,
            peeked=corpus_format(f) == "json",
        )
        for f in files
    }
    return available, mappings


def _columns_of(path: Path) -> list[str]:
    """The file's source columns; a damaged file is a one-line error naming it."""
    try:
        return source_columns(path)
    except (EOFError, OSError, zlib.error, pa.ArrowException) as err:
        raise InputError(_damaged(path, err)) from None


def _damage_named(records, path: Path, report: IngestReport, on_error: str):
    """`records`, with a damaged or truncated file (gzip, parquet) turned into one line naming it and the last
    record read whole; under --on-error skip the records before the break are kept and the break is counted."""
    last = None
    try:
        for record in records:
            last = record.where
            yield record
    except (EOFError, OSError, zlib.error, pa.ArrowException) as err:  # gzip.BadGzipFile is an OSError
        message = _damaged(path, err, after=last)
        if on_error == "raise":
            raise InputError(message + " (--on-error skip keeps the records before the break)") from None
        report.note_error(message)
    finally:
        records.close()


def _damaged(path: Path, err: BaseException, *, after: str | None = None) -> str:
    reason = " ".join(str(err).split()) or "it ends early"
    where = f" after {after}" if after else ""
    return f"{path}: damaged or truncated{where} ({type(err).__name__}: {reason}); check or re-copy the file"


def load_posts(corpus: str | Path, **options) -> datasets.Dataset:
    """Canonical posts from a corpus, as written: the Python API's short form of `read_posts` (the report is
    logged). Unlike the commands, it does not clean them: `authorid.clean` does, as `authorid ingest` would."""
    posts, report = read_posts(corpus, **options)
    logger.info("read %d posts of %d accounts from %s", report.posts_out, report.accounts_out, corpus)
    return posts


def _write(writer: ArrowWriter, batch: list[dict], features: datasets.Features) -> None:
    writer.write_batch({name: [row.get(name) for row in batch] for name in features})
    batch.clear()
