"""Per-host politeness as pure functions over a small serializable state.

The rules (Media Cloud's fetcher uses the same defaults): at most `max_concurrent` requests in flight to one
host, at least `min_gap` seconds between the starts of two requests to it (longer when its robots.txt asks
for a Crawl-delay), and no request before a Retry-After the host sent has passed. Failures push the host back
linearly (`failure_backoff` seconds more for each failure in a row, capped), and one success clears that.

Everything is a pure function of (`HostState`, now) returning a new `HostState`, with the clock passed in, so
the same code runs in a thread-safe gate inside one process (`client.HostGate`) and, later, in a Beam DoFn
keyed by host whose state cell holds the `HostState`: on a cluster the limit then holds across workers,
which a process-local lock cannot do. Times are seconds on whatever clock the caller uses (monotonic in a
process, wall-clock epoch seconds in Beam state, which must survive a worker restart).
"""

from __future__ import annotations

from typing import Optional
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

from transforms.feeds.fetch import FetchError, FetchResult

FULL_RECHECK = 0.1  # seconds


class PolitenessRules(BaseModel):
    """The limits, one set for every host (a Crawl-delay can only lengthen the gap, never shorten it)."""

    model_config = ConfigDict(frozen=True)

    min_gap: float = 5.0  # seconds between request starts to one host
    max_concurrent: int = 2
    max_crawl_delay: float = 600.0  # a larger Crawl-delay is capped here: a feed must not go silent for a day
    max_retry_after: float = 6 * 3600.0
    failure_backoff: float = 60.0  # added per failure in a row
    max_failure_backoff: float = 3600.0


class HostState(BaseModel):
    """What the rules need to remember about one host; small, so it fits a Beam state cell."""

    model_config = ConfigDict(frozen=True)

    last_start: Optional[float] = None
    in_flight: int = 0
    not_before: float = 0.0  # from Retry-After or failure backoff
    crawl_delay: float = 0.0  # from robots.txt
    failures: int = 0  # in a row


# Outcomes that say the host is struggling (back off from all of it), unlike a 404, which is one page's fault.
HOST_FAILURES = frozenset({FetchError.TIMEOUT, FetchError.CONNECTION, FetchError.HTTP_5XX})


def is_host_failure(result: FetchResult) -> bool:
    return result.error in HOST_FAILURES or result.status == 429


def host_key(url: str) -> str:
    """The politeness key of a URL: scheme-less lower-case host and port (www.x.org and x.org are two hosts)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host


def gap(state: HostState, rules: PolitenessRules) -> float:
    return max(rules.min_gap, min(state.crawl_delay, rules.max_crawl_delay))


def wait_time(state: HostState, now: float, rules: PolitenessRules) -> float:
    """Seconds until a request to the host may start (0: now). Infinite never: a host always comes back.

    With all `max_concurrent` slots taken the answer is `FULL_RECHECK`, a guess: the caller asks again then
    (the host's state changes only when a request ends, which the caller sees and the rules do not).
    """
    ready = state.not_before
    if state.last_start is not None:
        ready = max(ready, state.last_start + gap(state, rules))
    wait = max(0.0, ready - now)
    if state.in_flight >= rules.max_concurrent:
        wait = max(wait, FULL_RECHECK)
    return wait


def started(state: HostState, now: float) -> HostState:
    """A request to the host starts now (the caller checked `wait_time` first)."""
    return state.model_copy(update={"last_start": now, "in_flight": state.in_flight + 1})


def finished(
    state: HostState, now: float, failed: bool = False, retry_after: Optional[float] = None, rules=PolitenessRules()
) -> HostState:
    """A request to the host ended. `failed`: a timeout, connection error or 5xx/429 (not a 404: that is the
    page's fault, not the host's); `retry_after`: the seconds the host asked for."""
    failures = state.failures + 1 if failed else 0
    not_before = state.not_before
    if retry_after is not None:  # the host said how long; that replaces our guess
        not_before = max(not_before, now + min(retry_after, rules.max_retry_after))
    elif failed:
        not_before = max(not_before, now + min(failures * rules.failure_backoff, rules.max_failure_backoff))
    return state.model_copy(
        update={"in_flight": max(0, state.in_flight - 1), "failures": failures, "not_before": not_before}
    )


def with_crawl_delay(state: HostState, crawl_delay: Optional[float]) -> HostState:
    """The host's robots.txt Crawl-delay (None: it states none)."""
    return state.model_copy(update={"crawl_delay": float(crawl_delay or 0.0)})
