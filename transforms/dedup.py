"""DeduplicateArticles: exact copies (same content_hash) in a run become one article and duplicate references.

The kept copy is the first by (input_uri, input_line), so the choice does not depend on
which worker saw which copy first. Copies are never dropped: each one is a Duplicate row.
A text an earlier run already kept (within the lookback) is a duplicate of that article.
"""
from __future__ import annotations

from typing import Optional

import apache_beam as beam

from schemas import Article, Duplicate
from transforms import metrics


def _input_order(article: Article) -> tuple:
    return (article.input_uri, article.input_line or 0)


def as_duplicate(copy: Article, duplicate_of: str) -> Duplicate:
    return Duplicate(
        duplicate_of=duplicate_of,
        content_hash=copy.content_hash,
        url=copy.url,
        source=copy.source,
        title=copy.title,
        published_at=copy.published_at,
        input_uri=copy.input_uri,
        input_line=copy.input_line,
        input_format=copy.input_format,
        ingested_at=copy.ingested_at,
    )


class _KeepFirstFn(beam.DoFn):
    def __init__(self, known: dict[str, str]):
        self._known = known

    def process(self, keyed):
        content_hash, copies = keyed
        copies = sorted(copies, key=_input_order)
        earlier = self._known.get(content_hash)
        if earlier is not None:  # an earlier run kept this text: every copy here refers to it
            for copy in copies:
                metrics.DUPLICATES.inc()
                yield beam.pvalue.TaggedOutput(DeduplicateArticles.DUPLICATES, as_duplicate(copy, earlier))
            return
        kept, *others = copies
        metrics.ARTICLES_WRITTEN.inc()
        yield kept
        for copy in others:
            metrics.DUPLICATES.inc()
            yield beam.pvalue.TaggedOutput(DeduplicateArticles.DUPLICATES, as_duplicate(copy, kept.article_id))


class DeduplicateArticles(beam.PTransform):
    """PCollection[Article] -> {'articles': Article, 'duplicates': Duplicate}.

    `known` maps content hashes of articles kept by earlier runs (the lookback) to their ids:
    copies of those become duplicates too, so a text ingested twice is one article across runs.
    """

    ARTICLES = "articles"
    DUPLICATES = "duplicates"

    def __init__(self, known: Optional[dict[str, str]] = None):
        super().__init__()
        self._known = dict(known or {})

    def expand(self, articles):
        return (
            articles
            | "KeyByContentHash" >> beam.Map(lambda a: (a.content_hash, a)).with_output_types(tuple[str, Article])
            | "GroupCopies" >> beam.GroupByKey()
            | "KeepFirst" >> beam.ParDo(_KeepFirstFn(self._known)).with_outputs(self.DUPLICATES, main=self.ARTICLES)
        )
