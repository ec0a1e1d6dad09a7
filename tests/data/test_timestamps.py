from datetime import UTC, datetime, timedelta, timezone

import pytest

from authorid.data.timestamps import parse_timestamp


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2020-12-12T00:43:27Z", datetime(2020, 12, 12, 0, 43, 27, tzinfo=UTC)),
        ("2020-12-12T02:43:27.918+02:00", datetime(2020, 12, 12, 0, 43, 27, tzinfo=UTC)),
        ("2020-12-12 00:43:27", datetime(2020, 12, 12, 0, 43, 27, tzinfo=UTC)),  # naive = UTC
        (1607733807, datetime(2020, 12, 12, 0, 43, 27, tzinfo=UTC)),
        ("1607733807", datetime(2020, 12, 12, 0, 43, 27, tzinfo=UTC)),
        (1607733807123, datetime(2020, 12, 12, 0, 43, 27, tzinfo=UTC)),  # milliseconds
        ("31,July,2002", datetime(2002, 7, 31, tzinfo=UTC)),  # the Blog Authorship Corpus
        ("05,mayo,2004", datetime(2004, 5, 5, tzinfo=UTC)),
        ("1,Août,2003", datetime(2003, 8, 1, tzinfo=UTC)),
        (datetime(2020, 1, 1, 5, tzinfo=timezone(timedelta(hours=5))), datetime(2020, 1, 1, tzinfo=UTC)),
        (None, None),
        ("  ", None),
        (float("nan"), None),  # a missing time in a float column (audit 11: refused, and the post dropped)
    ],
)
def test_accepted_forms(value, expected):
    assert parse_timestamp(value) == expected


@pytest.mark.parametrize("value", ["yesterday", "31,Smarch,2002", True, [2020]])
def test_unreadable(value):
    with pytest.raises(ValueError):
        parse_timestamp(value)


@pytest.mark.parametrize("value", [1e300, float("inf"), -1e300])
def test_an_epoch_time_beyond_any_date_is_a_value_error_not_an_overflow(value):
    """Audit 11: 1e300 and inf raised OverflowError, a traceback past the reader's one-line errors."""
    with pytest.raises(ValueError, match="is outside the dates a post can have"):
        parse_timestamp(value)
