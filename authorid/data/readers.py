"""Readers: forum dumps (JSONL, CSV/TSV, Parquet, or a folder of them) -> canonical posts (an Arrow Dataset).

Records stream from disk into an Arrow file written batch by batch, which the returned `datasets.Dataset`
memory-maps, so a dump far larger than memory loads in bounded memory. Each record is mapped onto the canonical
schema (`authorid.schema`) with a column map: given explicitly, taken from a corpus preset, or recognised from
common names. A malformed record raises `InputError` naming the file, line and field; with `on_error="skip"`
it is counted in the IngestReport instead.
"""

from __future__ import annotations

import atexit
import csv
import gzip
import io
import json
import logging
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import datasets
import pyarrow.compute as pc
import pyarrow.parquet as pq
from datasets.arrow_writer import ArrowWriter

from authorid.data.presets import CorpusPreset, get_preset, is_preset_name
from authorid.data.report import IngestReport
from authorid.data.timestamps import parse_timestamp
from authorid.errors import InputError
from authorid.schema import CANONICAL_COLUMNS, COMMON_NAMES, REQUIRED_COLUMNS, features_for

logger = logging.getLogger(__name__)

OnError = Literal["raise", "skip"]
JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
CSV_SUFFIXES = (".csv", ".tsv")
PARQUET_SUFFIXES = (".parquet", ".pq")
_BATCH_ROWS = 10_000
_COLUMNS_PEEK_RECORDS = 1_000
csv.field_size_limit(2**31 - 1)  # forum posts can be long; the csv module's default cap is 128 KiB


def parse_column_map(spec: str | None) -> dict[str, str]:
    """`"author=account_id,body=text"` -> {"author": "account_id", "body": "text"} (source -> canonical)."""
    if not spec:
        return {}
    mapping: dict[str, str] = {}
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise InputError(f"--map entry {part!r} is not SOURCE=CANONICAL (e.g. author=account_id)")
        source, target = (s.strip() for s in part.split("=", 1))
        if target not in CANONICAL_COLUMNS:
            raise InputError(
                f"--map target {target!r} is not a canonical column; canonical: {', '.join(CANONICAL_COLUMNS)}"
            )
        mapping[source] = target
    targets = list(mapping.values())
    doubled = sorted({t for t in targets if targets.count(t) > 1})
    if doubled:
        raise InputError(f"--map gives several sources for {', '.join(doubled)}")
    return mapping


def corpus_format(path: Path) -> str | None:
    """'json', 'csv', 'tsv' or 'parquet' from the file name (a trailing .gz is allowed), or None."""
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    suffix = Path(name).suffix
    if suffix in JSON_SUFFIXES:
        return "json"
    if suffix in CSV_SUFFIXES:
        return suffix[1:]
    if suffix in PARQUET_SUFFIXES and not path.name.lower().endswith(".gz"):
        return "parquet"
    return None


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
            p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".") and corpus_format(p)
        )
        if not files:
            raise InputError(f"{path}: folder holds no .jsonl/.json/.csv/.tsv/.parquet files (plain or .gz)")
        return files, chosen
    if corpus_format(path) is None:
        raise InputError(f"{path}: unknown format; expected .jsonl, .json, .csv, .tsv or .parquet (or .gz)")
    return [path], chosen


@dataclass
class _Record:
    """One source record with where it came from, or the error that stopped it from being read."""

    where: str  # "line 12" or "row 12"
    fields: dict | None
    error: str | None = None


class _ByteCounter:
    """Tracks how far into the (compressed) file reading has got, for the progress bar."""

    def __init__(self, raw: io.BufferedReader):
        self.raw = raw

    def position(self) -> int:
        try:
            return self.raw.tell()
        except (OSError, ValueError):
            return 0


def _open_binary(path: Path) -> tuple[io.BufferedIOBase, _ByteCounter]:
    raw = open(path, "rb")  # noqa: SIM115 - closed by the caller through the returned stream
    stream = gzip.GzipFile(fileobj=raw) if path.name.lower().endswith(".gz") else raw
    return stream, _ByteCounter(raw)


def _decode(line: bytes, report: IngestReport) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        report.count_read("lines_with_undecodable_bytes_replaced")
        return line.decode("utf-8", errors="replace")


def _iter_json_lines(stream, report: IngestReport) -> Iterator[_Record]:
    for number, raw_line in enumerate(stream, start=1):
        line = _decode(raw_line, report)
        if not line.strip():
            report.count_read("blank_lines")
            continue
        try:
            fields = json.loads(line.rstrip("\r\n"))
        except json.JSONDecodeError as exc:
            yield _Record(f"line {number}", None, f"malformed JSON ({exc.msg}, column {exc.colno})")
            continue
        if not isinstance(fields, dict):
            yield _Record(f"line {number}", None, f"expected a JSON object, found {type(fields).__name__}")
            continue
        yield _Record(f"line {number}", fields)


