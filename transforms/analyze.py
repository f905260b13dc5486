"""AnalyzeArticles: each article's entities, alerts and story features, in one step that one article cannot fail.

    articles | AnalyzeArticles(tagger, rules_path)  ->  {'analyzed': Analyzed, 'rejected': Rejected}

Tagging runs on batches of articles (`nlp.pipe`), each article read as its own language (EntityTagger.tag_articles);
the alert rules and the story features run on each article, the rules only in the languages the rule pack has
words for (its `languages`). These were three steps; they are one so that an article newsbeam fails on at
any of them leaves the run whole: it becomes one `rejected` row (stage `tag`, `alerts` or `stories`, see
transforms/dead_letters.py) and no row of it is written anywhere else, while every other article goes
on. A batch whose tagging fails is tagged again one article at a time, so only the article that fails
is set aside. The model is loaded once per worker through the pipeline's `Shared` handle.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

import apache_beam as beam
from apache_beam.utils import shared

from schemas import Alert, Article, EntityMention
from transforms.alerts import AlertEngine
from transforms.dead_letters import FailureLog, rejected_article
from transforms.entities import TaggedArticle, TaggerConfig, load_tagger
from transforms.errors import Reason
from transforms.rules import cached_rule_pack
from transforms.stories import StoryInput, load_stopwords, story_input


class Analyzed(NamedTuple):
    """One article with all that later steps read of it."""

    article: Article
    mentions: tuple[EntityMention, ...]
    alerts: tuple[Alert, ...]
    story: StoryInput


class _AnalyzeFn(beam.DoFn):
    def __init__(self, tagger: TaggerConfig, handle: shared.Shared, rules_path: Optional[str]):
        self._tagger_config = tagger
        self._handle = handle
        self._rules_path = rules_path

    def setup(self):
        self._tagger = load_tagger(self._handle, self._tagger_config)
        self._engine = AlertEngine(cached_rule_pack(self._rules_path), self._tagger.gazetteer)
        self._stopwords = load_stopwords()
        self._failures = FailureLog()

    def process(self, batch: list[Article]):
        for item in self._tag(batch):
            if isinstance(item, TaggedArticle):
                yield from self._analyze(item)
            else:
                yield item

    def _tag(self, batch: list[Article]) -> list:
        try:
            return self._tagger.tag_articles(batch)
        except Exception as err:  # noqa: BLE001 - which article failed is found below, one at a time
            if len(batch) == 1:
                return [self._reject(batch[0], Reason.TAG_FAILED, err)]
        out = []
        for article in batch:
            try:
                out.extend(self._tagger.tag_articles([article]))
            except Exception as err:  # noqa: BLE001 - a dead letter, logged and counted in _reject
                out.append(self._reject(article, Reason.TAG_FAILED, err))
        return out

    def _analyze(self, tagged: TaggedArticle):
        article = tagged.article
        try:
            # The rule pack says which languages it serves: a rule fires only in a language it has words for.
            alerts = tuple(self._engine(article, tagged.mentions))
        except Exception as err:  # noqa: BLE001 - a dead letter, logged and counted in _reject
            yield self._reject(article, Reason.ALERTS_FAILED, err)
            return
        try:
            story = story_input(tagged, self._stopwords)
        except Exception as err:  # noqa: BLE001 - a dead letter, logged and counted in _reject
            yield self._reject(article, Reason.STORY_FEATURES_FAILED, err)
            return
        yield Analyzed(article, tagged.mentions, alerts, story)

    def _reject(self, article: Article, reason: Reason, err: Exception):
        self._failures(reason, article.article_id, err)
        row = rejected_article(article, reason, err)
        return beam.pvalue.TaggedOutput(AnalyzeArticles.REJECTED, row)


class AnalyzeArticles(beam.PTransform):
    """PCollection[Article] -> {'analyzed': Analyzed, 'rejected': Rejected}."""

    ANALYZED = "analyzed"
    REJECTED = "rejected"

    def __init__(self, tagger: TaggerConfig, rules_path: Optional[str], handle: Optional[shared.Shared] = None):
        super().__init__()
        self._tagger = tagger
        self._rules_path = rules_path
        self._handle = handle or shared.Shared()  # pass one handle to reuse the loaded model across pipelines

    def expand(self, articles):
        size = self._tagger.batch_size
        return (
            articles
            # A fixed size: Beam's adaptive sizing fits a regression to batch timings (and warns when all batches are
            # full).
            | "Batch" >> beam.BatchElements(min_batch_size=size, max_batch_size=size)
            | "Analyze"
            >> beam.ParDo(_AnalyzeFn(self._tagger, self._handle, self._rules_path)).with_outputs(
                self.REJECTED, main=self.ANALYZED
            )
        )
