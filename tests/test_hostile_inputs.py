"""End to end on hostile input (issue 24, item 4): the real driver over tests/hostile.py's folder.

Hundreds of generated inputs of every awkward shape, ordinary articles and exact copies among
them, run once with a small --max_body_bytes. Whatever the inputs, the run must finish (exit 0 or
3, never 1), account for every record exactly once in articles, duplicates or rejected, keep each
rejected input's bytes, and write Parquet that pyarrow, DuckDB and Polars all read.
"""

from __future__ import annotations

import collections
import json
import shutil
import time
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest

from tests.conftest import run_driver
from tests.hostile import KEPT, REJECTED, Expected, generate
from transforms.inputs import count_records, resolve_inputs

pytestmark = pytest.mark.slow

CAP = 200_000  # --max_body_bytes of the run: the generator puts bodies and inputs on both sides of it
OUTCOME_TABLES = ("articles", "duplicates", "rejected")
STAGES_OF_INPUTS = ("read", "decode", "detect", "parse", "validate")  # the later stages are the run's own failures
EXIT_OK, EXIT_TOO_MANY_REJECTED = 0, 3


class HostileRun:
    """The generated inputs, what they must give, and the driver's run over them."""

    def __init__(self, inputs: Path, out: Path, expected: Expected, proc, seconds: float):
        self.inputs, self.out, self.expected, self.proc, self.seconds = inputs, out, expected, proc, seconds

    def require_finished(self) -> None:
        """Fail with the driver's own words when the run did not finish; the other checks need its tables."""
        assert self.proc.returncode in (EXIT_OK, EXIT_TOO_MANY_REJECTED), (
            f"driver exited {self.proc.returncode} after {self.seconds:.1f}s on {self.expected.records} records\n"
            f"stdout:\n{self.proc.stdout[-2000:]}\nstderr:\n{self.proc.stderr[-8000:]}"
        )

    def manifest(self) -> dict:
        self.require_finished()
        return json.loads((self.out / "_manifest.json").read_text())

    def rows(self, table: str) -> list[dict]:
        """A table's rows, read with pyarrow file by file (without the hive partition column)."""
        self.require_finished()
        rows: list[dict] = []
        for path in sorted((self.out / table).rglob("*.parquet")):
            rows.extend(pq.read_table(path).to_pylist())
        return rows


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> HostileRun:
    base = tmp_path_factory.mktemp("hostile")
    inputs, out = base / "in", base / "out"
    expected = generate(inputs, seed=0, cap=CAP)
    started = time.monotonic()
    proc = run_driver("--input", str(inputs), "--output", str(out), "--max_body_bytes", str(CAP), check=False)
    seconds = time.monotonic() - started
    print(
        f"\nhostile run: {expected.records} records in {len(expected.files)} files, exit {proc.returncode}, "
        f"{seconds:.1f}s; {proc.stdout.strip()}"
    )
    yield HostileRun(inputs, out, expected, proc, seconds)
    # chmod 000 files: give them back their bits so the folder can be removed
    for path in inputs.rglob("*"):
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)
    shutil.rmtree(base, ignore_errors=True)


def _relative(expected: Expected, root: Path) -> dict:
    """The generated records' bytes, keyed by their path under `root`."""
    return {(uri[len(str(root)) :], line): data for (uri, line), data in expected.inputs.items()}


def _planned_records(path: str) -> int:
    """Records of one input as the driver's chunk plan counts them; 1 for one it cannot open or decompress (the run
    test says what the driver makes of those)."""
    try:
        return count_records(path)
    except Exception:
        return 1


def test_the_generator_writes_hundreds_of_records_the_reader_lists_and_the_same_bytes_each_time(tmp_path):
    first, second = generate(tmp_path / "a", seed=0, cap=CAP), generate(tmp_path / "b", seed=0, cap=CAP)
    assert first.records == second.records >= 300
    assert len(first.per_shape()) >= 15 and min(first.per_shape().values()) >= 5, first.per_shape()
    assert _relative(first, tmp_path / "a") == _relative(second, tmp_path / "b")
    # hidden files and sidecars are not inputs
    assert sorted(resolve_inputs(str(tmp_path / "a"))) == sorted(first.files)
    assert not first.files & first.not_inputs
    # one pipeline at the driver's default --chunk_records (1,250): blank JSONL lines count there too
    assert sum(_planned_records(p) for p in first.files) <= 1250


def test_the_run_finishes_whatever_its_inputs(hostile):
    hostile.require_finished()
    assert hostile.seconds < 300, f"{hostile.seconds:.1f}s"


