"""Scheduled batch runs: date selection, idempotent reruns, _SUCCESS, exit codes, crash safety, duplicates across
runs."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import ROOT, SAMPLE, SEEDS, TABLES, assert_same_tables, corpus_file, run_driver, seed_path

pytestmark = pytest.mark.slow


def _table_bytes(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes() for t in TABLES for p in sorted((out / t).glob("dt=*/*.parquet"))
    }


def test_rerunning_a_batch_rewrites_byte_identical_tables(tmp_path):
    run_driver("--input", str(SAMPLE), "--output", str(tmp_path))
    first = _table_bytes(tmp_path)
    assert (tmp_path / "_SUCCESS").exists()
    run_driver("--input", str(SAMPLE), "--output", str(tmp_path))
    assert _table_bytes(tmp_path) == first  # ingested_at is the batch's first ingestion time: nothing differs


def test_date_selects_inputs_by_the_date_in_their_path(tmp_path):
    for day, prefix in (("2024/06/12", "000"), ("2024/06/12", "001"), ("2024/06/17", "004")):
        folder = tmp_path / "in" / day
        folder.mkdir(parents=True, exist_ok=True)
        (folder / seed_path(prefix).name).write_bytes(seed_path(prefix).read_bytes())
    out = tmp_path / "out"
    run_driver("--input", str(tmp_path / "in"), "--output", str(out), "--date", "2024-06-17")
    manifest = json.loads((out / "_manifest.json").read_text())
    assert (manifest["input_files"], manifest["input_files_skipped_by_date"]) == (1, 2)
    assert manifest["date_range"] == ["2024-06-17", "2024-06-17"]
    proc = run_driver("--input", str(tmp_path / "in"), "--output", str(out), "--since", "2024-06-20", check=False)
    assert proc.returncode == 2 and "no input files" in proc.stderr
    proc = run_driver("--input", str(tmp_path / "in"), "--output", str(out), "--date", "17/06/2024", check=False)
    assert proc.returncode == 2 and "--date must be a date" in proc.stderr


def test_too_many_rejected_inputs_exit_3_after_committing(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "good.txt").write_bytes(seed_path("004").read_bytes())
    (inputs / "empty.txt").write_bytes(b"")
    (inputs / "binary.txt").write_bytes(b"\x00\x01\x02" * 10)
    proc = run_driver(
        "--input", str(inputs), "--output", str(tmp_path / "out"), "--max_rejected_ratio", "0.5", check=False
    )
    assert proc.returncode == 3
    assert (tmp_path / "out" / "_SUCCESS").exists() and json.loads((tmp_path / "out" / "_manifest.json").read_text())[
        "rejected"
    ] == 2


def test_a_text_seen_by_an_earlier_run_is_a_duplicate_not_a_second_article(tmp_path):
    out = tmp_path / "out"
    run_driver("--input", str(SEEDS), "--output", str(out))
    again = tmp_path / "again"
    again.mkdir()
    (again / "syndicated-copy.txt").write_bytes(seed_path("004").read_bytes())
    proc = run_driver("--input", str(again), "--output", str(out))
    assert "0 articles, 1 duplicates" in proc.stdout
    (dup,) = pq.read_table(out / "duplicates").to_pylist()
    kept = {
        r["input_uri"]: r["article_id"]
        for r in pq.read_table(out / "articles", columns=["input_uri", "article_id"]).to_pylist()
    }
    assert dup["duplicate_of"] == kept[str(seed_path("004"))]


def _subset(tmp_path: Path, n: int) -> Path:
    lines = corpus_file("bbc_news.jsonl").read_text(encoding="utf-8").splitlines()[:n]
    path = tmp_path / "bbc-subset.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def _readable_everywhere(out: Path) -> None:
    """What a reader globbing the tables sees is only whole Parquet files."""
    for t in TABLES:
        for p in (out / t).glob("*/*"):
            assert p.suffix == ".parquet" and not p.name.startswith("."), p
            pq.read_metadata(p)


def test_kill_9_halfway_then_rerun_gives_a_clean_runs_tables(tmp_path):
    source = _subset(tmp_path, 300)
    clean, crashed = tmp_path / "clean", tmp_path / "crashed"
    started = time.monotonic()
    run_driver("--input", str(source), "--output", str(clean))
    full = time.monotonic() - started
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipelines.news_pipeline", "--input", str(source), "--output", str(crashed)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + full / 2
    while time.monotonic() < deadline and proc.poll() is None:
        if crashed.exists():
            _readable_everywhere(crashed)
        time.sleep(0.2)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and its worker processes
    proc.wait()
    assert not list(crashed.glob("*/dt=*/*.parquet")) and not (crashed / "_manifest.json").exists()
    run_driver("--input", str(source), "--output", str(crashed))
    _readable_everywhere(crashed)
    assert_same_tables(clean, crashed)
