"""Bytes to text, and the normalizations every parser shares."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from charset_normalizer import from_bytes

from transforms.errors import InputRejected, Reason

_MAGIC = {
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"PK\x03\x04": "a ZIP archive or Office document",
    b"\x1f\x8b": "gzip data",
    b"\x7fELF": "an executable",
    b"PAR1": "a Parquet file",
}
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
# charset-normalizer's "chaos" is the share of the decoded text that looks like mojibake;
# above this the guess is not trusted and the input is rejected instead.
MAX_CHAOS = 0.15
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SURROGATE = re.compile("[\ud800-\udfff]")  # a lone surrogate: no character (a JSON \\udXXX escape, a bad name)
_WS = re.compile(r"\s+")
_WORD = re.compile(r"\w+(?:[-'’]\w+)*")


def decode_bytes(data: bytes) -> str:
    """Decode an input's bytes to text: UTF-8, a BOM-marked Unicode encoding, or a confident guess.

    Raises InputRejected for empty, binary and undecodable input.
    """
    if not data:
        raise InputRejected(Reason.EMPTY_FILE)
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _check_text(data.decode(encoding))
            except UnicodeDecodeError as err:
                raise InputRejected(
                    Reason.UNDECODABLE, f"it starts with a {encoding} byte-order mark but {err.reason}"
                ) from None
    for magic, what in _MAGIC.items():
        if data.startswith(magic):
            raise InputRejected(Reason.BINARY_FILE, f"it looks like {what}")
    if b"\x00" in data[:8192]:
        raise InputRejected(Reason.BINARY_FILE, "it contains NUL bytes")
    try:
        return _check_text(data.decode("utf-8"))
    except UnicodeDecodeError as err:
        utf8_error = f"invalid UTF-8 at byte {err.start}"
    best = from_bytes(data[:200_000]).best()
    if best is None or best.chaos > MAX_CHAOS:
        detail = utf8_error if best is None else f"{utf8_error}; best guess {best.encoding} is {best.chaos:.0%} garbled"
        raise InputRejected(Reason.UNDECODABLE, detail)
    try:
        return _check_text(data.decode(best.encoding))
    except (UnicodeDecodeError, LookupError):
        raise InputRejected(Reason.UNDECODABLE, f"{utf8_error}; it is not valid {best.encoding} either") from None


def _check_text(text: str) -> str:
    sample = text[:8192]
    if sample and len(_CONTROL.findall(sample)) > 0.05 * len(sample):
        raise InputRejected(Reason.BINARY_FILE, "over 5% of its characters are control characters")
    if not text.strip():
        raise InputRejected(Reason.BLANK_FILE)
    return text


def clean_text(text: str) -> str:
    """Unicode NFC, unified newlines, no control characters, trailing spaces trimmed, at most one blank line in a
    row."""
    # Control characters go first: removed after normalizing, one between two characters could leave a pair NFC
    # would compose, and cleaning twice would change the text again. A lone surrogate is no character: U+FFFD.
    text = SURROGATE.sub("\ufffd", _CONTROL.sub("", text))
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    lines = [line.rstrip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    return "\n".join(out).strip()


def content_hash(body: str) -> str:
    """sha256 of the body after NFKC and white-space folding: layout changes do not make a new article."""
    folded = _WS.sub(" ", unicodedata.normalize("NFKC", body)).strip()
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()


def word_count(body: str) -> int:
    return len(_WORD.findall(body))


def stable_id(prefix: str, *parts: str, length: int = 16) -> str:
    """A short deterministic id: prefix + the first hex digits of sha256 over the parts."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return f"{prefix}{digest[:length]}"
