"""Feeds through the real driver (issue 27): batch and stream against a local server on 127.0.0.1, never the internet.

The recorded Global Voices site (15 articles and their feed) and a feed of the ways a page can fail (404,
timeout, slow drip, redirect loop, oversized page, a page robots.txt disallows, a tracking-parameter copy of
a Global Voices link) are polled; every item must end as exactly one article, duplicate or rejected row, the
per-host gap is measured from the server's own log, a second poll fetches nothing, and a stream picks up an
item added to its feed while it runs. Gaps, timeouts and intervals are small through the driver's flags.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipelines.news_pipeline import run
from tests.conftest import ROOT, run_driver, seed_path
from tests.feeds_server import FEEDS, FeedServer
from transforms.feeds.parse import parse_feed

pytestmark = pytest.mark.skipif(not FEEDS.is_dir(), reason=f"the recorded feeds are not here: {FEEDS}")
GAP = 0.2
ROBOTS = b"User-agent: *\nDisallow: /private/\n"
FAST = ["--min_host_gap_s", str(GAP), "--fetch_timeout_s", "1", "--host_backoff_s", "0"]
CONTACT = "https://example.org/newsbeam-test"
# What each hostile item becomes: (link path, summary or None) -> error_type of its rejected row, or None (article).
HOSTILE = {
    "/missing": (None, "http_4xx"),
    "/sleep": ("Officials said the talks would resume next week, according to the feed's summary.", None),
    "/drip": (None, "timeout"),
    "/loop/a": (None, "redirect_loop"),
    "/big": (None, "too_large"),
    "/private/page": (None, "robots_disallowed"),
    "/gv/index_1.html?utm_source=feed&utm_medium=rss": (None, None),  # the same page as a GV item: a duplicate
}


def _rss(title: str, items: list[tuple[str, str, str, str]]) -> bytes:
    """An RSS 2.0 feed; items are (guid, link path, pubDate, summary or "")."""
    entries = "".join(
        f"<item><title>Item {guid}</title><link><BASE_WEBSITE_URL/>{path.lstrip('/').replace('&', '&amp;')}</link>"
        f"<guid isPermaLink='false'>{guid}</guid><pubDate>{date}</pubDate>"
        + (f"<description>{summary}</description>" if summary else "")
        + "</item>"
        for guid, path, date, summary in items
    )
    return f"<?xml version='1.0'?><rss version='2.0'><channel><title>{title}</title>{entries}</channel></rss>".encode()


def _hostile_feed(title: str = "Hostile") -> bytes:
    date = "Thu, 11 Jun 2009 12:00:00 +0000"
    return _rss(title, [(f"h{n}", path, date, summary or "") for n, (path, (summary, _)) in enumerate(HOSTILE.items())])


def _rows(output: Path, table: str) -> list[dict]:
    return [row for f in sorted((output / table).glob("dt=*/*.parquet")) for row in pq.read_table(f).to_pylist()]


@pytest.fixture(scope="module")
def server():
    with FeedServer(robots=ROBOTS, sleep_seconds=3.0) as running:
        running.pages["/hostile.rss"] = ("application/rss+xml", _hostile_feed())
        yield running


def _feed_list(tmp_path: Path, *urls: str) -> str:
    path = tmp_path / "feeds.txt"
    path.write_text("# test feeds\n" + "\n".join(urls) + "\n")
    return str(path)


def test_a_batch_run_fetches_every_new_item_once_and_a_second_poll_fetches_nothing(server, tmp_path):
    feeds = _feed_list(tmp_path, server.url("gv/test.rss"), server.url("hostile.rss"))
    out = tmp_path / "out"
    before = len(server.log)
    started = time.monotonic()
    run_driver("--feeds", feeds, "--output", str(out), "--contact_url", CONTACT, *FAST)
    first_run = time.monotonic() - started
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["reconciled"] and manifest["inputs_seen"] == 15 + len(HOSTILE)
    assert (manifest["articles"], manifest["duplicates"], manifest["rejected"]) == (16, 1, 5), manifest

    # The 15 Global Voices articles carry their feed's titles and dates: their pages state only the day.
    recorded = (FEEDS / "sites" / "gv" / "test.rss").read_bytes().replace(b"<BASE_WEBSITE_URL/>", server.base.encode())
    items = {item.link: item for item in parse_feed(recorded).items}
    articles = {row["input_uri"]: row for row in _rows(out, "articles")}
    for link, item in items.items():
        row = articles[link]
        assert row["published_at"] == item.published_at and row["published_at_source"] == "feed", link
        assert row["title"] == item.title and row["url"] == link
    summary = articles[server.url("sleep")]
    assert summary["input_format"] == "feed_summary" and "body_from_feed_summary" in summary["quality_flags"]
    assert summary["body"].startswith("Officials said the talks would resume")
    (duplicate,) = _rows(out, "duplicates")
    assert duplicate["input_uri"].endswith("utm_medium=rss")

    rejected = {row["input_uri"]: row for row in _rows(out, "rejected")}
    want = {server.url(path): error for path, (_, error) in HOSTILE.items() if error}
    assert {uri: row["error_type"] for uri, row in rejected.items()} == want
    assert {row["stage"] for row in rejected.values()} == {"fetch"}
    assert "HTTP 404" in rejected[server.url("missing")]["message"]
    assert server.url("missing") in rejected[server.url("missing")]["message"]
    assert rejected[server.url("missing")]["original_bytes"] == b"not here"  # the 404 page's own words

    sections = manifest["feeds"]
    assert sections[server.url("gv/test.rss")]["new_items"] == 15
    assert sections[server.url("hostile.rss")]["new_items"] == len(HOSTILE)
    assert all(s["polls"] == 1 and s["last_http_status"] == 200 and s["next_poll"] for s in sections.values())

    # The server's own log: robots.txt honoured, the contact in the User-Agent, the gap between request starts.
    # The server logs a request once its handler thread has read the first line, the client's clock starts before it
    # connects, so one gap may look shorter by that jitter, never the total. Once, under a load of 8, one gap of 0.08 s
    # was logged (cause not pinned down; a late handler thread is the likely one), hence GAP / 4 for a single gap;
    # without the gate these requests come milliseconds apart.
    requests = server.log[before:]
    assert not [r for r in requests if r.path.startswith("/private/")]
    assert all(CONTACT in r.headers["User-Agent"] for r in requests)
    ordered = sorted(requests, key=lambda r: r.start)
    gaps = [(b.start - a.start, a.path, b.path) for a, b in zip(ordered, ordered[1:])]
    assert len(ordered) >= 24 and min(gaps)[0] >= GAP / 4, [g for g in gaps if g[0] < GAP / 4]
    assert ordered[-1].start - ordered[0].start >= len(gaps) * GAP - 0.1

    # A second poll: the Global Voices feed is a 304, the hostile feed changed only its title (200, all seen).
    server.pages["/hostile.rss"] = ("application/rss+xml", _hostile_feed("Hostile, renamed"))
    before = len(server.log)
    run_driver("--feeds", feeds, "--output", str(out), *FAST)
    again = json.loads((out / "_manifest.json").read_text())
    assert again["inputs_seen"] == 0 and again["reconciled"] and again["feed_items_new"] == 0
    paths = sorted(r.path for r in server.log[before:])
    assert paths == ["/gv/test.rss", "/hostile.rss", "/robots.txt"], paths
    assert again["feeds"][server.url("gv/test.rss")]["last_status"] == "unchanged"
    assert again["feeds"][server.url("hostile.rss")]["polls"] == 2
    assert len(_rows(out, "articles")) == 16  # the first run's tables are still there
    print(f"first run {first_run:.1f}s")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--feeds", "/nonexistent/feeds.txt"], "--feeds /nonexistent/feeds.txt"),
        (["--min_host_gap_s", "-1"], "--min_host_gap_s"),
        (["--max_host_concurrency", "0"], "--max_host_concurrency"),
        (["--contact_url", "ftp://x"], "--contact_url"),
    ],
)
def test_a_bad_feed_flag_or_list_exits_2_before_any_work(tmp_path, capsys, args, message):
    feeds = _feed_list(tmp_path, "https://example.org/feed.xml")
    argv = ["--feeds", feeds, "--output", str(tmp_path / "out"), *args]
    assert run(argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_malformed_opml_list_exits_2(tmp_path, capsys):
    bad = tmp_path / "feeds.opml"
    bad.write_text("<opml><body><outline xmlUrl='https://example.org/feed'></body>")
    assert run(["--feeds", str(bad), "--output", str(tmp_path / "out")]) == 2
    assert "not well-formed OPML" in capsys.readouterr().err


def _manifest(output: Path) -> dict:
    try:
        return json.loads((output / "_manifest.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _wait_for(condition, timeout: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def test_a_stream_picks_up_an_item_added_to_its_feed_within_one_interval_beside_a_watched_folder(server, tmp_path):
    interval = 2.0
    first = ("gv15", "/gv/index_15.html", "Fri, 05 Jun 2009 14:53:47 +0000", "")
    added = ("gv13", "/gv/index_13.html", "Fri, 05 Jun 2009 20:54:35 +0000", "")  # its page reports a blockade
    server.pages["/stream.rss"] = ("application/rss+xml", _rss("Stream", [first]))
    out, watch = tmp_path / "out", tmp_path / "incoming"
    argv = ["--streaming", "--feeds", _feed_list(tmp_path, server.url("stream.rss")), "--output", str(out)]
    argv += ["--watch", str(watch)]  # both sources in one stream
    argv += ["--feed_interval_s", str(interval), "--max_runtime_s", "120", "--min_host_gap_s", "0.05"]
    log = open(tmp_path / "stream.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipelines.news_pipeline", *argv],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        _wait_for(lambda: _manifest(out).get("articles", 0) >= 1, 90, "the first poll's article")
        server.pages["/stream.rss"] = ("application/rss+xml", _rss("Stream", [added, first]))
        link = server.url("gv/index_13.html")
        waited = _wait_for(
            lambda: any(link == a.get("url") for a in _alerts(out)), interval + 15, "the added item's alert"
        )
        print(f"alert {waited:.1f}s after the item was added (interval {interval}s)")
        assert waited <= interval + 10
        landing = watch / ".seed.tmp"  # a file dropped into the watched folder meanwhile: write, then rename
        landing.write_bytes(seed_path("000").read_bytes())
        landing.rename(watch / "seed.txt")
        _wait_for(lambda: _manifest(out).get("inputs_seen", 0) >= 3, 60, "the dropped file's micro-batch")
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
        log.close()
    assert code == 0, (tmp_path / "stream.log").read_text()[-3000:]
    manifest = _manifest(out)
    section = manifest["feeds"][server.url("stream.rss")]
    assert section["new_items"] == 2 and section["errors"] == 0 and section["polls"] >= 2
    assert manifest["reconciled"] and manifest["inputs_seen"] == 3 and manifest["articles"] == 3
    assert manifest["watch"] == str(watch.resolve())
    store = json.loads((out / "feeds_seen.json").read_text())
    assert f"guid {server.url('stream.rss')} gv13" in store["seen"]
    # What a restart takes up again: the feed micro-batches' totals (the dropped file is the folder's) and watermark.
    assert store["stream"]["totals"]["inputs_seen"] == 2 and store["stream"]["totals"]["articles"] == 2
    assert store["stream"]["watermark"] is not None


def _alerts(output: Path) -> list[dict]:
    path = output / "alerts.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []
