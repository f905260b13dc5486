"""Compaction: a chunked run's staged chunk files become one sorted file per table and partition.

A run over more records than --chunk_records runs its pipeline once per chunk (see
pipelines/news_pipeline.py), so that its memory is set by the chunk, not by the input. Each chunk
stages sorted files with small row groups under ``<staging>/_chunks/<n>/``; this step merges them
into ``<staging>/<table>/dt=…/part-<batch_id>.parquet``, where the ordinary commit finds them:

- most tables: a k-way merge in the table's sort order, reading one row group of each chunk file
  at a time; the chunks' row groups are sized by their number (`chunk_row_group_bytes`), so the
  groups held at once stay near MERGE_BUDGET_BYTES, plus one output row group, for any input size;
- ``stories`` and ``story_alerts``: each chunk writes the state of every story (alert) it touched,
  so only the row of the last chunk that wrote an id is kept: the state at the end of the run;
- ``entity_counts``: the chunks' counts per (window, entity) are added up, as one run counts them.

Same chunk files, same bytes out: nothing depends on timing or on the order files are listed in.
"""

from __future__ import annotations

import posixpath
from typing import Iterator, Optional

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from schemas.tables import TABLES, Table
from transforms.sink import ROW_GROUP_TARGET_BYTES, match_files, part_name, rows_per_group

CHUNKS = "_chunks"
# Chunk files are read back one row group at a time, one group per chunk file at once: their size is set by the
# number of chunks, so that the merge holds about MERGE_BUDGET_BYTES however many chunks a run has.
MERGE_BUDGET_BYTES = 64 * 1024 * 1024
_CHUNK_ROW_GROUP_RANGE = (256 * 1024, 4 * 1024 * 1024)


