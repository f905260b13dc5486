"""transforms.feeds.parse and .dates on recorded real feeds: every dialect, broken XML, and zones in dates."""

import datetime as dt

import pytest

from tests.feeds_server import FEEDS, corpus_files
from transforms.feeds.dates import parse_feed_date
from transforms.feeds.parse import parse_feed, parse_feed_list

UTC = dt.timezone.utc
needs_corpus = pytest.mark.skipif(
    not FEEDS.is_dir(), reason=f"the recorded feeds are not here: {FEEDS} (a checkout of ../shared is needed)"
)

# Items per recorded real feed, and how many of them have no date (CNN leaves out 17 pubDates).
NEWS_ITEMS = {
    "abc-international.xml": 25, "al-monitor.xml": 20, "aljazeera.xml": 25, "allafrica.xml": 32, "bbc.xml": 33,
    "boston-noguid.xml": 10, "cbs-world.xml": 30, "csmonitor.xml": 10, "dawn.xml": 30, "dw-rdf.xml": 141,
    "elpais.xml": 56, "foreignpolicy.xml": 25, "japantoday.xml": 30, "mercopress.xml": 10, "ndtv.xml": 20,
    "npr-world.xml": 10, "nyt-world.xml": 57, "real-cnn.rss": 69, "real-korean-times.rss": 195,
    "time-world.xml": 100, "washingtonpost.xml": 9, "wsj-world.xml": 20,
}  # fmt: skip
UNDATED = {"real-cnn.rss": 17}
# Items per broken feed: most test files hold a channel without items, which is not an error.
ILLFORMED_ITEMS = {
    "chardet_eucjp.xml": 1, "chardet_euckr.xml": 1, "chardet_gb2312.xml": 1, "chardet_koi8r.xml": 1,
    "chardet_shiftjis.xml": 1, "chardet_tis620.xml": 1, "chardet_windows1255.xml": 1,
    "geo_georss_point_no_coords.xml": 1, "geo_georss_polygon_insufficient_coords.xml": 1, "geo_gml_point.xml": 1,
    "rdf_channel_empty_textinput.xml": 1, "rss_incomplete_cdata.xml": 1, "rss_item_link_corrupted_ampersands.xml": 1,
}  # fmt: skip


@needs_corpus
def test_every_recorded_news_feed_gives_its_items_with_zoned_dates():
    files = corpus_files("news")
    assert {p.name for p in files} == set(NEWS_ITEMS), "the recorded feeds changed"
    for path in files:
        feed = parse_feed(path.read_bytes(), "application/rss+xml")
        assert not feed.bozo, path.name
        assert len(feed.items) == NEWS_ITEMS[path.name], path.name
        undated = [item for item in feed.items if item.published_at is None]
        assert len(undated) == UNDATED.get(path.name, 0), path.name
        assert all(item.title and item.link for item in feed.items), path.name
        assert all(item.published_at.tzinfo == UTC for item in feed.items if item.published_at), path.name


@needs_corpus
def test_text_xml_without_a_charset_still_reads_utf8_titles():
    body = (FEEDS / "news" / "elpais.xml").read_bytes()
    as_xml, as_text = parse_feed(body, "application/xml"), parse_feed(body, "text/xml")
    assert as_text.bozo  # RFC 3023 says text/xml without a charset is us-ascii; feedparser notes the override
    assert [i.title for i in as_text.items] == [i.title for i in as_xml.items]


@needs_corpus
def test_rss10_atom_and_the_stated_update_period_are_read():
    dw = parse_feed((FEEDS / "news" / "dw-rdf.xml").read_bytes(), "application/rdf+xml")
    assert dw.version == "rss10" and dw.update_period == "hourly"
    assert dw.items[0].published_at == dt.datetime(2026, 2, 18, 0, 15, tzinfo=UTC)
    boston = parse_feed((FEEDS / "news" / "boston-noguid.xml").read_bytes())
    assert sum(item.guid is None for item in boston.items) == 6  # the state falls back to the canonical URL
    shiftjis = parse_feed((FEEDS / "illformed" / "chardet_shiftjis.xml").read_bytes())
    assert shiftjis.version == "atom10"


@needs_corpus
def test_korea_times_gmt_plus_9_is_korea_standard_time_not_utc():
    feed = parse_feed((FEEDS / "news" / "real-korean-times.rss").read_bytes(), "application/rss+xml")
    assert len(feed.items) == 195
    first = feed.items[0]
    assert first.date_raw == "Thu,28 Jul 2022 4:35:5 GMT+9"  # the raw string is kept as written
    # 04:35:05 in Seoul (UTC+09:00) on Thursday is 19:35:05 UTC on Wednesday; read as UTC it would be 9 h late.
    assert first.published_at == dt.datetime(2022, 7, 27, 19, 35, 5, tzinfo=UTC)
    assert {item.published_at for item in feed.items} == {first.published_at}