def _iter_json_array(stream, report: IngestReport) -> Iterator[_Record]:
    try:
        records = json.loads(_decode(stream.read(), report))
    except json.JSONDecodeError as exc:
        yield _Record(f"line {exc.lineno}", None, f"malformed JSON ({exc.msg}, column {exc.colno})")
        return
    if not isinstance(records, list):
        yield _Record("line 1", None, "expected JSON lines or an array of objects")
        return
    for number, fields in enumerate(records, start=1):
        if isinstance(fields, dict):
            yield _Record(f"record {number}", fields)
        else:
            yield _Record(f"record {number}", None, f"expected a JSON object, found {type(fields).__name__}")


def _iter_csv(stream, report: IngestReport, delimiter: str) -> Iterator[_Record]:
    lines = (_decode(raw_line, report) for raw_line in stream)
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        yield _Record("line 1", None, f"malformed header ({exc})")
        return
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield _Record(f"line {reader.line_num}", None, f"malformed CSV ({exc})")
            continue
        where = f"line {reader.line_num}"
        if not values:
            report.count_read("blank_lines")
            continue
        if len(values) != len(header):
            yield _Record(where, None, f"{len(values)} fields where the header has {len(header)}")
            continue
        yield _Record(where, dict(zip(header, values, strict=True)))


def _iter_parquet(path: Path) -> Iterator[_Record]:
    number = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=_BATCH_ROWS):
        for fields in batch.to_pylist():
            number += 1
            yield _Record(f"row {number}", fields)


def _iter_records(path: Path, report: IngestReport) -> tuple[Iterator[_Record], _ByteCounter | None]:
    fmt = corpus_format(path)
    if fmt == "parquet":
        return _iter_parquet(path), None
    stream, counter = _open_binary(path)

    def records() -> Iterator[_Record]:
        with stream:
            if fmt == "json":
                first = stream.peek(64)[:64] if hasattr(stream, "peek") else b""
                if first.lstrip().startswith(b"["):
                    yield from _iter_json_array(stream, report)
                else:
                    yield from _iter_json_lines(stream, report)
            else:
                yield from _iter_csv(stream, report, "\t" if fmt == "tsv" else ",")

    return records(), counter


def source_columns(path: Path) -> list[str]:
    """The columns a file has: Parquet's schema, the CSV header, or the keys of the first JSON records."""
    fmt = corpus_format(path)
    if fmt == "parquet":
        return list(pq.ParquetFile(path).schema_arrow.names)
    columns: dict[str, None] = {}
    scratch = IngestReport()
    records, _ = _iter_records(path, scratch)
    for i, record in enumerate(records):
        if record.fields is not None:
            columns.update(dict.fromkeys(record.fields))
        if i >= _COLUMNS_PEEK_RECORDS:
            break
    records.close()
    return list(columns)


def resolve_column_map(
    path: Path, available: list[str], explicit: dict[str, str], preset: CorpusPreset | None
) -> dict[str, str]:
    """source -> canonical for one file: the explicit map first, then the preset's, then common names."""
    if not available:
        raise InputError(f"{path}: holds no records")
    mapping: dict[str, str] = {}
    for source, target in explicit.items():
        if source not in available:
            raise InputError(
                f"{path}: --map names column {source!r}, which is absent; columns: {', '.join(available)}"
            )
        mapping[source] = target
    if preset is not None:
        for source, target in preset.columns.items():
            if source in available and source not in mapping and target not in mapping.values():
                mapping[source] = target
    lowered = {c.lower(): c for c in available}
    for target, names in COMMON_NAMES.items():
        if target in mapping.values():
            continue
        for name in names:
            source = lowered.get(name)
            if source is not None and source not in mapping:
                mapping[source] = target
                break
    missing = [c for c in REQUIRED_COLUMNS if c != "post_id" and c not in mapping.values()]
    if missing:
        raise InputError(
            f"{path}: no column for {', '.join(missing)}; columns found: {', '.join(available) or '(none)'}; "
            f"name it with --map COLUMN={missing[0]}"
        )
    return mapping


def _as_text(value: object, field: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value)
    raise ValueError(f"field {field!r} holds a {type(value).__name__}, expected text")


def _without_surrogates(text: str, report: IngestReport) -> str:
    # JSON escapes can smuggle in lone surrogates (\ud83d), which Arrow's UTF-8 strings cannot hold.
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        report.count_read("texts_with_invalid_surrogates_replaced")
        return text.encode("utf-8", errors="replace").decode("utf-8")


def _canonical_row(fields: dict, mapping: dict[str, str], default_post_id: str, report: IngestReport) -> dict:
    row: dict[str, object] = {}
    for source, target in mapping.items():
        value = fields.get(source)
        if target == "created_at":
            try:
                row[target] = parse_timestamp(value)
            except ValueError as exc:
                raise ValueError(f"field {source!r}: {exc}") from None
            continue
        text = _as_text(value, source)
        if isinstance(text, str):
            text = _without_surrogates(text, report)
        row[target] = text
    for required in ("account_id", "text"):
        source = next(s for s, t in mapping.items() if t == required)
        value = row.get(required)
        if value is None or (required == "account_id" and not str(value).strip()):
            raise ValueError(f"field {source!r} ({required}) is missing or empty")
    if not row.get("post_id"):
        row["post_id"] = default_post_id
    return row


