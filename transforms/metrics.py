"""Every Beam metric newsbeam reports, declared in one place.

The driver reads these back after the run to reconcile the manifest:
records_read == articles + duplicates + rejected.
"""

from apache_beam.metrics import Metrics

NAMESPACE = "newsbeam"

FILES_READ = Metrics.counter(NAMESPACE, "files_read")
RECORDS_READ = Metrics.counter(NAMESPACE, "records_read")
ARTICLES_PARSED = Metrics.counter(NAMESPACE, "articles_parsed")
ARTICLES_WRITTEN = Metrics.counter(NAMESPACE, "articles_written")
ARTICLES_LATE = Metrics.counter(NAMESPACE, "articles_late")
DUPLICATES = Metrics.counter(NAMESPACE, "duplicates")
REJECTED = Metrics.counter(NAMESPACE, "rejected")
INTERNAL_ERRORS = Metrics.counter(NAMESPACE, "internal_errors")
ROWS_WRITTEN = Metrics.counter(NAMESPACE, "rows_written")
UNWRITABLE_ROWS = Metrics.counter(NAMESPACE, "unwritable_rows")  # rows of derived tables that could not be converted
STORY_WINDOW_EVICTIONS = Metrics.counter(
    NAMESPACE, "story_window_evictions"
)  # left the story window early, at its size bounds
PARSE_MSECS = Metrics.distribution(NAMESPACE, "parse_msecs")


def rejected_counter(stage: str):
    """Rejections per stage, e.g. rejected_decode."""
    return Metrics.counter(NAMESPACE, f"rejected_{stage}")


def count_rejected(stage: str) -> None:
    """One input rejected at `stage`: the total and the per-stage counter."""
    REJECTED.inc()
    rejected_counter(stage).inc()
