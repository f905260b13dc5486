"""transforms/sink.py: WriteTables turns records into Arrow batches where they are made and writes one sorted file
per table and partition after a single shuffle.

The records are the sample run's own rows (read back and validated as the models again), so every column type
the pipeline writes goes through the batches.
"""

from pathlib import Path

import apache_beam as beam
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from schemas.tables import TABLES
from transforms import sink
from transforms.sink import WriteTables, from_ipc, part_name, to_ipc

BATCH = "b0"


def _records(sample_output: Path, name: str) -> list:
    rows = pq.read_table(sample_output / name).drop_columns(["dt"]).to_pylist()
    return [TABLES[name].model.model_validate(r) for r in rows]


def test_ipc_bytes_keep_the_rows_and_the_schema_metadata(sample_output):
    table = pq.read_table(sample_output / "articles").drop_columns(["dt"]).cast(TABLES["articles"].schema)
    back = from_ipc(to_ipc(table))
    assert back.equals(table) and back.schema.metadata == TABLES["articles"].schema.metadata


def test_batches_hold_few_rows_whatever_the_partitions(sample_output, monkeypatch):
    monkeypatch.setattr(sink, "_BATCH_ROWS", 2)
    monkeypatch.setattr(sink, "_MAX_HELD_ROWS", 3)
    articles = _records(sample_output, "articles")
    assert len({a.published_at.date() for a in articles}) > 3
    fn = sink._ToArrowFn(TABLES["articles"])
    fn.start_bundle()
    out = []
    for a in articles:
        out.extend(fn.process(a))
        assert fn._held < 3
    out.extend(w.value for w in fn.finish_bundle())
    rows = pa.concat_tables([from_ipc(b) for _, b in out])
    assert all(from_ipc(b).num_rows <= 2 for _, b in out)
    assert all({t.date().isoformat() for t in from_ipc(b)["published_at"].to_pylist()} == {day} for (_, day), b in out)
    assert sorted(rows["article_id"].to_pylist()) == sorted(a.article_id for a in articles)


def test_write_tables_writes_one_sorted_file_per_table_and_partition(sample_output, tmp_path, monkeypatch):
    monkeypatch.setattr(sink, "_BATCH_ROWS", 7)  # several batches per partition, flushed mid-bundle and at its end
    mentions = _records(sample_output, "entity_mentions")
    articles = _records(sample_output, "articles")
    assert len(mentions) > 3 * 7
    staging = tmp_path / "staging"
    with TestPipeline() as p:
        tables = {
            "entity_mentions": p | "Mentions" >> beam.Create(mentions[::-1]),  # reversed: the writer must sort
            "articles": p | "Articles" >> beam.Create(articles),
        }
        written = tables | WriteTables(str(staging), BATCH)
        expected = [("entity_mentions", d, n) for d, n in _per_day(m.published_at for m in mentions)]
        expected += [("articles", d, n) for d, n in _per_day(a.published_at for a in articles)]
        assert_that(written, equal_to(expected))
    for name in ("entity_mentions", "articles"):
        files = sorted((staging / name).glob("dt=*/*.parquet"))
        assert [f.name for f in files] == [part_name(BATCH)] * len(files)
        assert len({f.parent for f in files}) == len(files)  # one file per partition
        for f in files:
            got = pq.read_table(f)
            assert got.schema.names == TABLES[name].schema.names and got.schema.metadata == TABLES[name].schema.metadata
            assert got.num_rows and got.equals(got.sort_by([(c, "ascending") for c in TABLES[name].sort_by]))
    # Every row, once, readable by DuckDB; the same rows as the run that wrote the sample output.
    order = ", ".join(TABLES["entity_mentions"].sort_by)
    query = (
        f"SELECT * EXCLUDE (dt) FROM read_parquet('{{}}/entity_mentions/*/*.parquet', hive_partitioning=true) "
        f"ORDER BY {order}"
    )
    assert duckdb.sql(query.format(staging)).fetchall() == duckdb.sql(query.format(sample_output)).fetchall()


def _per_day(times) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for t in times:
        counts[t.date().isoformat()] = counts.get(t.date().isoformat(), 0) + 1
    return sorted(counts.items())


def test_atomic_write_makes_missing_folders_and_replaces_a_file_whole(tmp_path):
    from transforms.files import atomic_write

    target = tmp_path / "a" / "b" / "state.bin"
    atomic_write(target, b"first")
    atomic_write(str(target), b"second")
    assert target.read_bytes() == b"second" and sorted(p.name for p in target.parent.iterdir()) == ["state.bin"]
