"""Event-time windows, too-late routing and stream dedup, on TestStream (the BundleBasedDirectRunner)."""

import datetime as dt

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.test_stream import TestStream
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import TimestampedValue

from schemas import Article, ArticleEntity
from tests.conftest import INGESTED_AT
from transforms.dedup import DeduplicateArticles
from transforms.language import LanguageDetector
from transforms.parse import ParseConfig, build_article
from transforms.read import RawInput
from transforms.windows import CountEntityMentions, RouteLateArticles, WindowConfig, stream_watermark

T0 = dt.datetime(2024, 6, 12, 10, 0, tzinfo=dt.timezone.utc)
CONFIG = WindowConfig(size=dt.timedelta(minutes=15), allowed_lateness=dt.timedelta(minutes=30))


def _secs(when: dt.datetime) -> float:
    return when.timestamp()


def _article(name: str, text: str, published: dt.datetime, dated: bool = True):
    fields = f'"text": "{text}"' + (f', "published_at": "{published.isoformat()}"' if dated else "")
    data = ("{" + fields + "}").encode()
    raw = RawInput(f"/spool/{name}.json", data, ".json", size=len(data), modified_at=published)
    return build_article(raw, ParseConfig(INGESTED_AT), LanguageDetector())


def _tagged(article_id: str, when: dt.datetime, **mentions: int) -> Article:
    """An article published at `when` whose entities q1, q2, … are mentioned that many times."""
    entities = [ArticleEntity(entity_id=e, name=e.title(), type="PERSON", mentions=n) for e, n in mentions.items()]
    return _article(article_id, f"Text of {article_id}.", when).model_copy(update={"entities": entities})


def _streaming_pipeline():
    options = PipelineOptions()
    options.view_as(StandardOptions).streaming = True
    return TestPipeline(runner="BundleBasedDirectRunner", options=options)


def test_window_bounds_and_close():
    start, end = CONFIG.window_of(T0 + dt.timedelta(minutes=14, seconds=59))
    assert (start, end) == (T0, T0 + dt.timedelta(minutes=15))
    assert CONFIG.window_of(T0 + dt.timedelta(minutes=15))[0] == T0 + dt.timedelta(minutes=15)
    assert CONFIG.close_of(T0) == T0 + dt.timedelta(minutes=45)


def test_counts_per_window_with_an_on_time_and_a_late_pane():
    def at(article):
        return TimestampedValue(article, _secs(article.published_at))

    events = (
        TestStream()
        .advance_watermark_to(_secs(T0))
        .add_elements(
            [
                at(_tagged("a1", T0 + dt.timedelta(minutes=1), q1=1)),
                at(_tagged("a2", T0 + dt.timedelta(minutes=14), q1=2, q2=1)),
            ]
        )
        .add_elements([at(_tagged("a3", T0 + dt.timedelta(minutes=16), q1=1))])  # the next window
        .advance_watermark_to(_secs(T0) + 20 * 60)  # the first window is complete: its on-time pane fires
        .add_elements([at(_tagged("a4", T0 + dt.timedelta(minutes=5), q1=3))])  # late, within the lateness: a late pane
        .advance_watermark_to_infinity()
    )
    with _streaming_pipeline() as p:
        rows = p | events | CountEntityMentions(CONFIG, "u1")
        assert_that(
            rows
            | beam.Map(
                lambda r: (
                    r.window_start.strftime("%H:%M"),
                    r.window_end.strftime("%H:%M"),
                    r.entity_id,
                    r.name,
                    r.mentions,
                    r.articles,
                )
            ),
            equal_to(
                [
                    ("10:00", "10:15", "q1", "Q1", 3, 2),
                    ("10:00", "10:15", "q2", "Q2", 1, 1),
                    ("10:15", "10:30", "q1", "Q1", 1, 1),
                    ("10:00", "10:15", "q1", "Q1", 3, 1),
                ]
            ),
        )


