"""What a run reads: a file, folder or glob resolved to input files, filtered by date, planned into chunks.

This runs in the driver, before any pipeline: resolve_inputs expands what the user named (a typo is a
clear error at start-up, not an empty run), select_by_date keeps the files of --date/--since/--until,
and plan_chunks cuts a large input into even chunks of records (a file, or a JSONL line, is a record)
at line boundaries, as FileSplits that the read step (transforms/read.py) reads on the workers.
"""

from __future__ import annotations

import bz2
import contextlib
import dataclasses
import datetime as dt
import gzip
import os
import posixpath
from typing import BinaryIO, Iterator, Optional

from apache_beam.io.filesystems import CompressionTypes, FileSystems

SIDECAR_SUFFIX = ".meta.json"
LINE_FORMATS = {".jsonl", ".ndjson"}
COMPRESSED = {".gz", ".bz2", ".zst", ".deflate"}


@dataclasses.dataclass(frozen=True)
class FileSplit:
    """Part of a JSONL file: the lines that start at byte offsets [start, end), the first being line `first_line`.

    A run over a large input reads it in chunks (see plan_chunks); a whole file is its plain path, or
    FileSplit.whole(path) where the path is no UTF-8 text (as_input).
    """

    uri: str
    start: int
    end: Optional[int]  # None: to the end of the file
    first_line: int

    @classmethod
    def whole(cls, uri: str) -> "FileSplit":
        return cls(uri, 0, None, 1)


def as_input(item):
    """A path or FileSplit as an element Beam can encode: a file name that is not UTF-8 (os gives its bytes as lone
    surrogates, which Beam's string coder refuses) travels as FileSplit.whole, which is pickled."""
    if isinstance(item, str):
        try:
            item.encode("utf-8")
        except UnicodeEncodeError:
            return FileSplit.whole(item)
    return item


def extension_of(uri: str) -> str:
    """The format extension, ignoring a compression suffix: a.jsonl.gz -> .jsonl."""
    base = posixpath.basename(uri).lower()
    stem, ext = os.path.splitext(base)
    if ext in COMPRESSED:
        ext = os.path.splitext(stem)[1]
    return ext


def is_hidden(name: str) -> bool:
    return name.startswith((".", "_")) or name.endswith(("~", ".tmp", ".part"))


def resolve_inputs(spec: str) -> list[str]:
    """Expand a file, folder (recursive) or glob into a sorted list of input files.

    Hidden files and folders (leading '.' or '_'), partial downloads (*.tmp, *.part)
    and metadata sidecars (*.meta.json) are not inputs. Raises FileNotFoundError when
    nothing matches, so a typo is a clear error at start-up, not an empty run.
    """
    if "://" not in spec and os.path.isdir(spec):
        found = []
        for root, dirs, files in os.walk(spec):
            dirs[:] = sorted(d for d in dirs if not is_hidden(d))
            found.extend(os.path.join(root, f) for f in files if not is_hidden(f))
        paths = [os.path.abspath(p) for p in found]
    elif "://" not in spec and os.path.isfile(spec):
        paths = [os.path.abspath(spec)]
    else:
        pattern = spec if any(c in spec for c in "*?[") else spec.rstrip("/") + "/**"
        if "://" not in pattern:
            pattern = os.path.abspath(pattern)
        matches = FileSystems.match([pattern])[0].metadata_list
        paths = [m.path for m in matches if not is_hidden(posixpath.basename(m.path))]
    paths = sorted(p for p in paths if not p.endswith(SIDECAR_SUFFIX))
    if not paths:
        raise FileNotFoundError(f"no input files match {spec!r}")
    return paths


def modified_at(uri: str) -> Optional[dt.datetime]:
    """The file's modification time in UTC, to the second; None where the file system has none."""
    try:
        return dt.datetime.fromtimestamp(int(FileSystems.last_updated(uri)), tz=dt.timezone.utc)
    except (OSError, IOError, NotImplementedError, ValueError, TypeError):
        return None


@contextlib.contextmanager
def open_input(uri: str) -> Iterator[BinaryIO]:
    """An input's bytes, decompressed by its suffix. gzip and bzip2 go through Python's own readers, which raise on a
    corrupt or truncated stream (EOFError, zlib.error, OSError) where Beam's return what they could decompress, so a
    cut-off file is a rejected row, not a short article. Other suffixes (.zst, .deflate) use Beam's, by suffix."""
    reader = _PYTHON_READERS.get(posixpath.splitext(uri.lower())[1])
    if reader is None:
        with FileSystems.open(uri) as f:
            yield f
        return
    with FileSystems.open(uri, compression_type=CompressionTypes.UNCOMPRESSED) as raw:
        if not raw.read(1):  # no bytes at all: an empty file (bzip2's reader would call it truncated)
            yield raw
            return
        raw.seek(0)
        with reader(raw) as f:
            yield f


