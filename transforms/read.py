"""Reading inputs: a file, folder or glob becomes raw records (one per file, or one per JSONL line).

Nothing is parsed here; a read that fails, or an input too large to be one article,
becomes a Rejected row at stage ``read`` with the bytes that could be read.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import posixpath
from typing import Iterator, Optional

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from schemas import Rejected, Stage
from transforms import metrics
from transforms.errors import InputRejected, Reason

SIDECAR_SUFFIX = ".meta.json"
LINE_FORMATS = {".jsonl", ".ndjson"}
COMPRESSED = {".gz", ".bz2", ".zst", ".deflate"}


@dataclasses.dataclass(frozen=True)
class RawInput:
    """One input unit: the bytes of a file, or of one JSONL line, with where they came from."""

    uri: str
    data: bytes
    extension: str
    line: Optional[int] = None
    byte_offset: Optional[int] = None
    size: int = 0
    truncated: bool = False
    sidecar: Optional[str] = None  # the text of <file>.meta.json, if there is one
    modified_at: Optional[dt.datetime] = None  # the file's modification time (UTC), when the file system reports it


@dataclasses.dataclass(frozen=True)
class FileSplit:
    """Part of a JSONL file: the lines that start at byte offsets [start, end), the first being line `first_line`.

    A run over a large input reads it in chunks (see plan_chunks); a whole file is its plain path.
    """

    uri: str
    start: int
    end: int
    first_line: int


def extension_of(uri: str) -> str:
    """The format extension, ignoring a compression suffix: a.jsonl.gz -> .jsonl."""
    base = posixpath.basename(uri).lower()
    stem, ext = os.path.splitext(base)
    if ext in COMPRESSED:
        ext = os.path.splitext(stem)[1]
    return ext


def _hidden(name: str) -> bool:
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
            dirs[:] = sorted(d for d in dirs if not _hidden(d))
            found.extend(os.path.join(root, f) for f in files if not _hidden(f))
        paths = [os.path.abspath(p) for p in found]
    elif "://" not in spec and os.path.isfile(spec):
        paths = [os.path.abspath(spec)]
    else:
        pattern = spec if any(c in spec for c in "*?[") else spec.rstrip("/") + "/**"
        if "://" not in pattern:
            pattern = os.path.abspath(pattern)
        matches = FileSystems.match([pattern])[0].metadata_list
        paths = [m.path for m in matches if not _hidden(posixpath.basename(m.path))]
    paths = sorted(p for p in paths if not p.endswith(SIDECAR_SUFFIX))
    if not paths:
        raise FileNotFoundError(f"no input files match {spec!r}")
    return paths


def _sidecar_of(uri: str) -> Optional[str]:
    path = uri + SIDECAR_SUFFIX
    if not FileSystems.exists(path):
        return None
    with FileSystems.open(path) as f:
        return f.read().decode("utf-8", errors="replace")


def _modified_at(uri: str) -> Optional[dt.datetime]:
    """The file's modification time in UTC, to the second; None where the file system has none."""
    try:
        return dt.datetime.fromtimestamp(int(FileSystems.last_updated(uri)), tz=dt.timezone.utc)
    except (OSError, IOError, NotImplementedError, ValueError, TypeError):
        return None


class _ReadInputFn(beam.DoFn):
    """Reads one file into RawInput records; JSONL files yield one record per non-blank line."""

    def __init__(self, max_input_bytes: int, rejected_at: dt.datetime):
        self._max = max_input_bytes
        self._rejected_at = rejected_at

    def process(self, item) -> Iterator:
        split = item if isinstance(item, FileSplit) else None
        uri = split.uri if split else item
        if split is None or split.start == 0:
            metrics.FILES_READ.inc()
        ext = extension_of(uri)
        try:
            sidecar = _sidecar_of(uri)
            modified = _modified_at(uri)
            with FileSystems.open(uri) as f:
                if ext in LINE_FORMATS:
                    yield from self._lines(uri, ext, f, sidecar, modified, split)
                else:
                    data = f.read(self._max + 1)
                    metrics.RECORDS_READ.inc()
                    if len(data) > self._max:
                        size = len(data) + len(f.read())
                        yield self._too_large(uri, None, None, data, size)
                    else:
                        yield RawInput(uri, data, ext, size=len(data), sidecar=sidecar, modified_at=modified)
        except (OSError, IOError) as err:
            # The file vanished or is unreadable: one rejected row for the whole file.
            metrics.RECORDS_READ.inc()
            yield self._rejected(uri, None, None, b"", 0, InputRejected(Reason.READ_FAILED, str(err)))

    def _lines(self, uri, ext, f, sidecar, modified, split: Optional[FileSplit]) -> Iterator:
        offset, first, end = (split.start, split.first_line, split.end) if split else (0, 1, None)
        if offset:
            f.seek(offset)
        for number, line in enumerate(iter(f.readline, b""), start=first):  # compressed files are not iterable
            if end is not None and offset >= end:
                return
            start, offset = offset, offset + len(line)
            if not line.strip():
                continue
            metrics.RECORDS_READ.inc()
            data = line.rstrip(b"\r\n")
            if len(data) > self._max:
                yield self._too_large(uri, number, start, data, len(data))
            else:
                yield RawInput(uri, data, ext, line=number, byte_offset=start, size=len(data), sidecar=sidecar, modified_at=modified)

    def _too_large(self, uri, line, offset, data, size):
        err = InputRejected(Reason.INPUT_TOO_LARGE, f"{size:,} bytes (limit {self._max:,})")
        return self._rejected(uri, line, offset, data[: self._max], size, err)

    def _rejected(self, uri, line, offset, data, size, err: InputRejected):
        metrics.count_rejected(err.stage.value)
        return beam.pvalue.TaggedOutput(
            ReadInputs.REJECTED,
            Rejected(
                input_uri=uri,
                input_line=line,
                byte_offset=offset,
                stage=err.stage,
                error_type=err.reason.value,
                message=err.message,
                original_bytes=data,
                original_size=size,
                original_truncated=len(data) < size,
                rejected_at=self._rejected_at,
            ),
        )


