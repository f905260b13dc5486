"""One HTTP GET, bounded in time and size, that tells the caller exactly what happened.

A fetch worker must not be held by one server, whatever it does: urllib3's read timeout bounds each socket
read, not the response, so a server dripping a byte a second never trips it. The body is therefore read
with `read1` (returns whatever has arrived) in a loop that checks a wall-clock deadline and shortens the
socket's timeout to the time left, and the status line and headers, read inside http.client, are bounded by
a watchdog timer that shuts the request's sockets at the deadline (`watchdog`): a request ends within
`deadline` seconds whatever the server does. The body is decompressed while it streams and counted after
decompression, so a gzip bomb stops at the size cap instead of filling memory. Redirects are followed by
hand, at most `max_redirects`, and a redirect back to a URL already visited is reported as a loop rather
than burning the remaining hops.

Results are data (`FetchResult`), never exceptions: the error codes are a small stable catalogue so the
manifest, the `rejected` rows and the schedule can count and react to them. Politeness (per-host gaps,
concurrency, robots.txt) is not here: see `policy`, `robots` and `client`.
"""

from __future__ import annotations

import email.utils
import enum
import hashlib
import socket
import time
from typing import Callable, Iterator, NamedTuple, Optional
from urllib.parse import urljoin

import urllib3
from pydantic import BaseModel, ConfigDict

from transforms.feeds.watchdog import deadline, watched_pool_manager
from transforms.urls import safe_url

VERSION = "0.1"
MB = 1024 * 1024
# What a feed poll asks for: feed types first, then any XML, then anything (some servers send feeds as text/html).
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, "
    "*/*;q=0.5"
)


class FetchError(str, enum.Enum):
    """Why a fetch gave no usable body. Stable names: they end up in manifests and `rejected` rows."""

    TIMEOUT = "timeout"  # connect or read timeout, or the total deadline passed
    TOO_LARGE = "too_large"  # the (decompressed) body passed the size cap
    REDIRECT_LOOP = "redirect_loop"  # a redirect back to a URL of the same chain
    TOO_MANY_REDIRECTS = "too_many_redirects"
    ROBOTS_DISALLOWED = "robots_disallowed"  # robots.txt forbids the URL; no request was made
    HTTP_4XX = "http_4xx"
    HTTP_5XX = "http_5xx"
    CONNECTION = "connection"  # DNS, refused, reset, TLS, a malformed response
    BAD_URL = "bad_url"  # not an absolute http(s) URL (also a redirect to one)
    DECODING = "decoding"  # a corrupt gzip/deflate body
    HOST_BACKOFF = "host_backoff"  # the host must not be asked for longer than a request's deadline; no request made


class FetchConfig(BaseModel):
    """How patient and how greedy one request may be, and who is asking."""

    model_config = ConfigDict(frozen=True)

    connect_timeout: float = 10.0
    read_timeout: float = 30.0  # one socket read
    deadline: float = 60.0  # the whole request, redirects included
    max_bytes: int = 10 * MB
    max_redirects: int = 5
    contact_url: Optional[str] = None  # put in the User-Agent so a site owner can reach whoever runs newsbeam

    @property
    def user_agent(self) -> str:
        contact = f"; +{self.contact_url}" if self.contact_url else ""
        return f"newsbeam/{VERSION} (news monitoring{contact})"


class Validators(BaseModel):
    """What the previous fetch of a URL left to make the next one conditional."""

    model_config = ConfigDict(frozen=True)

    etag: Optional[str] = None
    last_modified: Optional[str] = None
    body_sha256: Optional[str] = None  # some servers keep a stale ETag and change the body, or the reverse


class FetchResult(BaseModel):
    """What one fetch returned. `ok` is a usable 2xx body; `unchanged` is a 304 or the same body hash."""

    model_config = ConfigDict(frozen=True)

    url: str
    final_url: str
    status: Optional[int] = None  # the last HTTP status, None when no response came
    headers: dict[str, str] = {}  # lower-case names
    body: bytes = b""
    body_sha256: Optional[str] = None
    unchanged: bool = False
    error: Optional[FetchError] = None
    detail: str = ""
    redirects: tuple[str, ...] = ()
    retry_after: Optional[float] = None  # seconds, from a 429/503's Retry-After
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300

    @property
    def validators(self) -> Validators:
        return Validators(
            etag=self.headers.get("etag"), last_modified=self.headers.get("last-modified"), body_sha256=self.body_sha256
        )