def chunk_row_group_bytes(chunks: int) -> int:
    """Row-group bytes for the files of a run of `chunks` chunks: at most 4 MiB, at least 256 KiB, and
    MERGE_BUDGET_BYTES over all chunks in between (23 chunks: 2.8 MiB; 256 chunks or more: 256 KiB)."""
    low, high = _CHUNK_ROW_GROUP_RANGE
    return max(low, min(high, MERGE_BUDGET_BYTES // max(1, chunks)))


LATEST = {"stories": "story_id", "story_alerts": "story_alert_id"}
_SUMMED_KEYS = ("window_start", "window_end", "entity_id")


def chunk_staging(staging: str, index: int) -> str:
    return FileSystems.join(staging, CHUNKS, f"{index:05d}")


def chunk_files(staging: str, index: int, table: str) -> list[str]:
    """The files chunk `index` staged for `table`, one per partition."""
    return match_files(FileSystems.join(chunk_staging(staging, index), table, "dt=*", "*.parquet"))


def _day(path: str) -> str:
    return posixpath.basename(posixpath.dirname(path))[len("dt=") :]


def _row_groups(path: str, keep: Optional[pa.Array] = None, key: str = "") -> Iterator[pa.Table]:
    """The file's rows, a row group at a time; with `keep`, only rows whose `key` is in it."""
    with FileSystems.open(path) as f:
        parquet = pq.ParquetFile(pa.PythonFile(f))
        for group in range(parquet.num_row_groups):
            rows = parquet.read_row_group(group)
            if keep is not None:
                rows = rows.filter(pc.is_in(rows[key], value_set=keep))
            if rows.num_rows:
                yield rows


def _key(rows: pa.Table, i: int, columns: tuple[str, ...]) -> tuple:
    """Row i's sort key, comparable like Arrow's ascending sort with nulls last."""
    row = rows.slice(i, 1).select(list(columns)).to_pylist()[0]
    return tuple((row[c] is None, row[c]) for c in columns)


def _count_at_most(rows: pa.Table, bound: tuple, columns: tuple[str, ...]) -> int:
    """How many leading rows of sorted `rows` have a key <= bound (binary search)."""
    lo, hi = 0, rows.num_rows
    while lo < hi:
        mid = (lo + hi) // 2
        if _key(rows, mid, columns) <= bound:
            lo = mid + 1
        else:
            hi = mid
    return lo


def merge_sorted(sources: list[Iterator[pa.Table]], sort_by: tuple[str, ...]) -> Iterator[pa.Table]:
    """Merge sources whose rows come in `sort_by` order into one stream in that order.

    Each round emits, from every source's current batch, the rows up to the smallest last key among
    those batches: no row still unread can sort before them. That batch is used up, so each round
    reads at least one batch, and at most one batch per source is held at a time.
    """
    order = [(c, "ascending") for c in sort_by]
    heads = [[rows, src] for src in sources for rows in [next(src, None)] if rows is not None]
    while heads:
        bound = min(_key(rows, rows.num_rows - 1, sort_by) for rows, _ in heads)
        out = []
        for head in heads:
            n = _count_at_most(head[0], bound, sort_by)
            if n:
                out.append(head[0].slice(0, n))
                head[0] = head[0].slice(n)
        yield pa.concat_tables(out).sort_by(order)
        for head in heads:
            if head[0].num_rows == 0:
                head[0] = next(head[1], None)
        heads = [head for head in heads if head[0] is not None]


def write_batches(batches: Iterator[pa.Table], table: Table, path: str) -> int:
    """Write sorted batches as one Parquet file with row groups near ROW_GROUP_TARGET_BYTES; no file for no rows."""
    schema = table.schema
    writer, sink, pending, group_rows, written = None, None, [], 0, 0
    try:
        for rows in batches:
            rows = rows.select(schema.names).cast(schema)
            if writer is None:
                group_rows = rows_per_group(rows, ROW_GROUP_TARGET_BYTES)
                parent = posixpath.dirname(path)
                if not FileSystems.exists(parent):
                    FileSystems.mkdirs(parent)
                sink = FileSystems.create(path)
                writer = pq.ParquetWriter(sink, schema, compression="zstd", write_statistics=True)
            pending.append(rows)
            if sum(t.num_rows for t in pending) >= group_rows:
                whole = pa.concat_tables(pending).combine_chunks()
                full = (whole.num_rows // group_rows) * group_rows
                writer.write_table(whole.slice(0, full), row_group_size=group_rows)
                written += full
                pending = [whole.slice(full)]
        if writer is not None and any(t.num_rows for t in pending):
            rest = pa.concat_tables(pending).combine_chunks()
            writer.write_table(rest, row_group_size=group_rows)
            written += rest.num_rows
    finally:
        if writer is not None:
            writer.close()
            sink.close()
    return written


def _latest_chunk(files: list[tuple[int, str]], key: str) -> dict[int, pa.Array]:
    """For each chunk, the ids whose last writer it is (a later chunk's row is the later state)."""
    last: dict[str, int] = {}
    for index, path in sorted(files):
        with FileSystems.open(path) as f:
            for value in pq.read_table(pa.PythonFile(f), columns=[key])[key].to_pylist():
                last[value] = index
    by_chunk: dict[int, list[str]] = {}
    for value, index in last.items():
        by_chunk.setdefault(index, []).append(value)
    return {index: pa.array(sorted(values), pa.string()) for index, values in by_chunk.items()}


def _summed(paths: list[str], table: Table, update_id: str) -> Iterator[pa.Table]:
    """entity_counts of all chunks of one partition added up per (window, entity), as one run would count them."""
    total: Optional[pa.Table] = None
    for path in paths:
        for rows in _row_groups(path):
            label = pc.binary_join_element_wise(
                rows["name"], rows["type"], "\x00"
            )  # (name, type) chosen together, as _CountFn does
            rows = pa.table(
                {
                    **{k: rows[k] for k in _SUMMED_KEYS},
                    "label": label,
                    "mentions": rows["mentions"],
                    "articles": rows["articles"],
                }
            )
            total = _aggregate(rows if total is None else pa.concat_tables([total, rows]))
    if total is None or total.num_rows == 0:
        return
    parts = pc.split_pattern(total["label"], "\x00", max_splits=1)
    names, types = pc.list_element(parts, 0), pc.list_element(parts, 1)
    result = pa.table(
        {
            **{k: total[k] for k in _SUMMED_KEYS},
            "name": names,
            "type": types,
            "mentions": total["mentions"],
            "articles": total["articles"],
            "update_id": pa.array([update_id] * total.num_rows, pa.string()),
        }
    )
    yield result.sort_by([(c, "ascending") for c in table.sort_by])


def _aggregate(rows: pa.Table) -> pa.Table:
    grouped = rows.group_by(list(_SUMMED_KEYS), use_threads=False).aggregate(
        [("label", "min"), ("mentions", "sum"), ("articles", "sum")]
    )
    by_name = {f"{c}_{op}": c for c, op in (("label", "min"), ("mentions", "sum"), ("articles", "sum"))}
    return grouped.rename_columns([by_name.get(n, n) for n in grouped.column_names])


def compact_chunks(staging: str, chunks: int, batch_id: str) -> dict[str, int]:
    """Merge the staged files of `chunks` chunks into one file per table and partition; rows written per table.

    The chunk folders are removed afterwards, so the ordinary commit sees the merged files only.
    """
    name = part_name(batch_id)
    written: dict[str, int] = {}
    for table in TABLES.values():
        files = [
            (i, p) for i in range(chunks) for p in chunk_files(staging, i, table.name) if posixpath.basename(p) == name
        ]
        keep = _latest_chunk(files, LATEST[table.name]) if table.name in LATEST else None
        by_day: dict[str, list[tuple[int, str]]] = {}
        for index, path in files:
            by_day.setdefault(_day(path), []).append((index, path))
        written[table.name] = 0
        for day, parts in sorted(by_day.items()):
            out = FileSystems.join(staging, table.name, f"dt={day}", name)
            if table.name == "entity_counts":
                batches = _summed([p for _, p in parts], table, batch_id)
            else:
                sources = [
                    _row_groups(path) if keep is None else _row_groups(path, keep[index], LATEST[table.name])
                    for index, path in parts
                    if keep is None or index in keep
                ]
                batches = merge_sorted(sources, table.sort_by)
            written[table.name] += write_batches(batches, table, out)
    FileSystems.delete([FileSystems.join(staging, CHUNKS)])
    return written
