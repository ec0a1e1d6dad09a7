"""Source formats: JSON lines, a JSON array, CSV/TSV and Parquet (plain or .gz) as streams of raw records."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from authorid.data.report import IngestReport
from authorid.errors import InputError

JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
CSV_SUFFIXES = (".csv", ".tsv")
PARQUET_SUFFIXES = (".parquet", ".pq")
_BATCH_ROWS = 10_000
_COLUMNS_PEEK_RECORDS = 1_000
_BOM = "\ufeff"
_UNCLOSED = (
    "a quoted field is never closed (the quote opened on this line runs to the end of the file, "
    "so nothing after it can be read)"
)
csv.field_size_limit(2**31 - 1)  # forum posts can be long; the csv module's default cap is 128 KiB


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


@dataclass
class _Record:
    """One source record with where it came from, or the error that stopped it from being read."""

    where: str  # "line 12" or "row 12"
    fields: dict | None
    error: str | None = None
    #: a record read that looks wrong (a quote that may have swallowed records), said with the file's name
    warning: str | None = None


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


def _decode(data: bytes, report: IngestReport, line: int = 1) -> str:
    """`data` (starting at `line` of its file) as UTF-8 text. Bytes that are not UTF-8 are read as U+FFFD and
    the line noted (`IngestReport.note_undecodable`): the reader then refuses the file, or names it under skip."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        report.note_undecodable(line + data[: exc.start].count(b"\n"))
        return data.decode("utf-8", errors="replace")


def _text_lines(stream, report: IngestReport) -> Iterator[str]:
    """The stream's lines as text, without the byte-order mark that Excel ("CSV UTF-8") and Notepad put first:
    left in, it would become part of the first column's name (an invisible "\\ufeffauthor")."""
    for number, raw_line in enumerate(stream, start=1):
        text = _decode(raw_line, report, number)
        yield text.removeprefix(_BOM) if number == 1 else text


def _json_kind(value) -> str:
    """What a JSON value is, in JSON's words ("null", "an array"), not Python's ("NoneType", "list")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    kinds = {int: "a number", float: "a number", str: "a string", list: "an array"}
    return kinds.get(type(value), type(value).__name__)


def _iter_json_lines(stream, report: IngestReport) -> Iterator[_Record]:
    for number, line in enumerate(_text_lines(stream, report), start=1):
        if not line.strip():
            report.count_read("blank_lines")
            continue
        try:
            fields = json.loads(line.rstrip("\r\n"))
        except json.JSONDecodeError as exc:
            yield _Record(f"line {number}", None, f"malformed JSON ({exc.msg}, column {exc.colno})")
            continue
        if not isinstance(fields, dict):
            yield _Record(f"line {number}", None, f"expected a JSON object, found {_json_kind(fields)}")
            continue
        yield _Record(f"line {number}", fields)


#: Bytes read at a time from a JSON array file; a record longer than this is read over several reads.
_ARRAY_READ_BYTES = 1 << 20
#: A record whose text runs this far without parsing is malformed, not unfinished (forum posts never come close).
_ARRAY_RECORD_MAX_CHARS = 64 << 20
#: How far from the end of what is read a decoding error can be when only the read cut the record (a \uXXXX).
_CUT_ESCAPE = 6


def _utf8_split(data: bytes) -> int:
    """Where `data` can be cut so that no UTF-8 character is split: before a multi-byte sequence left incomplete
    by the end of a read (its lead byte among the last 3 bytes), else the end."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 != 0x80:  # a lead byte or ASCII: the last character starts here
            length = 1 if byte < 0x80 else 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return len(data) - back if length > back else len(data)
    return len(data)


