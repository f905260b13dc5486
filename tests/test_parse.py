import datetime as dt

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to

from tests.conftest import INGESTED_AT, make_test_pipeline, seed_path
from transforms.errors import InputRejected, Reason
from transforms.language import LanguageDetector
from transforms.parse import (
    FLAG_FUTURE,
    FLAG_UNPARSED_DATE,
    FLAG_URL_DROPPED,
    ParseArticles,
    ParseConfig,
    build_article,
)
from transforms.read import RawInput

CONFIG = ParseConfig(ingested_at=INGESTED_AT, max_body_bytes=10_000)


@pytest.fixture(scope="module")
def lang():
    return LanguageDetector()


def raw(data: bytes, uri="/in/a.json", ext=".json", **kw) -> RawInput:
    return RawInput(uri=uri, data=data, extension=ext, size=len(data), **kw)


def test_seed_becomes_a_valid_article(lang):
    path = seed_path("000")
    data = path.read_bytes()
    article = build_article(raw(data, uri=str(path), ext=".txt"), CONFIG, lang)
    assert article.title.startswith("North Korea's Kim Hails Ties")
    assert article.published_at == dt.datetime(2024, 6, 12, tzinfo=dt.timezone.utc)
    assert article.published_at_source == "metadata"
    assert article.language == "en"
    assert article.input_format == "markdown"
    assert article.article_id.startswith("art_") and len(article.content_hash) == 64
    assert article.word_count > 300
    assert article.quality_flags == []


def test_publish_date_fallbacks_path_then_modification_time_then_ingestion(lang):
    mtime = dt.datetime(2024, 5, 2, 8, 30, tzinfo=dt.timezone.utc)
    from_path = build_article(
        raw(b"Some body text here.", uri="/feeds/2024/05/01/x.txt", ext=".txt", modified_at=mtime), CONFIG, lang
    )
    assert (from_path.published_at.date(), from_path.published_at_source) == (dt.date(2024, 5, 1), "file")
    modified = build_article(
        raw(b"Some body text here.", uri="/feeds/x.txt", ext=".txt", modified_at=mtime), CONFIG, lang
    )
    assert (modified.published_at, modified.published_at_source) == (mtime, "modified")
    unknown = build_article(raw(b"Some body text here.", uri="/feeds/x.txt", ext=".txt"), CONFIG, lang)
    assert (unknown.published_at, unknown.published_at_source) == (INGESTED_AT, "ingested")


def test_future_and_unparseable_dates_are_kept_and_flagged(lang):
    future = build_article(raw(b'{"text": "Body.", "published_at": "2031-01-01"}'), CONFIG, lang)
    assert future.quality_flags == [FLAG_FUTURE]
    assert future.published_at.year == 2031
    near = build_article(raw(b'{"text": "Body.", "published_at": "2024-07-02T06:00:00Z"}'), CONFIG, lang)
    assert near.quality_flags == []  # within a day of ingestion: clocks and time zones differ
    garbled = build_article(raw(b'{"text": "Body.", "published_at": "sometime soon"}'), CONFIG, lang)
    assert garbled.quality_flags == [FLAG_UNPARSED_DATE] and garbled.published_at_source == "ingested"


def test_sidecar_overrides_and_bad_sidecar_is_rejected(lang):
    sidecar = '{"published_at": "2024-06-17", "source": "Example Daily", "title": "Given title"}'
    article = build_article(raw(b"Body of the article.", uri="/x/a.txt", ext=".txt", sidecar=sidecar), CONFIG, lang)
    assert (article.published_at.date(), article.source, article.title) == (
        dt.date(2024, 6, 17),
        "Example Daily",
        "Given title",
    )
    with pytest.raises(InputRejected) as err:
        build_article(raw(b"Body.", uri="/x/a.txt", ext=".txt", sidecar='{"publish": "2024"}'), CONFIG, lang)
    assert err.value.reason is Reason.INVALID_FIELD and "publish" in err.value.message


_OG_URL_PAGE = (  # trafilatura reads the tab in og:url as a space, which no stored url may hold
    '<!doctype html><html><head><title>Talks go on</title><meta property="og:url" content="https://evil.example/a\tb">'
    '<meta property="og:site_name" content="Evil Daily">'
    "</head><body><article><h1>Talks go on</h1><p>"
    + "Officials said the talks would go on next week. " * 5
    + "</p></article></body></html>"
).encode()


