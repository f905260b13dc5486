"""Writing tables: one sorted Parquet file per table, partition and run, made visible by rename.

Layout (hive style, readable by DuckDB, Polars, pandas and Spark)::

    <output>/<table>/dt=YYYY-MM-DD/part-<batch_id>.parquet
    <output>/_manifest.json          written last, atomically
    <output>/_staging/<run_id>/...   the run's files until commit; never read by anyone

`batch_id` is derived from the sorted list of input files, so a rerun over the same
inputs replaces its own files (idempotent) while runs over other inputs add files of their
own beside them. Workers only write to staging; :func:`commit` (run by the driver once the
pipeline has succeeded) renames each file into place, one atomic rename per partition, and
removes files this batch wrote before into partitions it no longer produces.
"""

from __future__ import annotations

import dataclasses
import json
import posixpath

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems
from apache_beam.transforms.window import GlobalWindows
from pydantic import BaseModel

from schemas import Article, to_arrow_table
from schemas.tables import TABLES, Table
from transforms import metrics
from transforms.dead_letters import FailureLog, rejected_article
from transforms.errors import Reason
from transforms.files import atomic_write

STAGING = "_staging"
MANIFEST = "_manifest.json"
# Row groups of about this many uncompressed bytes: large enough for fast scans, small
# enough that a reader holding one group stays well under the memory budget.
ROW_GROUP_TARGET_BYTES = 64 * 1024 * 1024
_BATCH_ROWS = 2048  # rows per Arrow batch sent from the stage that made them to the writer
_MAX_HELD_ROWS = 8 * _BATCH_ROWS  # rows a worker holds for batches, over all partitions


def part_name(batch_id: str) -> str:
    return f"part-{batch_id}.parquet"


def part_batch(batch_id: str, index: int) -> str:
    """The id of the `index`th part of a batch that is run in parts (a stream's failed micro-batch, file by file)."""
    return f"{batch_id}.f{index:04d}"


def written_by(path: str, batch_id: str) -> bool:
    """Whether a table file was written by this batch or by one of its parts (part_batch)."""
    name = posixpath.basename(path)
    return name == part_name(batch_id) or name.startswith(f"part-{batch_id}.f")


def remove_batch_files(output: str, batch_id: str, keep: frozenset[str] = frozenset(), parts: bool = False) -> list:
    """Delete the table files this batch wrote before (and, with `parts`, its parts': a batch that commits whole
    replaces parts a crashed run committed), except `keep`; the paths deleted."""
    patterns = [part_name(batch_id)] + ([f"part-{batch_id}.f*.parquet"] if parts else [])
    removed = []
    for table in TABLES:
        for pattern in patterns:
            for path in match_files(FileSystems.join(output, table, "dt=*", pattern)):
                if path not in keep and written_by(path, batch_id):
                    FileSystems.delete([path])
                    removed.append(path)
    return removed


def stage_records(staging: str, batch_id: str, table: str, records: list) -> None:
    """Records of one table written to staging as the pipeline's writer would: one sorted file per partition."""
    spec = TABLES[table]
    by_day: dict[str, list] = {}
    for record in records:
        by_day.setdefault(spec.partition_of(record), []).append(record.model_dump())
    for day, rows in sorted(by_day.items()):
        arrow = to_arrow_table(rows, spec.model, table).sort_by([(c, "ascending") for c in spec.sort_by])
        write_parquet(arrow, FileSystems.join(staging, table, f"dt={day}", part_name(batch_id)))


def staging_dir(output: str, run_id: str) -> str:
    return FileSystems.join(output, STAGING, run_id)


