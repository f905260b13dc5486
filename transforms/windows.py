"""Event time: articles stamped with published_at, too-late articles routed to `rejected`, mentions counted per window.

    articles | WithEventTime()                         -> the same articles, timestamped with published_at
    articles | RouteLateArticles(config, rejected_at)  -> {'articles': on time, 'rejected': Rejected rows}
    articles | CountEntityMentions(config, update_id)  -> EntityCount rows, one per (window, entity) and pane

Event time is `published_at`, whatever it came from (see PublishedAtSource). Only a *strong* time
(metadata, a dateline in the text, a date in the file's path, and not more than a day in the future)
can make an article late: a weak one (the file's modification time, which for a watched folder is
when the file landed, or the ingestion time) is close to processing time and is never late.

A window [start, end) closes when the watermark passes ``end + allowed_lateness``. An article whose
window has closed is too late: it becomes a Rejected row at stage ``window`` with its original bytes,
never a silent drop. Where the closes come from:

- ``WindowConfig.closed_before``: the stream's watermark carried over from earlier micro-batches
  (the newest strong published_at they accepted). Every window closing at or before it is closed.
- inside one pipeline, the watermark itself: RouteLateArticles sets an event-time timer at the close
  of every window it has seen an article for, and remembers the latest close that fired.

State is bounded by the timers: one timestamp plus the close times of windows still open.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Optional

import apache_beam as beam
from apache_beam.coders import VarIntCoder
from apache_beam.transforms import trigger, userstate, window
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.utils.timestamp import Timestamp

from schemas import Article, EntityCount, PublishedAtSource, Rejected
from transforms import metrics
from transforms.errors import InputRejected, Reason
from transforms.inputs import extension_of
from transforms.parse import FLAG_FUTURE
from transforms.read import RawInput, original_bytes, rejected_row

_STRONG = {
    PublishedAtSource.METADATA.value,
    PublishedAtSource.FEED.value,
    PublishedAtSource.TEXT.value,
    PublishedAtSource.FILE.value,
}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_ROUTE_KEY = "stream"


@dataclasses.dataclass(frozen=True)
class WindowConfig:
    size: dt.timedelta = dt.timedelta(minutes=15)  # GDELT's update interval
    allowed_lateness: dt.timedelta = dt.timedelta(hours=24)
    closed_before: Optional[dt.datetime] = None  # the stream's watermark from earlier micro-batches, if any

    def window_of(self, when: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        size = int(self.size.total_seconds() * 1_000_000)
        micros = _micros(when)
        start = micros - micros % size
        return _from_micros(start), _from_micros(start + size)

    def close_of(self, when: dt.datetime) -> dt.datetime:
        """When the window of `when` closes: its end plus the allowed lateness."""
        return self.window_of(when)[1] + self.allowed_lateness


def _micros(when: dt.datetime) -> int:
    delta = when - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _from_micros(micros: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=micros)


def has_strong_time(article: Article) -> bool:
    """True when published_at is the article's own word (not a file time or the clock), so it may be late."""
    return is_strong(article.published_at_source, article.quality_flags)


def is_strong(published_at_source: str, quality_flags: Optional[list[str]]) -> bool:
    return published_at_source in _STRONG and FLAG_FUTURE not in (quality_flags or [])


def stream_watermark(rows: list[dict], previous: Optional[dt.datetime] = None) -> Optional[dt.datetime]:
    """The newest strong published_at among article rows (dicts with published_at, published_at_source,
    quality_flags) and `previous`: the stream's watermark after them."""
    times = [r["published_at"] for r in rows if is_strong(r["published_at_source"], r["quality_flags"])]
    if previous is not None:
        times.append(previous)
    return max(times) if times else None


class WithEventTime(beam.PTransform):
    """Stamp each record with its published_at as the element's event time."""

    def expand(self, records):
        return records | "StampPublishedAt" >> beam.Map(
            lambda r: window.TimestampedValue(r, _micros(r.published_at) / 1e6)
        )