def test_a_batch_counts_each_window_once():
    articles = [
        _tagged("a1", T0, q1=2),
        _tagged("a2", T0 + dt.timedelta(minutes=3), q1=1, q2=4),
        _tagged("a3", T0 + dt.timedelta(hours=1), q1=1),
    ]
    with TestPipeline(runner="BundleBasedDirectRunner") as p:
        rows = p | beam.Create(articles) | CountEntityMentions(CONFIG, "b1")
        assert_that(
            rows
            | beam.Map(lambda r: (r.window_start.strftime("%H:%M"), r.entity_id, r.mentions, r.articles, r.update_id)),
            equal_to([("10:00", "q1", 3, 2, "b1"), ("10:00", "q2", 4, 1, "b1"), ("11:00", "q1", 1, 1, "b1")]),
        )


def test_a_batch_keys_by_window_and_gives_the_rows_of_the_windowed_path():
    """Bounded input counts with the window in the key; unbounded input with Beam's windows. Same rows, edges
    included."""
    articles = [
        _tagged("a1", T0, q1=2),
        _tagged(
            "a2", T0 + dt.timedelta(minutes=14, seconds=59, microseconds=999_999), q1=1, q2=4
        ),  # last µs of the window
        _tagged("a3", T0 + dt.timedelta(minutes=15), q2=1),  # first µs of the next
        _tagged("a4", T0 - dt.timedelta(days=400, microseconds=7), q1=5),
    ]

    def fields(r):
        return r.window_start, r.window_end, r.entity_id, r.name, r.type, r.mentions, r.articles, r.update_id

    expected = [
        (T0, T0 + dt.timedelta(minutes=15), "q1", "Q1", "PERSON", 3, 2, "b1"),
        (T0, T0 + dt.timedelta(minutes=15), "q2", "Q2", "PERSON", 4, 1, "b1"),
        (T0 + dt.timedelta(minutes=15), T0 + dt.timedelta(minutes=30), "q2", "Q2", "PERSON", 1, 1, "b1"),
        (T0 - dt.timedelta(days=400, minutes=15), T0 - dt.timedelta(days=400), "q1", "Q1", "PERSON", 5, 1, "b1"),
    ]
    with TestPipeline(runner="BundleBasedDirectRunner") as p:
        rows = p | beam.Create(articles) | CountEntityMentions(CONFIG, "b1")
        assert_that(rows | beam.Map(fields), equal_to(expected))
    events = (
        TestStream()
        .add_elements([TimestampedValue(a, _secs(a.published_at)) for a in articles])
        .advance_watermark_to_infinity()
    )
    with _streaming_pipeline() as p:
        rows = p | events | CountEntityMentions(CONFIG, "b1")
        assert_that(rows | beam.Map(fields), equal_to(expected))


def test_too_late_articles_go_to_rejected_with_their_reason():
    early = _article("early", "Kim met Putin.", T0 + dt.timedelta(minutes=2))
    on_time = _article("on-time", "Putin flew to Pyongyang.", T0 + dt.timedelta(minutes=50))
    within = _article("within", "A summit was announced.", T0 + dt.timedelta(minutes=10))  # late, inside the lateness
    too_late = _article("too-late", "An old report about talks.", T0 + dt.timedelta(minutes=5))
    undated = _article("undated", "No date in this one.", T0 - dt.timedelta(days=30), dated=False)
    events = (
        TestStream()
        .advance_watermark_to(_secs(T0))
        .add_elements([TimestampedValue(early, _secs(early.published_at))])
        .add_elements([TimestampedValue(on_time, _secs(on_time.published_at))])
        .advance_watermark_to(_secs(T0) + 30 * 60)
        .add_elements([TimestampedValue(within, _secs(within.published_at))])
        .advance_watermark_to(_secs(T0) + 50 * 60)  # the 10:00 window closed at 10:45
        .add_elements(
            [
                TimestampedValue(too_late, _secs(too_late.published_at)),
                TimestampedValue(undated, _secs(undated.published_at)),
            ]
        )
        .advance_watermark_to_infinity()
    )
    with _streaming_pipeline() as p:
        routed = p | events | RouteLateArticles(CONFIG, INGESTED_AT)
        assert_that(
            routed.articles | "Ids" >> beam.Map(lambda a: a.input_uri.rsplit("/", 1)[1]),
            equal_to(["early.json", "on-time.json", "within.json", "undated.json"]),
            label="accepted",
        )
        assert_that(
            routed.rejected | "Why" >> beam.Map(lambda r: (r.input_uri.rsplit("/", 1)[1], r.stage, r.error_type)),
            equal_to([("too-late.json", "window", "too_late")]),
            label="rejected",
        )