def retry_after_seconds(value: Optional[str], now: float) -> Optional[float]:
    """Retry-After as seconds from `now`: a number of seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)


class _Hop(NamedTuple):
    """The last response of a redirect chain."""

    final_url: str
    status: int
    headers: dict[str, str]
    body: bytes
    chain: tuple[str, ...]


class _Stop(Exception):
    def __init__(self, error: FetchError, detail: str):
        super().__init__(detail)
        self.error, self.detail = error, detail


def _set_socket_timeout(response, seconds: float) -> None:
    """Shorten the socket's timeout to the time left, so no single read outlives the deadline (best effort)."""
    sock = getattr(getattr(response, "connection", None), "sock", None)
    if isinstance(sock, socket.socket):
        sock.settimeout(max(0.05, seconds))


class Fetcher:
    """GETs a URL with a shared urllib3 pool; thread-safe. `clock` is injectable for tests of the deadline."""

    def __init__(
        self,
        config: FetchConfig = FetchConfig(),
        clock: Callable[[], float] = time.monotonic,
        allowed: Optional[Callable[[str], bool]] = None,
        before_hop: Optional[Callable[[str, float], bool]] = None,
    ):
        """`allowed` is asked about every redirect target (robots.txt): a redirect must not lead around it.
        `before_hop(target, seconds_left)` is called with each redirect target before it is requested (the polite
        client waits for the host's gap there: a redirect is a request too); False means the host may not be asked
        before the deadline, and the request ends as host_backoff."""
        self.config, self.clock, self.allowed, self.before_hop = config, clock, allowed, before_hop
        self.pool = watched_pool_manager(num_pools=64, maxsize=4, retries=False)
        self.headers = {"User-Agent": config.user_agent, "Accept-Encoding": "gzip, deflate"}

    def get(self, url: str, validators: Optional[Validators] = None, accept: str = "*/*") -> FetchResult:
        started = self.clock()
        current = safe_url(url)
        if current is None:
            return FetchResult(url=url, final_url=url, error=FetchError.BAD_URL, detail="not an http(s) URL")
        hop = _Hop(current, 0, {}, b"", ())
        with deadline(self.config.deadline) as watch:
            try:
                for hop in self._hops(hop, validators, accept, started + self.config.deadline):
                    pass
            except _Stop as stop:
                error, detail = stop.error, stop.detail
                if watch.fired:  # a socket the watchdog cut shows up as a broken connection or body
                    error, detail = FetchError.TIMEOUT, f"deadline of {self.config.deadline:g} s passed"
                return FetchResult(
                    url=url,
                    final_url=hop.final_url,
                    status=hop.status or None,
                    headers=hop.headers,
                    error=error,
                    detail=detail,
                    redirects=hop.chain,
                    elapsed=self.clock() - started,
                )
        return self._result(url, hop, validators, started)

    def _hops(self, hop: _Hop, validators: Optional[Validators], accept: str, end: float) -> Iterator[_Hop]:
        """Each response of the redirect chain as it arrives; the last one carries the body."""
        while True:
            conditional = _conditional(validators if not hop.chain else None)  # the validators are the URL's
            if hop.chain and self.before_hop is not None and not self.before_hop(hop.final_url, end - self.clock()):
                raise _Stop(FetchError.HOST_BACKOFF, f"redirect to {hop.final_url}: its host may not be asked in time")
            response = self._request(hop.final_url, {**self.headers, "Accept": accept, **conditional}, end)
            headers = {k.lower(): v for k, v in response.headers.items()}
            hop = hop._replace(status=response.status, headers=headers)
            yield hop
            if response.status in (301, 302, 303, 307, 308) and "location" in headers:
                response.close()  # its body is not wanted; an unread body must not go back to the pool
                response.release_conn()
                hop = hop._replace(chain=hop.chain + (hop.final_url,))
                yield hop  # so a loop or a bad Location is reported with the chain that led to it
                hop = _Hop(self._next_hop(hop.final_url, headers["location"], hop.chain), 0, {}, b"", hop.chain)
                continue
            yield hop._replace(body=self._read(response, end))  # a 304 has none; reading returns the connection
            return

    def _next_hop(self, current: str, location: str, chain: tuple[str, ...]) -> str:
        target = safe_url(urljoin(current, location.strip()))
        if target is None:
            raise _Stop(FetchError.BAD_URL, f"redirect to {location[:200]!r}")
        if self.allowed is not None and not self.allowed(target):
            raise _Stop(FetchError.ROBOTS_DISALLOWED, f"redirect to {target}, disallowed by its robots.txt")
        if target in chain:
            raise _Stop(FetchError.REDIRECT_LOOP, f"{target} again after {len(chain)} redirects")
        if len(chain) > self.config.max_redirects:
            raise _Stop(FetchError.TOO_MANY_REDIRECTS, f"more than {self.config.max_redirects} redirects")
        return target

    def _request(self, url: str, headers: dict[str, str], end: float):
        left = end - self.clock()
        if left <= 0:
            raise _Stop(FetchError.TIMEOUT, "deadline passed")
        timeout = urllib3.Timeout(
            connect=min(self.config.connect_timeout, left), read=min(self.config.read_timeout, left)
        )
        try:
            return self.pool.request(
                "GET", url, headers=headers, redirect=False, preload_content=False, timeout=timeout
            )
        except urllib3.exceptions.NewConnectionError as exc:  # a ConnectTimeoutError subclass, for history's sake
            raise _Stop(FetchError.CONNECTION, f"{type(exc).__name__}: {exc}"[:300]) from None
        except (urllib3.exceptions.TimeoutError, socket.timeout) as exc:
            raise _Stop(FetchError.TIMEOUT, str(exc)[:300]) from None
        except urllib3.exceptions.LocationParseError as exc:
            raise _Stop(FetchError.BAD_URL, str(exc)[:300]) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise _Stop(FetchError.CONNECTION, f"{type(exc).__name__}: {exc}"[:300]) from None

    def _read(self, response, end: float) -> bytes:
        """The decompressed body, read in what-has-arrived slices until EOF, the deadline or the size cap."""
        parts, size, complete = [], 0, False
        try:
            while True:
                left = end - self.clock()
                if left <= 0:
                    raise _Stop(FetchError.TIMEOUT, f"deadline of {self.config.deadline:g} s passed after {size} bytes")
                _set_socket_timeout(response, min(self.config.read_timeout, left))
                chunk = response.read1(64 * 1024, decode_content=True)
                if not chunk:
                    complete = True
                    return b"".join(parts)
                size += len(chunk)
                if size > self.config.max_bytes:
                    raise _Stop(FetchError.TOO_LARGE, f"body over {self.config.max_bytes} bytes")
                parts.append(chunk)
        except (urllib3.exceptions.TimeoutError, socket.timeout):
            what = f"deadline of {self.config.deadline:g} s" if self.clock() >= end - 0.05 else "read timeout"
            raise _Stop(FetchError.TIMEOUT, f"{what} passed after {size} bytes") from None
        except urllib3.exceptions.DecodeError as exc:
            raise _Stop(FetchError.DECODING, str(exc)[:300]) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise _Stop(FetchError.CONNECTION, f"{type(exc).__name__}: {exc}"[:300]) from None
        finally:
            if not complete:
                response.close()  # half-read: the connection cannot be reused
            response.release_conn()

    def _result(self, url: str, hop: _Hop, validators: Optional[Validators], started: float) -> FetchResult:
        status, headers, body = hop.status, hop.headers, hop.body
        digest = hashlib.sha256(body).hexdigest() if 200 <= status < 300 else None
        unchanged = status == 304 or bool(digest and validators and validators.body_sha256 == digest)
        error = FetchError.HTTP_4XX if 400 <= status < 500 else FetchError.HTTP_5XX if status >= 500 else None
        retry = retry_after_seconds(headers.get("retry-after"), time.time()) if status in (429, 503) else None
        return FetchResult(
            url=url,
            final_url=hop.final_url,
            status=status,
            headers=headers,
            body=body,
            body_sha256=digest if status != 304 else (validators.body_sha256 if validators else None),
            unchanged=unchanged,
            error=error,
            detail=f"HTTP {status}" if error else "",
            redirects=hop.chain,
            retry_after=retry,
            elapsed=self.clock() - started,
        )


def _conditional(validators: Optional[Validators]) -> dict[str, str]:
    if validators is None:
        return {}
    out = {}
    if validators.etag:
        out["If-None-Match"] = validators.etag
    if validators.last_modified:
        out["If-Modified-Since"] = validators.last_modified
    return out
