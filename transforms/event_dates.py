"""When an event is due: dates and ranges in an evidence sentence, resolved against the publish time.

dateparser parses single explicit dates; ranges and the relative shapes it misses ("June 18–19",
"next week", "this summer", "as early as next week", "in the coming weeks") are handled here.
A date without a usable anchor (an article whose publish time is only its ingestion time) is not
resolved: the caller gets None and says so.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Optional

_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m} | {
    m.lower(): i for i, m in enumerate(calendar.month_abbr) if m
}
# Month names of the languages the rules read (French, German, Russian in the genitive and nominative), for the
# shapes with a day number ("18 et 19 juin", "18. und 19. Juni", "18-19 июня"). Shapes with no day stay English.
_FOREIGN_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            "janvier januar jänner января январь",
            "février februar февраля февраль",
            "mars märz марта март",
            "avril апреля апрель",
            "mai мая май",
            "juin juni июня июнь",
            "juillet juli июля июль",
            "août августа август",
            "septembre сентября сентябрь",
            "octobre oktober октября октябрь",
            "novembre ноября ноябрь",
            "décembre dezember декабря декабрь",
        ],
        start=1,
    )
    for name in names.split()
}
_MONTH_EN = (
    r"(January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?"
)
_MONTH = "(" + "|".join(sorted([*_MONTH_EN[1:-4].split("|"), *_FOREIGN_MONTHS], key=len, reverse=True)) + r")\.?"
_MONTH_START = re.compile(_MONTH + r"\b", re.I)
_DASH = r"\s*(?:[-–—]|to|through|until|et|au|und|bis|и|по)\s*"
_YEAR = r"(?:,?\s+(\d{4}))?"
_LEADS = r"(?:in|for|by|until|from|since|early|late|mid)"
_WEEKDAYS = {d.lower(): i for i, d in enumerate(calendar.day_name)}

_PATTERNS = [
    ("month_range", re.compile(rf"\b{_MONTH}\s+(\d{{1,2}}){_DASH}{_MONTH}\s+(\d{{1,2}}){_YEAR}", re.I)),
    ("day_range", re.compile(rf"\b{_MONTH}\s+(\d{{1,2}}){_DASH}(\d{{1,2}})\b{_YEAR}", re.I)),
    ("day_range_dm", re.compile(rf"\b(\d{{1,2}})\.?{_DASH}(\d{{1,2}})\.?\s+{_MONTH}{_YEAR}", re.I)),
    ("date", re.compile(rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?\b{_YEAR}", re.I)),
    ("date_dm", re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th|er|\.)?\s+{_MONTH}{_YEAR}", re.I)),
    # "in April 1988", "by April 1988", "April 1988": the year belongs to the month, before a bare "by April" reads it.
    ("month_year", re.compile(rf"\b(?:{_LEADS}[-\s]+)?{_MONTH_EN},?\s+(\d{{4}})\b", re.I)),
    (
        "relative",
        re.compile(
            r"\b(earlier this year|earlier this month|earlier this week|next week|this week|later this week"
            r"|next month|this month|later this month|this summer|this autumn|this fall|this winter|this spring"
            r"|in the (?:spring|summer|autumn|fall|winter)(?!\s+of\b)"  # not "in the spring of 1989"
            r"|this year|next year|in the coming weeks|in the coming days|coming weeks|tomorrow|today|yesterday"
            r"|last week|last month)\b",
            re.I,
        ),
    ),
    (
        "weekday",
        re.compile(
            r"\b(?:on\s+|next\s+|last\s+|this\s+)?(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b", re.I
        ),
    ),
    # A month with no day ("in April", "next May", "scheduled for June"): the whole month. After the shapes
    # with a day, which win where they overlap; "May" only after a preposition, never the verb.
    ("month_only", re.compile(rf"\b(in|for|by|next|this|until|from|since|early|late|mid)[-\s]+{_MONTH_EN}\b", re.I)),
    # A month before a noun, after an article and at most a participle: "a May election", "an anticipated June
    # summit". Capitalised full names only, so "May" is never the verb ("the minister may call").
    (
        "month_attributive",
        re.compile(
            r"\b(?:(?:[Aa]n?|[Tt]he)\s+(?:[a-z]+(?:ed|ing)\s+)?(January|February|March|April|June|July|August"
            r"|September|October|November|December)|[Aa]n?\s+(?:[a-z]+(?:ed|ing)\s+)?(May))\s+(?=[a-z])"
        ),
    ),
    ("year_only", re.compile(r"\b(?:in|by|until|during|for)\s+((?:19|20)\d{2})\b(?![-–/]\d)", re.I)),
]
_SEASONS = {"summer": (6, 8), "autumn": (9, 11), "fall": (9, 11), "winter": (12, 2), "spring": (3, 5)}


def _month(name: str) -> int:
    foreign = _FOREIGN_MONTHS.get(name.lower().rstrip("."))
    if foreign:
        return foreign
    return _MONTHS[
        name.lower().rstrip(".")[:3] if name.lower().rstrip(".") not in _MONTHS else name.lower().rstrip(".")
    ]


def _year_for(month: int, day: int, base: dt.date, year: Optional[str], tense: str) -> int:
    if year:
        return int(year)
    candidate = base.year
    try:
        guess = dt.date(candidate, month, day)
    except ValueError:
        return candidate
    if tense == "future" and guess < base - dt.timedelta(days=60):
        return candidate + 1
    if tense == "past" and guess > base + dt.timedelta(days=60):
        return candidate - 1
    return candidate


def _end_of_month(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _relative(phrase: str, base: dt.date, tense: str = "any") -> tuple[dt.date, dt.date]:
    p = phrase.lower()
    monday = base - dt.timedelta(days=base.weekday())
    if p in ("next week",):
        return monday + dt.timedelta(days=7), monday + dt.timedelta(days=13)
    if p in ("this week", "later this week"):
        return base, monday + dt.timedelta(days=6)
    if p == "last week":
        return monday - dt.timedelta(days=7), monday - dt.timedelta(days=1)
    if p in ("this month", "later this month"):
        return base, _end_of_month(base.year, base.month)
    if p == "next month":
        y, m = (base.year + 1, 1) if base.month == 12 else (base.year, base.month + 1)
        return dt.date(y, m, 1), _end_of_month(y, m)
    if p == "last month":
        y, m = (base.year - 1, 12) if base.month == 1 else (base.year, base.month - 1)
        return dt.date(y, m, 1), _end_of_month(y, m)
    if p.startswith(("this ", "in the ")) and p.split()[-1] in _SEASONS:  # "in the spring": this year's
        first, last = _SEASONS[p.split()[-1]]
        year = base.year
        if tense == "future" and _end_of_month(year + (last < first), last) < base:  # the next one, not a past one
            year += 1
        end_year = year + 1 if last < first else year
        return dt.date(year, first, 1), _end_of_month(end_year, last)
    if p.startswith("earlier this "):
        period = p[len("earlier this ") :]
        first = {"year": dt.date(base.year, 1, 1), "month": dt.date(base.year, base.month, 1), "week": monday}[period]
        return first, base
    if p == "this year":
        return base, dt.date(base.year, 12, 31)
    if p == "next year":
        return dt.date(base.year + 1, 1, 1), dt.date(base.year + 1, 12, 31)
    if "coming weeks" in p:
        return base + dt.timedelta(days=1), base + dt.timedelta(weeks=6)
    if "coming days" in p:
        return base + dt.timedelta(days=1), base + dt.timedelta(days=10)
    offset = {"tomorrow": 1, "today": 0, "yesterday": -1}[p]
    day = base + dt.timedelta(days=offset)
    return day, day


def _weekday(text: str, base: dt.date, tense: str) -> dt.date:
    words = text.lower().split()
    target = _WEEKDAYS[words[-1]]
    if words[0] in ("next", "this") or (tense == "future" and words[0] != "last"):
        delta = (target - base.weekday()) % 7
        return base + dt.timedelta(days=delta or (7 if words[0] == "next" else 0))
    delta = (base.weekday() - target) % 7
    return base - dt.timedelta(days=delta)


_REPORTING = re.compile(
    r"\b(?:said|says|announced|reported|told|stated|confirmed|added|wrote|warned)\s+(?:on\s+)?$", re.I
)


def starts_with_month(text: str) -> bool:
    """Whether the text begins with a month name, in any language the rules read."""
    return bool(_MONTH_START.match(text))


def dates_the_report(sentence: str, start: int) -> bool:
    """The date at `start` dates the report ("said on Friday"), not the event."""
    return bool(_REPORTING.search(sentence[max(0, start - 30) : start]))


def resolve_event_dates(
    sentence: str, base: dt.datetime, tense: str = "any", anchor: int = 0
) -> tuple[Optional[dt.date], Optional[dt.date], Optional[str]]:
    """(start, end, matched text) of the event's date expression in the sentence, or (None, None, None).

    The expression nearest the trigger at `anchor` wins, one after it before one before it; a date
    that dates the report rather than the event ("announced Monday that …") is passed over. `tense`
    breaks ties a bare date leaves open: a planned event's "June 18" after a 1 December publication
    is next June; a past event's weekday is the one before the publication. A future event's range
    does not start before the publication.
    """
    base_day = base.date()
    found = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(sentence):
            if any(m.start() < f[3].end() and f[3].start() < m.end() for f in found):
                continue  # a longer shape already covers this text (patterns run from longest to shortest)
            reporting = dates_the_report(sentence, m.start())
            distance = m.start() - anchor if m.start() >= anchor else 2 * (anchor - m.end()) + 1
            found.append((reporting, distance, kind, m))
    if not found:
        return None, None, None
    found.sort(key=lambda f: (f[0], f[1]))
    for _, _, kind, m in found:
        start, end, text = _resolve_one(kind, m, base, base_day, tense)
        if start is not None:
            if tense == "future" and start < base_day <= end:
                start = base_day
            return start, end, text
    return None, None, None


def _resolve_one(kind, m, base, base_day, tense):
    """One matched expression as (start, end, text); (None, None, None) when it names no real date."""
    g = m.groups()
    try:
        if kind == "month_range":
            m1, d1, m2, d2 = _month(g[0]), int(g[1]), _month(g[2]), int(g[3])
            y = _year_for(m1, d1, base_day, g[4], tense)
            return dt.date(y, m1, d1), dt.date(y if m2 >= m1 else y + 1, m2, d2), m.group(0)
        if kind == "day_range":
            mo, d1, d2 = _month(g[0]), int(g[1]), int(g[2])
            y = _year_for(mo, d1, base_day, g[3], tense)
            return dt.date(y, mo, d1), dt.date(y, mo, d2), m.group(0)
        if kind == "day_range_dm":
            d1, d2, mo = int(g[0]), int(g[1]), _month(g[2])
            y = _year_for(mo, d1, base_day, g[3], tense)
            return dt.date(y, mo, d1), dt.date(y, mo, d2), m.group(0)
        if kind in ("date", "date_dm") and (g[0] if kind == "date" else g[1]).lower().rstrip(".") in _FOREIGN_MONTHS:
            month, day = (_month(g[0]), int(g[1])) if kind == "date" else (_month(g[1]), int(g[0]))
            day_date = dt.date(_year_for(month, day, base_day, g[2], tense), month, day)
            return day_date, day_date, m.group(0)
        if kind in ("date", "date_dm"):
            import dateparser  # a single explicit date: dateparser, anchored on the publish time

            settings = {
                "RELATIVE_BASE": base.replace(tzinfo=None),
                "PREFER_DAY_OF_MONTH": "first",
                "PREFER_DATES_FROM": {"future": "future", "past": "past"}.get(tense, "current_period"),
            }
            if not g[2]:
                month, day = (_month(g[0]), int(g[1])) if kind == "date" else (_month(g[1]), int(g[0]))
                settings["RELATIVE_BASE"] = settings["RELATIVE_BASE"].replace(
                    year=_year_for(month, day, base_day, None, tense)
                )
                settings["PREFER_DATES_FROM"] = "current_period"
            parsed = dateparser.parse(m.group(0), languages=["en"], settings=settings)
            if parsed:
                return parsed.date(), parsed.date(), m.group(0)
        if kind == "month_only":
            lead, mo = g[0].lower(), _month(g[1])
            y = _year_for(mo, 1, base_day, None, "future" if lead in ("next", "until", "by") else tense)
            if lead == "next" and dt.date(y, mo, 1) <= base_day:
                y += 1
            if lead == "since" and dt.date(y, mo, 1) > base_day:
                y -= 1
            return dt.date(y, mo, 1), _end_of_month(y, mo), m.group(0)
        if kind == "month_attributive":  # "the May government" is no month: May only after "a"/"an"
            mo, y = _month(g[0] or g[1]), base_day.year
            if tense == "future" and _end_of_month(y, mo) < base_day:  # "an anticipated June summit" in July
                y += 1
            elif tense == "past" and dt.date(y, mo, 1) > base_day:
                y -= 1
            return dt.date(y, mo, 1), _end_of_month(y, mo), m.group(0).strip()
        if kind == "year_only":
            y = int(g[0])
            return dt.date(y, 1, 1), dt.date(y, 12, 31), m.group(0)
        if kind == "month_year":
            mo, y = _month(g[0]), int(g[1])
            return dt.date(y, mo, 1), _end_of_month(y, mo), m.group(0)
        if kind == "relative":
            start, end = _relative(g[0], base_day, tense)
            return start, end, m.group(0)
        if kind == "weekday":
            day = _weekday(m.group(0), base_day, tense)
            return day, day, m.group(0)
    except (ValueError, KeyError):
        pass
    return None, None, None
