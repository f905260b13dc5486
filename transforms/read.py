"""Reading inputs: a file, folder or glob becomes raw records (one per file, or one per JSONL line).

Nothing is parsed here; a read that fails, or an input too large to be one article,
becomes a Rejected row at stage ``read`` with the bytes that could be read.

Which inputs a run reads, and how a large input is cut into chunks, is decided in the driver
(transforms/inputs.py); a Pub/Sub message becomes a RawInput in transforms/pubsub.py.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Iterator, Optional

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from schemas import Rejected
from transforms import metrics
from transforms.errors import InputRejected, Reason, describe
from transforms.inputs import LINE_FORMATS, SIDECAR_SUFFIX, FileSplit, extension_of, modified_at, open_input

if TYPE_CHECKING:
    from transforms.feeds.parse import FeedItem

_BLOCK = 1 << 20


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
    # A page fetched for a feed item: the item fills in what the page lacks (transforms/feeds/items.py); empty `data`
    # means the page could not be fetched and the item's summary is the article.
    feed_item: Optional["FeedItem"] = None


def rejected_row(raw: RawInput, err: InputRejected, rejected_at: dt.datetime) -> Rejected:
    """The one place a rejected row is made from an input record: where, why, and the bytes it held."""
    return Rejected(
        input_uri=raw.uri,
        input_line=raw.line,
        byte_offset=raw.byte_offset,
        stage=err.stage,
        error_type=err.reason.value,
        message=err.message,
        original_bytes=raw.data,
        original_size=raw.size,
        original_truncated=raw.truncated,
        rejected_at=rejected_at,
    )


def _sidecar_of(uri: str) -> Optional[str]:
    path = uri + SIDECAR_SUFFIX
    if not FileSystems.exists(path):
        return None
    with FileSystems.open(path) as f:
        return f.read().decode("utf-8", errors="replace")


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
            modified = modified_at(uri)
            with open_input(uri) as f:
                if ext in LINE_FORMATS:
                    yield from self._lines(uri, ext, f, sidecar, modified, split)
                else:
                    data = f.read(self._max + 1)
                    metrics.RECORDS_READ.inc()
                    if len(data) > self._max:
                        # Counted a block at a time: a decompression bomb's size without holding what it expands to.
                        size = len(data) + sum(len(block) for block in iter(lambda: f.read(_BLOCK), b""))
                        yield self._too_large(uri, None, None, data, size)
                    else:
                        yield RawInput(uri, data, ext, size=len(data), sidecar=sidecar, modified_at=modified)
        except Exception as err:  # noqa: BLE001 - vanished, unreadable, corrupt or truncated: one rejected row for it
            # (a JSONL file read part way keeps the lines read before the error; the rest is this one row).
            metrics.RECORDS_READ.inc()
            yield self._rejected(uri, None, None, b"", 0, InputRejected(Reason.READ_FAILED, describe(err)))

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
                yield RawInput(
                    uri,
                    data,
                    ext,
                    line=number,
                    byte_offset=start,
                    size=len(data),
                    sidecar=sidecar,
                    modified_at=modified,
                )

    def _too_large(self, uri, line, offset, data, size):
        err = InputRejected(Reason.INPUT_TOO_LARGE, f"{size:,} bytes (limit {self._max:,})")
        return self._rejected(uri, line, offset, data[: self._max], size, err)

    def _rejected(self, uri, line, offset, data, size, err: InputRejected):
        metrics.count_rejected(err.stage.value)
        raw = RawInput(uri, data, extension_of(uri), line, offset, size, truncated=len(data) < size)
        return beam.pvalue.TaggedOutput(ReadInputs.REJECTED, rejected_row(raw, err, self._rejected_at))


class ReadInputs(beam.PTransform):
    """PCollection[str uri | FileSplit] -> {'records': RawInput, 'rejected': Rejected}."""

    RECORDS = "records"
    REJECTED = "rejected"

    def __init__(self, max_input_bytes: int, rejected_at: dt.datetime):
        super().__init__()
        self._max_input_bytes = max_input_bytes
        self._rejected_at = rejected_at

    def expand(self, uris):
        return uris | "ReadFiles" >> beam.ParDo(_ReadInputFn(self._max_input_bytes, self._rejected_at)).with_outputs(
            self.REJECTED, main=self.RECORDS
        )


def original_bytes(uri: str, line: Optional[int] = None) -> Optional[bytes]:
    """The bytes an input came from, read again: the file, or its `line` (1-based, JSONL). None when it is gone."""
    try:
        with open_input(uri) as f:
            if line is None:
                return f.read()
            for number, data in enumerate(iter(f.readline, b""), start=1):  # Beam's compressed files do not iterate
                if number == line:
                    return data.rstrip(b"\r\n")
    except Exception:  # noqa: BLE001 - gone or unreadable now: the caller says it holds less than the original
        return None
    return None


def parse_sidecar(text: str) -> dict:
    """The fields of a <file>.meta.json sidecar (title, url, source, byline, published_at, language)."""
    from transforms.parsers import load_json

    value = load_json(text, f"in the {SIDECAR_SUFFIX} sidecar: ")
    if not isinstance(value, dict):
        raise InputRejected(Reason.NOT_AN_ARTICLE, f"the {SIDECAR_SUFFIX} sidecar must hold a JSON object")
    return value
