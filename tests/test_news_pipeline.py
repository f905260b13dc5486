"""End to end: the real driver on sample_data/ and on broken input, read back with DuckDB and Polars."""

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow.parquet as pq
import pytest

from tests.conftest import ROOT, SAMPLE, assert_same_tables, run_driver, seed_path

pytestmark = pytest.mark.slow

SEED_IDS = ["000", "001", "002", "003", "004"]


def _table(out: Path, name: str):
    return duckdb.sql(f"SELECT * FROM read_parquet('{out}/{name}/*/*.parquet', hive_partitioning=true)")


def _manifest(out: Path) -> dict:
    return json.loads((out / "_manifest.json").read_text())


def test_sample_run_writes_one_row_per_seed_readable_by_duckdb_and_polars(sample_output):
    count = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{sample_output}/articles/*/*.parquet', hive_partitioning=true)"
    ).fetchall()[0][0]
    manifest = _manifest(sample_output)
    assert count == manifest["articles"] == 10
    rows = _table(sample_output, "articles").fetchdf()
    for seed in SEED_IDS:
        matches = rows[rows.input_uri == str(seed_path(seed))]
        assert len(matches) == 1, seed
    seed0 = rows[rows.input_uri == str(seed_path("000"))].iloc[0]
    assert seed0.title == "North Korea's Kim Hails Ties With Russia Ahead of Reported Putin Visit"
    assert (seed0.byline, seed0.source, str(seed0["dt"])[:10]) == ("AFP", "themoscowtimes.com", "2024-06-12")
    seed4 = rows[rows.input_uri == str(seed_path("004"))].iloc[0]
    assert (str(seed4["dt"])[:10], seed4.published_at_source) == ("2024-06-17", "metadata")
    assert pd.isna(seed4.title)
    assert set(rows.language) == {"en"}

    frame = pl.read_parquet(f"{sample_output}/articles/**/*.parquet", hive_partitioning=True)
    assert frame.height == 10
    assert sorted(set(frame["dt"].cast(pl.String)))[:2] == ["2024-06-12", "2024-06-17"]


def test_sample_run_manifest_reconciles_and_layout_is_clean(sample_output):
    manifest = _manifest(sample_output)
    assert manifest["reconciled"] is True
    assert manifest["inputs_seen"] == 11 == manifest["articles"] + manifest["duplicates"] + manifest["rejected"]
    assert (manifest["duplicates"], manifest["rejected"]) == (1, 0)
    assert manifest["versions"]["schema"] == "1" and manifest["versions"]["apache-beam"].startswith("2.77")
    assert not (sample_output / "_staging").exists() or not any((sample_output / "_staging").iterdir())
    for table in ("articles", "duplicates"):
        for partition in (sample_output / table).iterdir():
            files = list(partition.iterdir())
            assert len(files) == 1, partition  # one file per table, partition and run
            metadata = pq.read_schema(files[0]).metadata
            assert metadata[b"newsbeam.schema_version"] == b"1"
    dup = _table(sample_output, "duplicates").fetchdf().iloc[0]
    kept = _table(sample_output, "articles").fetchdf().set_index("article_id").loc[dup.duplicate_of]
    assert kept.url == "https://daily.example.org/2024/06/24/farmers-protest"
    assert dup.url == "https://regional.example.org/news/farmers-block-highways"


def _content(out: Path, table: str):
    """A table's rows in file order, without the run's wall-clock columns."""
    frames = []
    for path in sorted((out / table).glob("dt=*/*.parquet")):
        t = pq.read_table(path)
        frames.append(
            (
                path.relative_to(out).as_posix(),
                t.drop_columns([c for c in ("ingested_at", "rejected_at") if c in t.column_names]),
            )
        )
    return frames


def test_rerun_is_deterministic_and_idempotent(sample_output, tmp_path):
    run_driver("--input", str(SAMPLE), "--output", str(tmp_path))
    first = {t: _content(tmp_path, t) for t in ("articles", "duplicates")}
    assert first == {t: _content(sample_output, t) for t in ("articles", "duplicates")}
    run_driver("--input", str(SAMPLE), "--output", str(tmp_path))  # same output folder again
    assert {t: _content(tmp_path, t) for t in ("articles", "duplicates")} == first