_PYTHON_READERS = {".gz": lambda raw: gzip.GzipFile(fileobj=raw, mode="rb"), ".bz2": lambda raw: bz2.BZ2File(raw, "rb")}


def count_records(path: str) -> int:
    """Records in one input as the read step makes them: 1 for a file, its non-blank lines for a JSONL file.

    An input that cannot be read here counts as 1: the read step makes it one rejected row.
    """
    if extension_of(path) not in LINE_FORMATS:
        return 1
    try:
        with open_input(path) as f:
            return sum(1 for line in iter(f.readline, b"") if line.strip())
    except Exception:  # noqa: BLE001 - unreadable or corrupt: the read step rejects it, with the error, as one record
        return 1


def chunk_sizes(total: int, max_records: int) -> list[int]:
    """The fewest chunks of at most `max_records` records that hold `total`, as even as can be (sizes differ by
    at most one): 2,225 records at most 1,250 are 1,113 + 1,112, not 1,250 + 975, and at most 1,000 they are
    742 + 742 + 741, not a runt of 225 that costs a whole pipeline's fixed work for a tenth of the records."""
    count = max(1, -(-total // max_records))
    base, extra = divmod(total, count)
    return [base + (i < extra) for i in range(count)]


def plan_chunks(paths: list[str], max_records: int) -> list[list]:
    """The inputs cut into even chunks of at most `max_records` records each, in input order (chunk_sizes).

    A file is one record, a JSONL file one per non-blank line (a file of blank lines plans no
    chunks of its own). A JSONL file longer than the room left in a chunk is cut at line
    boundaries into FileSplits; other files, and files that cannot be read through, stay whole
    paths (the read step rejects what it cannot read). Every line is in exactly one chunk. One
    chunk (the plain paths) when the whole input fits, or `max_records` is 0.
    """
    if max_records <= 0:
        return [list(paths)]
    sizes = chunk_sizes(sum(count_records(p) for p in paths), max_records)  # a second, block-wise pass over each file
    if len(sizes) == 1:
        return [list(paths)]
    chunks: list[list] = [[]]

    def room_of_last_chunk() -> int:
        # Chunk k gets sizes[k]; a file that grew after it was counted adds chunks of the last size: every line is
        # still in exactly one chunk, because the cut below follows the lines it reads, not the count.
        return sizes[min(len(chunks), len(sizes)) - 1]

    room = room_of_last_chunk()
    for path in paths:
        if room == 0:
            chunks.append([])
            room = room_of_last_chunk()
        if extension_of(path) not in LINE_FORMATS:
            chunks[-1].append(path)
            room -= 1
            continue
        mark = (len(chunks), len(chunks[-1]), room)
        try:
            start, first, offset, number = 0, 1, 0, 0
            with open_input(path) as f:
                for number, line in enumerate(iter(f.readline, b""), start=1):
                    blank = not line.strip()
                    if room == 0 and not blank:
                        chunks[-1].append(FileSplit(path, start, offset, first))
                        chunks.append([])
                        room, start, first = room_of_last_chunk(), offset, number
                    offset += len(line)
                    room -= not blank
        except Exception:  # noqa: BLE001 - unreadable part way: planned whole, and the read step rejects what it can't read
            del chunks[mark[0] :]
            del chunks[-1][mark[1] :]
            chunks[-1].append(path)
            room = mark[2] - 1
            continue
        if start == 0:
            chunks[-1].append(path)
        elif number >= first:
            chunks[-1].append(FileSplit(path, start, offset, first))
    chunks = [c for c in chunks if c]
    return chunks or [list(paths)]


def input_date(uri: str) -> Optional[dt.date]:
    """The date an input file belongs to: a date in its path, else its modification time (UTC)."""
    from transforms.dates import date_from_path

    from_path = date_from_path(uri)
    if from_path is not None:
        return from_path.date()
    modified = modified_at(uri)
    return modified.date() if modified else None


def select_by_date(paths: list[str], since: Optional[dt.date], until: Optional[dt.date]) -> tuple[list[str], list[str]]:
    """(selected, skipped): files whose input_date lies in [since, until]; undated files are skipped."""
    selected, skipped = [], []
    for path in paths:
        day = input_date(path)
        ok = day is not None and (since is None or day >= since) and (until is None or day <= until)
        (selected if ok else skipped).append(path)
    return selected, skipped
