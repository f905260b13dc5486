"""transforms.feeds fetch, robots and client against a real HTTP server on 127.0.0.1 started by the tests.

The hostile endpoints (timeout, slow drip, redirect loop, oversized body, gzip bomb, 503 + Retry-After,
robots.txt) need nothing from ../shared; the recorded feeds and the Global Voices site do and are skipped
without it. Gaps and concurrency are measured from the server's own request log.
"""

import datetime as dt
import threading
import time

import pytest

from tests.feeds_server import FEEDS, FeedServer
from transforms.feeds.client import HostGate, PoliteClient
from transforms.feeds.fetch import FEED_ACCEPT, FetchConfig, Fetcher, FetchError, retry_after_seconds
from transforms.feeds.parse import parse_feed
from transforms.feeds.policy import PolitenessRules
from transforms.feeds.state import SeenStore, item_keys, unseen

needs_corpus = pytest.mark.skipif(
    not FEEDS.is_dir(), reason=f"the recorded feeds are not here: {FEEDS} (a checkout of ../shared is needed)"
)
QUICK = FetchConfig(connect_timeout=1.0, read_timeout=0.5, deadline=1.5)
NO_WAIT = PolitenessRules(min_gap=0.0, failure_backoff=0.0)


@pytest.fixture(scope="module")
def server():
    with FeedServer() as running:
        yield running


def test_user_agent_names_newsbeam_and_the_contact_url(server):
    result = Fetcher(FetchConfig(contact_url="https://example.org/bot")).get(server.url("/missing"))
    agent = server.requests("/missing")[-1].headers["User-Agent"]
    assert agent.startswith("newsbeam/") and "+https://example.org/bot" in agent
    assert result.error == FetchError.HTTP_4XX and result.status == 404 and not result.ok


@needs_corpus
def test_a_second_get_with_the_etag_is_a_304_and_a_stale_etag_is_caught_by_the_body_hash(server):
    fetcher = Fetcher(QUICK)
    first = fetcher.get(server.url("/news/bbc.xml"))
    assert first.ok and first.headers["etag"] and len(first.body) > 1000 and not first.unchanged
    second = fetcher.get(server.url("/news/bbc.xml"), first.validators)
    assert second.status == 304 and second.unchanged and second.body == b"" and second.error is None
    assert server.requests("/news/bbc.xml")[-1].headers["If-None-Match"] == first.headers["etag"]
    # No ETag at all: the server answers 200 every time, and the same body hash says nothing changed.
    plain = fetcher.get(server.url("/noetag/news/bbc.xml"))
    again = fetcher.get(server.url("/noetag/news/bbc.xml"), plain.validators)
    assert again.status == 200 and again.unchanged and again.body_sha256 == first.body_sha256


def test_a_server_that_never_answers_times_out_at_the_read_timeout(server):
    started = time.monotonic()
    result = Fetcher(QUICK).get(server.url("/sleep"))
    assert result.error == FetchError.TIMEOUT and result.status is None
    assert time.monotonic() - started < 1.2


@pytest.mark.parametrize("path", ["/drip", "/drip-headers"])
def test_a_slow_drip_body_or_header_is_cut_at_the_total_deadline(server, path):
    started = time.monotonic()
    result = Fetcher(QUICK).get(server.url(path))  # each byte comes well within the read timeout
    took = time.monotonic() - started
    assert result.error == FetchError.TIMEOUT and "deadline" in result.detail
    assert 1.4 < took < 2.2


def test_a_redirect_loop_is_detected_and_long_chains_stop_after_five(server):
    loop = Fetcher(QUICK).get(server.url("/loop/a"))
    assert loop.error == FetchError.REDIRECT_LOOP and len(loop.redirects) == 2
    five = Fetcher(QUICK).get(server.url("/chain/5"))
    assert five.ok and five.body == b"end" and five.final_url.endswith("/chain/0") and len(five.redirects) == 5
    six = Fetcher(QUICK).get(server.url("/chain/6"))
    assert six.error == FetchError.TOO_MANY_REDIRECTS


def test_an_oversized_body_and_a_gzip_bomb_stop_at_the_size_cap(server):
    big = Fetcher(FetchConfig(deadline=10)).get(server.url("/big"))
    assert big.error == FetchError.TOO_LARGE and big.body == b""
    bomb = Fetcher(FetchConfig(deadline=10, max_bytes=1024 * 1024)).get(server.url("/bomb"))
    assert bomb.error == FetchError.TOO_LARGE


def test_bad_urls_and_refused_connections_are_errors_not_exceptions(server):
    assert Fetcher(QUICK).get("javascript:alert(1)").error == FetchError.BAD_URL
    port = server.server_address[1]
    closed = FeedServer()
    dead = closed.url("/x")
    closed.server_close()  # bound then closed: nothing listens there
    assert Fetcher(QUICK).get(dead).error == FetchError.CONNECTION, port
    down = PoliteClient(QUICK, gate=HostGate(NO_WAIT)).get(dead)  # its robots.txt unreachable: the site is down
    assert down.error == FetchError.CONNECTION and "robots.txt unreachable" in down.detail


