"""Publication timestamps: from metadata values, from a date line in the text, or from the file's path.

Only dates with a year are accepted: a bare "June 12" would silently take the year of
the day the pipeline runs. Naive timestamps are taken as UTC.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Optional

_UTC = dt.timezone.utc
_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%d-%b-%Y %H:%M:%S.%f",  # Reuters-21578: 26-FEB-1987 15:01:01.79
    "%d-%b-%Y %H:%M:%S",
    "%a, %d %b %Y %H:%M:%S %z",  # RSS
    "%a, %d %b %Y %H:%M:%S %Z",
    "%B %d, %Y",  # June 12, 2024
    "%b %d, %Y",
    "%d %B %Y",
    "%d %b %Y",
    "%Y/%m/%d",
)
_PATH_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})([-/_])(0[1-9]|1[0-2])\2(0[1-9]|[12]\d|3[01])(?!\d)")
_HAS_YEAR = re.compile(r"(?<!\d)(1[89]\d{2}|20\d{2})(?!\d)")
_DATE_LINE = re.compile(
    r"^(?:(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day,?\s+)?"
    r"(?:[A-Z][a-z]{2,8}\.?\s+\d{1,2},?\s+\d{4}|\d{1,2}\s+[A-Z][a-z]{2,8}\.?,?\s+\d{4}|\d{4}-\d{2}-\d{2})"
    r"(?:[,\s]+(?:at\s+)?\d{1,2}[:.]\d{2}(?:\s*[APap]\.?[Mm]\.?)?(?:\s+[A-Z]{2,4})?)?$"
)


def _as_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=_UTC)
    return value.astimezone(_UTC)


# The years a publish date may fall in. Outside them (year 1, 9999, an epoch of 1e300) a value is no publish date,
# and the date arithmetic of later steps (windows, event dates) would overflow datetime's range.
YEARS = range(1800, 3000)


def parse_timestamp(value: Any) -> Optional[dt.datetime]:
    """A metadata value (ISO 8601 string, common news formats, epoch seconds) as an aware UTC datetime, or None: for
    what is no date, and for a date outside YEARS (as an unparsed date, flagged by the caller)."""
    try:
        parsed = _parse_timestamp(value)
    except (OverflowError, ValueError, OSError):  # NaN, inf, 1e300, year 1 with an offset: no date, not a failure
        return None
    return parsed if parsed is None or parsed.year in YEARS else None


def _parse_timestamp(value: Any) -> Optional[dt.datetime]:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return _as_utc(value)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=_UTC)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value
        return dt.datetime.fromtimestamp(seconds, tz=_UTC)
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        return _as_utc(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        pass
    for fmt in _FORMATS:
        try:
            return _as_utc(dt.datetime.strptime(text.title() if "%b" in fmt or "%B" in fmt else text, fmt))
        except ValueError:
            continue
    if not _HAS_YEAR.search(text):
        return None
    import dateparser  # slow to import; only for the rare shape the formats above miss

    parsed = dateparser.parse(
        text,
        languages=["en"],
        settings={"TIMEZONE": "UTC", "RETURN_AS_TIMEZONE_AWARE": True, "REQUIRE_PARTS": ["day", "month", "year"]},
    )
    return _as_utc(parsed) if parsed else None


def is_date_line(line: str) -> bool:
    """True for a line that is only a date ("June 12, 2024", "12 June 2024 10:30 GMT")."""
    return bool(_DATE_LINE.match(line.strip()))


def date_from_path(uri: str) -> Optional[dt.datetime]:
    """A date in the file's path (…/2024/06/12/…, dt=2024-06-12, 2024-06-12_story.txt): the last one wins."""
    found = None
    for match in _PATH_DATE.finditer(uri):
        try:
            found = dt.datetime(int(match.group(1)), int(match.group(3)), int(match.group(4)), tzinfo=_UTC)
        except ValueError:
            continue
    return found
