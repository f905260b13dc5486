"""The catalogue of reasons an input is rejected: one code, one stage, one message template each.

Parsers raise :class:`InputRejected` with a code from :class:`Reason`; the DoFn at the
boundary turns it into a ``Rejected`` row. Messages are written for the person who
sent the file, and say what to do where there is something to do.
"""

from __future__ import annotations

from enum import Enum

from schemas import Stage


class Reason(str, Enum):
    READ_FAILED = "read_failed"
    EMPTY_FILE = "empty_file"
    BLANK_FILE = "blank_file"
    BINARY_FILE = "binary_file"
    UNDECODABLE = "undecodable"
    UNSUPPORTED_EXTENSION = "unsupported_extension"
    MALFORMED_JSON = "malformed_json"
    NOT_AN_ARTICLE = "not_an_article"
    MALFORMED_HTML = "malformed_html"
    MISSING_BODY = "missing_body"
    BODY_TOO_LARGE = "body_too_large"
    INPUT_TOO_LARGE = "input_too_large"
    INVALID_FIELD = "invalid_field"
    INTERNAL_ERROR = "internal_error"
    TOO_LATE = "too_late"
    TAG_FAILED = "tag_failed"
    ALERTS_FAILED = "alerts_failed"
    STORY_FEATURES_FAILED = "story_features_failed"
    WRITE_FAILED = "write_failed"
    BATCH_FAILED = "batch_failed"


_REPORT = "the rest of the run went on; please report it with this row's original bytes"

CATALOGUE: dict[Reason, tuple[Stage, str]] = {
    Reason.READ_FAILED: (Stage.READ, "the input could not be read: {detail}"),
    Reason.EMPTY_FILE: (Stage.DECODE, "the file is empty (0 bytes)"),
    Reason.BLANK_FILE: (Stage.DECODE, "the file holds only white space"),
    Reason.BINARY_FILE: (
        Stage.DECODE,
        "the file is binary, not text ({detail}); newsbeam reads .txt, .md, .html, .json and .jsonl articles",
    ),
    Reason.UNDECODABLE: (
        Stage.DECODE,
        (
            "the bytes are not valid UTF-8 and no other encoding could be detected with confidence ({detail}); "
            "re-save the file as UTF-8"
        ),
    ),
    Reason.UNSUPPORTED_EXTENSION: (
        Stage.DETECT,
        "unsupported file extension {detail}; newsbeam reads .txt, .md, .markdown, .html, .htm, .json and .jsonl",
    ),
    Reason.MALFORMED_JSON: (Stage.PARSE, "malformed JSON: {detail}"),
    Reason.NOT_AN_ARTICLE: (Stage.PARSE, "the JSON value is not an article object: {detail}"),
    Reason.MALFORMED_HTML: (Stage.PARSE, "no article text could be extracted from the HTML: {detail}"),
    Reason.MISSING_BODY: (Stage.VALIDATE, "the article has no body text{detail}"),
    Reason.BODY_TOO_LARGE: (
        Stage.VALIDATE,
        "the article body is {detail}, over the size cap; raise --max_body_bytes to accept it",
    ),
    Reason.INPUT_TOO_LARGE: (
        Stage.READ,
        "the input is {detail}, too large for one article; only its first bytes are kept here",
    ),
    Reason.INVALID_FIELD: (Stage.VALIDATE, "an article field is invalid: {detail}"),
    Reason.TOO_LATE: (
        Stage.WINDOW,
        (
            "the article is too late for its event-time window: {detail}; "
            "raise --allowed_lateness_s to accept articles this late"
        ),
    ),
    Reason.TAG_FAILED: (Stage.TAG, "newsbeam failed tagging this article's entities ({detail}); " + _REPORT),
    Reason.ALERTS_FAILED: (
        Stage.ALERTS,
        "newsbeam failed applying the alert rules to this article ({detail}); " + _REPORT,
    ),
    Reason.STORY_FEATURES_FAILED: (
        Stage.STORIES,
        "newsbeam failed computing this article's story features ({detail}); " + _REPORT,
    ),
    Reason.WRITE_FAILED: (
        Stage.WRITE,
        "newsbeam could not convert this article's row for Parquet ({detail}); " + _REPORT,
    ),
    Reason.BATCH_FAILED: (
        Stage.BATCH,
        "a micro-batch of this file alone failed ({detail}); the file was set aside and the "
        "stream went on; please report it with this row's original bytes",
    ),
    Reason.INTERNAL_ERROR: (
        Stage.PARSE,
        "newsbeam failed on this input ({detail}); please report it with this row's original bytes",
    ),
}


class InputRejected(Exception):
    """Raised by parsers and readers for an input that cannot become an article."""

    def __init__(self, reason: Reason, detail: str = "", *, stage: Stage | None = None):
        default_stage, template = CATALOGUE[reason]
        self.reason = reason
        self.stage = stage or default_stage
        self.message = template.format(detail=detail)
        super().__init__(self.message)


def describe(err: BaseException, limit: int = 300) -> str:
    """An exception as one short line a user can act on: its type and the start of its message."""
    text = " ".join(str(err).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"{type(err).__name__}: {text}" if text else type(err).__name__
