"""Column maps: which source column feeds which canonical column, and one raw record as a canonical row."""

from __future__ import annotations

import math
import re
from pathlib import Path

from authorid.data.presets import CorpusPreset
from authorid.data.report import IngestReport
from authorid.data.timestamps import parse_timestamp
from authorid.errors import InputError
from authorid.schema import CANONICAL_COLUMNS, COMMON_NAMES, REQUIRED_COLUMNS


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
        if source in mapping:
            # A dict keeps only the last: `author=account_id,author=text` would quietly lose account_id.
            raise InputError(
                f"--map maps column {source!r} twice ({source}={mapping[source]} and {source}={target}); "
                "a column can feed one canonical column"
            )
        mapping[source] = target
    targets = list(mapping.values())
    doubled = sorted({t for t in targets if targets.count(t) > 1})
    if doubled:
        raise InputError(f"--map gives several sources for {', '.join(doubled)}")
    return mapping


def resolve_column_map(
    path: Path,
    available: list[str],
    explicit: dict[str, str],
    preset: CorpusPreset | None,
    *,
    authors_optional: bool = False,
    peeked: bool = False,
) -> dict[str, str]:
    """source -> canonical for one file: the explicit map first, then the preset's, then common names.
    `authors_optional`: no account_id column is no error (`read_posts`). `peeked`: `available` are the fields of
    the first records only (JSON), so an optional column the explicit map names may appear later."""
    if not available:
        raise InputError(f"{path}: holds no records")
    mapping: dict[str, str] = {}
    for source, target in explicit.items():
        # a required column is in the first records of any real file: a name absent there is a typo
        if source not in available and not (peeked and target not in REQUIRED_COLUMNS):
            raise InputError(
                f"{path}: --map names column {source!r}, which is absent; columns: {_names(available)}"
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
    optional = ("post_id", "account_id") if authors_optional else ("post_id",)
    missing = [c for c in REQUIRED_COLUMNS if c not in optional and c not in mapping.values()]
    if missing:
        raise InputError(
            f"{path}: no column for {', '.join(missing)}; columns found: {_names(available) or '(none)'}; "
            + (_separator_hint(path, available) or f"name it with --map COLUMN={missing[0]}")
        )
    return mapping


#: Field separators a spreadsheet may have written instead of the one its file name promises.
OTHER_SEPARATORS = {";": "';'", "\t": "tabs", "|": "'|'", ",": "commas"}


def _separator_hint(path: Path, available: list[str]) -> str | None:
    """When the whole header was read as one column holding another separator (a spreadsheet that saves
    "CSV" with ';', common where ',' is the decimal mark), what to do instead of --map, which cannot help."""
    suffixes = [suffix.lower() for suffix in path.suffixes]
    tsv = ".tsv" in suffixes
    if len(available) != 1 or not (tsv or ".csv" in suffixes):
        return None
    found = next(
        (sep for sep in OTHER_SEPARATORS if sep in available[0] and sep != ("\t" if tsv else ",")), None
    )
    if found is None:
        return None
    if found == ",":
        fix = "name it .csv"
    elif found == "\t":
        fix = "name it .tsv"
    else:
        fix = "save it with commas as .csv (or tabs as .tsv)"
    suffix, read_as = (".tsv", "tab-separated") if tsv else (".csv", "comma-separated")
    return (
        f"the header is one field separated by {OTHER_SEPARATORS[found]}, and a {suffix} file is read as"
        f" {read_as}: {fix}"
    )


def _names(columns: list[str]) -> str:
    """Column names quoted, so a stray space or an invisible character in one shows: 'author', ' text'."""
    return ", ".join(repr(c) for c in columns)


def _as_text(value: object, field: str, target: str = "") -> str | None:
    """A field's value as text. Numbers are fine as ids (an author id 42 is "42"), not as a post's text (a JSON
    `NaN` or `12345` where a post should be is a broken export, not a post); NaN is a missing value."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, bool | int | float):
        if target == "text":
            raise ValueError(f"field {field!r} (text) holds the number {value!r}, expected text")
        if isinstance(value, float) and value.is_integer():
            # an id column exported as floats (a column with a missing value becomes float64 in pandas) holds
            # 183141.0 where another file, or another row, holds 183141: one account, read as one (audit 9)
            return str(int(value))
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


#: An id written as a whole float: "183141.0" (digits, a point, zeros only).
_WHOLE_FLOAT = re.compile(r"^-?\d+\.0+$")


def late_field_target(
    field: str, explicit: dict[str, str], preset: CorpusPreset | None, mapped: dict[str, str]
) -> str | None:
    """The canonical column a field first seen after the peeked records would have fed, were it seen in them
    (the explicit map's, the preset's, or a common name's); None when it feeds none, or its column is fed."""
    target = explicit.get(field) or (preset.columns.get(field) if preset is not None else None)
    if target is None:
        target = next((t for t, names in COMMON_NAMES.items() if field.lower() in names), None)
    return None if target is None or target in mapped.values() else target


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
        text = _as_text(value, source, target)
        if isinstance(text, str) and target.endswith("_id") and _WHOLE_FLOAT.match(text):
            # an id column a spreadsheet or pandas wrote as floats ("183141.0", a column with a missing value):
            # the account "183141" of another file or row, as a float read from JSON or Parquet already is
            text = text.split(".", 1)[0]
        if isinstance(text, str):
            text = _without_surrogates(text, report)
            if "\x00" in text:  # NUL characters: never text, often a binary file or a broken export
                report.count_read("nul_characters_removed", text.count("\x00"))
                text = text.replace("\x00", "")
        row[target] = text
    for required in ("account_id", "text"):
        source = next((s for s, t in mapping.items() if t == required), None)
        if source is None:  # no author column (`authors_optional`): the post is an account of its own, below
            continue
        value = row.get(required)
        if value is None or (required == "account_id" and not str(value).strip()):
            raise ValueError(f"field {source!r} ({required}) is missing or empty")
    if not row.get("post_id"):
        row["post_id"] = default_post_id
    if "account_id" not in row:
        row["account_id"] = row["post_id"]
    return row
