"""The chain and the run: what a batch run and each micro-batch of a stream share, in one place.

    config = chain_config(news)                           # the settings, validated once (ConfigError: exit 2)
    context = RunContext(ingested_at, batch_id, ...)      # what differs per run, chunk or micro-batch
    counts = run_pipeline(runner, options, inputs, config, context)   # read -> ... -> staged Parquet
    outcome = commit_run(output, run_id, batch_id, counts)            # commit, alerts.jsonl, reconcile

The batch driver (news_pipeline.py) and the stream (stream.py) parse their flags, loop, and call these;
neither imports the other's internals.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import platform
from importlib import metadata as importlib_metadata
from typing import Optional

import apache_beam as beam
from apache_beam.metrics.metric import MetricsFilter

from schemas import SCHEMA_VERSION
from schemas.tables import TABLES
from transforms import metrics
from transforms.ingest import ChainConfig, IngestArticles, RunContext
from transforms.rules import RulePackError, load_rule_pack
from transforms.sink import CommitResult, WriteTables, append_alerts_log, commit
from transforms.stories import BreakingConfig, StoryConfig
from transforms.windows import WindowConfig

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_TOO_MANY_REJECTED = 0, 1, 2, 3
SUCCESS = "_SUCCESS"


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
    try:
        load_rule_pack(news.rules)  # a bad rule pack is a clear error now, never mid-run
    except (OSError, RulePackError) as err:
        raise ConfigError(str(err)) from None
    return ChainConfig(
        max_body_bytes=news.max_body_bytes,
        progress_interval_s=news.progress_interval_s,
        rules_path=news.rules,
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


def build_pipeline(pipeline: beam.Pipeline, inputs: list, config: ChainConfig, context: RunContext):
    """The chain over `inputs` (paths or FileSplits) into staged Parquet; emits (table, partition, rows) per file."""
    uris = pipeline | "ListInputs" >> beam.Create(inputs)
    if not context.micro_batch:  # a stream's micro-batches run in one process: nothing to spread
        uris = uris | "SpreadFiles" >> beam.Reshuffle()
    return (
        uris
        | "Ingest" >> IngestArticles(config, context)
        | "WriteTables" >> WriteTables(context.staging, context.batch_id, context.row_group_bytes)
    )


def run_pipeline(runner, options, inputs: list, config: ChainConfig, context: RunContext) -> Optional[dict]:
    """Build and run the chain over `inputs` to the end; newsbeam's counters (None where the runner has none)."""
    pipeline = beam.Pipeline(runner=runner, options=options)
    build_pipeline(pipeline, inputs, config, context)
    result = pipeline.run()
    result.wait_until_finish()
    counts = counters(result)
    # A finished pipeline leaves a large graph of cyclic garbage (its transforms, the runner's stages and buffers) that
    # Python's generational collector frees late: on sample_data in chunks of one record the driver grew 8 MiB over 11
    # chunks without this collection, and not at all with it. With the run's start-up objects frozen, it takes ms.
    del pipeline, result
    gc.collect()
    return counts


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
