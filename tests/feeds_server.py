"""A local HTTP server for the feed tests: the recorded feeds and site, plus the ways servers misbehave.

Serves ../shared/corpus/feeds read in place, the pages a test puts in `pages`, and a handful of hostile
endpoints (a timeout, a slow drip, a redirect loop, an oversized body, a gzip bomb, a 503 with Retry-After,
a robots.txt with Disallow and Crawl-delay). Every request is logged with the server's own monotonic clock,
so the tests measure the gaps and the concurrency a host really saw, not what the client believes it did.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import threading
import time
from pathlib import Path
from typing import Optional

from tests.conftest import CORPUS

FEEDS = CORPUS / "feeds"
PLACEHOLDER = b"<BASE_WEBSITE_URL/>"
ROBOTS = b"User-agent: *\nDisallow: /private/\nCrawl-delay: 1\n"
BOMB_SIZE = 64 * 1024 * 1024  # decompressed; about 64 KB on the wire
_BOMB: list[bytes] = []


def _bomb() -> bytes:
    if not _BOMB:
        _BOMB.append(gzip.compress(b"\0" * BOMB_SIZE, compresslevel=9))
    return _BOMB[0]


class LoggedRequest:
    def __init__(self, path: str, headers, start: float):
        self.path, self.headers, self.start, self.end = path, headers, start, None


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "FeedServer"

    def log_message(self, *args):  # quiet: the request log is the record
        pass

    def do_GET(self):
        entry = self._entry = LoggedRequest(self.path, dict(self.headers), time.monotonic())
        with self.server.lock:
            self.server.log.append(entry)
        try:
            self._route()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up on purpose (timeouts, caps)
        finally:
            entry.end = time.monotonic()

    def _send(self, status: int, body: bytes = b"", headers: Optional[dict] = None):
        self.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        # The request's end is set before the client can have the whole answer: a test that reads the log as soon
        # as its client returns never finds the handler still between its last write and its `finally`.
        self._entry.end = time.monotonic()
        self.wfile.write(body)

    def _route(self):
        path = self.path.split("?", 1)[0]
        if path in self.server.pages:
            return self._page(*self.server.pages[path])
        hostile = {
            "/robots.txt": lambda: self._send(200, self.server.robots, {"Content-Type": "text/plain"}),
            "/missing": lambda: self._send(404, b"not here"),
            "/sleep": self._sleep,
            "/drip": self._drip,
            "/drip-headers": self._drip_headers,
            "/big": self._big,
            "/bomb": lambda: self._send(200, _bomb(), {"Content-Encoding": "gzip", "Content-Type": "text/html"}),
            "/busy": lambda: self._send(503, b"busy", {"Retry-After": "1"}),
            "/slow": self._slow,
        }
        if path in hostile:
            return hostile[path]()
        if path.startswith("/loop/"):
            other = "/loop/b" if path == "/loop/a" else "/loop/a"
            return self._send(302, b"", {"Location": other})
        if path == "/to-private":
            return self._send(302, b"", {"Location": "/private/page"})
        if path.startswith("/chain/"):
            left = int(path.rsplit("/", 1)[1])
            return self._send(302, b"", {"Location": f"/chain/{left - 1}"}) if left else self._send(200, b"end")
        return self._file(path)

    def _file(self, path: str):
        noetag = path.startswith("/noetag/")
        relative = path.removeprefix("/noetag/").lstrip("/")
        local = (FEEDS / relative).resolve() if not relative.startswith("gv/") else FEEDS / "sites" / relative
        if ".." in relative or not local.is_file():
            return self._send(404, b"no such file")
        body = local.read_bytes().replace(PLACEHOLDER, self.server.base.encode())
        etag = '"' + hashlib.sha1(body).hexdigest() + '"'
        if not noetag and self.headers.get("If-None-Match") == etag:
            return self._send(304, b"", {"ETag": etag})
        kind = "text/html; charset=utf-8" if local.suffix == ".html" else "application/rss+xml"
        self._send(200, body, {"Content-Type": kind, **({} if noetag else {"ETag": etag})})

    def _page(self, content_type: str, body: bytes):
        """A page or feed the test wrote (FeedServer.pages), with an ETag, so a second GET can be a 304."""
        body = body.replace(PLACEHOLDER, self.server.base.encode())
        etag = '"' + hashlib.sha1(body).hexdigest() + '"'
        if self.headers.get("If-None-Match") == etag:
            return self._send(304, b"", {"ETag": etag})
        self._send(200, body, {"Content-Type": content_type, "ETag": etag})

    def _sleep(self):
        time.sleep(self.server.sleep_seconds)  # past the client's read timeout, before any header
        self._send(200, b"late")

    def _slow(self):
        time.sleep(0.4)  # a normal but slow page, for the concurrency test
        self._send(200, b"slow")

    def _drip(self):
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        for _ in range(1000):  # a byte every 0.1 s: each read is quick, the response takes 100 s
            self.wfile.write(b"x")
            self.wfile.flush()
            time.sleep(0.1)

    def _drip_headers(self):
        self.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for _ in range(1000):  # a header that never ends, a byte every 0.1 s
            self.wfile.write(b"X")
            self.wfile.flush()
            time.sleep(0.1)

    def _big(self):
        size = 11 * 1024 * 1024
        self.send_response(200)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        chunk = b"y" * (1024 * 1024)
        for _ in range(11):
            self.wfile.write(chunk)


class FeedServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, robots: bytes = ROBOTS, sleep_seconds: float = 3.0):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.robots, self.sleep_seconds = robots, sleep_seconds
        self.log: list[LoggedRequest] = []
        self.pages: dict[str, tuple[str, bytes]] = {}  # path -> (content type, body): what a test serves
        self.lock = threading.Lock()
        self.base = f"http://127.0.0.1:{self.server_address[1]}/"
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    def handle_error(self, request, client_address) -> None:
        pass  # clients hang up on purpose here (timeouts, size caps); the tests check the client's side

    def url(self, path: str) -> str:
        return self.base + path.lstrip("/")

    def requests(self, prefix: str = "/") -> list[LoggedRequest]:
        with self.lock:
            return [r for r in self.log if r.path.startswith(prefix)]

    def __enter__(self) -> "FeedServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()


def corpus_files(folder: str) -> list[Path]:
    return sorted(p for p in (FEEDS / folder).iterdir() if p.suffix in (".xml", ".rss"))
