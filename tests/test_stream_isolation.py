"""A stream cannot be poisoned: a file that fails its micro-batch is set aside as a rejected row, the rest commits.

The stream runs in this process (its micro-batches run in process), with a fault injected into one
real step: the dedup step raises for any batch that holds the poison file, as a bug in newsbeam's own
code would. The first micro-batch, which holds the poison, an ordinary article and a 1.9 MB article,
fails whole; the stream runs its files one by one, commits the two good ones (the ordinary article's
alert appears, the long article gets entities over its whole body), records the poison as one
rejected row, marks the batch done and goes on. A restart adds nothing.
"""

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import seed_path
from tests.test_isolation import MARKER, _long_body, _poison_file

pytestmark = pytest.mark.slow


def _stream(watch: Path, out: Path, seconds: float) -> int:
    from pipelines import news_pipeline

    argv = ["--streaming", "--watch", str(watch), "--output", str(out), "--max_runtime_s", str(seconds)]
    return news_pipeline.run(argv)


def _rows(out: Path, table: str) -> list[dict]:
    return [row for f in sorted((out / table).glob("dt=*/*.parquet")) for row in pq.read_table(f).to_pylist()]


def _snapshot(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*.parquet"))}


def test_a_poison_file_is_set_aside_and_the_stream_goes_on(tmp_path, monkeypatch):
    from transforms import dedup

    original = dedup.keep_first

    def poisoned(copies, earlier):
        if any(MARKER in c.body for c in copies):
            raise RuntimeError("injected fault: a bug that fails any micro-batch holding this file")
        return original(copies, earlier)

    monkeypatch.setattr(dedup, "keep_first", poisoned)
    watch, out = tmp_path / "incoming", tmp_path / "out"
    watch.mkdir()
    poison = _poison_file(watch)
    ordinary = watch / "ordinary.txt"
    ordinary.write_bytes(seed_path("000").read_bytes())
    (watch / "long.txt").write_text(_long_body(1_900_000))

    assert _stream(watch, out, 30) == 0
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["reconciled"] is True and manifest["files_set_aside"] == 1
    assert (manifest["inputs_seen"], manifest["articles"], manifest["rejected"]) == (3, 2, 1)
    (batch,) = manifest["recent_batches"]
    assert batch["isolated"] is True and "injected fault" in batch["error"]

    (rejected,) = _rows(out, "rejected")
    assert (rejected["stage"], rejected["error_type"]) == ("batch", "batch_failed")
    assert rejected["input_uri"].endswith("/poison.txt") and "injected fault" in rejected["message"]
    assert (
        rejected["original_bytes"] == poison.read_bytes()
        if poison.exists()
        else MARKER.encode() in rejected["original_bytes"]
    )

    alerts = [json.loads(line) for line in (out / "alerts.jsonl").read_text().splitlines()]
    assert any(a.get("rule_id") == "summit_announced" for a in alerts)  # the ordinary article's alert appears
    long_article = next(a for a in _rows(out, "articles") if len(a["body"]) > 1_000_000)
    mentions = [m for m in _rows(out, "entity_mentions") if m["article_id"] == long_article["article_id"]]
    assert all(long_article["body"][m["start_char"] : m["end_char"]] == m["text"] for m in mentions)
    assert max(m["start_char"] for m in mentions) > len(long_article["body"]) - 100

    before = _snapshot(out)
    monkeypatch.setattr(dedup, "keep_first", original)  # a fixed release restarts on the same folder
    assert _stream(watch, out, 3) == 0
    assert _snapshot(out) == before  # the restart adds nothing, and redoes nothing
    assert json.loads((out / "_manifest.json").read_text())["rejected"] == 1