class _ArrayText:
    """A JSON array file's text, read a megabyte at a time: `text[start:]` holds what is read and not yet parsed,
    `line` the file's line number at `start`. Undecodable bytes are noted by line, as for JSON lines."""

    def __init__(self, stream, report: IngestReport):
        self.stream, self.report = stream, report
        self.text, self.start, self.line = "", 0, 1
        self.column = 0  # characters of `line` before text[0] (parsed and dropped)
        self.pending = b""  # the start of a character the last read cut in two
        self.ended = False
        self.first_read = True
        self._next_line = 1  # the line the next decoded read starts on

    def read_more(self) -> bool:
        """Append the next read (dropping what is parsed); False at the end of the file."""
        if self.ended:
            return False
        data = self.pending + self.stream.read(_ARRAY_READ_BYTES)
        if len(data) == len(self.pending):
            self.ended = True
            data, self.pending = self.pending, b""
        else:
            cut = _utf8_split(data)
            data, self.pending = data[:cut], data[cut:]
        decoded = _decode(data, self.report, self._next_line)
        if self.first_read:  # the file's byte-order mark; a U+FEFF later on is text (a one-line array's too)
            decoded, self.first_read = decoded.removeprefix(_BOM), False
        self._next_line += data.count(b"\n")
        dropped = self.text[: self.start]
        newline = dropped.rfind("\n")
        self.line += dropped.count("\n")
        self.column = len(dropped) - newline - 1 if newline >= 0 else self.column + len(dropped)
        self.text, self.start = self.text[self.start :] + decoded, 0
        return True

    def where(self, position: int) -> tuple[int, int]:
        """(line, column) of `position` in `text`, as JSON error messages count them."""
        newline = self.text.rfind("\n", 0, position)
        column = position - newline if newline >= 0 else self.column + position + 1
        return self.line + self.text.count("\n", 0, position), column

    def next_char(self) -> str:
        """The next character that is not whitespace (moving `start` to it), or '' at the end of the file."""
        while True:
            while self.start < len(self.text) and self.text[self.start] in " \t\r\n":
                self.start += 1
            if self.start < len(self.text) or not self.read_more():
                return self.text[self.start : self.start + 1]


def _iter_json_array(stream, report: IngestReport) -> Iterator[_Record]:
    """The objects of a file holding one JSON array, streamed: each is parsed by the standard library's decoder
    as soon as its text is read, so a dump of gigabytes is never held whole (read whole, the 238 MB Reddit dump
    took 1.7 GB, 0.9 GB more than as JSON lines). A record that breaks the array's syntax ends the reading
    there, named by line and column: what follows cannot be told apart from it."""
    decoder = json.JSONDecoder()
    text = _ArrayText(stream, report)
    text.next_char()
    text.start += 1  # the '[' the caller saw
    number = 0

    def malformed(message: str, position: int, *, more: bool = True) -> _Record:
        """The error at `position`; `more`: the file goes on after it, unread."""
        line, column = text.where(position)
        rest = "; nothing after it can be read" if more else ""
        return _Record(f"line {line}", None, f"malformed JSON ({message}, column {column}){rest}")

    char = text.next_char()
    if char == "]":
        return
    while True:
        if not char:
            yield malformed("the array is never closed: ']' missing", text.start, more=False)
            return
        try:
            fields, end = decoder.raw_decode(text.text, text.start)
            # a value ending near the end of what is read may go on in the next read (`12.` of `12.5`)
            complete = end + _CUT_ESCAPE < len(text.text) or text.ended
        except json.JSONDecodeError as exc:
            # A record cut by the end of a read fails at that end, or (a string left open) where its string
            # starts; any other failure is the file's, and so is a record that never ends.
            cut = exc.pos >= len(text.text) - _CUT_ESCAPE or exc.msg.startswith("Unterminated string")
            if not cut or text.ended or len(text.text) - text.start > _ARRAY_RECORD_MAX_CHARS:
                yield malformed(exc.msg, exc.pos)
                return
            complete = False
        if not complete:  # the record runs past what is read (or might: a number cut by the read)
            text.read_more()
            continue
        number += 1
        text.start = end
        if isinstance(fields, dict):
            yield _Record(f"record {number}", fields)
        else:
            yield _Record(f"record {number}", None, f"expected a JSON object, found {_json_kind(fields)}")
        char = text.next_char()
        if char == "]":
            text.start += 1
            if text.next_char():
                yield malformed("Extra data after the array", text.start, more=False)
            return
        if char != ",":
            if char:
                yield malformed("Expecting ',' delimiter", text.start)
            else:
                yield malformed("the array is never closed: ']' missing", text.start, more=False)
            return
        text.start += 1
        char = text.next_char()