def test_a_chunked_run_writes_the_tables_of_one_pipeline(sample_output, tmp_path):
    """--chunk_records 3 runs sample_data/ (11 inputs) as 4 pipelines: the five seeds' story and the feed's
    duplicate pair (lines 1 and 3 of feed.jsonl) both cross chunks. Merged, the tables are those of one pipeline."""
    out = tmp_path / "chunked"
    run_driver("--input", str(SAMPLE), "--output", str(out), "--chunk_records", "3")
    manifest = _manifest(out)
    assert manifest["chunks"] == 4 and manifest["chunk_records"] == 3
    assert manifest["reconciled"] is True and manifest["inputs_seen"] == 11
    assert_same_tables(sample_output, out)  # same files (one per table and partition), same rows
    assert not (out / "_staging").exists()
    first = {p.relative_to(out): p.read_bytes() for p in out.rglob("*.parquet")}
    run_driver("--input", str(SAMPLE), "--output", str(out), "--chunk_records", "3")  # a rerun: byte-identical tables
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*.parquet")} == first


_COUNT_OBJECTS_PER_CHUNK = """
import gc, sys
from pipelines import chain, news_pipeline
run_pipeline = chain.run_pipeline
def counted(*args, **kwargs):
    counts = run_pipeline(*args, **kwargs)
    print("objects", len(gc.get_objects()), flush=True)
    return counts
chain.run_pipeline = counted
sys.exit(news_pipeline.run(sys.argv[1:]))
"""


def test_a_chunked_run_leaves_no_garbage_from_one_chunk_to_the_next(tmp_path):
    """The driver of a chunked run holds one chunk's objects, not a growing pile of finished pipelines' cyclic
    garbage: the number of objects the collector tracks is the same after the 3rd and the 8th chunk."""
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            _COUNT_OBJECTS_PER_CHUNK,
            "--input",
            str(SAMPLE),
            "--output",
            str(tmp_path),
            "--chunk_records",
            "1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    objects = [int(line.split()[1]) for line in proc.stdout.splitlines() if line.startswith("objects ")]
    assert len(objects) == 11
    assert abs(objects[7] - objects[2]) < 500, objects  # one finished pipeline alone is about 6,000 objects


@pytest.mark.parametrize("flag", ["--story_max_window_articles", "--story_max_active_stories"])
def test_a_story_window_bound_below_one_is_a_configuration_error(tmp_path, flag):
    proc = run_driver("--input", str(SAMPLE), "--output", str(tmp_path), flag, "0", check=False)
    assert proc.returncode == 2 and flag in proc.stderr and not (tmp_path / "_manifest.json").exists()


def test_negative_chunk_records_is_a_configuration_error(tmp_path):
    proc = run_driver("--input", str(SAMPLE), "--output", str(tmp_path), "--chunk_records", "-1", check=False)
    assert proc.returncode == 2 and "--chunk_records" in proc.stderr