class _RouteLateFn(beam.DoFn):
    CLOSED = userstate.ReadModifyWriteStateSpec("closed", VarIntCoder())  # the latest close that fired (µs)
    OPEN = userstate.BagStateSpec("open", VarIntCoder())  # close times (µs) of windows seen and not yet closed
    CLOSE = userstate.TimerSpec("close", TimeDomain.WATERMARK)

    def __init__(self, config: WindowConfig, rejected_at: dt.datetime):
        self._config = config
        self._rejected_at = rejected_at
        self._floor = _micros(config.closed_before) if config.closed_before else None

    def process(
        self,
        keyed,
        closed=beam.DoFn.StateParam(CLOSED),
        open_=beam.DoFn.StateParam(OPEN),
        timer=beam.DoFn.TimerParam(CLOSE),
    ):
        _, article = keyed
        if not has_strong_time(article):
            yield article
            return
        close = _micros(self._config.close_of(article.published_at))
        known = [c for c in (self._floor, closed.read()) if c is not None]
        floor = max(known) if known else None
        if floor is not None and close <= floor:
            yield beam.pvalue.TaggedOutput(RouteLateArticles.REJECTED, self._too_late(article, floor))
            return
        pending = set(open_.read())
        if close not in pending:
            open_.add(close)
            timer.set(Timestamp(micros=min(pending | {close})))
        yield article

    @userstate.on_timer(CLOSE)
    def on_close(
        self,
        fired=beam.DoFn.TimestampParam,
        closed=beam.DoFn.StateParam(CLOSED),
        open_=beam.DoFn.StateParam(OPEN),
        timer=beam.DoFn.TimerParam(CLOSE),
    ):
        closed.write(max(fired.micros, closed.read() or fired.micros))
        later = sorted(c for c in open_.read() if c > fired.micros)
        open_.clear()
        for c in later:
            open_.add(c)
        if later:
            timer.set(Timestamp(micros=later[0]))

    def _too_late(self, article: Article, floor: int) -> Rejected:
        start, end = self._config.window_of(article.published_at)
        err = InputRejected(
            Reason.TOO_LATE,
            f"published {article.published_at:%Y-%m-%dT%H:%M:%SZ}, its window [{start:%Y-%m-%dT%H:%M}, {end:%H:%M}) "
            f"closed at {self._config.close_of(article.published_at):%Y-%m-%dT%H:%M:%SZ} "
            f"(allowed lateness {self._config.allowed_lateness}); the stream's watermark is "
            f"{_from_micros(floor) - self._config.allowed_lateness:%Y-%m-%dT%H:%M:%SZ} or later",
        )
        data = original_bytes(article.input_uri, article.input_line)
        if data is None:  # the input is gone (or was a message): the article's text stands in for it
            data = article.body.encode("utf-8")
        metrics.count_rejected(err.stage.value)
        metrics.ARTICLES_LATE.inc()
        raw = RawInput(
            article.input_uri, data, extension_of(article.input_uri), line=article.input_line, size=len(data)
        )
        return rejected_row(raw, err, self._rejected_at)


class RouteLateArticles(beam.PTransform):
    """PCollection[Article] (timestamped) -> {'articles': on-time Article, 'rejected': Rejected}.

    One key for the whole stream: the check is a comparison per article, and one key keeps one
    watermark history. See the module docstring for what counts as too late.
    """

    ARTICLES = "articles"
    REJECTED = "rejected"

    def __init__(self, config: WindowConfig, rejected_at: dt.datetime):
        super().__init__()
        self._config = config
        self._rejected_at = rejected_at

    def expand(self, articles):
        return (
            articles
            | "KeyAll" >> beam.Map(lambda a: (_ROUTE_KEY, a)).with_output_types(tuple[str, Article])
            | "Route"
            >> beam.ParDo(_RouteLateFn(self._config, self._rejected_at)).with_outputs(self.REJECTED, main=self.ARTICLES)
        )


class _CountFn(beam.CombineFn):
    """(mentions, articles, (name, type)) of one entity in one window, from each article's own counts."""

    def create_accumulator(self):
        return 0, 0, None

    def add_input(self, acc, count: tuple[int, tuple[str, str]]):
        n, articles, label = acc
        mentions, candidate = count
        return n + mentions, articles + 1, candidate if label is None else min(label, candidate)

    def merge_accumulators(self, accs):
        n, articles, labels = 0, 0, []
        for a_n, a_articles, a_label in accs:
            n += a_n
            articles += a_articles
            if a_label is not None:
                labels.append(a_label)
        return n, articles, min(labels) if labels else None

    def extract_output(self, acc):
        return acc