class ReadInputs(beam.PTransform):
    """PCollection[str uri | FileSplit] -> {'records': RawInput, 'rejected': Rejected}."""

    RECORDS = "records"
    REJECTED = "rejected"

    def __init__(self, max_input_bytes: int, rejected_at: dt.datetime):
        super().__init__()
        self._max_input_bytes = max_input_bytes
        self._rejected_at = rejected_at

    def expand(self, uris):
        return uris | "ReadFiles" >> beam.ParDo(
            _ReadInputFn(self._max_input_bytes, self._rejected_at)
        ).with_outputs(self.REJECTED, main=self.RECORDS)


def count_records(path: str) -> int:
    """Records in one input as plan_chunks counts them: 1 for a file, its lines for a JSONL file (blank ones too)."""
    if extension_of(path) not in LINE_FORMATS:
        return 1
    lines, last = 0, b"\n"
    with FileSystems.open(path) as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + (last != b"\n")  # a last line without its newline


def chunk_sizes(total: int, max_records: int) -> list[int]:
    """The fewest chunks of at most `max_records` records that hold `total`, as even as can be (sizes differ by
    at most one): 2,225 records at most 1,250 are 1,113 + 1,112, not 1,250 + 975, and at most 1,000 they are
    742 + 742 + 741, not a runt of 225 that costs a whole pipeline's fixed work for a tenth of the records."""
    count = max(1, -(-total // max_records))
    base, extra = divmod(total, count)
    return [base + (i < extra) for i in range(count)]


def plan_chunks(paths: list[str], max_records: int) -> list[list]:
    """The inputs cut into even chunks of at most `max_records` records each, in input order (chunk_sizes).

    A file is one record, a JSONL file one per line (blank lines included, so a chunk may hold a
    few records fewer). A JSONL file longer than the room left in a chunk is cut at line
    boundaries into FileSplits; other files stay whole paths. Every line is in exactly one chunk.
    One chunk (the plain paths) when the whole input fits, or `max_records` is 0.
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
        start, first, offset, number = 0, 1, 0, 0
        with FileSystems.open(path) as f:
            for number, line in enumerate(iter(f.readline, b""), start=1):
                if room == 0:
                    chunks[-1].append(FileSplit(path, start, offset, first))
                    chunks.append([])
                    room, start, first = room_of_last_chunk(), offset, number
                offset += len(line)
                room -= 1
        if start == 0:
            chunks[-1].append(path)
        elif number >= first:
            chunks[-1].append(FileSplit(path, start, offset, first))
    chunks = [c for c in chunks if c]
    return chunks or [list(paths)]


def raw_from_message(data: bytes, attributes: Optional[dict] = None, message_id: str = "", subscription: str = "", publish_time: Optional[dt.datetime] = None) -> RawInput:
    """A Pub/Sub-shaped message as a RawInput, so a message takes the same parse path as a file.

    `data` is one article in any shape newsbeam reads; the `format` attribute names it (json, txt,
    md, html; default json). The other attributes (published_at, source, url, title, byline,
    language) act as the file's .meta.json sidecar would. The message's publish time stands in
    for a file's modification time: a weak date, used only when the article has none.
    """
    attributes = dict(attributes or {})
    fmt = str(attributes.pop("format", "json")).lstrip(".").lower()
    uri = f"pubsub://{subscription or 'subscription'}/{message_id or 'message'}"
    sidecar = json.dumps(attributes, sort_keys=True) if attributes else None
    return RawInput(uri, data, f".{fmt}", size=len(data), sidecar=sidecar, modified_at=publish_time)


def original_bytes(uri: str, line: Optional[int] = None) -> Optional[bytes]:
    """The bytes an input came from, read again: the file, or its `line` (1-based, JSONL). None when it is gone."""
    try:
        with FileSystems.open(uri) as f:
            if line is None:
                return f.read()
            for number, data in enumerate(f, start=1):
                if number == line:
                    return data.rstrip(b"\r\n")
    except (OSError, IOError, ValueError):
        return None
    return None


def parse_sidecar(text: str) -> dict:
    """The fields of a <file>.meta.json sidecar (title, url, source, byline, published_at, language)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputRejected(Reason.MALFORMED_JSON, f"in the {SIDECAR_SUFFIX} sidecar: {err.msg} at line {err.lineno} column {err.colno}") from None
    if not isinstance(value, dict):
        raise InputRejected(Reason.NOT_AN_ARTICLE, f"the {SIDECAR_SUFFIX} sidecar must hold a JSON object")
    return value


def input_date(uri: str) -> Optional[dt.date]:
    """The date an input file belongs to: a date in its path, else its modification time (UTC)."""
    from transforms.dates import date_from_path

    from_path = date_from_path(uri)
    if from_path is not None:
        return from_path.date()
    modified = _modified_at(uri)
    return modified.date() if modified else None


def select_by_date(paths: list[str], since: Optional[dt.date], until: Optional[dt.date]) -> tuple[list[str], list[str]]:
    """(selected, skipped): files whose input_date lies in [since, until]; undated files are skipped."""
    selected, skipped = [], []
    for path in paths:
        day = input_date(path)
        ok = day is not None and (since is None or day >= since) and (until is None or day <= until)
        (selected if ok else skipped).append(path)
    return selected, skipped