def _write_broken_inputs(folder: Path) -> dict:
    """A folder of broken files mixed with good ones; returns the expected (stage, error_type) per input."""
    folder.mkdir()
    (folder / "seed.txt").write_bytes(seed_path("004").read_bytes())
    (folder / "seed-copy.txt").write_bytes(seed_path("004").read_bytes())
    (folder / "empty.txt").write_bytes(b"")
    (folder / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (folder / "garbage.txt").write_bytes(bytes(range(0x80, 0x100)) * 30)
    (folder / "report.pdf").write_bytes(b"%PDF-1.4 whatever")
    (folder / "nobody.json").write_text('{"title": "A title and nothing else"}')
    (folder / "huge.json").write_text(json.dumps({"title": "Big", "text": "word " * 1000}))
    lines = [
        json.dumps({"title": "Good one", "text": "The first good article of the feed.", "published_at": "2024-06-20"}),
        '{"title": "cut off", "text": "never fin',
        json.dumps({"title": "Good two", "text": "The second good article of the feed.", "published_at": "2024-06-21"}),
    ]
    (folder / "feed.jsonl").write_text("\n".join(lines) + "\n")
    return {
        "empty.txt": ("decode", "empty_file"),
        "photo.txt": ("decode", "binary_file"),
        "garbage.txt": ("decode", "undecodable"),
        "report.pdf": ("detect", "unsupported_extension"),
        "nobody.json": ("validate", "missing_body"),
        "huge.json": ("validate", "body_too_large"),
        "feed.jsonl": ("parse", "malformed_json"),
    }


def test_bad_input_is_rejected_with_reasons_and_counts_reconcile(tmp_path):
    inputs = tmp_path / "in"
    expected = _write_broken_inputs(inputs)
    out = tmp_path / "out"
    proc = run_driver("--input", str(inputs), "--output", str(out), "--max_body_bytes", "3000")
    assert "3 articles, 1 duplicates, 7 rejected" in proc.stdout
    manifest = _manifest(out)
    assert manifest["inputs_seen"] == 11 == manifest["articles"] + manifest["duplicates"] + manifest["rejected"]
    assert manifest["reconciled"] is True
    articles = _table(out, "articles").fetchdf()
    duplicates = _table(out, "duplicates").fetchdf()
    rejected = _table(out, "rejected").fetchdf()
    assert len(articles) + len(duplicates) + len(rejected) == manifest["inputs_seen"]
    assert sorted(articles.title.fillna("")) == ["", "Good one", "Good two"]
    got = {Path(r.input_uri).name: (r.stage, r.error_type) for r in rejected.itertuples()}
    assert got == expected
    for r in rejected.itertuples():
        assert r.message and len(r.message) > 15
        source = inputs / Path(r.input_uri).name
        if pd.isna(r.input_line):
            assert r.original_bytes == source.read_bytes()
        else:
            assert r.input_line == 2 and r.original_bytes == b'{"title": "cut off", "text": "never fin'
    assert (
        rejected.set_index("error_type")
        .loc["unsupported_extension"]
        .message.startswith("unsupported file extension '.pdf'")
    )


def test_missing_input_is_a_configuration_error(tmp_path):
    proc = run_driver("--input", str(tmp_path / "nowhere"), "--output", str(tmp_path / "out"), check=False)
    assert proc.returncode == 2
    assert "no input files match" in proc.stderr
    assert "apitools" not in proc.stderr  # Beam's import-time warning about its GCP extras is not shown
    assert not (tmp_path / "out").exists()


def test_sample_run_writes_entity_mentions_with_exact_offsets(sample_output):
    bad = duckdb.sql(f"""
        SELECT count(*) FROM read_parquet('{sample_output}/entity_mentions/*/*.parquet', hive_partitioning=true) m
        JOIN read_parquet('{sample_output}/articles/*/*.parquet', hive_partitioning=true) a USING (article_id)
        WHERE substr(a.body, m.start_char + 1, m.end_char - m.start_char) <> m.text""").fetchall()[0][0]
    assert bad == 0  # body[start_char:end_char] == text for every mention
    total = duckdb.sql(f"SELECT count(*) FROM read_parquet('{sample_output}/entity_mentions/*/*.parquet')").fetchall()[
        0
    ][0]
    assert total == _manifest(sample_output)["entity_mentions"] > 100
    seed4 = duckdb.sql(f"""
        SELECT e.name, e.entity_id, e.mentions
        FROM read_parquet('{sample_output}/articles/*/*.parquet') a, unnest(a.entities) AS u(e)
        WHERE a.input_uri LIKE '%004_ca967a8cb344c277.txt'""").fetchall()
    names = {name: entity_id for name, entity_id, _ in seed4}
    assert names["Vladimir Putin"] == "Q7747" and names["North Korea"] == "Q423"
    assert "Kim Jong Il" in names and "Kookmin University" in names
