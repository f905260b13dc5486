"""newsbeam's streaming mode: a watched spool folder in, the same tables out within seconds, a clean stop.

    python -m pipelines.news_pipeline --streaming --watch incoming/ --output output [--max_runtime_s 600]
    python -m pipelines.replay --source ../shared/corpus/reuters21578_000.jsonl --to incoming/ --rate 50

Files dropped into the folder (write, then rename: see transforms/spool.py) are claimed in small
micro-batches, each run as a bounded Beam pipeline, the batch pipeline's own chain, and committed
to the output like a batch run: Parquet tables, alerts.jsonl, and `_manifest.json`, which here
sums the whole stream. Why micro-batches and not Beam's `--streaming` on the local runner: see
docs/streaming.md (offline, it runs on the FnApiRunner, where anything behind a GroupByKey fires
only when the source stops and SIGINT is ignored).

What carries from one micro-batch to the next, in this process:
- the spaCy model, loaded once and shared through one `Shared` handle (batches run in process);
- the lookback: recent articles with their stories, content hashes and story alerts, extended
  with each batch's committed files instead of re-reading the output;
- the stream's watermark (the newest strong published_at accepted), which decides what is too
  late; it is saved in each batch's _DONE.json, so a restart resumes from it.

With --feeds (docs/feeds.md), with or without --watch, each poll of the feeds that are due is a micro-batch
of its own through the same chain and commit; the feeds' seen store is saved after that commit.

SIGINT, SIGTERM or --max_runtime_s stop the stream after the micro-batch in flight is committed;
a second signal stops at once, and the batch in flight is processed again on the next start.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

import pyarrow.parquet as pq
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions, TypeOptions
from apache_beam.utils import shared

from pipelines.chain import EXIT_CONFIG, EXIT_FAILED, EXIT_OK, SUCCESS, commit_run, run_pipeline, versions
from pipelines.options import NewsOptions
from runtime.runner import LocalRunner
from runtime.stop import StopSignal
from schemas import Rejected
from schemas.tables import TABLES
from transforms.errors import InputRejected, Reason, describe
from transforms.feeds.session import FeedSession, FeedSettings
from transforms.feeds.steps import read_outcomes
from transforms.ingest import ChainConfig, RunContext, warm_up_worker
from transforms.lookback import extend_lookback, first_ingested_at, read_lookback
from transforms.sink import (
    MANIFEST,
    STAGING,
    part_batch,
    remove_batch_files,
    stage_records,
    staging_dir,
    write_json_atomically,
)
from transforms.spool import Spool, SpoolBatch
from transforms.windows import stream_watermark

_LOG = logging.getLogger("newsbeam.stream")
FEED_BATCH_PREFIX = "feeds-"  # a feed micro-batch's id: the prefix and the poll's time in ms


class _Stream:
    def __init__(self, options: PipelineOptions, config: ChainConfig, feeds: Optional[FeedSession] = None):
        self.options = options
        self.config = config
        options.view_as(StandardOptions).streaming = False  # each micro-batch is a bounded pipeline
        options.view_as(
            TypeOptions
        ).pipeline_type_check = False  # checked once by the batch tests; costs ~0.3 s a batch
        self.news = options.view_as(NewsOptions)
        self.output = self.news.output.rstrip("/")
        self.spool = Spool(self.news.watch) if self.news.watch else None
        self.feeds = feeds
        self.handle = shared.Shared()
        self.totals = {"inputs_seen": 0, **{t: 0 for t in TABLES}, "alerts_log_appended": 0, "files_set_aside": 0}
        self.batches: list[dict] = []
        done = self.spool.done_infos() if self.spool else []
        for info in done:  # the manifest sums the whole stream, across restarts
            self._add(info)
        last = done[-1] if done else {}
        marks = [last.get("watermark")]
        if feeds is not None and feeds.store.stream:  # the feed micro-batches of the stream before a restart
            self._add(feeds.store.stream.get("totals", {}), batch=False)
            marks.append(feeds.store.stream.get("watermark"))
        self.watermark = max((dt.datetime.fromisoformat(m) for m in marks if m), default=None)
        self.lookback = read_lookback(self.output, "", self.news.story_lookback_days)
        self._drop_stale_staging()
        self.started = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)

    def _drop_stale_staging(self) -> None:
        """Staged files of this spool's batches (and feed polls) that a killed run never committed: a redo stages its
        own, and a feed poll that was not committed is polled again."""
        staging = Path(self.output) / STAGING
        prefixes = ((self.spool.prefix + "-",) if self.spool else ()) + ((FEED_BATCH_PREFIX,) if self.feeds else ())
        if staging.is_dir() and prefixes:
            for folder in staging.iterdir():
                if folder.name.startswith(prefixes):
                    shutil.rmtree(folder, ignore_errors=True)

    def warm_up(self) -> None:
        """Load the model and the late imports, and run one empty micro-batch before the first file lands, so the first
        article is not the slow one."""
        self._tagger = warm_up_worker(self.handle, self.config.tagger, self.config.rules_path)
        with tempfile.TemporaryDirectory(prefix="newsbeam-warm-up-") as scratch:
            context = self._context(dt.datetime.now(dt.timezone.utc), "warm-up", self.lookback, scratch)
            run_pipeline(LocalRunner(in_process=True), self.options, [], self.config, context)
        # The model, the imports and the rules live as long as the stream: frozen, the collection after each micro-batch
        # (process) never walks them again.
        gc.collect()
        gc.freeze()

    def process(self, spool_batch: SpoolBatch, redo: bool = False) -> dict:
        """Run one micro-batch and commit it; returns its line for the manifest.

        `redo`: the batch was claimed by an earlier run that did not finish it, and may have committed
        part of it: it keeps that run's ingestion time and must not see its own articles in the lookback.
        """
        clock = time.monotonic()
        batch_id = spool_batch.batch_id
        first = first_ingested_at(self.output, batch_id) if redo else None
        ingested_at = first or spool_batch.claimed_at.replace(microsecond=0)
        if redo:  # it must not see what it committed before (the batch's files, or its parts') as earlier articles
            self.lookback = read_lookback(self.output, batch_id, self.news.story_lookback_days)
        info = {"batch_id": batch_id, "files": len(spool_batch.files), "watermark_before": _iso(self.watermark)}
        if spool_batch.files:
            watermark = self.watermark
            run_id = f"{batch_id}-{int(time.time() * 1000)}"
            try:
                counts = self._run_pipeline(list(spool_batch.files), batch_id, ingested_at, run_id)
            except Exception as err:  # noqa: BLE001 - the batch is run again file by file: see _isolate
                _LOG.exception(
                    "micro-batch %s failed; running its %d files one by one", batch_id, len(spool_batch.files)
                )
                info.update(self._isolate(spool_batch, ingested_at, err))
            else:  # a failure to commit is no file's fault: it stops the stream, and the restart redoes the batch
                info.update(self._commit(run_id, batch_id, counts))
            self._move_watermark(watermark, info.pop("article_files", []))
        info.update(
            watermark=_iso(self.watermark),
            seconds=round(time.monotonic() - clock, 3),
            ingested_at=ingested_at.isoformat(),
        )
        self.spool.done(spool_batch, info)
        self._add(info)
        _LOG.info(
            "batch %s: %d files -> %s articles, %s duplicates, %s rejected, %s alerts in %.2fs",
            batch_id,
            info["files"],
            info.get("articles", 0),
            info.get("duplicates", 0),
            info.get("rejected", 0),
            info.get("alerts", 0),
            info["seconds"],
        )
        return info

    def process_feeds(self) -> dict:
        """Poll the feeds that are due as one micro-batch and commit it; the feeds' store is saved after the commit.
        A failed run commits nothing and counts as a failed poll of each feed (they back off, then are polled again).
        """
        clock, now = time.monotonic(), dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        polls = self.feeds.due(time.time())
        batch_id = run_id = f"{FEED_BATCH_PREFIX}{int(time.time() * 1000)}"
        info = {"batch_id": batch_id, "files": 0, "feeds_polled": len(polls), "watermark_before": _iso(self.watermark)}
        context = self._context(now, batch_id, self.lookback, staging_dir(self.output, run_id))
        watermark = self.watermark
        try:
            source = self.feeds.source(now, context.staging)
            counts = run_pipeline(LocalRunner(in_process=True), self.options, polls, self.config, context, source)
            outcomes, hosts = read_outcomes(context.staging)
        except Exception as err:  # noqa: BLE001 - the feeds back off; the stream goes on
            _LOG.exception("feed micro-batch %s failed; nothing of it was committed", batch_id)
            shutil.rmtree(context.staging, ignore_errors=True)
            info.update(self.feeds.failed(polls, describe(err), time.time()))
        else:
            info.update(self._commit(run_id, batch_id, counts))
            self._move_watermark(watermark, info.pop("article_files", []))
            state = {"watermark": _iso(self.watermark), "totals": self._feed_totals(info)}
            # After the commit: a crash in between fetches again rather than loses.
            info.update(self.feeds.committed(outcomes, hosts, time.time(), state))
        info.update(watermark=_iso(self.watermark), seconds=round(time.monotonic() - clock, 3), ingested_at=_iso(now))
        self._add(info)
        _LOG.info(
            "feeds %s: %d polled, %d new items -> %s articles, %s rejected, %s alerts in %.2fs",
            batch_id,
            len(polls),
            info.get("feed_items_new", 0),
            info.get("articles", 0),
            info.get("rejected", 0),
            info.get("alerts", 0),
            info["seconds"],
        )
        return info

    def _context(self, ingested_at: dt.datetime, batch_id: str, lookback, staging: str) -> RunContext:
        return RunContext(
            ingested_at,
            batch_id,
            lookback,
            self.handle,
            micro_batch=True,
            watermark_close=self.watermark,  # every part of a batch run file by file sees the batch's watermark
            staging=staging,
        )

    def _run_pipeline(self, files: list[str], batch_id: str, ingested_at: dt.datetime, run_id: str) -> Optional[dict]:
        """Run the chain over `files` as one bounded pipeline into staging; its counters. Nothing is committed."""
        context = self._context(ingested_at, batch_id, self.lookback, staging_dir(self.output, run_id))
        try:
            return run_pipeline(LocalRunner(in_process=True), self.options, files, self.config, context)
        except BaseException:
            shutil.rmtree(context.staging, ignore_errors=True)  # nothing of a failed run is committed
            raise

    def _commit(self, run_id: str, batch_id: str, counts: Optional[dict]) -> dict:
        """Commit a run's staged tables and carry its articles into the lookback; its line for the manifest (with the
        article files, for the watermark, which moves once per micro-batch)."""
        outcome = commit_run(self.output, run_id, batch_id, counts)
        articles = [f for f in outcome.committed.files if "/articles/dt=" in f]
        story_alerts = [f for f in outcome.committed.files if "/story_alerts/dt=" in f]
        self.lookback = extend_lookback(self.lookback, articles, story_alerts, self.news.story_lookback_days)
        return {**outcome.summary(), "article_files": articles}

    def _isolate(self, spool_batch: SpoolBatch, ingested_at: dt.datetime, err: Exception) -> dict:
        """A failed micro-batch, run again one file at a time, so that one file cannot stop the stream.

        Each file runs as a part of the batch (its own batch id, part_batch, so a redo after a crash replaces
        what a part committed; the whole batch's files, from a run that committed before a crash, go first);
        a file that fails alone becomes one `rejected` row (stage `batch`) with its bytes and the error, and
        counts as one input. Then the batch is done, and the stream moves on. When every file of a batch of
        several fails alone with the same error, the fault is no file's (a full disk, a broken model): the
        stream stops, and the restart redoes the batch.
        """
        remove_batch_files(self.output, spool_batch.batch_id)
        totals: dict = {"isolated": True, "error": describe(err), "set_aside": [], "article_files": []}
        errors = []
        for index, path in enumerate(spool_batch.files):
            part = part_batch(spool_batch.batch_id, index)
            run_id = f"{part}-{int(time.time() * 1000)}"
            try:
                counts = self._run_pipeline([path], part, ingested_at, run_id)
            except Exception as part_err:  # noqa: BLE001 - becomes the file's rejected row
                _LOG.exception("file %s fails a micro-batch on its own: set aside as a rejected row", path)
                errors.append(type(part_err).__name__)
                if len(errors) == len(spool_batch.files) > 1 and len(set(errors)) == 1:
                    raise RuntimeError(f"every file of micro-batch {spool_batch.batch_id} fails alone") from part_err
                line = self._set_aside(path, part, ingested_at, part_err)
                totals["set_aside"].append(path)
            else:
                line = self._commit(run_id, part, counts)
            totals["article_files"] += line.pop("article_files", [])
            for key, value in line.items():
                if isinstance(value, int) and not isinstance(value, bool):
                    totals[key] = totals.get(key, 0) + value
            totals["reconciled"] = totals.get("reconciled", True) and line.get("reconciled") is not False
        return totals

    def _set_aside(self, path: str, part: str, ingested_at: dt.datetime, err: Exception) -> dict:
        """Commit one rejected row (stage `batch`) for a file that fails a micro-batch of its own."""
        limit = 4 * self.news.max_body_bytes
        try:
            with open(path, "rb") as f:
                data = f.read(limit + 1)
            size = os.path.getsize(path)
        except OSError as read_err:
            data, size = b"", 0
            err = read_err
        rejected = InputRejected(Reason.BATCH_FAILED, describe(err))
        row = Rejected(
            input_uri=path,
            stage=rejected.stage,
            error_type=rejected.reason.value,
            message=rejected.message,
            original_bytes=data[:limit],
            original_size=size,
            original_truncated=size > limit,
            rejected_at=ingested_at,
        )
        run_id = f"{part}-{int(time.time() * 1000)}"
        stage_records(staging_dir(self.output, run_id), part, "rejected", [row])
        return self._commit(run_id, part, {"records_read": 1})  # the file counts as one input

    def _add(self, info: dict, batch: bool = True) -> None:
        for key in self.totals:
            self.totals[key] += info.get(key) or 0
        self.totals["files_set_aside"] += len(info.get("set_aside", []))
        if batch:
            self.batches.append(info)

    def _feed_totals(self, info: dict) -> dict:
        """The stream's feed micro-batches so far, with this one, summed: saved with the feeds' store for a restart."""
        before = self.feeds.store.stream.get("totals", {})
        return {key: (before.get(key) or 0) + (info.get(key) or 0) for key in self.totals if key != "files_set_aside"}

    def _move_watermark(self, before: Optional[dt.datetime], article_files: list[str]) -> None:
        """The stream's watermark after a micro-batch: from `before`, over the articles it committed."""
        watermark = before
        for path in article_files:
            rows = pq.read_table(path, columns=["published_at", "published_at_source", "quality_flags"]).to_pylist()
            watermark = stream_watermark(rows, watermark)
        self.watermark = watermark

    def manifest(self, state: str, stop_reason: Optional[str]) -> dict:
        reconciled = all(b.get("reconciled") is not False for b in self.batches)
        return {
            "mode": "streaming",
            "state": state,
            "stop_reason": stop_reason,
            "watch": str(self.spool.folder) if self.spool else None,
            "input": str(self.spool.folder) if self.spool else self.news.feeds,
            **({"feeds": self.feeds.manifest()} if self.feeds else {}),
            "batches": len(self.batches),
            **self.totals,
            "reconciled": reconciled,
            "watermark": _iso(self.watermark),
            "window_s": self.news.window_s,
            "allowed_lateness_s": self.news.allowed_lateness_s,
            "recent_batches": self.batches[-20:],
            "versions": versions(),
            "runner": "LocalRunner(in_process)",
            "started_at": self.started.isoformat(),
            "updated_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        }

    def write_manifest(self, state: str, stop_reason: Optional[str] = None) -> dict:
        manifest = self.manifest(state, stop_reason)
        write_json_atomically(f"{self.output}/{MANIFEST}", manifest)
        return manifest


def _iso(value: Optional[dt.datetime]) -> Optional[str]:
    return value.isoformat() if value else None


def run_stream(options: PipelineOptions, config: ChainConfig, feeds: Optional[FeedSettings] = None) -> int:
    """The streaming driver loop; returns an exit code like the batch driver. `feeds`: poll them too, each on
    its schedule, each poll a micro-batch through the same commit as the watched folder's."""
    news = options.view_as(NewsOptions)
    if not news.watch and feeds is None:
        print(
            "newsbeam: --streaming needs --watch DIR (the spool folder to watch) or --feeds FILE; "
            "see docs/streaming.md and docs/feeds.md",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    if options.view_as(StandardOptions).runner is not None:
        print(
            "newsbeam: --watch runs micro-batches on the local runner; "
            "on a cluster runner read Pub/Sub instead (docs/streaming.md)",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    try:
        if news.watch:
            Path(news.watch).mkdir(parents=True, exist_ok=True)
        Path(news.output).mkdir(parents=True, exist_ok=True)
    except OSError as err:
        print(f"newsbeam: {err}", file=sys.stderr)
        return EXIT_CONFIG
    success = Path(news.output) / SUCCESS
    success.unlink(missing_ok=True)  # a batch run's marker does not describe a stream
    stream = _Stream(options, config, FeedSession(feeds, news.output) if feeds else None)
    stop = StopSignal()
    stop.install()
    deadline = time.monotonic() + news.max_runtime_s if news.max_runtime_s else None
    reason = None
    try:
        stream.warm_up()
        recovered = stream.spool.pending() if stream.spool else []
        if recovered:
            _LOG.warning("resuming %d micro-batches a previous run claimed but did not finish", len(recovered))
        for spool_batch in recovered:
            stream.process(spool_batch, redo=True)
            stream.write_manifest("running")
        stream.write_manifest("running")
        watched = " and ".join(([str(stream.spool.folder)] if stream.spool else []) + ([news.feeds] if feeds else []))
        print(f"newsbeam: watching {watched} -> {news.output} (stop with Ctrl-C or SIGTERM)", flush=True)
        while True:
            if stop.requested:
                reason = stop.requested
                break
            if deadline is not None and time.monotonic() >= deadline:
                reason = "max_runtime_s"
                break
            if stream.feeds is not None and stream.feeds.next_poll() <= time.time():
                stream.process_feeds()
                stream.write_manifest("running")
                continue
            claimed = (
                stream.spool.claim(news.max_batch_files, dt.datetime.now(dt.timezone.utc)) if stream.spool else None
            )
            if claimed is None:
                time.sleep(news.poll_interval_s)
                continue
            stream.process(claimed)
            stream.write_manifest("running")
    except KeyboardInterrupt as err:
        _LOG.error("stopped at once (%s); the micro-batch in flight will be processed again on the next start", err)
        stream.write_manifest("killed", str(err))
        return EXIT_FAILED
    except Exception:
        _LOG.exception(
            "the stream failed; claimed files stay in %s and are processed again on the next start",
            stream.spool.batches if stream.spool else "the spool",
        )
        stream.write_manifest("failed", "error")
        return EXIT_FAILED
    finally:
        stop.restore()
    m = stream.write_manifest("stopped", reason)
    print(
        f"newsbeam: stream stopped ({reason}): {m['batches']} micro-batches, "
        f"{m['inputs_seen']} inputs -> {m['articles']} articles, "
        f"{m['duplicates']} duplicates, {m['rejected']} rejected, {m['alerts']} alerts; tables in {news.output}",
        flush=True,
    )
    return EXIT_OK if m["reconciled"] else EXIT_FAILED