def _count_row(start: dt.datetime, end: dt.datetime, entity_id: str, counted: tuple, update_id: str) -> EntityCount:
    mentions, articles, (name, kind) = counted
    return EntityCount(
        window_start=start,
        window_end=end,
        entity_id=entity_id,
        name=name,
        type=kind,
        mentions=mentions,
        articles=articles,
        update_id=update_id,
    )


class _ToRowFn(beam.DoFn):
    def __init__(self, update_id: str):
        self._update_id = update_id

    def process(self, keyed, win=beam.DoFn.WindowParam):
        entity_id, counted = keyed
        yield _count_row(
            win.start.to_utc_datetime(has_tz=True),
            win.end.to_utc_datetime(has_tz=True),
            entity_id,
            counted,
            self._update_id,
        )


def _entity_counts_by_window(article: Article, config: WindowConfig):
    """((window start in µs, entity_id), (mentions, (name, type))) per entity of the article: bounded input's keys."""
    start = _micros(config.window_of(article.published_at)[0])
    for e in article.entities:
        yield (start, e.entity_id), (e.mentions, (e.name, e.type))


class _KeyedToRowFn(beam.DoFn):
    def __init__(self, config: WindowConfig, update_id: str):
        self._config = config
        self._update_id = update_id

    def process(self, keyed):
        (start, entity_id), counted = keyed
        window_start = _from_micros(start)
        yield _count_row(window_start, window_start + self._config.size, entity_id, counted, self._update_id)


def _entity_counts(article: Article):
    """(entity_id, (mentions, (name, type))) per entity of the article, at its event time: one element per
    article and entity, where counting mentions one by one would carry every mention through the shuffle."""
    when = _micros(article.published_at) / 1e6
    for e in article.entities:
        yield window.TimestampedValue((e.entity_id, (e.mentions, (e.name, e.type))), when)


class CountEntityMentions(beam.PTransform):
    """PCollection[Article] (with entities) -> PCollection[EntityCount] in the global window, ready for the sink.

    Fixed windows of `config.size` over published_at; each row holds an entity's mentions and the
    articles mentioning it in one window. On unbounded input a pane fires when the watermark passes
    the window's end, and again for each late article within the allowed lateness (discarding: each
    row holds what is new since the last). RouteLateArticles upstream decides what is too late, so
    that nothing reaches this step only to be dropped.
    """

    def __init__(self, config: WindowConfig, update_id: str):
        super().__init__()
        self._config = config
        self._update_id = update_id

    def expand(self, articles):
        if articles.is_bounded:
            # A batch fires each window once, at the end, so the window can simply be part of the key: the same rows
            # without Beam's window machinery, which the local runner's grouping runs on one core in its driver
            # (about 4.5 s per 1,000 BBC articles, a tenth of the run; benchmarks/RESULTS.md).
            return (
                articles
                | "PerWindowAndArticle"
                >> beam.FlatMap(_entity_counts_by_window, self._config).with_output_types(
                    tuple[tuple[int, str], tuple[int, tuple[str, str]]]
                )
                | "Count" >> beam.CombinePerKey(_CountFn())
                | "ToRows" >> beam.ParDo(_KeyedToRowFn(self._config, self._update_id))
            )
        into = beam.WindowInto(
            window.FixedWindows(self._config.size.total_seconds()),
            trigger=trigger.AfterWatermark(late=trigger.AfterCount(1)),
            accumulation_mode=trigger.AccumulationMode.DISCARDING,
            allowed_lateness=self._config.allowed_lateness.total_seconds(),
        )
        return (
            articles
            | "PerArticle" >> beam.FlatMap(_entity_counts).with_output_types(tuple[str, tuple[int, tuple[str, str]]])
            | "FixedWindows" >> into
            | "Count" >> beam.CombinePerKey(_CountFn())
            | "ToRows" >> beam.ParDo(_ToRowFn(self._update_id))
            | "GlobalWindow" >> beam.WindowInto(window.GlobalWindows())
        )
