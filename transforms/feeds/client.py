"""The polite client of one process: robots.txt, per-host gap and concurrency, then the bounded fetch.

This is the local form of the politeness rules in `policy` (threads of one process share a `HostGate`);
a Beam pipeline keys its fetch step by host and keeps the same `HostState` in keyed state instead. Every
request - robots.txt included - passes the gate, so the gap a host sees is the gap the rules promise.
Redirect targets are checked against their robots.txt, and each redirect waits for its host's gap (`hop`)
inside the request's slot; a redirect to another host takes no slot there (rare for feeds).
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Optional

from transforms.feeds import policy
from transforms.feeds.fetch import FetchConfig, Fetcher, FetchError, FetchResult, Validators
from transforms.feeds.policy import HostState, PolitenessRules
from transforms.feeds.robots import RobotsCache


class HostGate:
    """Blocks a thread until the rules let it start a request to a host; clock and sleep are injectable."""

    def __init__(
        self,
        rules: PolitenessRules = PolitenessRules(),
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.rules, self.clock, self.sleep = rules, clock, sleep
        self.hosts: dict[str, HostState] = {}
        self._hopping: dict[str, int] = {}  # redirects waiting for their host's gap: they go before new requests
        self._lock = threading.Lock()

    def enter(self, host: str) -> None:
        while True:
            with self._lock:
                state = self.hosts.get(host, HostState())
                wait = policy.wait_time(state, self.clock(), self.rules)
                if wait <= 0 and self._hopping.get(host):
                    wait = policy.FULL_RECHECK  # a request in flight has a redirect to follow first
                if wait <= 0:
                    self.hosts[host] = policy.started(state, self.clock())
                    return
            self.sleep(min(wait, 1.0))  # then checked again: another thread may have finished meanwhile

    def seed(self, host: str, state: HostState) -> None:
        """Start a host from `state` (kept elsewhere: Beam's keyed state) unless this gate already knows it better."""
        with self._lock:
            known = self.hosts.get(host)
            if known is None or (known.last_start or 0.0) < (state.last_start or 0.0):
                self.hosts[host] = state.model_copy(update={"in_flight": known.in_flight if known else 0})

    def state(self, host: str) -> HostState:
        with self._lock:
            return self.hosts.get(host, HostState())

    def hop(self, host: str, seconds_left: float = float("inf")) -> bool:
        """A redirect inside a request that holds its slot: wait for the host's gap (not for a slot), then start,
        before any new request to the host (else new requests could starve it past its request's deadline).
        False, at once, when the host may not be asked within `seconds_left` (its gap, a backoff, a Retry-After)."""
        until = self.clock() + seconds_left
        with self._lock:
            self._hopping[host] = self._hopping.get(host, 0) + 1
        try:
            while True:
                with self._lock:
                    state = self.hosts.get(host, HostState())
                    wait = policy.wait_time(state.model_copy(update={"in_flight": 0}), self.clock(), self.rules)
                    if wait <= 0:
                        self.hosts[host] = state.model_copy(update={"last_start": self.clock()})
                        return True
                    if wait > until - self.clock():
                        return False
                self.sleep(min(wait, 1.0))
        finally:
            with self._lock:
                self._hopping[host] -= 1

    def leave(self, host: str, result: FetchResult) -> None:
        with self._lock:
            state = self.hosts.get(host, HostState())
            failed = policy.is_host_failure(result)
            self.hosts[host] = policy.finished(state, self.clock(), failed, result.retry_after, self.rules)

    def set_crawl_delay(self, host: str, delay: Optional[float]) -> None:
        with self._lock:
            self.hosts[host] = policy.with_crawl_delay(self.hosts.get(host, HostState()), delay)


class PoliteClient:
    """GET with manners: robots.txt first (cached), then the host gate, then `Fetcher.get`."""

    def __init__(self, config: FetchConfig = FetchConfig(), gate: Optional[HostGate] = None, robots: bool = True):
        self.gate = gate or HostGate()
        self.robots = RobotsCache(lambda url: self._gated(self.robots_fetcher, url)) if robots else None
        hop = lambda url, left: self.gate.hop(policy.host_key(url), left)  # noqa: E731 - a redirect waits its gap
        self.fetcher = Fetcher(config, allowed=self._allowed if robots else None, before_hop=hop)
        self.robots_fetcher = Fetcher(config)  # robots.txt's own redirects are not checked against robots.txt

    def _allowed(self, url: str) -> bool:
        return self.robots.rules(url).allowed(url)

    def _gated(self, fetcher: Fetcher, url: str, validators=None, accept: str = "*/*") -> FetchResult:
        host = policy.host_key(url)
        self.gate.enter(host)
        result = None
        try:
            result = fetcher.get(url, validators, accept)
            return result
        finally:
            self.gate.leave(host, result or FetchResult(url=url, final_url=url, error=FetchError.CONNECTION))

    def get(self, url: str, validators: Optional[Validators] = None, accept: str = "*/*") -> FetchResult:
        if self.robots is not None:
            rules = self.robots.rules(url)
            self.gate.set_crawl_delay(policy.host_key(url), rules.crawl_delay())
            if not rules.allowed(url):
                # A site whose robots.txt could not be read is treated as down (RFC 9309), and reported as such.
                down = rules.parsed is None and not rules.allow_all
                error = FetchError.CONNECTION if down else FetchError.ROBOTS_DISALLOWED
                return FetchResult(url=url, final_url=url, error=error, detail=f"disallowed by {rules.reason}")
        return self._gated(self.fetcher, url, validators, accept)
