"""Feed bytes to items, and feed lists to feed URLs.

feedparser 6 reads every feed dialect news sites publish (RSS 0.9x, 1.0/RDF, 2.0, Atom) and keeps going on
broken XML (`bozo`), so a feed that is half readable still gives the items it could read. It is given the
raw bytes and the HTTP content type (the charset there outranks the XML declaration, as the HTTP spec says),
with HTML sanitising off: newsbeam stores text, not markup for a browser, and the report escapes on output.

When neither the HTTP header nor the XML declares an encoding and the bytes are not UTF-8, feedparser falls
back to windows-1252 and the titles become mojibake (a KOI8-R or EUC-JP feed); the bytes are then detected
with charset-normalizer, already a newsbeam dependency, and parsed again under the detected charset.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from typing import Optional

import charset_normalizer
import feedparser
from pydantic import BaseModel, ConfigDict

from transforms.feeds.dates import parse_feed_date, resolve_zone
from transforms.urls import safe_url


class FeedItem(BaseModel):
    """One item of a feed, as the feed states it; `published_at` is None when the date or its zone is unknown."""

    model_config = ConfigDict(frozen=True)

    title: Optional[str] = None
    link: Optional[str] = None  # an absolute http(s) URL, or None
    guid: Optional[str] = None
    summary: Optional[str] = None
    author: Optional[str] = None
    date_raw: Optional[str] = None  # the date string exactly as the feed wrote it
    published_at: Optional[dt.datetime] = None  # aware, UTC


class ParsedFeed(BaseModel):
    """A feed's items and what the feed says about itself (title, format, stated update period)."""

    model_config = ConfigDict(frozen=True)

    title: Optional[str] = None
    version: str = ""  # feedparser's name for the dialect: rss20, rss10, atom10, ... ("" when unknown)
    bozo: bool = False  # the XML was broken; the items are what could still be read
    bozo_reason: Optional[str] = None
    encoding: Optional[str] = None
    update_period: Optional[str] = None  # sy:updatePeriod: hourly, daily, weekly, monthly, yearly
    update_frequency: Optional[int] = None  # sy:updateFrequency: times per period (default 1)
    items: tuple[FeedItem, ...] = ()


class FeedSource(BaseModel):
    """One feed to poll: its URL, a title from the OPML if any, and its time zone when its owner knows it."""

    model_config = ConfigDict(frozen=True)

    url: str
    title: Optional[str] = None
    zone: Optional[str] = None  # IANA name, for feeds that write dates without a zone ("Asia/Seoul")


_XML_ENCODING = re.compile(rb"^\s*(?:\xef\xbb\xbf)?<\?xml[^>]*encoding\s*=", re.I)
_DATE_KEYS = (("published", "published_parsed"), ("updated", "updated_parsed"), ("created", "created_parsed"))


def _text(value) -> Optional[str]:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def _item(entry, zone: Optional[dt.tzinfo]) -> FeedItem:
    raw, parsed = None, None
    for text_key, parsed_key in _DATE_KEYS:
        if _text(entry.get(text_key)):
            raw, parsed = entry[text_key].strip(), entry.get(parsed_key)
            break
    author = _text(entry.get("author")) or _text((entry.get("author_detail") or {}).get("name"))
    return FeedItem(
        title=_text(entry.get("title")),
        link=safe_url(entry.get("link")),
        guid=_text(entry.get("id")),
        summary=_text(entry.get("summary")),
        author=author,
        date_raw=raw,
        published_at=parse_feed_date(raw, parsed, zone),
    )


def _frequency(value) -> Optional[int]:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _needs_detection(result, data: bytes, content_type: Optional[str]) -> bool:
    """feedparser guessed windows-1252 because nothing declared an encoding and the bytes are not UTF-8."""
    declared = (content_type and "charset=" in content_type.lower()) or _XML_ENCODING.match(data[:200])
    return isinstance(result.get("bozo_exception"), feedparser.CharacterEncodingOverride) and not declared


def _feedparser(data: bytes, content_type: Optional[str], base_url: Optional[str]):
    headers = {"content-type": content_type or "application/xml"}
    if base_url:
        headers["content-location"] = base_url  # relative item links are resolved against the feed's URL
    return feedparser.parse(data, response_headers=headers, sanitize_html=False)


def parse_feed(
    data: bytes, content_type: Optional[str] = None, base_url: Optional[str] = None, zone: Optional[str] = None
) -> ParsedFeed:
    """Read a feed's bytes; never raises on a malformed feed (an empty or unreadable one has no items).

    `zone` is an IANA zone name to read zone-less dates in, when the feed's owner stated it; without it a
    zone-less date stays unparsed (`published_at` None, `date_raw` kept).
    """
    result = _feedparser(data, content_type, base_url)
    error = result.get("bozo_exception")
    bozo = bool(result.get("bozo"))
    if _needs_detection(result, data, content_type):
        best = charset_normalizer.from_bytes(data).best()
        if best is not None:  # still bozo: the charset is a guess, and the reason says so
            result = _feedparser(data, f"application/xml; charset={best.encoding}", base_url)
            error = result.get("bozo_exception") or f"no charset declared; detected {best.encoding}"
    tzinfo = resolve_zone(zone)
    feed = result.get("feed", {})
    return ParsedFeed(
        title=_text(feed.get("title")),
        version=result.get("version") or "",
        bozo=bozo or bool(result.get("bozo")),
        bozo_reason=None
        if error is None
        else error
        if isinstance(error, str)
        else f"{type(error).__name__}: {error}"[:300],
        encoding=result.get("encoding"),
        update_period=(_text(feed.get("sy_updateperiod")) or "").lower() or None,
        update_frequency=_frequency(feed.get("sy_updatefrequency")),
        items=tuple(_item(entry, tzinfo) for entry in result.get("entries", ())),
    )


def _opml_sources(text: str) -> list[FeedSource]:
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ValueError(f"feed list: not well-formed OPML ({exc})") from None
    sources = []
    for outline in root.iter("outline"):
        url = safe_url(outline.get("xmlUrl") or outline.get("xmlurl"))
        if url:
            title, zone = outline.get("title") or outline.get("text"), outline.get("zone") or None
            resolve_zone(zone)  # an unknown zone fails here, at start, not at the first poll
            sources.append(FeedSource(url=url, title=title or None, zone=zone))
    return sources


def _line_sources(text: str) -> list[FeedSource]:
    """One URL a line; `#` starts a comment; an optional `zone=Area/City` after the URL."""
    sources = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        url = safe_url(fields[0])
        options = dict(field.split("=", 1) for field in fields[1:] if "=" in field)
        if url is None or set(options) - {"zone"}:
            raise ValueError(f"feed list line {number}: expected an http(s) URL and optional zone=..., got {line!r}")
        resolve_zone(options.get("zone"))  # an unknown zone fails here, at start, not at the first poll
        sources.append(FeedSource(url=url, zone=options.get("zone")))
    return sources


def parse_feed_list(text: str) -> tuple[FeedSource, ...]:
    """The feeds of a feed list: OPML (what feed readers export) or one URL a line; duplicates dropped."""
    stripped = text.lstrip("\ufeff \t\r\n")
    sources = _opml_sources(stripped) if stripped.startswith("<") else _line_sources(stripped)
    unique: dict[str, FeedSource] = {}
    for source in sources:
        unique.setdefault(source.url, source)
    return tuple(unique.values())