def rows_per_group(table: pa.Table, row_group_bytes: int = ROW_GROUP_TARGET_BYTES) -> int:
    """Rows per row group for about `row_group_bytes` uncompressed, from the table's average row."""
    avg_row = max(1, table.nbytes // max(1, table.num_rows))
    return max(1, row_group_bytes // avg_row)


def write_parquet(table: pa.Table, path: str, row_group_bytes: int = ROW_GROUP_TARGET_BYTES) -> None:
    """Write a sorted Arrow table as one Parquet file: zstd, statistics, row groups near `row_group_bytes`."""
    with FileSystems.create(path) as f:
        pq.write_table(
            table, f, compression="zstd", row_group_size=rows_per_group(table, row_group_bytes), write_statistics=True
        )


class _ToArrowFn(beam.DoFn):
    """Records of one table -> ((table, partition), Arrow IPC bytes) of up to _BATCH_ROWS rows each.

    Runs fused into the stage that made the records, on every worker: the conversion from pydantic records to
    columns happens in parallel, and what crosses the shuffle to the writer is a compact Arrow batch, not one
    pickled model per row. Expects the global window (every table is in it by the time it reaches the sink).

    A batch that fails to convert is converted again row by row, so only the rows that fail are set aside: an
    article's row becomes a `rejected` row (stage `write`, output REJECTED); a row of another table is logged
    with its traceback and counted (`unwritable_rows`), since its article is written.
    """

    REJECTED = "rejected"

    def __init__(self, table: Table):
        self._table = table

    def setup(self):
        self._failures = FailureLog()

    def start_bundle(self):
        self._rows: dict[str, list[BaseModel]] = {}
        self._held = 0

    def process(self, record):
        day = self._table.partition_of(record)
        rows = self._rows.setdefault(day, [])
        rows.append(record)
        self._held += 1
        if len(rows) == _BATCH_ROWS:
            self._held -= len(rows)
            yield from self._batch(day, self._rows.pop(day))
        elif self._held >= _MAX_HELD_ROWS:  # many partitions (a backfill of many days): the rows held stay bounded
            for day in sorted(self._rows):
                yield from self._batch(day, self._rows[day])
            self._rows, self._held = {}, 0

    def finish_bundle(self):
        for day in sorted(self._rows):
            for out in self._batch(day, self._rows[day]):
                if isinstance(out, beam.pvalue.TaggedOutput):
                    yield beam.pvalue.TaggedOutput(out.tag, GlobalWindows.windowed_value_at_end_of_window(out.value))
                else:
                    yield GlobalWindows.windowed_value_at_end_of_window(out)
        self._rows, self._held = {}, 0

    def _batch(self, day: str, records: list[BaseModel]):
        name, model = self._table.name, self._table.model
        try:
            yield (name, day), to_ipc(to_arrow_table([r.model_dump() for r in records], model, name))
            return
        except Exception:  # noqa: BLE001 - the rows that fail are found below, one at a time
            pass
        good = []
        for record in records:
            try:
                to_arrow_table([record.model_dump()], model, name)
            except Exception as err:  # noqa: BLE001 - a dead letter, or a counted and logged row
                yield from self._unwritable(record, err)
            else:
                good.append(record)
        if good:
            yield (name, day), to_ipc(to_arrow_table([r.model_dump() for r in good], model, name))

    def _unwritable(self, record: BaseModel, err: Exception):
        article_id = getattr(record, "article_id", None) or "?"
        self._failures(Reason.WRITE_FAILED, f"{article_id} ({self._table.name} row)", err)
        if isinstance(record, Article):
            yield beam.pvalue.TaggedOutput(self.REJECTED, rejected_article(record, Reason.WRITE_FAILED, err))
        else:
            metrics.UNWRITABLE_ROWS.inc()


def to_ipc(table: pa.Table) -> bytes:
    """An Arrow table as the bytes of one IPC stream (schema included)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def from_ipc(data: bytes) -> pa.Table:
    return pa.ipc.open_stream(data).read_all()


class _WriteFileFn(beam.DoFn):
    """((table, partition), Arrow batches) -> one sorted Parquet file in staging; emits (table, partition, rows)."""

    def __init__(self, staging: str, file_name: str, row_group_bytes: int):
        self._staging = staging
        self._file_name = file_name
        self._row_group_bytes = row_group_bytes

    def process(self, keyed):
        (name, day), batches = keyed
        table = TABLES[name]
        rows = pa.concat_tables([from_ipc(b) for b in batches]).sort_by([(c, "ascending") for c in table.sort_by])
        path = FileSystems.join(self._staging, name, f"dt={day}", self._file_name)
        write_parquet(rows.combine_chunks(), path, self._row_group_bytes)
        metrics.ROWS_WRITTEN.inc(rows.num_rows)
        yield name, day, rows.num_rows


class WriteTables(beam.PTransform):
    """dict[table name, PCollection[record]] -> staged Parquet, one sorted file per table and partition.

    Emits (table, partition, rows) per file written. Each table's records become Arrow batches where they are
    made; then one shuffle, keyed by (table, partition), brings every file's batches to one writer. One shuffle
    for all tables, not one per table: the local runner runs each shuffle's reading stage after the other, so
    with one per table the writes ran one at a time, each partition on one worker while the other idled.
    """

    def __init__(self, staging: str, batch_id: str, row_group_bytes: int = ROW_GROUP_TARGET_BYTES):
        super().__init__()
        self._staging = staging
        self._file_name = part_name(batch_id)
        self._row_group_bytes = row_group_bytes  # a chunk's files, merged later, are read a small row group at a time

    def expand(self, tables):
        tables, batches = dict(tables), []
        if "articles" in tables:  # first: an article whose row cannot be converted is written to `rejected` instead
            fn = _ToArrowFn(TABLES["articles"])
            articles = tables.pop("articles") | "ToArrow_articles" >> beam.ParDo(fn).with_outputs(
                fn.REJECTED, main="batches"
            )
            unwritable = articles[fn.REJECTED]
            tables["rejected"] = (
                (tables["rejected"], unwritable) | "WithUnwritable" >> beam.Flatten()
                if "rejected" in tables
                else unwritable
            )
            batches.append(articles.batches)
        batches += [
            records
            | f"ToArrow_{name}" >> beam.ParDo(_ToArrowFn(TABLES[name])).with_output_types(tuple[tuple[str, str], bytes])
            for name, records in sorted(tables.items())
        ]
        return (
            batches
            | "AllBatches" >> beam.Flatten()
            | "GroupFiles" >> beam.GroupByKey()
            | "WriteFiles" >> beam.ParDo(_WriteFileFn(self._staging, self._file_name, self._row_group_bytes))
        )


@dataclasses.dataclass
class CommitResult:
    files: list[str]
    rows: dict[str, int]
    removed: list[str]


def match_files(pattern: str) -> list[str]:
    """The sorted paths matching a pattern; none under a folder that does not exist."""
    return sorted(m.path for m in FileSystems.match([pattern])[0].metadata_list)


def _relative(path: str, root: str) -> str:
    return posixpath.relpath(path, root) if "://" not in path else path[len(root.rstrip("/")) + 1 :]


def commit(output: str, run_id: str, batch_id: str) -> CommitResult:
    """Move a run's staged files into place, one atomic rename each, and drop this batch's stale files."""
    staging = staging_dir(output, run_id)
    name = part_name(batch_id)
    staged = match_files(FileSystems.join(staging, "*", "dt=*", name)) if FileSystems.exists(staging) else []
    rows: dict[str, int] = {t: 0 for t in TABLES}
    committed = []
    for path in staged:
        relative = _relative(path, staging)
        table = relative.split("/")[0]
        with FileSystems.open(path) as f:
            rows[table] += pq.read_metadata(pa.PythonFile(f)).num_rows
        final = FileSystems.join(output, relative)
        parent = posixpath.dirname(final)
        if not FileSystems.exists(parent):
            FileSystems.mkdirs(parent)
        FileSystems.rename([path], [final])
        committed.append(final)
    removed = remove_batch_files(output, batch_id, keep=set(committed), parts=True)
    if FileSystems.exists(staging):
        FileSystems.delete([staging])
    parent = FileSystems.join(output, STAGING)
    if "://" not in parent and FileSystems.exists(parent) and not match_files(FileSystems.join(parent, "*")):
        FileSystems.delete([parent])  # no other run is staging here
    return CommitResult(files=committed, rows=rows, removed=removed)


def write_json_atomically(path: str, value: dict) -> None:
    """Write JSON next to its final place, then rename over it: readers see the old or the new file, never half."""
    atomic_write(path, json.dumps(value, indent=2, sort_keys=True, default=str).encode("utf-8") + b"\n")


ALERTS_LOG = "alerts.jsonl"


def append_alerts_log(output: str, committed_files: list[str]) -> int:
    """Add this run's alerts and story-alert changes to <output>/alerts.jsonl, one JSON object a line, in time order.

    Article alerts are `{"event": "alert", …}`; story alerts are `{"event": "story_alert", "change": "new" | "status" |
    "sources" | …, "version": n, …}`, one line per change. A line already in the log (same alert and status, or same
    story alert and version) is not written again, so a rerun adds nothing. The file is rewritten next to itself and
    renamed, so a reader never sees a torn line.
    """
    path = FileSystems.join(output, ALERTS_LOG)
    existing = b""
    seen: set[tuple] = set()
    if FileSystems.exists(path):
        with FileSystems.open(path) as f:
            existing = f.read()
        for line in existing.splitlines():
            if line.strip():
                seen.add(_log_key(json.loads(line)))
    events = []
    for file in committed_files:
        table = "/" + file.rsplit("/dt=", 1)[0].rsplit("/", 1)[-1] + "/"
        kind = {"/alerts/": "alert", "/story_alert_events/": "story_alert"}.get(table)
        if kind is None:
            continue
        with FileSystems.open(file) as f:
            for row in pq.read_table(pa.PythonFile(f)).to_pylist():
                events.append({"event": kind, **row})
    events.sort(
        key=lambda r: (
            r.get("published_at") or r.get("last_updated"),
            r["event"],
            r.get("alert_id") or r.get("story_alert_id"),
            r.get("version", 0),
        )
    )
    new = [r for r in events if _log_key(r) not in seen]
    if not new:
        return 0
    lines = b"".join(json.dumps(r, default=str, sort_keys=True).encode("utf-8") + b"\n" for r in new)
    atomic_write(path, existing + lines)
    return len(new)


def _log_key(row: dict) -> tuple:
    if row["event"] == "story_alert":
        return ("story_alert", row["story_alert_id"], row["version"])
    return ("alert", row["alert_id"], row["status"])
