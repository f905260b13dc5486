"""The spool folder a stream watches: files land, are claimed into a micro-batch, and are marked done once committed.

Spool-directory semantics (compare Flume's spooling-directory source), on a local file system:

    DIR/report.json                           landed: ready to be read
    DIR/report.json.tmp, DIR/.report.json     being written: never read (write, then rename into place)
    DIR/.newsbeam/<batch>/report.json         claimed by micro-batch <batch>; articles' input_uri points here
    DIR/.newsbeam/<batch>/_CLAIMED.json       what the batch holds and when it was claimed
    DIR/.newsbeam/<batch>/_DONE.json          the batch's tables are committed; the stream's watermark after it

A producer writes a file under a hidden or ``.tmp``/``.part`` name and renames it into place when it
is complete: a rename within one file system is atomic, so a half-written file is never read. A
``<file>.meta.json`` sidecar must land before its article; it is claimed with it.

Claiming is a rename too, so a file is in exactly one place: landed, claimed, or done. A batch
without ``_DONE.json`` after a crash or a stop is processed again, under the same id, when the
stream restarts: its output files have the same names and replace any it committed before, and
alerts.jsonl skips lines it already holds. So each file is processed exactly once into the tables.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import Optional

from transforms.files import atomic_write
from transforms.inputs import SIDECAR_SUFFIX, is_hidden

SPOOL = ".newsbeam"
CLAIMED = "_CLAIMED.json"
DONE = "_DONE.json"


@dataclasses.dataclass(frozen=True)
class SpoolBatch:
    batch_id: str
    folder: Path
    files: tuple[str, ...]  # the claimed inputs (sidecars excluded), as absolute paths
    claimed_at: dt.datetime


class Spool:
    """A watched folder: list what landed, claim it into a batch, mark batches done."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder).resolve()
        self.batches = self.folder / SPOOL
        # Batch ids name output files, so two spools writing into one output must not share them.
        self.prefix = "s" + hashlib.sha256(str(self.folder).encode("utf-8")).hexdigest()[:8]

    def ready(self) -> list[Path]:
        """Files that have landed, oldest first (by modification time, then name); sidecars are not inputs."""
        found = []
        with os.scandir(self.folder) as entries:
            for entry in entries:
                if entry.is_file() and not is_hidden(entry.name) and not entry.name.endswith(SIDECAR_SUFFIX):
                    try:
                        found.append((entry.stat().st_mtime_ns, entry.name))
                    except FileNotFoundError:  # moved away since the listing (taken back, or claimed): not ready
                        continue
        return [self.folder / name for _, name in sorted(found)]

    def claim(self, max_files: int, now: dt.datetime) -> Optional[SpoolBatch]:
        """Move up to `max_files` landed files (with their sidecars) into a new batch; None when nothing landed."""
        ready = self.ready()[:max_files]
        if not ready:
            return None
        self.batches.mkdir(exist_ok=True)
        batch_id = f"{self.prefix}-{self._next_sequence():08d}"
        folder = self.batches / batch_id
        folder.mkdir()
        claimed = []
        for path in ready:
            sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
            try:
                if sidecar.exists():
                    sidecar.rename(folder / sidecar.name)
                path.rename(folder / path.name)
            except FileNotFoundError:  # the producer took it back between the listing and the claim
                continue
            claimed.append(str(folder / path.name))
        _write_json(folder / CLAIMED, {"batch_id": batch_id, "claimed_at": now.isoformat(), "files": claimed})
        return SpoolBatch(batch_id, folder, tuple(claimed), now)

    def pending(self) -> list[SpoolBatch]:
        """Batches claimed but not done (a crash or a stop came first), in claim order."""
        found = []
        for folder in self._batch_folders():
            if (folder / DONE).exists():
                continue
            claimed = _read_json(folder / CLAIMED)
            files = tuple(
                sorted(
                    str(p)
                    for p in folder.iterdir()
                    if p.is_file() and not is_hidden(p.name) and not p.name.endswith(SIDECAR_SUFFIX)
                )
            )
            when = (
                dt.datetime.fromisoformat(claimed["claimed_at"])
                if claimed
                else dt.datetime.fromtimestamp(folder.stat().st_mtime, dt.timezone.utc)
            )
            found.append(SpoolBatch(folder.name, folder, files, when))
        return found

    def done(self, batch: SpoolBatch, info: dict) -> None:
        _write_json(batch.folder / DONE, {"batch_id": batch.batch_id, **info})

    def done_infos(self) -> list[dict]:
        """The _DONE.json of every finished batch, in claim order; the last holds the state to resume from."""
        return [info for info in (_read_json(folder / DONE) for folder in self._batch_folders()) if info is not None]

    def _batch_folders(self) -> list[Path]:
        if not self.batches.exists():
            return []
        return sorted(p for p in self.batches.iterdir() if p.is_dir() and p.name.startswith(self.prefix + "-"))

    def _next_sequence(self) -> int:
        folders = self._batch_folders()
        return int(folders[-1].name.rsplit("-", 1)[1]) + 1 if folders else 1


def _write_json(path: Path, value: dict) -> None:
    atomic_write(path, (json.dumps(value, indent=2, sort_keys=True, default=str) + "\n").encode("utf-8"))


def _read_json(path: Path) -> Optional[dict]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
