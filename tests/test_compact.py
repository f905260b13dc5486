"""transforms/compact.py: a chunked run's chunk files merged into one sorted file per table and partition.

The chunk files are cut from the real tables of the sample run, so the schemas and values are the
pipeline's own.
"""

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from transforms import compact
from transforms.compact import chunk_staging, compact_chunks, merge_sorted
from transforms.sink import TABLES, part_name, write_parquet

BATCH = "b0"


def _table(out: Path, name: str) -> tuple[str, pa.Table]:
    """The table's largest partition."""
    path = max(sorted((out / name).glob("dt=*/*.parquet")), key=lambda p: pq.read_metadata(p).num_rows)
    return path.parent.name, pq.read_table(path)


def _stage(staging: Path, index: int, name: str, day: str, rows: pa.Table) -> None:
    path = Path(chunk_staging(str(staging), index)) / name / day / part_name(BATCH)
    path.parent.mkdir(parents=True, exist_ok=True)
    order = [(c, "ascending") for c in TABLES[name].sort_by]
    write_parquet(rows.sort_by(order), str(path), row_group_bytes=2048)  # many small row groups, as chunks write them


def _merged(staging: Path, name: str, day: str) -> pa.Table:
    return pq.read_table(staging / name / day / part_name(BATCH))


def test_merge_sorted_equals_a_full_sort_with_nulls_and_ties():
    import random

    rng = random.Random(7)
    rows = [{"a": rng.choice([None, 1, 2, 3]), "b": f"k{i:04d}"} for i in range(600)]
    table = pa.Table.from_pylist(rows)
    order = [("a", "ascending"), ("b", "ascending")]
    sources = []
    for s in range(4):
        part = table.filter(
            pc.equal(pc.bit_wise_and(pc.cast(pc.utf8_slice_codeunits(table["b"], 1), pa.int64()), 3), s)
        ).sort_by(order)
        sources.append(iter([part.slice(i, 37) for i in range(0, part.num_rows, 37)]))
    merged = pa.concat_tables(merge_sorted(sources, ("a", "b")))
    assert merged.equals(table.sort_by(order))


def test_articles_from_three_chunks_merge_into_the_one_sorted_file(sample_output, tmp_path):
    day, articles = _table(sample_output, "articles")
    for i in range(3):
        _stage(tmp_path, i, "articles", day, articles.take(list(range(i, articles.num_rows, 3))))
    compact_chunks(str(tmp_path), 3, BATCH)
    merged = _merged(tmp_path, "articles", day)
    assert merged.equals(articles)
    assert not (tmp_path / compact.CHUNKS).exists()


def test_row_groups_of_the_merged_file_follow_the_target(sample_output, tmp_path, monkeypatch):
    day, mentions = _table(sample_output, "entity_mentions")
    for i in range(2):
        _stage(tmp_path, i, "entity_mentions", day, mentions.take(list(range(i, mentions.num_rows, 2))))
    target = mentions.nbytes // 5
    monkeypatch.setattr(compact, "ROW_GROUP_TARGET_BYTES", target)
    compact_chunks(str(tmp_path), 2, BATCH)
    meta = pq.ParquetFile(tmp_path / "entity_mentions" / day / part_name(BATCH)).metadata
    assert 4 <= meta.num_row_groups <= 7
    assert meta.num_rows == mentions.num_rows
    assert _merged(tmp_path, "entity_mentions", day).equals(mentions)


def test_stories_keep_the_last_chunk_state_even_from_another_partition(sample_output, tmp_path):
    day = "dt=2024-06-12"
    stories = pa.concat_tables(pq.read_table(p) for p in sorted((sample_output / "stories").glob("dt=*/*.parquet")))
    assert stories.num_rows >= 2
    first, later = stories.slice(0, 1), stories.slice(1)
    _stage(tmp_path, 0, "stories", "dt=2000-01-01", stories)  # every story, an older state in another partition
    grown = first.set_column(
        first.schema.get_field_index("article_count"), "article_count", pc.add(first["article_count"], 5)
    ).cast(stories.schema)
    _stage(tmp_path, 1, "stories", day, grown)
    compact_chunks(str(tmp_path), 2, BATCH)
    assert _merged(tmp_path, "stories", day).equals(grown)
    old = _merged(tmp_path, "stories", "dt=2000-01-01")
    assert old["story_id"].to_pylist() == later["story_id"].to_pylist()


def test_entity_counts_of_chunks_add_up_per_window_and_entity(sample_output, tmp_path):
    day, counts = _table(sample_output, "entity_counts")
    assert counts.num_rows > 3
    half = counts.slice(0, counts.num_rows // 2)
    _stage(tmp_path, 0, "entity_counts", day, counts)
    _stage(tmp_path, 1, "entity_counts", day, half)
    compact_chunks(str(tmp_path), 2, BATCH)
    merged = _merged(tmp_path, "entity_counts", day)
    assert merged.num_rows == counts.num_rows
    assert set(merged["update_id"].to_pylist()) == {BATCH}
    assert pc.sum(merged["mentions"]).as_py() == pc.sum(counts["mentions"]).as_py() + pc.sum(half["mentions"]).as_py()
    want = {r["entity_id"] + r["window_start"].isoformat(): (r["name"], r["type"]) for r in counts.to_pylist()}
    assert {r["entity_id"] + r["window_start"].isoformat(): (r["name"], r["type"]) for r in merged.to_pylist()} == want


def test_an_empty_chunk_file_adds_nothing(sample_output, tmp_path):
    name = "duplicates"
    day, rows = _table(sample_output, name)
    _stage(tmp_path, 0, name, day, rows)
    _stage(tmp_path, 1, name, day, rows.slice(0, 0))
    compact_chunks(str(tmp_path), 2, BATCH)
    assert _merged(tmp_path, name, day).equals(rows)


def test_chunk_row_groups_shrink_as_chunks_grow_so_the_merge_holds_about_the_same():
    from transforms.compact import MERGE_BUDGET_BYTES, chunk_row_group_bytes

    assert chunk_row_group_bytes(1) == chunk_row_group_bytes(16) == 4 * 1024 * 1024
    assert chunk_row_group_bytes(23) == MERGE_BUDGET_BYTES // 23
    assert chunk_row_group_bytes(10_000) == 256 * 1024
    held = [n * chunk_row_group_bytes(n) for n in (16, 23, 64, 256)]
    assert max(held) <= MERGE_BUDGET_BYTES and min(held) > 0.99 * MERGE_BUDGET_BYTES