def test_retry_after_is_read_and_the_host_is_not_asked_again_before_it(server):
    gate = HostGate(NO_WAIT)
    client = PoliteClient(QUICK, gate=gate, robots=False)
    busy = client.get(server.url("/busy"))
    assert busy.error == FetchError.HTTP_5XX and busy.retry_after == 1.0
    client.get(server.url("/missing"))
    first, then = server.requests("/busy")[-1], server.requests("/missing")[-1]
    assert then.start - first.start >= 0.95
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", dt.datetime(2015, 10, 21, 7, 27).timestamp()) == 60


def test_a_redirect_to_a_host_in_backoff_ends_at_once_not_after_the_backoff():
    """A redirect waits for its host's gap, but never past its request's deadline: a host backing off for an hour
    (Retry-After, failures) makes the hop give up at once, so no thread, bundle or stream is held."""
    from transforms.feeds.policy import HostState

    gate = HostGate(NO_WAIT)
    gate.seed("slow.example", HostState(not_before=gate.clock() + 3600))
    began = time.monotonic()
    assert gate.hop("slow.example", 1.5) is False
    assert time.monotonic() - began < 0.5
    assert gate.hop("free.example", 1.5) is True


def test_robots_txt_disallow_means_no_request_and_crawl_delay_widens_the_gap():
    with FeedServer() as server:  # its own server: the per-host log starts empty
        client = PoliteClient(QUICK, gate=HostGate(PolitenessRules(min_gap=0.2)))
        blocked = client.get(server.url("/private/page"))
        assert blocked.error == FetchError.ROBOTS_DISALLOWED
        around = client.get(server.url("/to-private"))  # a redirect must not lead around robots.txt
        assert around.error == FetchError.ROBOTS_DISALLOWED and around.status == 302
        for _ in range(2):
            assert client.get(server.url("/missing")).status == 404
        paths = [r.path for r in server.log]
        assert paths == ["/robots.txt", "/to-private", "/missing", "/missing"]  # robots once, /private/ never
        starts = [r.start for r in server.log]
        assert min(b - a for a, b in zip(starts, starts[1:])) >= 0.95  # Crawl-delay: 1 beats min_gap 0.2


def test_the_per_host_gap_and_concurrency_hold_as_the_server_sees_them():
    with FeedServer(robots=b"User-agent: *\nAllow: /\n") as server:
        client = PoliteClient(QUICK, gate=HostGate(PolitenessRules(min_gap=0.3, max_concurrent=2)))
        threads = [threading.Thread(target=client.get, args=(server.url("/missing"),)) for _ in range(4)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        starts = sorted(r.start for r in server.log)  # robots.txt counts: it is a request to the host too
        assert len(starts) == 5
        assert min(b - a for a, b in zip(starts, starts[1:])) >= 0.29
    with FeedServer(robots=b"User-agent: *\nAllow: /\n") as server:
        client = PoliteClient(QUICK, gate=HostGate(PolitenessRules(min_gap=0.0, max_concurrent=2)))
        threads = [threading.Thread(target=client.get, args=(server.url("/slow"),)) for _ in range(6)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        spans = [(r.start, r.end) for r in server.requests("/slow")]
        assert len(spans) == 6
        most = max(sum(s <= t < e for s, e in spans) for t, _ in spans)
        assert most == 2


@needs_corpus
def test_the_global_voices_site_feed_links_to_the_15_pages_the_server_serves():
    with FeedServer(robots=b"User-agent: *\nDisallow:\n") as server:
        client = PoliteClient(QUICK, gate=HostGate(PolitenessRules(min_gap=0.0)))
        feed_result = client.get(server.url("/gv/test.rss"))
        assert feed_result.ok
        feed = parse_feed(feed_result.body, feed_result.headers["content-type"], base_url=feed_result.final_url)
        assert len(feed.items) == 15 and feed.update_period == "hourly"
        assert all(item.link.startswith(server.base + "gv/index_") for item in feed.items)
        assert feed.items[0].published_at == dt.datetime(2009, 6, 11, 10, 57, tzinfo=dt.timezone.utc)
        assert all(item.guid and item.published_at for item in feed.items)
        pages = [client.get(item.link) for item in feed.items]
        assert all(page.ok and b"<html" in page.body[:5000].lower() for page in pages)
        assert len({page.body_sha256 for page in pages}) == 15


@needs_corpus
def test_a_second_poll_of_the_site_fetches_nothing_304_and_seen_guids_across_a_restart(tmp_path):
    with FeedServer(robots=b"User-agent: *\nDisallow:\n") as server:
        client = PoliteClient(QUICK, gate=HostGate(PolitenessRules(min_gap=0.0)))
        feed_url = server.url("/gv/test.rss")
        store = SeenStore.in_folder(str(tmp_path))
        first = client.get(feed_url, store.record(feed_url).validators, accept=FEED_ACCEPT)
        items = unseen(feed_url, parse_feed(first.body, base_url=feed_url).items, store)
        assert len(items) == 15
        for item in items:
            store.mark(item_keys(feed_url, item))
        store.set_record(feed_url, store.record(feed_url).model_copy(update={"validators": first.validators}))
        store.save()
        restarted = SeenStore.in_folder(str(tmp_path))
        second = client.get(feed_url, restarted.record(feed_url).validators, accept=FEED_ACCEPT)
        assert second.status == 304 and second.unchanged
        assert server.requests("/gv/test.rss")[-1].headers["Accept"] == FEED_ACCEPT
        # Even when the server ignores the ETag and sends the feed again, every item has been seen.
        assert unseen(feed_url, parse_feed(first.body, base_url=feed_url).items, restarted) == ()
