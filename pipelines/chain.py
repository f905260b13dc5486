"""The chain and the run: what a batch run and each micro-batch of a stream share, in one place.

    config = chain_config(news)                           # the settings, validated once (ConfigError: exit 2)
    context = RunContext(ingested_at, batch_id, ...)      # what differs per run, chunk or micro-batch
    counts = run_chunks(runner, options, chunks, config, context)     # read -> ... -> staged Parquet
    outcome = commit_run(output, run_id, batch_id, counts)            # commit, alerts.jsonl, reconcile

The batch driver (news_pipeline.py) and the stream (stream.py) parse their flags, loop, and call these;
neither imports the other's internals.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import logging
import platform
import time
from importlib import metadata as importlib_metadata
from typing import Optional

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics.metric import MetricsFilter

from runtime.runner import LocalRunner
from schemas import SCHEMA_VERSION
from schemas.tables import TABLES
from transforms import metrics
from transforms.compact import CHUNKS, chunk_files, chunk_row_group_bytes, chunk_staging, compact_chunks
from transforms.entities import TAGGERS, TaggerConfig
from transforms.ingest import ChainConfig, IngestArticles, RunContext
from transforms.inputs import as_input
from transforms.lookback import with_chunk
from transforms.rules import RulePackError, load_rule_pack
from transforms.sink import MANIFEST, CommitResult, WriteTables, append_alerts_log, commit, write_json_atomically
from transforms.stories import BreakingConfig, StoryCheckpoint, StoryConfig
from transforms.windows import WindowConfig

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_TOO_MANY_REJECTED = 0, 1, 2, 3
SUCCESS = "_SUCCESS"
_LOG = logging.getLogger("newsbeam")


class ConfigError(ValueError):
    """A flag or a configuration file that cannot work: the driver exits 2 with this message, before any work."""


def chain_config(news) -> ChainConfig:
    """The chain's settings from the command line's NewsOptions, checked once; ConfigError says what is wrong."""
    if news.max_body_bytes <= 0:
        raise ConfigError("--max_body_bytes must be positive")
    if news.chunk_records is not None and news.chunk_records < 0:
        raise ConfigError("--chunk_records must be 0 (one pipeline) or positive")
    if news.story_max_window_articles < 1 or news.story_max_active_stories < 1:
        raise ConfigError("--story_max_window_articles and --story_max_active_stories must be at least 1")
    if news.window_s <= 0 or news.allowed_lateness_s < 0:
        raise ConfigError("--window_s must be positive and --allowed_lateness_s not negative")
    if news.tagger not in TAGGERS:
        raise ConfigError(f"--tagger must be one of {', '.join(TAGGERS)}, not {news.tagger!r}")
    try:
        load_rule_pack(news.rules)  # a bad rule pack is a clear error now, never mid-run
    except (OSError, RulePackError) as err:
        raise ConfigError(str(err)) from None
    return ChainConfig(
        max_body_bytes=news.max_body_bytes,
        progress_interval_s=news.progress_interval_s,
        rules_path=news.rules,
        tagger=TaggerConfig(**TAGGERS[news.tagger]),
        stories=StoryConfig(
            threshold=news.story_threshold,
            max_gap=dt.timedelta(days=news.story_max_gap_days),
            max_window_articles=news.story_max_window_articles,
            max_active_stories=news.story_max_active_stories,
        ),
        breaking=BreakingConfig(
            window=dt.timedelta(hours=news.breaking_window_h),
            baseline=dt.timedelta(hours=news.breaking_baseline_h),
            factor=news.breaking_factor,
            min_articles=news.breaking_min_articles,
        ),
        windows=WindowConfig(
            size=dt.timedelta(seconds=news.window_s), allowed_lateness=dt.timedelta(seconds=news.allowed_lateness_s)
        ),
    )


def build_pipeline(pipeline: beam.Pipeline, inputs: list, config: ChainConfig, context: RunContext, source=None):
    """The chain over `inputs` (paths or FileSplits; FeedPolls with a feed `source`) into staged Parquet; emits
    (table, partition, rows) per file."""
    uris = pipeline | "ListInputs" >> beam.Create(inputs if source else [as_input(item) for item in inputs])
    if not context.micro_batch:  # a stream's micro-batches run in one process: nothing to spread
        uris = uris | "SpreadFiles" >> beam.Reshuffle()
    return (
        uris
        | "Ingest" >> IngestArticles(config, context, source)
        | "WriteTables" >> WriteTables(context.staging, context.batch_id, context.row_group_bytes)
    )


def run_pipeline(
    runner, options, inputs: list, config: ChainConfig, context: RunContext, source=None
) -> Optional[dict]:
    """Build and run the chain over `inputs` to the end; newsbeam's counters (None where the runner has none)."""
    pipeline = beam.Pipeline(runner=runner, options=options)
    build_pipeline(pipeline, inputs, config, context, source)
    result = pipeline.run()
    result.wait_until_finish()
    counts = counters(result)
    # A finished pipeline leaves a large graph of cyclic garbage (its transforms, the runner's stages and buffers) that
    # Python's generational collector frees late: on sample_data in chunks of one record the driver grew 8 MiB over 11
    # chunks without this collection, and not at all with it. With the run's start-up objects frozen, it takes ms.
    del pipeline, result
    gc.collect()
    return counts


