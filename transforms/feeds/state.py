"""What newsbeam has already fetched from feeds: canonical URLs and the seen-item store in the output folder.

An article is fetched once. Its key is the item's guid (scoped by feed: short guids such as the Korea Times'
`333483` are only unique within one feed) and its canonical URL (global: the same story in two feeds is one
fetch). An item is seen when any of its keys is; marking it records all of them, so a guid that changes
under a stable link, or a link that gains a tracking parameter, does not fetch the page again.

The store is one JSON file in the output folder, written whole through `atomic_write`, so a run killed while
saving leaves the previous store, and a restart against the same output folder fetches nothing twice.
Entries not seen for `retention_days` are dropped on save: the store stays as large as the feeds' windows.
Each feed's validators (ETag, Last-Modified, body hash), schedule and counters live in the same file, so
the item keys and the conditional GET that decides whether to look at items at all can never disagree.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from typing import Iterable, Optional
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict

from transforms.feeds.fetch import Validators
from transforms.feeds.parse import FeedItem
from transforms.feeds.schedule import FeedSchedule
from transforms.files import atomic_write

# Query parameters that say how a reader arrived, not which page it is. Prefixes end with "_".
TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "piwik_", "hsa_", "oly_", "vero_", "__hs", "_hs")
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid", "igshid",
        "mkt_tok", "_ga", "_gl", "ocid", "cmpid", "s_cid", "ns_mchannel", "ns_source", "ns_campaign",
        "ns_linkname", "ns_fee", "at_medium", "at_campaign", "ref_src", "xtor", "sr_share", "ncid", "soc_src",
        "soc_trk", "smid", "icid",
    }
)  # fmt: skip
STORE_NAME = "feeds_seen.json"
FORMAT_VERSION = 1


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """`url` with a lower-case scheme and host, no default port, no fragment, no tracking parameters.

    Other parameters are kept, in their order (`?id=7` is often the article), and the path is left as is
    (case matters in paths); tracking parameters are named in `TRACKING_PARAMS` and `TRACKING_PREFIXES`, and
    a parameter merely unknown is kept, since dropping the one that names the article merges two articles.
    A URL urlsplit cannot read comes back unchanged.
    """
    try:
        parts = urlsplit(url.strip())
        host, port = (parts.hostname or "").lower(), parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    if "@" in parts.netloc:
        host = f"{parts.netloc.rsplit('@', 1)[0]}@{host}"
    # Filtered as text, so the kept parameters keep their exact spelling ("?fl" stays "?fl", not "?fl=").
    query = "&".join(p for p in parts.query.split("&") if p and not _is_tracking(unquote_plus(p.split("=", 1)[0])))
    return urlunsplit((scheme, host, parts.path or "/", query, ""))


def item_keys(feed_url: str, item: FeedItem) -> tuple[str, ...]:
    """The keys an item is known by: `guid <feed> <guid>` and `url <canonical link>`, whichever it has."""
    keys = []
    if item.guid:
        keys.append(f"guid {canonical_url(feed_url)} {item.guid}")
    if item.link:
        keys.append(f"url {canonical_url(item.link)}")
    return tuple(keys)


def unseen(feed_url: str, items: Iterable[FeedItem], store: "SeenStore") -> tuple[FeedItem, ...]:
    """The items of a poll not fetched before, each once (a feed may list one story twice); marks nothing:
    the caller marks an item when its article is committed, so a crash before the commit fetches it again."""
    out, keys_now = [], set()
    for item in items:
        keys = item_keys(feed_url, item)
        if keys and not store.is_seen(keys) and not keys_now.intersection(keys):
            out.append(item)
            keys_now.update(keys)
    return tuple(out)


class FeedRecord(BaseModel):
    """What is remembered per feed between polls and restarts: validators, schedule and counters."""

    model_config = ConfigDict(frozen=True)

    validators: Validators = Validators()
    schedule: Optional[FeedSchedule] = None
    new_items: int = 0  # over all polls
    errors: int = 0  # over all polls
    last_http_status: Optional[int] = None


class SeenStore:
    """The keys of fetched items with the day each was last in a feed, and each feed's `FeedRecord`."""

    def __init__(self, path: str, retention_days: int = 180):
        self.path, self.retention_days = path, retention_days
        self.seen: dict[str, str] = {}  # key -> ISO date last seen
        self.feeds: dict[str, FeedRecord] = {}  # feed URL -> record
        # A stream's feed micro-batches, summed, and its watermark after the last: what a restart takes up again (a
        # watched folder keeps its own in its done files).
        self.stream: dict = {}
        self.dirty = False

    @classmethod
    def in_folder(cls, output: str, retention_days: int = 180) -> "SeenStore":
        """The store of an output folder, loaded if it exists."""
        store = cls(os.path.join(output, STORE_NAME) if "://" not in output else f"{output.rstrip('/')}/{STORE_NAME}")
        store.retention_days = retention_days
        store.load()
        return store

    def load(self) -> None:
        data = _read(self.path)
        if data is None:
            return
        document = json.loads(data)
        if document.get("version") != FORMAT_VERSION:
            raise ValueError(f"{self.path}: unknown store version {document.get('version')!r}")
        self.seen = dict(document.get("seen", {}))
        self.feeds = {url: FeedRecord.model_validate(record) for url, record in document.get("feeds", {}).items()}
        self.stream = dict(document.get("stream", {}))

    def record(self, feed_url: str) -> FeedRecord:
        return self.feeds.get(feed_url, FeedRecord())

    def set_record(self, feed_url: str, record: FeedRecord) -> None:
        if self.feeds.get(feed_url) != record:
            self.feeds[feed_url] = record
            self.dirty = True

    def is_seen(self, keys: Iterable[str]) -> bool:
        return any(key in self.seen for key in keys)

    def mark(self, keys: Iterable[str], today: Optional[dt.date] = None) -> None:
        stamp = (today or dt.datetime.now(dt.timezone.utc).date()).isoformat()
        for key in keys:
            if self.seen.get(key) != stamp:
                self.seen[key] = stamp
                self.dirty = True

    def save(self, today: Optional[dt.date] = None) -> None:
        """Write the store (pruned) in one atomic replace; a no-op when nothing changed since the load."""
        if not self.dirty:
            return
        cutoff = (
            (today or dt.datetime.now(dt.timezone.utc).date()) - dt.timedelta(days=self.retention_days)
        ).isoformat()
        self.seen = {key: day for key, day in self.seen.items() if day >= cutoff}
        document = {
            "version": FORMAT_VERSION,
            "feeds": {url: record.model_dump(mode="json") for url, record in sorted(self.feeds.items())},
            "seen": dict(sorted(self.seen.items())),
            **({"stream": self.stream} if self.stream else {}),
        }
        atomic_write(self.path, json.dumps(document, ensure_ascii=False, indent=0).encode("utf-8"))
        self.dirty = False


def _read(path: str) -> Optional[bytes]:
    if "://" not in path:
        try:
            with open(path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None
    from apache_beam.io.filesystems import FileSystems  # only for remote paths: local callers need not import Beam

    if not FileSystems.exists(path):
        return None
    with FileSystems.open(path) as f:
        return f.read()
