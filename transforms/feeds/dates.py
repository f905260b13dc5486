"""Feed item dates, read with their time zone or not at all.

Feeds write dates by hand-rolled templates, and the failure that matters is silent: a date whose zone is
missing or unreadable taken as UTC is hours off, and the story timeline and the alert windows inherit the
error. So a date is returned only when its zone is known - stated in the string, or supplied for the whole
feed by whoever configured it (`assume_zone`); otherwise the raw string is kept and the parsed date is None.

The case that motivates the extra parser is the Korea Times feed: `Thu,28 Jul 2022 4:35:5 GMT+9` (no
space after the comma, unpadded fields, the zone as `GMT+9`). feedparser leaves it unparsed, Python's
`email.utils.parsedate_tz` reads it as +0000, and a tz-database name would get it backwards (`Etc/GMT+9`
is UTC-09:00, POSIX's inverted sign). The feed is Seoul's: `GMT+9` means what a person means by it, Korea
Standard Time, UTC+09:00 (Korea has no daylight saving since 1988), the same sign as RFC 822's `+0900`.
So 04:35:05 on Thursday 28 July in Seoul is 2022-07-27T19:35:05Z, which also fits the items themselves
(Wednesday's evening football result in Toyota, Japan, is in the feed).
"""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# RFC 822 / 2822 zone names and the US ones RFC 822 lists; military single letters are left out on purpose
# (RFC 2822 says their sign was specified backwards in RFC 822, so they carry no reliable offset).
ZONE_NAMES: dict[str, int] = {
    "UT": 0, "UTC": 0, "GMT": 0, "Z": 0,
    "EST": -5 * 60, "EDT": -4 * 60, "CST": -6 * 60, "CDT": -5 * 60,
    "MST": -7 * 60, "MDT": -6 * 60, "PST": -8 * 60, "PDT": -7 * 60,
}  # fmt: skip
MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)}

_RFC822 = re.compile(
    r"^\s*(?:[A-Za-z]{2,9}\.?\s*,?\s*)?"  # optional day name, with or without the comma and space
    r"(?P<day>\d{1,2})\s+(?P<month>[A-Za-z]{3})[a-z]*\.?\s+(?P<year>\d{2,4})\s+"
    r"(?P<h>\d{1,2}):(?P<m>\d{1,2})(?::(?P<s>\d{1,2}))?"
    r"\s*(?P<zone>.*?)\s*$"
)
_ISO = re.compile(
    r"^\s*(?P<date>\d{4}-\d{2}-\d{2})(?:[T ](?P<time>\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?))?"
    r"\s*(?P<zone>Z|[+-]\d{2}(?::?\d{2})?)?\s*$",
    re.IGNORECASE,
)
# A zone spelled as an offset: "+0900", "-05:00", "+9" or a name followed by one: "GMT+9", "UTC-03:30".
_OFFSET = re.compile(r"^(?:(?P<name>GMT|UTC|UT)\s*)?(?P<sign>[+-])(?P<hh>\d{1,2})(?::?(?P<mm>\d{2}))?$", re.I)
# Enough to tell whether a string feedparser did parse carried a zone at all.
_ANY_ZONE = re.compile(r"(?:[+-]\d{2}:?\d{2}|\d[Zz]|\b(?:UTC?|GMT|[ECMP][SD]T)(?:\s*[+-]\d{1,2}(?::?\d{2})?)?)\s*$")


def zone_offset(zone: str) -> Optional[int]:
    """Minutes east of UTC for a zone written in a feed date, or None when there is none or it is unknown."""
    zone = zone.strip().strip("()")
    if not zone:
        return None
    named = ZONE_NAMES.get(zone.upper())
    if named is not None:
        return named
    match = _OFFSET.match(zone)
    if not match:
        return None
    hours, minutes = int(match["hh"]), int(match["mm"] or 0)
    if hours > 14 or minutes > 59:
        return None
    return (hours * 60 + minutes) * (1 if match["sign"] == "+" else -1)


def resolve_zone(name: Optional[str]) -> Optional[dt.tzinfo]:
    """An IANA zone name ("Asia/Seoul") as a tzinfo; None for None; ValueError for an unknown name."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def _aware(naive: dt.datetime, offset: Optional[int], assume: Optional[dt.tzinfo]) -> Optional[dt.datetime]:
    if offset is not None:
        return naive.replace(tzinfo=dt.timezone(dt.timedelta(minutes=offset))).astimezone(dt.timezone.utc)
    if assume is not None:
        return naive.replace(tzinfo=assume).astimezone(dt.timezone.utc)
    return None  # no zone and none assumed: unknown, not UTC


def _rfc822(raw: str, assume: Optional[dt.tzinfo]) -> tuple[bool, Optional[dt.datetime]]:
    match = _RFC822.match(raw)
    if not match or match["month"].lower() not in MONTHS:
        return False, None
    year = int(match["year"])
    year += 2000 if year < 50 else 1900 if year < 100 else 0
    zone = match["zone"]
    offset = zone_offset(zone)
    if zone and offset is None:
        return True, None  # a zone we cannot read is not UTC either
    try:
        naive = dt.datetime(
            year,
            MONTHS[match["month"].lower()],
            int(match["day"]),
            int(match["h"]),
            int(match["m"]),
            int(match["s"] or 0),
        )
    except ValueError:
        return True, None
    return True, _aware(naive, offset, assume)


def _iso(raw: str, assume: Optional[dt.tzinfo]) -> tuple[bool, Optional[dt.datetime]]:
    match = _ISO.match(raw)
    if not match:
        return False, None
    zone = match["zone"]
    if match["time"] is None:
        return True, None  # a day without a time is not an instant; the page may know better
    try:
        naive = dt.datetime.fromisoformat(f"{match['date']}T{match['time'].replace(',', '.')}")
    except ValueError:
        return True, None
    offset = None if zone is None else 0 if zone.upper() == "Z" else zone_offset(zone)
    return True, _aware(naive, offset, assume)


def parse_feed_date(
    raw: Optional[str], parsed: Optional[time.struct_time] = None, assume_zone: Optional[dt.tzinfo] = None
) -> Optional[dt.datetime]:
    """The instant a feed date string names, as an aware UTC datetime, or None when it cannot be known.

    `parsed` is feedparser's reading (UTC), used for the formats this module does not know (feedparser
    reads several national date styles) but only when the raw string visibly carries a zone, because
    feedparser takes a zone-less date as UTC. `assume_zone` is the feed's zone when the feed's owner
    stated it; it applies to zone-less dates only.
    """
    if not raw or not raw.strip():
        return None
    for reader in (_rfc822, _iso):
        recognised, value = reader(raw, assume_zone)
        if recognised:
            return value
    if parsed is not None and _ANY_ZONE.search(raw.strip()):
        return dt.datetime(*parsed[:6], tzinfo=dt.timezone.utc)
    return None
