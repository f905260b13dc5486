"""transforms/read.py: input units and chunk plans (cutting a large JSONL file into line ranges)."""

import gzip
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to

from tests.conftest import INGESTED_AT, make_test_pipeline
from transforms.inputs import FileSplit, chunk_sizes, count_records, plan_chunks
from transforms.read import ReadInputs


def _expected(paths: list[str]) -> list[tuple]:
    """(uri, line, byte offset, bytes) of each record, worked out without Beam."""
    rows = []
    for path in paths:
        if ".jsonl" not in path:
            rows.append((path, None, None, Path(path).read_bytes()))
            continue
        data = gzip.decompress(Path(path).read_bytes()) if path.endswith(".gz") else Path(path).read_bytes()
        offset = 0
        for number, line in enumerate(data.splitlines(keepends=True), start=1):
            if line.strip():
                rows.append((path, number, offset, line.rstrip(b"\n")))
            offset += len(line)
    return rows


@pytest.fixture
def inputs(tmp_path: Path) -> list[str]:
    (tmp_path / "a.txt").write_text("Alpha.")
    lines = [b'{"title": "T%d", "text": "Body %d."}' % (i, i) for i in range(10)]
    lines.insert(4, b"")  # a blank line: skipped by the reader, still a line number
    (tmp_path / "b.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    with gzip.open(tmp_path / "c.jsonl.gz", "wb") as f:
        f.write(b"\n".join(lines[:7]))  # no newline after the last line
    (tmp_path / "d.txt").write_text("Delta.")
    return [str(tmp_path / n) for n in ("a.txt", "b.jsonl", "c.jsonl.gz", "d.txt")]


def _assert_reads(items, expected: list[tuple]) -> None:
    with make_test_pipeline() as p:
        records = p | beam.Create(items) | ReadInputs(10_000, INGESTED_AT)
        got = records[ReadInputs.RECORDS] | beam.Map(lambda r: (r.uri, r.line, r.byte_offset, r.data))
        assert_that(got, equal_to(expected))


def test_chunk_plan_cuts_jsonl_at_line_boundaries_and_keeps_every_line_once(inputs):
    chunks = plan_chunks(inputs, 4)
    assert [len(c) for c in chunks] and all(c for c in chunks)
    # whole files stay paths; each JSONL file is cut into ranges that follow each other
    assert chunks[0][0] == inputs[0] and chunks[-1][-1] == inputs[3]
    splits = [s for c in chunks for s in c if isinstance(s, FileSplit)]
    for uri in inputs[1:3]:
        mine = [s for s in splits if s.uri == uri]
        assert mine[0].start == 0 and mine[0].first_line == 1
        assert all(a.end == b.start for a, b in zip(mine, mine[1:]))
    # 2 files + 11 + 7 lines = 20 records: 5 chunks of 4
    assert len(chunks) == 5
    # read chunk by chunk, the records are exactly those of reading each file whole
    whole = _expected(inputs)
    assert len(whole) == 2 + 10 + 6
    _assert_reads(inputs, whole)
    seen = []
    for chunk in chunks:
        mine = [r for r in whole if any(_holds(item, r) for item in chunk)]
        _assert_reads(chunk, mine)
        seen.extend(mine)
    assert sorted(seen, key=repr) == sorted(whole, key=repr)


def _holds(item, record) -> bool:
    uri, line, offset, _ = record
    if isinstance(item, FileSplit):
        return item.uri == uri and item.start <= offset < item.end
    return item == uri


def _assert_each_record_once(chunks, inputs) -> None:
    """Together the chunks hold every record of the inputs, each exactly once."""
    whole = _expected(inputs)
    seen = [r for chunk in chunks for r in whole if any(_holds(item, r) for item in chunk)]
    assert sorted(seen, key=repr) == sorted(whole, key=repr)


def _lines(item) -> int:
    """Records (non-blank lines) a chunk item covers, worked out without the planner."""
    path = item.uri if isinstance(item, FileSplit) else item
    if ".jsonl" not in path:
        return 1
    data = gzip.decompress(Path(path).read_bytes()) if path.endswith(".gz") else Path(path).read_bytes()
    covered = data[item.start : item.end] if isinstance(item, FileSplit) else data
    return sum(1 for line in covered.splitlines() if line.strip())


def test_records_are_counted_as_the_plan_cuts_them(inputs):
    # a.txt; b.jsonl: 11 lines, one blank (10 records); c.jsonl.gz: 7 lines, one blank, the last without its
    # newline (6 records); d.txt
    assert [count_records(p) for p in inputs] == [1, 10, 6, 1] == [_lines(p) for p in inputs]


def test_blank_lines_plan_no_chunks_and_an_unreadable_file_is_one_record(tmp_path):
    blank = tmp_path / "blank.jsonl"
    blank.write_bytes(b"\n" * 100_000)
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(gzip.compress(b'{"text": "x"}\n' * 50)[:40])  # cut off inside the stream
    missing = tmp_path / "gone.jsonl"
    missing.symlink_to(tmp_path / "nowhere.jsonl")
    assert [count_records(str(p)) for p in (blank, broken, missing)] == [0, 1, 1]
    paths = [str(p) for p in (blank, broken, missing)]
    assert plan_chunks(paths, 1) == [[str(blank), str(broken)], [str(missing)]]


def test_chunks_are_the_fewest_that_fit_and_even():
    assert chunk_sizes(2225, 1250) == [1113, 1112]
    assert chunk_sizes(2225, 1000) == [742, 742, 741]
    assert chunk_sizes(10, 3) == [3, 3, 2, 2]
    assert chunk_sizes(20, 4) == [4] * 5
    assert chunk_sizes(7, 7) == [7] and chunk_sizes(0, 7) == [0]


def test_chunk_plan_is_even_without_a_runt_chunk(inputs):
    # 18 records at most 5 per chunk: 5 + 5 + 4 + 4, not 5 + 5 + 5 + 3
    chunks = plan_chunks(inputs, 5)
    assert [sum(_lines(item) for item in chunk) for chunk in chunks] == [5, 5, 4, 4]
    _assert_each_record_once(chunks, inputs)


def test_one_chunk_when_the_input_fits_or_chunking_is_off(inputs):
    assert plan_chunks(inputs, 1000) == [inputs]
    assert plan_chunks(inputs, 0) == [inputs]


def test_compressed_jsonl_is_read_line_by_line(inputs):
    expected = _expected([inputs[2]])
    assert [line for _, line, _, _ in expected] == [1, 2, 3, 4, 6, 7]  # line 5 is blank
    assert expected[-1][3] == b'{"title": "T5", "text": "Body 5."}'
    _assert_reads([inputs[2]], expected)


def test_a_file_that_grew_after_it_was_counted_still_has_every_line_once(inputs, monkeypatch):
    import transforms.inputs as inputs_module

    # counted 8 records (2 chunks of 4); there are 18
    monkeypatch.setattr(inputs_module, "count_records", lambda path: 2)
    chunks = plan_chunks(inputs, 4)
    assert [sum(_lines(item) for item in chunk) for chunk in chunks] == [4, 4, 4, 4, 2]
    _assert_each_record_once(chunks, inputs)