def test_the_manifest_reconciles_every_generated_record(hostile):
    manifest = hostile.manifest()
    assert manifest["reconciled"] is True
    assert manifest["inputs_seen"] == hostile.expected.records
    assert manifest["articles"] + manifest["duplicates"] + manifest["rejected"] == hostile.expected.records
    assert manifest["articles"] > 0 and manifest["duplicates"] > 0 and manifest["rejected"] > 0
    assert {t: len(hostile.rows(t)) for t in OUTCOME_TABLES} == {t: manifest[t] for t in OUTCOME_TABLES}


def test_every_parquet_file_reads_back_with_pyarrow_duckdb_and_polars(hostile):
    hostile.require_finished()
    files = sorted(hostile.out.rglob("*.parquet"))
    assert {f.relative_to(hostile.out).parts[0] for f in files} >= set(OUTCOME_TABLES)
    for path in files:
        arrow = pq.read_table(path)
        quoted = str(path).replace("'", "''")
        [(in_duckdb,)] = duckdb.sql(
            f"SELECT count(*) FROM read_parquet('{quoted}', hive_partitioning=false)"
        ).fetchall()
        in_polars = pl.read_parquet(path, hive_partitioning=False)
        assert arrow.num_rows == in_duckdb == in_polars.height, path
        assert in_polars.columns == arrow.column_names, path


def test_every_record_is_in_exactly_one_table_and_no_other_input_is(hostile):
    seen: collections.Counter = collections.Counter()
    for table in OUTCOME_TABLES:
        seen.update((r["input_uri"], r["input_line"]) for r in hostile.rows(table))
    twice = {k: n for k, n in seen.items() if n > 1}
    assert not twice, f"inputs in more than one row: {list(twice.items())[:10]}"
    missing = sorted(set(hostile.expected.inputs) - set(seen), key=str)
    unknown = sorted(set(seen) - set(hostile.expected.inputs), key=str)
    assert not missing and not unknown, f"missing: {missing[:10]}\nunknown: {unknown[:10]}"


def test_rejected_rows_say_why_and_keep_the_bytes_they_were_read_from(hostile):
    expected = hostile.expected
    rows = hostile.rows("rejected")
    for r in rows:
        key = (r["input_uri"], r["input_line"])
        assert r["stage"] and r["error_type"] and r["message"].strip(), r
        assert r["input_uri"] in expected.files, r["input_uri"]
        source = expected.inputs.get(key)
        assert source is not None, key
        assert source.startswith(r["original_bytes"]), (key, r["error_type"], r["original_bytes"][:80], source[:80])
        assert len(r["original_bytes"]) <= r["original_size"], key
        assert r["original_truncated"] == (len(r["original_bytes"]) < r["original_size"]), key
    counts = collections.Counter(r["error_type"] for r in rows)
    print(f"\nrejected by error_type: {dict(counts.most_common())}")
    # typed dead letters: the run survives them, but each one is a bug to look at
    for r in rows:
        if r["error_type"] == "internal_error" or r["stage"] not in STAGES_OF_INPUTS:
            where = f"{Path(r['input_uri']).relative_to(hostile.inputs)}:{r['input_line']}"
            print(f"{r['error_type']}: {where}: {r['message'][:300]}")


def test_too_large_inputs_report_their_whole_size(hostile):
    """An input over the read limit keeps only its first bytes, and says how large it was: for a
    compressed input, its size decompressed (the gzip and bzip2 bombs expand to 20 MiB)."""
    too_large = [r for r in hostile.rows("rejected") if r["error_type"] == "input_too_large"]
    assert len(too_large) >= 8
    wrong = {}
    for r in too_large:
        size = len(hostile.expected.inputs[(r["input_uri"], r["input_line"])])
        if r["original_size"] != size or len(r["original_bytes"]) != 4 * CAP:
            where = f"{Path(r['input_uri']).relative_to(hostile.inputs)}:{r['input_line']}"
            wrong[where] = (size, r["original_size"], len(r["original_bytes"]))
    assert not wrong, f"(size, original_size, kept bytes): {wrong}"


def test_inputs_of_known_outcome_get_it(hostile):
    """Bodies at and just under the cap are kept, just over rejected; empty, binary and broken
    inputs get their reason; a truncated or corrupt compressed file is rejected, never read as
    the part of an article that could be decompressed."""
    outcome: dict = {}
    for table in OUTCOME_TABLES:
        for r in hostile.rows(table):
            outcome[(r["input_uri"], r["input_line"])] = r["error_type"] if table == "rejected" else KEPT
    wrong = {}
    for key, want in hostile.expected.outcomes.items():
        got = outcome.get(key)
        if got != want and not (want == REJECTED and got not in (None, KEPT)):
            wrong[f"{Path(key[0]).relative_to(hostile.inputs)}:{key[1]}"] = (want, got)
    assert not wrong, wrong
    assert len(hostile.expected.outcomes) >= 200
