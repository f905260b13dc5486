"""PollFeeds on its own, on the in-process FnApiRunner against the local server: records, outcomes, host backoff.

No chain and no model: quick. The driver-level runs are in test_feeds_pipeline.py.
"""

import datetime as dt
import time

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to

from tests.conftest import make_test_pipeline
from tests.feeds_server import FEEDS, FeedServer
from transforms.feeds.fetch import FetchConfig
from transforms.feeds.parse import FeedSource
from transforms.feeds.policy import HostState, PolitenessRules, host_key
from transforms.feeds.state import SeenStore
from transforms.feeds.steps import FeedPoll, FetchSettings, PollFeeds, read_outcomes

pytestmark = pytest.mark.skipif(not FEEDS.is_dir(), reason=f"the recorded feeds are not here: {FEEDS}")
NOW = dt.datetime(2026, 12, 2, tzinfo=dt.timezone.utc)
QUICK = FetchSettings(
    fetch=FetchConfig(connect_timeout=1.0, read_timeout=1.0, deadline=2.0),
    politeness=PolitenessRules(min_gap=0.02, failure_backoff=0.0),
)


@pytest.fixture(scope="module")
def server():
    with FeedServer(robots=b"User-agent: *\nAllow: /\n") as running:
        yield running


def _run(server, settings: FetchSettings, tmp_path, store: SeenStore) -> tuple[list, dict]:
    """Poll the Global Voices feed once, check its records (every page), return the outcomes."""
    staging = str(tmp_path / "staging")
    poll = FeedPoll(source=FeedSource(url=server.url("gv/test.rss")))
    pages = [(server.url(f"gv/index_{n}.html"), True, True) for n in range(1, 16)]
    with make_test_pipeline() as p:
        out = p | beam.Create([poll]) | PollFeeds(settings, store.path, NOW, staging)
        uris = out[PollFeeds.RECORDS] | "Uris" >> beam.Map(lambda r: (r.uri, r.feed_item is not None, len(r.data) > 0))
        assert_that(uris, equal_to(pages))
        assert_that(out[PollFeeds.REJECTED], equal_to([]), label="NoRejected")
    return read_outcomes(staging)


def test_poll_feeds_fetches_each_new_item_and_stages_the_outcomes(server, tmp_path):
    """(A second poll with every item seen is in test_feeds_pipeline.py, through the driver.)"""
    store = SeenStore(str(tmp_path / "feeds_seen.json"))
    polls, hosts = _run(server, QUICK, tmp_path / "first", store)
    (outcome,) = polls
    assert outcome.status == 200 and outcome.items == 15 and len(outcome.new_keys) == 15
    assert outcome.validators.etag and outcome.stated_interval == 3600.0  # sy:updatePeriod hourly
    assert hosts[host_key(server.base)].last_start is not None


def test_a_host_backing_off_longer_than_a_request_is_not_asked_at_all(server, tmp_path):
    host = host_key(server.base)
    settings = QUICK.model_copy(update={"hosts": {host: HostState(not_before=time.time() + 3600, failures=3)}})
    before = len(server.log)
    store = SeenStore(str(tmp_path / "feeds_seen.json"))
    staging = str(tmp_path / "staging")
    with make_test_pipeline() as p:
        out = (
            p
            | beam.Create([FeedPoll(source=FeedSource(url=server.url("gv/test.rss")))])
            | PollFeeds(settings, store.path, NOW, staging)
        )
        assert_that(out[PollFeeds.RECORDS], equal_to([]))
    (outcome,), _ = read_outcomes(staging)
    assert outcome.error == "host_backoff" and "after 3 failures" in outcome.detail
    assert len(server.log) == before  # not even robots.txt


def _most_at_once(spans: list[tuple[float, float]]) -> int:
    return max(sum(s <= t < e for s, e in spans) for t, _ in spans)


def test_a_host_gets_its_concurrency_and_never_more_while_another_host_goes_ahead(tmp_path):
    """Two hosts (two servers), four slow pages each, max 2 at once per host, no gap: each server sees exactly
    2 at once, and the two hosts are fetched at the same time rather than one after the other."""
    settings = QUICK.model_copy(update={"politeness": PolitenessRules(min_gap=0.0, max_concurrent=2)})
    with FeedServer(robots=b"") as a, FeedServer(robots=b"") as b:
        links = [a.url(f"slow?{n}") for n in range(4)] + [b.url(f"slow?{n}") for n in range(4)]
        items = "".join(f"<item><guid>{n}</guid><link>{link}</link></item>" for n, link in enumerate(links))
        a.pages["/mixed.rss"] = ("application/rss+xml", f"<rss><channel>{items}</channel></rss>".encode())
        with make_test_pipeline() as p:
            polls = p | beam.Create([FeedPoll(source=FeedSource(url=a.url("mixed.rss")))])
            out = polls | PollFeeds(settings, str(tmp_path / "seen.json"), NOW, str(tmp_path / "staging"))
            assert_that(out[PollFeeds.RECORDS] | beam.Map(lambda r: r.uri), equal_to(links))
        spans_a = [(r.start, r.end) for r in a.requests("/slow")]
        spans_b = [(r.start, r.end) for r in b.requests("/slow")]
    assert _most_at_once(spans_a) == 2 and _most_at_once(spans_b) == 2
    assert _most_at_once(spans_a + spans_b) >= 3  # the hosts overlapped: one host's wait did not hold the other
