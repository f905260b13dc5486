"""Streaming latency: from a file landing in the watched folder to its rows being queryable and its alerts logged.

    python -m benchmarks.stream_latency [--count 60] [--rate 2] [--source ../shared/corpus/reuters21578_000.jsonl]

Starts the streaming driver on a fresh folder, waits until it watches, then replays `count`
articles of the source at `rate` per second, followed by the five seed reports (which fire
alerts). It watches two things while the stream runs:

- each micro-batch's ``_DONE.json`` in the spool: the batch's Parquet files are committed when it
  appears, so every file of the batch (listed in its ``_CLAIMED.json``) is visible from then on;
- ``alerts.jsonl``: the time each alert line appears, for the file it came from.

It then stops the stream with SIGTERM, checks with DuckDB that every landed file is an article,
a duplicate or a rejected row, and prints p50/p95/max of landing -> visible and landing -> alert.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from pipelines.replay import replay

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = ROOT.parent / "shared" / "corpus" / "reuters21578_000.jsonl"
SEEDS = ROOT / "sample_data" / "seeds"


def _percentiles(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]  # noqa: E731
    return {
        "n": len(ordered),
        "p50": round(statistics.median(ordered), 3),
        "p95": round(pick(0.95), 3),
        "max": round(ordered[-1], 3),
    }


class _Watcher(threading.Thread):
    """Polls the spool's batch markers and alerts.jsonl every 20 ms, noting when each file became visible."""

    def __init__(self, watch: Path, output: Path):
        super().__init__(daemon=True)
        self.watch, self.output = watch, output
        self.visible: dict[str, float] = {}
        self.alerted: dict[str, float] = {}
        self._done: set[str] = set()
        self._log_offset = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.poll()
            time.sleep(0.02)

    def poll(self):
        now = time.time()
        spool = self.watch / ".newsbeam"
        if spool.exists():
            for batch in spool.iterdir():
                if batch.name in self._done or not (batch / "_DONE.json").exists():
                    continue
                self._done.add(batch.name)
                claimed = json.loads((batch / "_CLAIMED.json").read_text())
                for path in claimed["files"]:
                    self.visible.setdefault(Path(path).name, now)
        log = self.output / "alerts.jsonl"
        if log.exists():
            with log.open("rb") as f:
                f.seek(self._log_offset)
                data = f.read()
            complete = data[: data.rfind(b"\n") + 1]
            self._log_offset += len(complete)
            for line in complete.splitlines():
                row = json.loads(line)
                if row.get("event") == "alert":
                    self.alerted.setdefault(row["article_id"], now)


def _alert_files(output: Path) -> dict[str, str]:
    """article_id -> landed file name, from the articles table."""
    import duckdb

    rows = duckdb.sql(f"SELECT article_id, input_uri FROM read_parquet('{output}/articles/*/*.parquet')").fetchall()
    return {a: Path(u).name for a, u in rows}


def _outcomes(output: Path) -> dict[str, int]:
    import duckdb

    counts = {}
    for table, column in (("articles", "input_uri"), ("duplicates", "input_uri"), ("rejected", "input_uri")):
        files = list((output / table).glob("dt=*/*.parquet"))
        if files:
            con = duckdb.connect()
            for (uri,) in con.sql(f"SELECT {column} FROM read_parquet('{output}/{table}/*/*.parquet')").fetchall():
                counts[Path(uri).name] = counts.get(Path(uri).name, 0) + 1
    return counts


def run(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stream_latency", description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", default=str(DEFAULT_SOURCE))
    parser.add_argument("--count", type=int, default=60, help="Articles replayed from the source.")
    parser.add_argument("--rate", type=float, default=2.0, help="Articles per second.")
    parser.add_argument("--keep", default=None, help="Keep the spool and output in this folder.")
    args = parser.parse_args(argv)
    if not Path(args.source).exists():
        print(f"stream_latency: skipped, no corpus at {args.source}", file=sys.stderr)
        return 0
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="newsbeam-latency-"))
    watch, output = base / "incoming", base / "output"
    watch.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipelines.news_pipeline",
            "--streaming",
            "--watch",
            str(watch),
            "--output",
            str(output),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=open(base / "stream.log", "wb"),
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    started = time.monotonic()
    for line in proc.stdout:
        if "watching" in line:
            break
    print(f"stream ready after {time.monotonic() - started:.1f}s (model loaded, first pipeline warmed)")
    watcher = _Watcher(watch, output)
    watcher.start()
    landed_log = base / "landed.jsonl"
    landed_log.unlink(missing_ok=True)
    replay(Path(args.source), watch, args.rate, limit=args.count, log=landed_log)
    replay(SEEDS, watch, args.rate, log=landed_log)
    landed = {json.loads(line)["file"]: json.loads(line)["landed_at"] for line in landed_log.read_text().splitlines()}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not set(landed) <= set(watcher.visible):
        time.sleep(0.1)
    time.sleep(0.5)
    watcher.stop.set()
    watcher.join()
    proc.send_signal(signal.SIGTERM)
    tail = proc.communicate(timeout=120)[0]
    manifest = json.loads((output / "_manifest.json").read_text())
    outcomes = _outcomes(output)
    missing = sorted(f for f in landed if outcomes.get(f, 0) != 1)
    by_article = _alert_files(output)
    alerted = {}
    for article_id, when in watcher.alerted.items():
        name = by_article[article_id]
        alerted[name] = min(when, alerted.get(name, when))
    visible = [watcher.visible[f] - landed[f] for f in landed if f in watcher.visible]
    alerts = [alerted[f] - landed[f] for f in landed if f in alerted]
    result = {
        "articles_landed": len(landed),
        "rate_per_s": args.rate,
        "landing_to_parquet_s": _percentiles(visible),
        "landing_to_alert_s": _percentiles(alerts),
        "micro_batches": manifest["batches"],
        "mean_files_per_batch": round(len(landed) / max(1, manifest["batches"]), 2),
        "manifest": {
            k: manifest[k]
            for k in ("inputs_seen", "articles", "duplicates", "rejected", "alerts", "reconciled", "stop_reason")
        },
        "files_without_exactly_one_row": missing,
        "exit_code": proc.returncode,
    }
    print(json.dumps(result, indent=2))
    print(tail.strip().splitlines()[-1] if tail.strip() else "")
    return 0 if not missing and proc.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(run())