def test_the_watermark_from_earlier_micro_batches_closes_windows():
    config = WindowConfig(
        size=CONFIG.size, allowed_lateness=CONFIG.allowed_lateness, closed_before=T0 + dt.timedelta(hours=2)
    )
    old = _article("old", "An old report about talks.", T0)
    fresh = _article("fresh", "A new report about talks.", T0 + dt.timedelta(hours=2))
    with TestPipeline(runner="BundleBasedDirectRunner") as p:
        routed = p | beam.Create([old, fresh]) | RouteLateArticles(config, INGESTED_AT)
        assert_that(
            routed.articles | "Ids" >> beam.Map(lambda a: a.input_uri),
            equal_to(["/spool/fresh.json"]),
            label="accepted",
        )
        assert_that(
            routed.rejected
            | "Msg" >> beam.Map(lambda r: "10:00, 10:15" in r.message and "allowed lateness 0:30:00" in r.message),
            equal_to([True]),
            label="message",
        )


def test_stream_watermark_ignores_weak_and_future_times():
    dated = _article("a", "One.", T0)
    undated = _article("b", "Two.", T0 + dt.timedelta(days=300), dated=False)
    dated, undated = dated.model_dump(), undated.model_dump()
    assert stream_watermark([dated, undated]) == T0
    assert stream_watermark([undated]) is None
    assert stream_watermark([undated], previous=T0) == T0


def test_duplicates_minutes_apart_refer_to_the_kept_copy_until_the_horizon():
    first = _article("first", "Kim met Putin in Pyongyang.", T0)
    copy = _article("copy", "Kim met Putin in Pyongyang.", T0 + dt.timedelta(minutes=7))
    much_later = _article("later", "Kim met Putin in Pyongyang.", T0 + dt.timedelta(days=2))
    events = (
        TestStream()
        .advance_watermark_to(_secs(T0))
        .add_elements([TimestampedValue(first, _secs(T0))])
        .advance_watermark_to(_secs(T0) + 5 * 60)  # first is flushed: kept
        .add_elements([TimestampedValue(copy, _secs(copy.published_at))])  # 7 minutes later: a duplicate
        .advance_watermark_to(_secs(T0) + 2 * 86400 - 60)  # past the 1-day horizon: the kept hash expired
        .add_elements([TimestampedValue(much_later, _secs(much_later.published_at))])
        .advance_watermark_to(_secs(much_later.published_at) + 60)  # flushed: a new article, the old state expired
        .advance_watermark_to_infinity()
    )
    with _streaming_pipeline() as p:
        out = p | events | DeduplicateArticles(horizon=dt.timedelta(days=1))
        assert_that(
            out.articles | "Kept" >> beam.Map(lambda a: a.input_uri),
            equal_to(["/spool/first.json", "/spool/later.json"]),
            label="kept",
        )
        assert_that(
            out.duplicates | "Dups" >> beam.Map(lambda d: (d.input_uri, d.duplicate_of)),
            equal_to([("/spool/copy.json", first.article_id)]),
            label="dups",
        )


def test_copies_arriving_together_keep_the_first_input_whatever_the_arrival_order():
    b = _article("b", "Same text here.", T0 + dt.timedelta(seconds=30))
    a = _article("a", "Same text here.", T0 + dt.timedelta(seconds=40))
    events = (
        TestStream()
        .advance_watermark_to(_secs(T0))
        .add_elements([TimestampedValue(b, _secs(b.published_at))])
        .add_elements([TimestampedValue(a, _secs(a.published_at))])
        .advance_watermark_to(_secs(T0) + 60)
        .advance_watermark_to_infinity()
    )
    with _streaming_pipeline() as p:
        out = p | events | DeduplicateArticles()
        assert_that(out.articles | "Kept" >> beam.Map(lambda x: x.input_uri), equal_to(["/spool/a.json"]), label="kept")
        assert_that(
            out.duplicates | "Dups" >> beam.Map(lambda d: d.input_uri), equal_to(["/spool/b.json"]), label="dups"
        )
