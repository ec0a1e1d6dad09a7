"""Parsing the timestamps forum dumps come with into UTC datetimes.

Accepted: ISO 8601 (with or without zone; `Z` allowed; naive means UTC), epoch seconds (numbers or numeric strings;
values above 1e11 are taken as milliseconds, since no forum post is from the year 5138), and the Blog Authorship
Corpus' `31,July,2002` (day, month name, year; month names in the languages that corpus contains).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

# Month names seen in the Blog Authorship Corpus (its bloggers' locales) and other common European spellings.
_MONTHS = {
    1: "january janvier januar enero gennaio janeiro januari tammikuu styczen",
    2: "february fevrier fevereiro februar febrero febbraio februari helmikuu luty",
    3: "march mars marz maerz marzo marco maart maaliskuu marzec",
    4: "april avril abril aprile huhtikuu kwiecien",
    5: "may mai mayo maggio maio mei toukokuu maj",
    6: "june juin juni junio giugno junho kesakuu czerwiec",
    7: "july juillet juli julio luglio julho heinakuu lipiec",
    8: "august aout agosto augustus elokuu sierpien",
    9: "september septembre septiembre settembre setembro syyskuu wrzesien",
    10: "october octobre oktober octubre ottobre outubro lokakuu pazdziernik",
    11: "november novembre noviembre novembro marraskuu listopad",
    12: "december decembre dezember diciembre dicembre dezembro joulukuu grudzien",
}
MONTH_NUMBERS: dict[str, int] = {name: n for n, names in _MONTHS.items() for name in names.split()}
_ACCENTS = str.maketrans("éèêëäöüçñóáíúàâîôû", "eeeeaoucnoaiuaaiou")
_DAY_MONTH_YEAR = re.compile(r"^\s*(\d{1,2})[,\s]+([^\W\d_]+)\.?[,\s]+(\d{4})\s*$")
_NUMBER = re.compile(r"^\s*-?\d+(\.\d+)?\s*$")
_MILLISECONDS_ABOVE = 1e11


def parse_timestamp(value: object) -> datetime | None:
    """A UTC datetime (whole seconds, the schema's resolution) from `value`, or None for None/empty.

    Raises ValueError when the value is not a timestamp in any accepted form.
    """
    parsed = _parse(value)
    return None if parsed is None else parsed.replace(microsecond=0)


def _parse(value: object) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, bool):
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, int | float):
        if isinstance(value, float) and math.isnan(
            value
        ):  # a missing time in a float column (pandas, JSON NaN)
            return None
        return _from_epoch(float(value))
    if not isinstance(value, str):
        raise ValueError(f"not a timestamp: {value!r}")
    text = value.strip()
    if not text:
        return None
    if _NUMBER.match(text):
        return _from_epoch(float(text))
    match = _DAY_MONTH_YEAR.match(text)
    if match:
        day, month_name, year = match.groups()
        month = MONTH_NUMBERS.get(month_name.lower().translate(_ACCENTS))
        if month is None:
            raise ValueError(f"unknown month name {month_name!r} in {value!r}")
        return datetime(int(year), month, int(day), tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"unreadable timestamp {value!r} (expected ISO 8601, epoch seconds or '31,July,2002')"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _from_epoch(number: float) -> datetime:
    seconds = number / 1000.0 if abs(number) > _MILLISECONDS_ABOVE else number
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):  # 1e300, inf: beyond any date a post can have
        raise ValueError(f"epoch time {number:g} is outside the dates a post can have") from None
