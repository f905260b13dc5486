"""Dead letters for articles: when newsbeam's own code fails on one article, that article becomes a rejected row.

Beam's answer to "one bad element must not fail the job" is the dead-letter output
(`ParDo(...).with_exception_handling()`, RunInference's `with_exception_handling()`). newsbeam already
has the place such elements go, the `rejected` table, so the steps after parsing catch a failure per
article, turn it into a `Rejected` row (the stage, a stable code from transforms/errors.py, a message,
the input's original bytes), count it, and go on. A bug must still be seen: the first failure of each
(stage, exception type) in a worker is logged with its traceback and the article's id, later ones in
one line each, and `--max_rejected_ratio` still turns many rejections into exit 3.
"""

from __future__ import annotations

import logging

from schemas import Article, Rejected
from transforms import metrics
from transforms.errors import InputRejected, Reason, describe
from transforms.inputs import extension_of
from transforms.read import RawInput, original_bytes, rejected_row

_LOG = logging.getLogger("newsbeam.dead_letters")


class FailureLog:
    """Logs each article failure: with its traceback the first time a (stage, exception type) is seen."""

    def __init__(self):
        self._seen: set[tuple[str, str]] = set()

    def __call__(self, reason: Reason, article_id: str, err: BaseException) -> None:
        key = (reason.value, type(err).__name__)
        if key in self._seen:
            _LOG.warning("%s for article %s: %s", reason.value, article_id, describe(err))
            return
        self._seen.add(key)
        _LOG.error(
            "%s for article %s (traceback logged once per error type and worker)",
            reason.value,
            article_id,
            exc_info=(type(err), err, err.__traceback__),
        )


def rejected_article(article: Article, reason: Reason, err: BaseException) -> Rejected:
    """The rejected row for an article that newsbeam failed on, counted, with the input's bytes read again.

    The bytes are read back from the input (the file, or its JSONL line) so the row holds what the user
    sent; where the input is gone or not a file (a Pub/Sub message), the article's body stands in and the
    row says it holds less than the original. It is rejected at the run's ingestion time, as parsing does.
    """
    rejected = InputRejected(reason, describe(err))
    metrics.INTERNAL_ERRORS.inc()
    metrics.count_rejected(rejected.stage.value)
    data = original_bytes(article.input_uri, article.input_line)
    truncated = data is None
    if data is None:
        data = article.body.encode("utf-8")
    uri, line = article.input_uri, article.input_line
    raw = RawInput(uri, data, extension_of(uri), line, size=len(data), truncated=truncated)
    return rejected_row(raw, rejected, article.ingested_at)