# At most this many records per chunk, in even chunks (plan_chunks). Each chunk costs a pipeline's fixed work on about
# one core (BBC: about 1 s to build and start it, about 1 s of writes, and its tagging stage's uneven end), and each
# record more per chunk costs memory. At 1,250, BBC x1 runs as 2 chunks of 1,113 (ratio 0.83, 788 MiB PSS) where 1,000
# made 3 (0.80, 791 MiB, same hour), and BBC x10 as 18 chunks peaks at 859 MiB PSS; chunks of 2,500 peaked at 971 MiB
# there (benchmarks/RESULTS.md, 2026-11-30, 0d4dde0).
DEFAULT_CHUNK_RECORDS = 1250
# Earlier runs' articles within this many days are replayed to continue their stories (--story_lookback_days).
DEFAULT_LOOKBACK_DAYS = 7.0


def run_chunks(
    runner, options, chunks: list[list], config: ChainConfig, context: RunContext, source=None
) -> Optional[dict]:
    """Run the chain over each chunk in turn and leave one staged file per table and partition; the summed counters.

    One chunk is one pipeline, as always. Several chunks (an input larger than --chunk_records) run
    one bounded pipeline each, in input order, so memory stays that of one chunk: each chunk stages its
    own files, later chunks know the earlier chunks' content hashes (exact copies across chunks are
    duplicates), the story stage hands its state to the next chunk through a checkpoint file, and at
    the end the chunk files are merged (transforms/compact.py). A feed run's `source` (PollFeeds) reads its
    one chunk of FeedPolls in place of the files. The local runner is closed here, once,
    when its pipelines are done: its worker server's memory goes back before the merge takes some.
    """
    try:
        if len(chunks) == 1:
            return run_pipeline(runner, options, chunks[0], config, context, source)
        total = _run_each_chunk(runner, options, chunks, config, context)
    finally:
        if isinstance(runner, LocalRunner):
            runner.close()
    clock = time.monotonic()
    written = compact_chunks(context.staging, len(chunks), context.batch_id)
    _LOG.info(
        "merged %d chunks into one file per table and partition in %.1fs (%s rows)",
        len(chunks),
        time.monotonic() - clock,
        sum(written.values()),
    )
    return total


def _run_each_chunk(runner, options, chunks: list[list], config: ChainConfig, context: RunContext) -> Optional[dict]:
    """The chunks' pipelines in turn, each handing its story state and its articles to the next; summed counters."""
    total: Optional[dict] = {}
    saved, lookback, staging = None, context.lookback, context.staging
    for index, chunk in enumerate(chunks):
        clock = time.monotonic()
        checkpoint = StoryCheckpoint(
            read_from=saved, write_to=FileSystems.join(staging, CHUNKS, f"stories-{index:05d}.pkl")
        )
        chunk_context = dataclasses.replace(
            context,
            lookback=lookback,
            story_checkpoint=checkpoint,
            staging=chunk_staging(staging, index),
            row_group_bytes=chunk_row_group_bytes(len(chunks)),
        )
        counts = run_pipeline(runner, options, chunk, config, chunk_context)
        total = (
            None
            if counts is None or total is None
            else {k: total.get(k, 0) + counts.get(k, 0) for k in sorted({*total, *counts})}
        )
        if FileSystems.exists(checkpoint.write_to):  # a chunk without articles (or lookback) leaves the state as it was
            saved = checkpoint.write_to
        lookback = with_chunk(lookback, chunk_files(staging, index, "articles"), saved is not None)
        _LOG.info(
            "chunk %d/%d: %d inputs read in %.1fs",
            index + 1,
            len(chunks),
            (counts or {}).get("records_read", 0),
            time.monotonic() - clock,
        )
    return total