def _session_cache_dir() -> Path:
    """A per-process folder for the Arrow files that back read corpora; removed when the process exits."""
    global _CACHE_DIR
    if _CACHE_DIR is None:
        _CACHE_DIR = Path(tempfile.mkdtemp(prefix="authorid-arrow-"))
        atexit.register(shutil.rmtree, _CACHE_DIR, True)
    return _CACHE_DIR


_CACHE_DIR: Path | None = None


def read_posts(
    corpus: str | Path,
    *,
    columns: dict[str, str] | str | None = None,
    preset: str | None = None,
    on_error: OnError = "raise",
    limit: int | None = None,
    progress: bool = False,
    cache_dir: str | Path | None = None,
) -> tuple[datasets.Dataset, IngestReport]:
    """Read a corpus (file, folder or preset name) into canonical posts, with the report of what was read.

    `columns` maps source columns to canonical ones (a dict or "author=account_id,body=text"); `preset` names
    a corpus preset whose map applies; `on_error="skip"` counts malformed records instead of raising;
    `limit` stops after that many posts. Raises `InputError` for anything wrong with the input.
    """
    if on_error not in ("raise", "skip"):
        raise InputError(f"on_error must be 'raise' or 'skip', not {on_error!r}")
    explicit = parse_column_map(columns) if isinstance(columns, str | type(None)) else dict(columns)
    files, chosen_preset = resolve_corpus(corpus, preset)
    report = IngestReport(sources=[str(f) for f in files])

    mappings = {f: resolve_column_map(f, source_columns(f), explicit, chosen_preset) for f in files}
    report.column_map = {target: source for source, target in mappings[files[0]].items()}
    present = {"post_id"} | {t for m in mappings.values() for t in m.values()}
    features = features_for([c for c in CANONICAL_COLUMNS if c in present])
    total_bytes = sum(f.stat().st_size for f in files)

    arrow_path = Path(tempfile.mkstemp(suffix=".arrow", dir=cache_dir or _session_cache_dir())[1])
    writer = ArrowWriter(features=features, path=str(arrow_path))
    n_posts = 0
    with _progress_bar(progress, total_bytes) as bar:
        done_bytes = 0
        for path in files:
            records, counter = _iter_records(path, report)
            batch: list[dict] = []
            for record in records:
                report.count_read("records")
                try:
                    if record.error is not None:
                        raise ValueError(record.error)
                    row = _canonical_row(record.fields, mappings[path], f"{path.name}:{record.where}", report)
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
            done_bytes += path.stat().st_size
            bar.update(done_bytes, n_posts)
            if limit is not None and n_posts >= limit:
                report.count_read("stopped_at_limit", limit)
                break
    writer.finalize()
    writer.close()

    if n_posts == 0:
        skipped = report.read.get("skipped_errors", 0)
        raise InputError(
            f"{corpus}: no posts read ({report.read.get('records', 0)} records, {skipped} skipped)"
        )
    posts = datasets.Dataset.from_file(str(arrow_path))
    duplicates = n_posts - pc.count_distinct(posts.data.column("post_id")).as_py()
    if duplicates:
        report.count_read("duplicate_post_ids", duplicates)
        logger.warning("%s: %d post ids occur more than once", corpus, duplicates)
    report.posts_out = n_posts
    report.accounts_out = pc.count_distinct(posts.data.column("account_id")).as_py()
    return posts, report


def load_posts(corpus: str | Path, **options) -> datasets.Dataset:
    """Canonical posts from a corpus; the Python API's short form of `read_posts` (the report is logged)."""
    posts, report = read_posts(corpus, **options)
    logger.info("read %d posts of %d accounts from %s", report.posts_out, report.accounts_out, corpus)
    return posts


def _write(writer: ArrowWriter, batch: list[dict], features: datasets.Features) -> None:
    writer.write_batch({name: [row.get(name) for row in batch] for name in features})
    batch.clear()


class _progress_bar:
    """A rich progress bar over bytes read, with posts/s; silent when disabled."""

    def __init__(self, enabled: bool, total_bytes: int):
        self.enabled = enabled
        self.total_bytes = total_bytes

    def __enter__(self):
        if self.enabled:
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TransferSpeedColumn,
            )

            self.progress = Progress(
                TextColumn("[bold]reading"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TextColumn("{task.fields[posts]:,} posts ({task.fields[rate]:,.0f}/s)"),
                TimeElapsedColumn(),
                transient=False,
            )
            self.progress.start()
            self.task = self.progress.add_task("read", total=self.total_bytes, posts=0, rate=0.0)
        return self

    def update(self, done_bytes: int, posts: int) -> None:
        if self.enabled:
            elapsed = self.progress.tasks[0].elapsed or 1e-9
            self.progress.update(
                self.task, completed=min(done_bytes, self.total_bytes), posts=posts, rate=posts / elapsed
            )

    def __exit__(self, *exc):
        if self.enabled:
            self.progress.stop()
        return False
