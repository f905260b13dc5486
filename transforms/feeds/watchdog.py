"""A hard wall-clock limit on one HTTP request: a timer that shuts its sockets when the deadline passes.

urllib3's timeouts bound each socket read, not the request. The body's read loop in `fetch` checks a deadline
between reads, but the status line and headers are read inside http.client, where a server sending a header
byte every tenth of a second holds the thread for as long as it likes. So each request also gets a timer:
the connections the request takes from the pool are registered with it, and when it fires it shuts their
sockets down, which makes the blocked read return at once. A finished request cancels its timer first, so a
connection already handed back to the pool (and maybe to another request) is never touched.

The registration hooks `HTTPConnectionPool._get_conn`, the one place every connection - new or reused
keep-alive - passes through; it is urllib3 2.x's internal API, and urllib3 is pinned below 3 for that reason.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Iterator

import urllib3

_active = threading.local()


class Watch:
    """The connections of one request and whether its deadline has fired."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.connections: list = []
        self.fired = False
        self.done = False

    def add(self, connection) -> None:
        with self.lock:
            self.connections.append(connection)
            late = self.fired
        if late:
            _shut(connection)

    def fire(self) -> None:
        with self.lock:
            if self.done:
                return
            self.fired = True
            connections = list(self.connections)
        for connection in connections:
            _shut(connection)


def _shut(connection) -> None:
    sock = getattr(connection, "sock", None)
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class _WatchedMixin:
    def _get_conn(self, timeout=None):
        connection = super()._get_conn(timeout)
        watch = getattr(_active, "watch", None)
        if watch is not None:
            watch.add(connection)
        return connection


class _WatchedHTTPPool(_WatchedMixin, urllib3.HTTPConnectionPool):
    pass


class _WatchedHTTPSPool(_WatchedMixin, urllib3.HTTPSConnectionPool):
    pass


def watched_pool_manager(**kwargs) -> urllib3.PoolManager:
    """A PoolManager whose connections a `deadline` in the same thread can cut."""
    manager = urllib3.PoolManager(**kwargs)
    manager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}
    return manager


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[Watch]:
    """Within the block, requests of this thread on a watched pool are cut `seconds` from now."""
    watch = Watch()
    timer = threading.Timer(max(0.0, seconds), watch.fire)
    timer.daemon = True
    previous = getattr(_active, "watch", None)
    _active.watch = watch
    timer.start()
    try:
        yield watch
    finally:
        with watch.lock:
            watch.done = True
        timer.cancel()
        _active.watch = previous