def counters(result) -> Optional[dict[str, int]]:
    """newsbeam's counters of a finished pipeline; None where the runner reports no metrics."""
    try:
        found = result.metrics().query(MetricsFilter().with_namespace(metrics.NAMESPACE))["counters"]
    except (NotImplementedError, AttributeError):
        return None
    counts: dict[str, int] = {}
    for c in found:
        counts[c.key.metric.name] = counts.get(c.key.metric.name, 0) + (c.committed or 0)
    return dict(sorted(counts.items()))


def rejected_by_stage(counts: Optional[dict]) -> dict[str, int]:
    """Rejections per stage (read, decode, …, tag, alerts, stories, write), from the rejected_<stage> counters."""
    prefix = "rejected_"
    return {k[len(prefix) :]: v for k, v in sorted((counts or {}).items()) if k.startswith(prefix) and v}


def versions() -> dict[str, str]:
    """The versions a manifest records: Python, the table schema, newsbeam and its main libraries."""
    found = {"python": platform.python_version(), "schema": SCHEMA_VERSION}
    for name in ("newsbeam", "apache-beam", "pyarrow", "pydantic"):
        try:
            found[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


@dataclasses.dataclass(frozen=True)
class RunOutcome:
    """A committed run or micro-batch: its files and rows, and whether every input is accounted for."""

    committed: CommitResult
    alerts_log_appended: int
    inputs_seen: Optional[int]  # None where the runner reports no metrics

    @property
    def rows(self) -> dict[str, int]:
        return self.committed.rows

    @property
    def outcomes(self) -> int:
        """Articles, duplicates and rejected rows: one per input when nothing is lost."""
        return sum(self.rows[t] for t in ("articles", "duplicates", "rejected"))

    @property
    def reconciled(self) -> Optional[bool]:
        return None if self.inputs_seen is None else self.inputs_seen == self.outcomes

    def summary(self) -> dict:
        """What a manifest says of it: input and row counts, reconciliation, alerts log lines, files written."""
        return {
            "inputs_seen": self.inputs_seen,
            **{t: self.rows[t] for t in TABLES},
            "reconciled": self.reconciled,
            "alerts_log_appended": self.alerts_log_appended,
            "files_written": len(self.committed.files),
        }


def commit_run(output: str, run_id: str, batch_id: str, counts: Optional[dict]) -> RunOutcome:
    """Move a finished run's staged tables into place and add its alerts to alerts.jsonl; the outcome to report."""
    committed = commit(output, run_id, batch_id)
    appended = append_alerts_log(output, committed.files)
    return RunOutcome(committed, appended, None if counts is None else counts.get("records_read", 0))


def clear_success(output: str) -> None:
    """Delete the previous run's _SUCCESS marker: sensors must not mistake it for this run's."""
    success = f"{output.rstrip('/')}/{SUCCESS}"
    if FileSystems.exists(success):
        FileSystems.delete([success])


def run_record(outcome: RunOutcome, counts: Optional[dict], runner_name: str, started: dt.datetime, clock: float):
    """The manifest fields every batch run has: rows, reconciliation, rejects by stage, files, versions, timing."""
    return {
        **outcome.summary(),
        "rejected_by_stage": rejected_by_stage(counts),
        "counts": counts or {},
        "files": sorted(outcome.committed.files),
        "removed_stale_files": outcome.committed.removed,
        "versions": versions(),
        "runner": runner_name,
        "started_at": started.isoformat(),
        "ended_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "seconds": round(time.monotonic() - clock, 3),
    }


def finish_run(output: str, manifest: dict, outcome: RunOutcome, max_rejected_ratio: float, line: str) -> int:
    """Write the manifest and print the run's line; then the exit code: failed when the counts do not reconcile,
    else the _SUCCESS marker, and too many rejected past `max_rejected_ratio` (the marker is still written)."""
    write_json_atomically(f"{output.rstrip('/')}/{MANIFEST}", manifest)
    print(line)
    if outcome.reconciled is False:
        _LOG.error("counts do not reconcile: %s inputs read but %s rows written", outcome.inputs_seen, outcome.outcomes)
        return EXIT_FAILED
    write_json_atomically(f"{output.rstrip('/')}/{SUCCESS}", {"run_id": manifest["run_id"], "manifest": MANIFEST})
    ratio = manifest["rejected"] / max(1, outcome.outcomes)
    if ratio > max_rejected_ratio:
        _LOG.error(
            "%.0f%% of inputs were rejected, over --max_rejected_ratio %.0f%%", 100 * ratio, 100 * max_rejected_ratio
        )
        return EXIT_TOO_MANY_REJECTED
    return EXIT_OK
