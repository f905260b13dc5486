"""A feed item as the article's fallback: what the feed says, used only where the page says less.

A sidecar's fields override the page (they are the user's word); a feed item's do not: the page is the
publisher's full text and usually the better source. The item fills in what the page lacks:
- title: the page has none, or a shorter one (pages often put the site's name in <title>);
- byline and url: the page has none;
- publish time: the page has none, or only a day (`2009-06-11`) that the item's full timestamp falls on
  (within a day either side, for time zones); then `published_at_source` is `feed`;
- body: the page could not be fetched, or no text could be extracted from it; then the item's summary,
  with its markup stripped, is the body, and the article carries the flag `body_from_feed_summary`.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Optional

from transforms.feeds.parse import FeedItem
from transforms.parsers import ParsedArticle, domain_of

FLAG_FROM_SUMMARY = "body_from_feed_summary"
FEED_SOURCE = "feed"  # PublishedAtSource.FEED
SUMMARY_FORMAT = "feed_summary"  # input_format of an article made from an item's summary
_DAY_ONLY = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")
_TAG = re.compile(r"<[^>]*>")
_BLOCK_END = re.compile(r"</?(?:p|br|div|li|h[1-6]|blockquote)\b[^>]*>", re.I)


def summary_text(summary: Optional[str]) -> str:
    """An item's summary as plain text: block tags become line breaks, other tags go, entities are decoded."""
    if not summary:
        return ""
    text = _TAG.sub("", _BLOCK_END.sub("\n", summary))
    return html.unescape(text).strip()


def _words(text: Optional[str]) -> int:
    return len((text or "").split())


def _page_date_is_less(page_date: Optional[str], item_date: dt.datetime, parse) -> bool:
    """The page states no date, or only the day the item's timestamp falls on."""
    if page_date is None:
        return True
    if not _DAY_ONLY.match(str(page_date)):
        return False
    day = parse(page_date)
    return day is not None and abs(item_date - day) < dt.timedelta(days=2)


def apply_item(parsed: ParsedArticle, item: FeedItem, page_url: Optional[str], parse_date) -> None:
    """Fill in `parsed` from the feed item where the page has less (see the module's docstring).

    `parse_date` reads the page's date string (transforms.dates.parse_timestamp), passed in so this module
    does not decide how page dates are read.
    """
    if item.title and _words(item.title) > _words(parsed.title):
        parsed.title = item.title
    parsed.byline = parsed.byline or item.author
    parsed.url = parsed.url or page_url or item.link
    parsed.source = parsed.source or domain_of(parsed.url)
    if item.published_at is not None and _page_date_is_less(parsed.published, item.published_at, parse_date):
        parsed.published, parsed.published_from = item.published_at.isoformat(), FEED_SOURCE


def summary_article(item: FeedItem) -> Optional[ParsedArticle]:
    """The article an item's summary makes when its page is unavailable; None when it has no summary text."""
    body = summary_text(item.summary)
    if not body:
        return None
    return ParsedArticle(
        body=body,
        input_format=SUMMARY_FORMAT,
        title=item.title,
        byline=item.author,
        url=item.link,
        source=domain_of(item.link),
        published=item.published_at.isoformat() if item.published_at else None,
        published_from=FEED_SOURCE,
    )