@needs_corpus
def test_every_broken_feed_parses_without_raising_and_keeps_what_it_could_read():
    files = corpus_files("illformed")
    assert len(files) == 19
    for path in files:
        feed = parse_feed(path.read_bytes(), "application/xml")
        assert len(feed.items) == ILLFORMED_ITEMS.get(path.name, 0), path.name
    for name in ("rss_incomplete_cdata.xml", "rss_item_link_corrupted_ampersands.xml", "aaa_illformed.xml"):
        assert parse_feed((FEEDS / "illformed" / name).read_bytes()).bozo, name


@needs_corpus
def test_an_undeclared_legacy_encoding_is_detected_instead_of_read_as_windows_1252():
    feed = parse_feed((FEEDS / "illformed" / "chardet_koi8r.xml").read_bytes(), "application/xml")
    assert feed.items[0].title == "Как пережить новогоднюю ночь"
    assert feed.bozo and "koi8" in feed.bozo_reason  # a guess, and said to be one


def test_a_date_without_a_zone_is_unknown_unless_the_feed_owner_states_the_zone():
    from zoneinfo import ZoneInfo

    assert parse_feed_date("Thu, 28 Jul 2022 04:35:05") is None
    assert parse_feed_date("2022-07-28T04:35:05") is None
    seoul = ZoneInfo("Asia/Seoul")
    assert parse_feed_date("2022-07-28T04:35:05", assume_zone=seoul) == dt.datetime(2022, 7, 27, 19, 35, 5, tzinfo=UTC)
    assert parse_feed_date("Tue, 17 Feb 2026 18:03:07 EST") == dt.datetime(2026, 2, 17, 23, 3, 7, tzinfo=UTC)
    assert parse_feed_date("2026-02-17T17:36:36-0500") == dt.datetime(2026, 2, 17, 22, 36, 36, tzinfo=UTC)
    assert parse_feed_date("Thu, 28 Jul 2022 04:35:05 XYZ") is None  # an unknown zone is not UTC either
    assert parse_feed_date("2022-07-28") is None  # a day is not an instant


def test_zone_less_item_dates_use_the_zone_given_for_the_feed():
    rss = (
        b"<rss version='2.0'><channel><title>t</title><item><title>a</title><link>https://x.org/a</link>"
        b"<pubDate>Thu, 28 Jul 2022 04:35:05</pubDate></item></channel></rss>"
    )
    assert parse_feed(rss).items[0].published_at is None
    assert parse_feed(rss).items[0].date_raw == "Thu, 28 Jul 2022 04:35:05"
    dated = parse_feed(rss, zone="Asia/Seoul").items[0]
    assert dated.published_at == dt.datetime(2022, 7, 27, 19, 35, 5, tzinfo=UTC)


def test_atom_items_and_relative_links_against_the_feed_url():
    atom = (
        b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>'
        b"<entry><title>One</title><id>tag:x.org,2024:1</id><link href='/news/1'/>"
        b"<updated>2024-07-01T12:00:00+02:00</updated><author><name>Ann</name></author>"
        b"<summary>&lt;b&gt;bold&lt;/b&gt; text</summary></entry></feed>"
    )
    (item,) = parse_feed(atom, "application/atom+xml", base_url="https://x.org/feed.atom").items
    assert item.link == "https://x.org/news/1" and item.guid == "tag:x.org,2024:1" and item.author == "Ann"
    assert item.published_at == dt.datetime(2024, 7, 1, 10, 0, tzinfo=UTC)
    assert "<b>" in item.summary  # sanitising off: markup is the caller's to strip, not feedparser's to rewrite


def test_an_empty_or_garbage_body_gives_no_items_and_no_exception():
    for body in (b"", b"\x00\xff\xfe garbage", b"<html><body>not a feed</body></html>"):
        assert parse_feed(body, "text/html").items == ()


def test_feed_lists_one_url_a_line_or_opml():
    text = "# my feeds\nhttps://a.org/rss\n\nhttps://b.org/feed zone=Asia/Seoul  # Korean dates\nhttps://a.org/rss\n"
    sources = parse_feed_list(text)
    assert [s.url for s in sources] == ["https://a.org/rss", "https://b.org/feed"]
    assert sources[1].zone == "Asia/Seoul"
    opml = (
        '<?xml version="1.0" encoding="UTF-8"?><opml version="2.0"><head><title>x</title></head><body>'
        '<outline text="News"><outline text="BBC" type="rss" xmlUrl="https://feeds.bbci.co.uk/news/rss.xml"/>'
        '<outline text="Bad" xmlUrl="javascript:alert(1)"/></outline></body></opml>'
    )
    (bbc,) = parse_feed_list(opml)
    assert bbc.url == "https://feeds.bbci.co.uk/news/rss.xml" and bbc.title == "BBC"
    bad_lists = ("ftp://x.org/feed", "https://x.org/feed color=red", "https://x.org/f zone=Mars/Olympus", "<opml><body")
    for bad in bad_lists:
        with pytest.raises(ValueError):
            parse_feed_list(bad)