def _iter_csv(stream, report: IngestReport, delimiter: str) -> Iterator[_Record]:
    raw: list[str] = []  # the physical lines of the record being read, to spot a quote that swallows records
    ended = False  # the file's last line has been read

    def lines():
        nonlocal ended
        for text in _text_lines(stream, report):
            raw.append(text)
            yield text
        ended = True

    reader = csv.reader(lines(), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        yield _Record("line 1", None, f"malformed header ({exc})")
        return
    if ended and raw:
        # The csv module asks for another line only while a quoted field is open; one it got no answer to
        # means a quote that is never closed, and the module quietly ends the record at the end of the file.
        yield _Record("line 1", None, f"malformed header: {_UNCLOSED}")
        return
    while True:
        raw.clear()
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield _Record(f"line {reader.line_num}", None, f"malformed CSV ({exc})")
            continue
        where = (
            f"line {reader.line_num - len(raw) + 1}"  # where the record starts (audit 12: it named its end)
        )
        if not values:
            report.count_read("blank_lines")
            continue
        if ended:  # the record asked for a line past the last one: a quoted field still open at the end
            first = reader.line_num - len(raw) + 1
            field = f"field {header[len(values) - 1]!r}: " if len(values) <= len(header) else ""
            yield _Record(f"line {first}", None, f"{field}{_UNCLOSED}")
            return
        if len(values) != len(header):
            yield _Record(where, None, f"{len(values)} fields where the header has {len(header)}")
            continue
        swallowed = _swallowed_records(raw, len(header), delimiter)
        warning = None
        if swallowed:  # a warning, not an error: multi-line text can look like this too
            first = reader.line_num - len(raw) + 1
            warning = (
                f"line {first}: this record runs over {len(raw)} lines, {swallowed} of which read as whole records"
                " on their own: an unterminated quote may have swallowed them (check the quotes on that line)"
            )
        yield _Record(where, dict(zip(header, values, strict=True)), warning=warning)


def _fields(line: str, delimiter: str) -> int:
    """How many fields `line` reads as on its own; 0 when it is no record (a carriage return inside text)."""
    try:
        return len(next(csv.reader([line], delimiter=delimiter), []))
    except csv.Error:
        return 0


def _quoted_as_the_format_asks(lines: list[str], delimiter: str) -> bool:
    """Whether a record's lines parse with every quoted field closed right before a delimiter or the end of the
    record (the csv module's strict mode), as any program writing CSV writes them."""
    try:
        list(csv.reader(["".join(lines)], delimiter=delimiter, strict=True))
    except csv.Error:
        return False
    return True


def _swallowed_records(lines: list[str], n_fields: int, delimiter: str) -> int:
    """How many of a multi-line record's continuation lines read as whole records on their own (each with the
    header's number of fields), when more than half of them do: the sign of an unterminated quote rather than
    ordinary multi-line text. 0 otherwise. The last line counts only when its quotes are balanced on their own (a
    record swallowed whole, `carol,"fine",3`): one that closes the open field has an odd number of them, and in a
    well-formed two-line field (`but, honestly",1`) it reads as whole too.

    Only for a record that breaks the format's quoting: a quote left open is closed by the next quote in the
    file, most often one that opens a later field (`erin,"yo",5`) and so is followed by text, not by a delimiter.
    A field quoted as the format asks may hold lines that look like records, a pasted timetable (`Mon,9am lab`)
    or text with commas (audits 12 and 13: Python's csv module's output was warned of)."""
    if len(lines) < 2 or n_fields < 2 or _quoted_as_the_format_asks(lines, delimiter):
        return 0
    continuation = lines[1:]
    last = continuation[-1:]
    inner = continuation[:-1] + [line for line in last if line.count('"') % 2 == 0]
    if not inner:
        return 0
    whole = sum(1 for line in inner if line.strip() and _fields(line.rstrip("\r\n"), delimiter) == n_fields)
    return whole if whole * 2 > len(inner) else 0


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
                if first.removeprefix(codecs.BOM_UTF8).lstrip().startswith(b"["):
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
    first_fault = None
    for i, record in enumerate(records):
        if record.fields is not None:
            columns.update(dict.fromkeys(record.fields))
        elif first_fault is None:
            first_fault = record
        if i >= _COLUMNS_PEEK_RECORDS:
            break
    records.close()
    if not columns and first_fault is not None:
        # Not "holds no records": say what stopped the first one from being read, where.
        raise InputError(
            f"{path}: {first_fault.where}: {first_fault.error} (no readable record to take columns from)"
        )
    return list(columns)
