"""Replay a corpus into a watched folder, one article per file, at a set rate: for demos and benchmarks of streaming.

    python -m pipelines.replay --source ../shared/corpus/reuters21578_000.jsonl --to incoming/ --rate 50
    python -m pipelines.replay --source sample_data/seeds --to incoming/ --rate 2

A JSONL source gives one `.json` file per line (the line's bytes, unchanged); a folder gives a copy
of each article file, its `.meta.json` sidecar first. Every file is written under a hidden name and
renamed into place (the spool convention in transforms/spool.py), so the stream never reads half a
file. Each article keeps its real timestamp: it stays in the article, and the file's modification
time is set to it too when the article has one.

With --log FILE, one JSON line per landed file: {"file", "landed_at" (epoch seconds)}.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Iterator, Optional

from transforms.dates import parse_timestamp
from transforms.inputs import SIDECAR_SUFFIX, is_hidden

_DATE_KEYS = ("published_at", "date_publish", "date", "published", "pubDate")


def _article_time(data: bytes) -> Optional[float]:
    try:
        value = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(value, dict):
        return None
    for key in _DATE_KEYS:
        if isinstance(value.get(key), str):
            when = parse_timestamp(value[key])
            if when is not None:
                return when.timestamp()
    return None


def articles_of(
    source: Path, start: int = 0, limit: Optional[int] = None
) -> Iterator[tuple[str, bytes, Optional[bytes], Optional[float]]]:
    """(file name, bytes, sidecar bytes, timestamp) for each article of a JSONL file or a folder."""
    if source.is_dir():
        files = sorted(
            p for p in source.iterdir() if p.is_file() and not is_hidden(p.name) and not p.name.endswith(SIDECAR_SUFFIX)
        )
        items = ((p.name, p.read_bytes(), _sidecar(p)) for p in files)
        items = ((name, data, side, _article_time(side) if side else _article_time(data)) for name, data, side in items)
    else:

        def lines():
            with source.open("rb") as f:
                for number, line in enumerate(f, start=1):
                    data = line.rstrip(b"\r\n")
                    if data.strip():
                        yield f"{source.stem}-{number:06d}.json", data, None, _article_time(data)

        items = lines()
    for index, item in enumerate(items):
        if index < start:
            continue
        if limit is not None and index >= start + limit:
            return
        yield item


def _sidecar(path: Path) -> Optional[bytes]:
    side = path.with_name(path.name + SIDECAR_SUFFIX)
    return side.read_bytes() if side.exists() else None


def land(folder: Path, name: str, data: bytes, when: Optional[float]) -> Path:
    """Write `name` into `folder` under a hidden name, set its time, and rename it into place."""
    tmp = folder / f".{name}.tmp"
    tmp.write_bytes(data)
    if when is not None:
        os.utime(tmp, (when, when))
    final = folder / name
    tmp.rename(final)
    return final


def replay(
    source: Path, to: Path, rate: float, start: int = 0, limit: Optional[int] = None, log: Optional[Path] = None
) -> int:
    to.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    count = 0
    log_file = log.open("a", encoding="utf-8") if log else None
    try:
        for name, data, sidecar, when in articles_of(source, start, limit):
            due = began + count / rate if rate > 0 else began
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            if sidecar is not None:
                land(to, name + SIDECAR_SUFFIX, sidecar, when)
            land(to, name, data, when)
            count += 1
            if log_file:
                log_file.write(json.dumps({"file": name, "landed_at": time.time()}) + "\n")
                log_file.flush()
    finally:
        if log_file:
            log_file.close()
    return count


def run(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.replay", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--source", required=True, help="A JSONL corpus (one article a line) or a folder of article files."
    )
    parser.add_argument("--to", required=True, help="The folder a stream watches.")
    parser.add_argument("--rate", type=float, default=50.0, help="Articles per second (0: as fast as possible).")
    parser.add_argument("--start", type=int, default=0, help="Skip this many articles first.")
    parser.add_argument("--limit", type=int, default=None, help="At most this many articles.")
    parser.add_argument("--log", default=None, help="Append {file, landed_at} JSON lines here.")
    args = parser.parse_args(argv)
    source = Path(args.source)
    if not source.exists():
        print(f"replay: no such source {source}", file=sys.stderr)
        return 2
    began = time.monotonic()
    count = replay(source, Path(args.to), args.rate, args.start, args.limit, Path(args.log) if args.log else None)
    print(f"replay: {count} articles into {args.to} in {time.monotonic() - began:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(run())
