"""robots.txt: may newsbeam fetch this URL, and how slowly; parsed with protego, cached per host.

protego, not `urllib.robotparser`: the standard library ignores `*` and `$` in paths, so `Disallow: /*?share=`
blocks nothing there. The answer to a failed robots.txt fetch follows RFC 9309: a 4xx means there are no
rules (fetch anything), a 5xx or no answer means the site is unreachable and everything is disallowed until
the next try, so newsbeam never crawls a site whose robots.txt it could not read because the site was down.
Rules are kept `ttl` seconds (RFC 9309 asks for at most 24 hours).
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Optional
from urllib.parse import urlsplit, urlunsplit

from protego import Protego

from transforms.feeds.fetch import FetchResult

AGENT = "newsbeam"  # the product token matched against User-agent lines
ROBOTS_MAX_BYTES = 512 * 1024  # Google reads the first 500 KiB; more is not a robots.txt


class RobotsRules:
    """One host's rules: everything allowed, everything disallowed, or a parsed robots.txt."""

    def __init__(self, parsed: Optional[Protego] = None, allow_all: bool = True, reason: str = ""):
        self.parsed, self.allow_all, self.reason = parsed, allow_all, reason

    @classmethod
    def from_fetch(cls, result: FetchResult) -> "RobotsRules":
        if result.ok:
            text = result.body[:ROBOTS_MAX_BYTES].decode("utf-8", errors="replace")
            return cls(Protego.parse(text), reason="robots.txt")
        if result.status is not None and 400 <= result.status < 500:
            return cls(allow_all=True, reason=f"robots.txt HTTP {result.status}: no rules")
        return cls(allow_all=False, reason=f"robots.txt unreachable ({result.error.value if result.error else '?'})")

    def allowed(self, url: str) -> bool:
        if self.parsed is not None:
            return self.parsed.can_fetch(url, AGENT)
        return self.allow_all

    def crawl_delay(self) -> Optional[float]:
        if self.parsed is None:
            return None
        delay = self.parsed.crawl_delay(AGENT)
        rate = self.parsed.request_rate(AGENT)  # "Request-rate: 1/10s" is a gap of 10 s too
        if rate is not None and rate.requests:
            delay = max(delay or 0.0, rate.seconds / rate.requests)
        return delay


def robots_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/robots.txt", "", ""))


class RobotsCache:
    """Rules per scheme+host, fetched on first use with `fetch` (the polite client's own GET) and kept `ttl` s.

    Thread-safe, and one fetch per host: threads asking for a host being fetched wait for that fetch (four
    threads starting on a new host would otherwise send it four robots.txt requests at once).
    """

    def __init__(
        self, fetch: Callable[[str], FetchResult], ttl: float = 24 * 3600.0, clock: Callable[[], float] = time.monotonic
    ):
        self.fetch, self.ttl, self.clock = fetch, ttl, clock
        self._rules: dict[str, tuple[float, RobotsRules]] = {}
        self._lock = threading.Lock()
        self._host_locks: dict[str, threading.Lock] = {}

    def rules(self, url: str) -> RobotsRules:
        key = robots_url(url)
        with self._lock:
            host_lock = self._host_locks.setdefault(key, threading.Lock())
        with host_lock:
            cached = self._rules.get(key)
            if cached is not None and self.clock() - cached[0] < self.ttl:
                return cached[1]
            rules = RobotsRules.from_fetch(self.fetch(key))
            # An unreachable site is asked again after ten minutes, not a day later: it may be back soon.
            stamp = self.clock() if rules.parsed is not None or rules.allow_all else self.clock() - self.ttl + 600
            self._rules[key] = (stamp, rules)
            return rules
