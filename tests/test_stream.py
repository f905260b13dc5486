"""End to end: the streaming driver on a watched folder, a clean stop, a restart, exactly once, valid Parquet
throughout."""

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest

from pipelines.replay import land, replay
from tests.conftest import CORPUS, ROOT, SEEDS
from transforms.spool import Spool

REUTERS = CORPUS / "reuters21578_000.jsonl"
pytestmark = pytest.mark.skipif(not REUTERS.exists(), reason=f"the Reuters corpus is not at {REUTERS}")


class _Stream:
    """The driver in a subprocess, as a user starts it."""

    def __init__(self, watch: Path, output: Path, *extra: str):
        self.log = open(output.parent / f"stream-{time.time_ns()}.log", "wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pipelines.news_pipeline",
                "--streaming",
                "--watch",
                str(watch),
                "--output",
                str(output),
                *extra,
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        for line in self.proc.stdout:
            if "watching" in line:
                return
        raise AssertionError(
            f"the stream exited {self.proc.wait()} before watching: {Path(self.log.name).read_text()[-3000:]}"
        )

    def stop(self, sig=signal.SIGTERM, timeout=180) -> tuple[int, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        out = self.proc.communicate(timeout=timeout)[0]
        self.log.close()
        return self.proc.returncode, out


def _wait_for(condition, timeout=120, what=""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _alerts(output: Path) -> list[dict]:
    log = output / "alerts.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def _rows(output: Path, table: str) -> list[dict]:
    files = sorted((output / table).glob("dt=*/*.parquet"))
    return [row for f in files for row in pq.read_table(f).to_pylist()]


def _outcomes(output: Path) -> dict[str, int]:
    """Landed file name -> how many article, duplicate and rejected rows it became."""
    outcomes: dict[str, int] = {}
    for table in ("articles", "duplicates", "rejected"):
        for row in _rows(output, table):
            name = Path(row["input_uri"]).name
            outcomes[name] = outcomes.get(name, 0) + 1
    return outcomes


def _restart_until_drained(watch: Path, output: Path) -> None:
    """Start the stream again, wait until nothing is pending or landed, stop it with Ctrl-C."""
    restarted = _Stream(watch, output, "--max_runtime_s", "600")
    _wait_for(
        lambda: not Spool(watch).pending() and not Spool(watch).ready(), what="every file processed after the restart"
    )
    code, out = restarted.stop(signal.SIGINT)
    assert code == 0, out


def _all_parquet_valid(output: Path) -> int:
    files = sorted(output.glob("*/dt=*/*.parquet"))
    for f in files:
        pq.read_metadata(f)
        pq.read_table(f)
    return len(files)


def test_stream_sees_alerts_while_running_stops_cleanly_and_restarts_exactly_once(tmp_path):
    watch, output = tmp_path / "incoming", tmp_path / "output"
    watch.mkdir()
    output.mkdir()
    stream = _Stream(watch, output, "--max_runtime_s", "600")

    # 1. Reuters wires from 1987, then the five seeds from June 2024, landing while the stream runs.
    replay(REUTERS, watch, rate=0, limit=12)
    replay(SEEDS, watch, rate=0)
    _wait_for(
        lambda: any(a["event"] == "alert" and a["rule_id"] == "summit_announced" for a in _alerts(output)),
        what="the seeds' summit alert",
    )
    assert stream.proc.poll() is None, "the stream must still be running"
    _wait_for(lambda: len(_rows(output, "articles")) >= 15, what="the articles")
    summit = [a for a in _alerts(output) if a["event"] == "alert" and a["rule_id"] == "summit_announced"]
    assert {"2024-06-18"} <= {a["event_start"] for a in summit}
    # Queryable now, while the stream runs.
    assert duckdb.sql(f"SELECT count(*) FROM read_parquet('{output}/articles/*/*.parquet')").fetchall()[0][0] >= 15
    assert pl.read_parquet(f"{output}/alerts/**/*.parquet", hive_partitioning=True).height >= 1

    # 2. A copy of a seed under another name, an empty file, and a 1987 wire that is now far too late.
    land(watch, "copy-of-004.txt", (next(SEEDS.glob("004_*.txt"))).read_bytes(), None)
    land(watch, "empty.txt", b"", None)
    late_line = REUTERS.read_bytes().splitlines()[20]
    land(watch, "late-wire.json", late_line, None)
    rejected_names = lambda: {Path(r["input_uri"]).name for r in _rows(output, "rejected")}  # noqa: E731
    _wait_for(
        lambda: {"empty.txt", "late-wire.json"} <= rejected_names() and _rows(output, "duplicates"),
        what="the duplicate and rejected rows",
    )
    reasons = {Path(r["input_uri"]).name: (r["stage"], r["error_type"]) for r in _rows(output, "rejected")}
    assert reasons["empty.txt"] == ("decode", "empty_file")
    assert reasons["late-wire.json"] == ("window", "too_late")
    (late,) = [r for r in _rows(output, "rejected") if r["input_uri"].endswith("late-wire.json")]
    assert late["original_bytes"] == late_line and "too late for its event-time window" in late["message"]
    (dup,) = _rows(output, "duplicates")
    assert Path(dup["input_uri"]).name == "copy-of-004.txt"

    # 3. More wires land; SIGTERM while they are being processed: a clean stop, valid Parquet, a manifest.
    replay(REUTERS, watch, rate=0, start=12, limit=6)
    code, out = stream.stop(signal.SIGTERM)
    assert code == 0, out
    manifest = json.loads((output / "_manifest.json").read_text())
    assert manifest["state"] == "stopped" and manifest["stop_reason"] == "SIGTERM" and manifest["reconciled"] is True
    assert _all_parquet_valid(output) > 0

    # 4. A claim the stream never finished (as after a crash), and more files, then a restart.
    replay(REUTERS, watch, rate=0, start=24, limit=2)
    claimed = Spool(watch).claim(100, dt.datetime.now(dt.timezone.utc))
    assert len(claimed.files) >= 2 and Spool(watch).pending()
    replay(REUTERS, watch, rate=0, start=30, limit=2)
    landed = {p.name for p in watch.iterdir() if p.is_file() and not p.name.endswith(".meta.json")} | {
        p.name
        for b in (watch / ".newsbeam").iterdir()
        for p in b.iterdir()
        if not p.name.startswith("_") and not p.name.endswith(".meta.json")
    }
    _restart_until_drained(watch, output)

    # Exactly once: every landed file is one article, duplicate or rejected row; no article twice.
    assert _outcomes(output) == {name: 1 for name in landed}
    ids = [r["article_id"] for r in _rows(output, "articles")]
    assert len(ids) == len(set(ids))
    lines = (output / "alerts.jsonl").read_text().splitlines()
    assert len(lines) == len(set(lines))
    manifest = json.loads((output / "_manifest.json").read_text())
    assert manifest["inputs_seen"] == len(landed) and manifest["reconciled"] is True
    assert manifest["articles"] + manifest["duplicates"] + manifest["rejected"] == len(landed)
    assert _all_parquet_valid(output) > 0
    counts = duckdb.sql(f"SELECT sum(mentions) FROM read_parquet('{output}/entity_counts/*/*.parquet')").fetchall()[0][
        0
    ]
    mentions = duckdb.sql(f"SELECT count(*) FROM read_parquet('{output}/entity_mentions/*/*.parquet')").fetchall()[0][0]
    assert counts == mentions  # every mention is counted in exactly one window update


def test_max_runtime_stops_an_idle_stream_with_a_manifest(tmp_path):
    watch, output = tmp_path / "incoming", tmp_path / "output"
    started = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.news_pipeline",
            "--streaming",
            "--watch",
            str(watch),
            "--output",
            str(output),
            "--max_runtime_s",
            "2",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "stream stopped (max_runtime_s)" in proc.stdout
    manifest = json.loads((output / "_manifest.json").read_text())
    assert (manifest["state"], manifest["batches"], manifest["inputs_seen"]) == ("stopped", 0, 0)
    assert time.monotonic() - started < 200


def test_streaming_without_a_folder_is_a_clear_error(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.news_pipeline", "--streaming", "--output", str(tmp_path / "out")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 2
    assert "--streaming needs --watch DIR" in proc.stderr


def test_kill_9_during_a_micro_batch_then_restart_processes_each_file_once(tmp_path):
    watch, output = tmp_path / "incoming", tmp_path / "output"
    watch.mkdir()
    output.mkdir()
    stream = _Stream(watch, output, "--max_runtime_s", "600", "--max_batch_files", "4")
    replay(REUTERS, watch, rate=0, limit=24)
    batches = watch / ".newsbeam"
    in_flight = lambda: [b for b in batches.iterdir() if not (b / "_DONE.json").exists()] if batches.exists() else []  # noqa: E731
    # Kill while a micro-batch is in flight after at least one has committed.
    _wait_for(
        lambda: (
            any((b / "_DONE.json").exists() for b in batches.iterdir()) and in_flight() if batches.exists() else False
        ),
        what="a committed batch and one in flight",
    )
    stream.proc.kill()
    stream.proc.wait()
    stream.log.close()
    assert Spool(watch).pending(), "the batch in flight stays claimed"
    _restart_until_drained(watch, output)
    expected = {f"reuters21578_000-{n:06d}.json": 1 for n in range(1, 25)}
    assert _outcomes(output) == expected
    # A crash after a batch committed its tables but before it was marked done: the redo must replace, not duplicate.
    last = sorted((watch / ".newsbeam").iterdir())[-1]
    articles_before = sorted(r["article_id"] for r in _rows(output, "articles"))
    duplicates_before = sorted((r["input_uri"], r["duplicate_of"]) for r in _rows(output, "duplicates"))
    (last / "_DONE.json").unlink()
    _restart_until_drained(watch, output)
    assert _outcomes(output) == expected
    assert sorted(r["article_id"] for r in _rows(output, "articles")) == articles_before
    assert sorted((r["input_uri"], r["duplicate_of"]) for r in _rows(output, "duplicates")) == duplicates_before
    assert _all_parquet_valid(output) > 0
    assert not list(
        output.glob("_staging/*/*/dt=*/*.parquet")
    )  # the killed batch's staged files were dropped at restart
    manifest = json.loads((output / "_manifest.json").read_text())
    assert manifest["inputs_seen"] == 24 and manifest["reconciled"] is True