@pytest.mark.parametrize(
    "data, ext, sidecar, url, source, flags",
    [
        (
            b'{"text": "Body.", "url": "javascript:alert(document.cookie)"}',
            ".json",
            None,
            None,
            None,
            [FLAG_URL_DROPPED],
        ),
        (
            b'{"text": "Body.", "url": " JaVaScRiPt:alert(1)", "source": "Wire"}',
            ".json",
            None,
            None,
            "Wire",
            [FLAG_URL_DROPPED],
        ),
        (
            b'{"text": "Body.", "link": "javascript://evil.example/%0Aalert(1)"}',
            ".jsonl",
            None,
            None,
            None,
            [FLAG_URL_DROPPED],
        ),
        (
            b'{"text": "Body.", "url": "data:text/html,<script>alert(1)</script>"}',
            ".json",
            None,
            None,
            None,
            [FLAG_URL_DROPPED],
        ),
        (b'{"text": "Body.", "url": "/world/a.html"}', ".json", None, None, None, [FLAG_URL_DROPPED]),
        (b'{"text": "Body.", "url": "http://"}', ".json", None, None, None, [FLAG_URL_DROPPED]),
        (b'{"text": "Body.", "url": "   "}', ".json", None, None, None, []),  # blank is absent, not dropped
        (
            b'{"text": "Body.", "url": " https://www.wire.example/a\\n"}',
            ".json",
            None,
            "https://www.wire.example/a",
            "wire.example",
            [],
        ),
        (b"Body of the article.", ".txt", '{"url": "javascript:alert(1)"}', None, None, [FLAG_URL_DROPPED]),
        (
            b"Body of the article.",
            ".txt",
            '{"url": "https://daily.example/x"}',
            "https://daily.example/x",
            "daily.example",
            [],
        ),
        (_OG_URL_PAGE, ".html", None, None, "Evil Daily", [FLAG_URL_DROPPED]),  # the site name, not the url's host
    ],
    ids=[
        "javascript",
        "mixed-case",
        "jsonl-link-field",
        "data",
        "relative",
        "no-host",
        "blank",
        "trimmed",
        "sidecar-bad",
        "sidecar-good",
        "html-og-url",
    ],
)
def test_only_http_urls_are_stored_others_are_dropped_and_flagged(lang, data, ext, sidecar, url, source, flags):
    line = 1 if ext == ".jsonl" else None
    article = build_article(raw(data, uri=f"/in/a{ext}", ext=ext, sidecar=sidecar, line=line), CONFIG, lang)
    assert (article.url, article.source, article.quality_flags) == (url, source, flags)


@pytest.mark.parametrize(
    "data, reason",
    [
        (b'{"title": "No body"}', Reason.MISSING_BODY),
        (b'{"title": "t", "maintext": "   "}', Reason.MISSING_BODY),
        (b'{"text": "' + b"x" * 10_001 + b'"}', Reason.BODY_TOO_LARGE),
    ],
)
def test_unusable_articles_are_rejected(lang, data, reason):
    with pytest.raises(InputRejected) as err:
        build_article(raw(data), CONFIG, lang)
    assert err.value.reason is reason


def test_parse_articles_splits_good_and_bad():
    inputs = [
        raw(b'{"title": "A", "text": "Alpha body text.", "published_at": "2024-06-01"}', uri="/in/a.json"),
        raw(b"", uri="/in/empty.txt", ext=".txt"),
        raw(b'{"broken": ', uri="/in/feed.jsonl", ext=".jsonl", line=3, byte_offset=120),
        raw(b"PK\x03\x04zipdata", uri="/in/x.docx", ext=".docx"),
        raw(b"PK\x03\x04zipdata", uri="/in/y.txt", ext=".txt"),
    ]
    with make_test_pipeline() as p:
        out = p | beam.Create(inputs) | ParseArticles(CONFIG)
        assert_that(
            out.articles | "Titles" >> beam.Map(lambda a: (a.title, a.body)),
            equal_to([("A", "Alpha body text.")]),
            label="articles",
        )
        assert_that(
            out.rejected
            | "Why"
            >> beam.Map(lambda r: (r.input_uri, r.input_line, r.byte_offset, r.stage, r.error_type, r.original_bytes)),
            equal_to(
                [
                    ("/in/empty.txt", None, None, "decode", "empty_file", b""),
                    ("/in/feed.jsonl", 3, 120, "parse", "malformed_json", b'{"broken": '),
                    ("/in/y.txt", None, None, "decode", "binary_file", b"PK\x03\x04zipdata"),
                    ("/in/x.docx", None, None, "detect", "unsupported_extension", b"PK\x03\x04zipdata"),
                ]
            ),
            label="rejected",
        )


def test_pubsub_shaped_messages_take_the_file_parse_path():
    """A streaming job on Dataflow reads Pub/Sub; after the source, messages are parsed exactly like files."""
    import datetime as dt

    from apache_beam.io.gcp.pubsub import PubsubMessage

    from transforms.pubsub import raw_from_message

    body = (
        b'{"title": "Putin to visit North Korea", '
        b'"text": "Vladimir Putin will visit Pyongyang on June 18-19, the Kremlin said."}'
    )
    messages = [
        PubsubMessage(body, {"published_at": "2024-06-17T08:00:00Z", "source": "kremlin.ru"}, message_id="m1"),
        PubsubMessage(b"Kim Jong Un hailed ties with Russia.", {"format": "txt"}, message_id="m2"),
        PubsubMessage(b'{"text": ', {}, message_id="m3"),
    ]
    sent = dt.datetime(2024, 6, 17, 9, 0, tzinfo=dt.timezone.utc)
    with make_test_pipeline() as p:
        raw = (
            p
            | beam.Create(messages)
            | beam.Map(
                lambda m: raw_from_message(m.data, m.attributes, m.message_id, "projects/p/subscriptions/news", sent)
            )
        )
        out = raw | ParseArticles(ParseConfig(INGESTED_AT))
        assert_that(
            out.articles
            | "Fields"
            >> beam.Map(
                lambda a: (a.input_uri, a.source, a.published_at.isoformat(), a.published_at_source, a.input_format)
            ),
            equal_to(
                [
                    (
                        "pubsub://projects/p/subscriptions/news/m1",
                        "kremlin.ru",
                        "2024-06-17T08:00:00+00:00",
                        "metadata",
                        "json",
                    ),
                    (
                        "pubsub://projects/p/subscriptions/news/m2",
                        None,
                        "2024-06-17T09:00:00+00:00",
                        "modified",
                        "text",
                    ),
                ]
            ),
            label="articles",
        )
        assert_that(
            out.rejected | "Why" >> beam.Map(lambda r: (r.input_uri, r.error_type, r.original_bytes)),
            equal_to([("pubsub://projects/p/subscriptions/news/m3", "malformed_json", b'{"text": ')]),
            label="rejected",
        )
