"""Feeds as a source, the batch driver: poll each feed once, fetch the new articles, run the chain, commit.

    python -m pipelines.news_pipeline --feeds feeds.txt --output out [--contact_url https://example.org/bot]

`--feeds` replaces `--input` in a batch run. The feed list is one URL a line or OPML (docs/feeds.md). Each
feed is polled once, conditionally (ETag, Last-Modified, body hash), whatever its schedule; its items not
fetched before (by guid, else canonical URL, remembered in <output>/feeds_seen.json) have their pages fetched,
politely per host, and run through the same chain as files. The seen store is saved after the commit.
`--streaming --feeds` polls each feed on its schedule instead (pipelines/stream.py).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import time
import uuid

from apache_beam.options.pipeline_options import StandardOptions
from apache_beam.utils import shared

from pipelines.chain import EXIT_FAILED, ConfigError, clear_success, commit_run, finish_run, run_chunks, run_record
from pipelines.options import NewsOptions
from runtime.runner import LocalRunner
from transforms.feeds.fetch import FetchConfig
from transforms.feeds.parse import parse_feed_list
from transforms.feeds.policy import PolitenessRules
from transforms.feeds.schedule import ScheduleRules
from transforms.feeds.session import FeedSession, FeedSettings
from transforms.feeds.steps import FetchSettings, read_outcomes
from transforms.ingest import ChainConfig, RunContext, warm_up_worker
from transforms.lookback import read_lookback
from transforms.sink import staging_dir
from transforms.urls import safe_url

_LOG = logging.getLogger("newsbeam.feeds")


def feed_settings(news: NewsOptions) -> FeedSettings:
    """The feed list and the fetch, politeness and schedule rules from the flags; ConfigError says what is wrong."""
    checks = (
        (news.min_host_gap_s is None or news.min_host_gap_s < 0, "--min_host_gap_s must be 0 or more"),
        (news.max_host_concurrency < 1, "--max_host_concurrency must be at least 1"),
        (news.fetch_timeout_s <= 0, "--fetch_timeout_s must be positive"),
        (news.host_backoff_s < 0, "--host_backoff_s must be 0 or more"),
        (news.feed_interval_s is not None and news.feed_interval_s <= 0, "--feed_interval_s must be positive"),
        (
            news.contact_url is not None and not _contact_ok(news.contact_url),
            "--contact_url must be http(s) or mailto:",
        ),
    )
    for failed, message in checks:
        if failed:
            raise ConfigError(message)
    try:
        with open(news.feeds, encoding="utf-8-sig") as f:
            sources = parse_feed_list(f.read())
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise ConfigError(f"--feeds {news.feeds}: {err}") from None
    if not sources:
        raise ConfigError(f"--feeds {news.feeds}: no feed URLs in it")
    timeout = news.fetch_timeout_s
    fetch = FetchConfig(
        connect_timeout=min(10.0, timeout),
        read_timeout=min(30.0, timeout),
        deadline=timeout,
        contact_url=news.contact_url,
    )
    politeness = PolitenessRules(
        min_gap=news.min_host_gap_s, max_concurrent=news.max_host_concurrency, failure_backoff=news.host_backoff_s
    )
    schedule = ScheduleRules()
    if news.feed_interval_s is not None:  # a fixed interval: the user's word, not adapted
        interval = news.feed_interval_s
        schedule = ScheduleRules(default_interval=interval, min_interval=interval, max_interval=interval)
    return FeedSettings(sources, FetchSettings(fetch=fetch, politeness=politeness), schedule)


def _contact_ok(value: str) -> bool:
    return (value.startswith("mailto:") and "@" in value) or safe_url(value) is not None


def run_feeds_batch(options, config: ChainConfig, settings: FeedSettings) -> int:
    """Poll every feed once into the output folder; an exit code like the batch driver's."""
    news = options.view_as(NewsOptions)
    started = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    run_id = f"{started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    batch_id = "feeds-" + hashlib.sha256(run_id.encode()).hexdigest()[:12]  # every poll is a batch of its own
    clear_success(news.output)
    session = FeedSession(settings, news.output)
    polls = session.due(time.time(), everything=True)
    tagger = shared.Shared()
    runner = None
    if options.view_as(StandardOptions).runner is None:
        runner = LocalRunner(warm_up=functools.partial(warm_up_worker, tagger, config.tagger, config.rules_path))
        runner.start()
    _LOG.info("run %s: polling %d feeds from %s -> %s", run_id, len(polls), news.feeds, news.output)
    lookback = read_lookback(news.output, batch_id, news.story_lookback_days)
    context = RunContext(started, batch_id, lookback, tagger, staging=staging_dir(news.output, run_id))
    clock = time.monotonic()
    try:
        counts = run_chunks(runner, options, [polls], config, context, session.source(started, context.staging))
        outcomes, hosts = read_outcomes(context.staging)
    except Exception:
        _LOG.exception("run %s failed; nothing was committed (staged files are under %s)", run_id, context.staging)
        return EXIT_FAILED
    outcome = commit_run(news.output, run_id, batch_id, counts)
    line = session.committed(outcomes, hosts, time.time())  # after the commit: a crash before it fetches again
    runner_name = type(runner).__name__ if runner else options.view_as(StandardOptions).runner
    manifest = {
        "run_id": run_id,
        "batch_id": batch_id,
        "input": news.feeds,
        "ingested_at": started.isoformat(),
        **line,
        "feeds": session.manifest(),
        **run_record(outcome, counts, runner_name, started, clock),
    }
    summary = (
        f"newsbeam: {len(outcomes)} feeds polled, {line['feed_items_new']} new items -> {manifest['articles']} "
        f"articles, {manifest['duplicates']} duplicates, {manifest['rejected']} rejected, {manifest['alerts']} "
        f"alerts ({manifest['seconds']:.1f}s); tables in {news.output}"
    )
    return finish_run(news.output, manifest, outcome, news.max_rejected_ratio, summary)
