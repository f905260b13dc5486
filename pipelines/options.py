"""The driver's command-line options, in a module of their own.

Beam finds every PipelineOptions subclass that has been defined; kept here, NewsOptions is defined
once even when `pipelines.news_pipeline` runs as `__main__` and is also imported (by the stream driver).
"""

import datetime as dt

from apache_beam.options.pipeline_options import PipelineOptions

from pipelines.chain import DEFAULT_CHUNK_RECORDS, DEFAULT_LOOKBACK_DAYS
from transforms.ingest import ChainConfig

# The defaults are the chain's own (transforms/ingest.py: ChainConfig and the configs it holds), never retyped here.
_CHAIN = ChainConfig()
_STORIES, _BREAKING, _WINDOWS = _CHAIN.stories, _CHAIN.breaking, _CHAIN.windows


def _hours(delta: dt.timedelta) -> float:
    return delta / dt.timedelta(hours=1)


class NewsOptions(PipelineOptions):
    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument("--input", default="sample_data", help="A file, a folder (read recursively) or a glob.")
        parser.add_argument("--output", default="output", help="Folder for the tables and _manifest.json.")
        parser.add_argument(
            "--max_body_bytes",
            type=int,
            default=_CHAIN.max_body_bytes,
            help="Articles with a larger UTF-8 body are rejected.",
        )
        parser.add_argument(
            "--date",
            default=None,
            help="Only inputs of this day (YYYY-MM-DD): the date in the file's path, else its modification time.",
        )
        parser.add_argument("--since", default=None, help="Only inputs of this day or later (YYYY-MM-DD).")
        parser.add_argument("--until", default=None, help="Only inputs of this day or earlier (YYYY-MM-DD).")
        parser.add_argument(
            "--max_rejected_ratio",
            type=float,
            default=1.0,
            help="Exit 3 when rejected / inputs exceeds this (default 1.0: never).",
        )
        parser.add_argument(
            "--rules", default=None, help="An alert rule pack (YAML); default: the built-in pack. See docs/rules.md."
        )
        parser.add_argument(
            "--tagger",
            default="news",
            help=(
                "The English entity tagger: news (newsbeam's news NER model, the default) or small (spaCy's "
                "en_core_web_sm with the gazetteer before its NER, the default until 2026-12-03)."
            ),
        )
        parser.add_argument(
            "--story_threshold",
            type=float,
            default=_STORIES.threshold,
            help=(
                "Cosine similarity for a full-text article to join a story (a headline needs less: "
                "StoryConfig.short_threshold)."
            ),
        )
        parser.add_argument(
            "--story_max_gap_days",
            type=float,
            default=_STORIES.max_gap / dt.timedelta(days=1),
            help="A story takes no articles after this long without one.",
        )
        parser.add_argument(
            "--story_max_window_articles",
            type=int,
            default=_STORIES.max_window_articles,
            help="At most this many articles in the story window (near-duplicate matching); the oldest leave first.",
        )
        parser.add_argument(
            "--story_max_active_stories",
            type=int,
            default=_STORIES.max_active_stories,
            help="At most this many stories take new articles; the least recently updated leave first.",
        )
        parser.add_argument(
            "--story_lookback_days",
            type=float,
            default=DEFAULT_LOOKBACK_DAYS,
            help=(
                "Earlier runs' articles in the output folder within this many days are replayed to continue their "
                "stories."
            ),
        )
        parser.add_argument(
            "--breaking_window_h",
            type=float,
            default=_hours(_BREAKING.window),
            help="breaking_story: the sliding window, in hours.",
        )
        parser.add_argument(
            "--breaking_baseline_h",
            type=float,
            default=_hours(_BREAKING.baseline),
            help="breaking_story: the baseline before the window, in hours.",
        )
        parser.add_argument(
            "--breaking_factor",
            type=float,
            default=_BREAKING.factor,
            help="breaking_story: how many times its baseline rate the window must reach.",
        )
        parser.add_argument(
            "--breaking_min_articles",
            type=int,
            default=_BREAKING.min_articles,
            help="breaking_story: articles in the window, at the least.",
        )
        parser.add_argument(
            "--window_s",
            type=float,
            default=_WINDOWS.size.total_seconds(),
            help="entity_counts: the event-time window, in seconds (default 15 minutes).",
        )
        parser.add_argument(
            "--allowed_lateness_s",
            type=float,
            default=_WINDOWS.allowed_lateness.total_seconds(),
            help=(
                "Streaming: an article whose window closed more than this long before the stream's watermark is "
                "rejected as too late."
            ),
        )
        parser.add_argument(
            "--watch",
            default=None,
            help="Streaming (with --streaming): the spool folder to watch. See docs/streaming.md.",
        )
        parser.add_argument(
            "--max_runtime_s", type=float, default=None, help="Streaming: stop cleanly after this many seconds."
        )
        parser.add_argument(
            "--poll_interval_s", type=float, default=0.2, help="Streaming: how often the spool folder is listed."
        )
        parser.add_argument(
            "--max_batch_files", type=int, default=500, help="Streaming: at most this many files per micro-batch."
        )
        parser.add_argument(
            "--feeds",
            default=None,
            help=(
                "A feed list (one RSS/Atom URL a line, or OPML): poll each feed once and fetch its new articles "
                "(batch, instead of --input), or poll each on its schedule (--streaming). See docs/feeds.md."
            ),
        )
        parser.add_argument(
            "--contact_url",
            default=None,
            help="Feeds: a URL or mailto: put in the User-Agent so site owners can reach whoever runs newsbeam.",
        )
        parser.add_argument(
            "--feed_interval_s",
            type=float,
            default=None,
            help="Feeds, streaming: poll each feed this often (default: its sy:updatePeriod, else 6 h, adapted).",
        )
        parser.add_argument(
            "--min_host_gap_s", type=float, default=5.0, help="Feeds: at least this long between requests to a host."
        )
        parser.add_argument(
            "--max_host_concurrency",
            type=int,
            default=2,
            help="Feeds: at most this many requests to a host at once.",
        )
        parser.add_argument(
            "--fetch_timeout_s",
            type=float,
            default=60.0,
            help="Feeds: the longest one request may take, redirects included, whatever the server does.",
        )
        parser.add_argument(
            "--host_backoff_s",
            type=float,
            default=60.0,
            help="Feeds: a host that timed out or failed waits this long more for each failure in a row.",
        )
        parser.add_argument(
            "--chunk_records",
            type=int,
            default=None,
            help=(
                "Run a large input in even chunks of at most this many records (files or JSONL lines), merged into "
                "one file per table and partition at the end: peak memory is set by the chunk, not by the input. "
                f"Default {DEFAULT_CHUNK_RECORDS} on the local runner, 0 (one pipeline) on a named runner."
            ),
        )
        parser.add_argument(
            "--progress_interval_s",
            type=float,
            default=_CHAIN.progress_interval_s,
            help="How often each worker logs a progress line.",
        )
