"""DeduplicateArticles: exact copies (same content_hash) in a run become one article and duplicate references.

The kept copy is the first by (input_uri, input_line), so the choice does not depend on
which worker saw which copy first. Copies are never dropped: each one is a Duplicate row.
"""
from __future__ import annotations

import apache_beam as beam

from schemas import Article, Duplicate
from transforms import metrics


def _input_order(article: Article) -> tuple:
    return (article.input_uri, article.input_line or 0)


def as_duplicate(copy: Article, kept: Article) -> Duplicate:
    return Duplicate(
        duplicate_of=kept.article_id,
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
    def process(self, keyed):
        _, copies = keyed
        kept, *others = sorted(copies, key=_input_order)
        metrics.ARTICLES_WRITTEN.inc()
        yield kept
        for copy in others:
            metrics.DUPLICATES.inc()
            yield beam.pvalue.TaggedOutput(DeduplicateArticles.DUPLICATES, as_duplicate(copy, kept))


class DeduplicateArticles(beam.PTransform):
    """PCollection[Article] -> {'articles': Article, 'duplicates': Duplicate}."""

    ARTICLES = "articles"
    DUPLICATES = "duplicates"

    def expand(self, articles):
        return (
            articles
            | "KeyByContentHash" >> beam.Map(lambda a: (a.content_hash, a)).with_output_types(tuple[str, Article])
            | "GroupCopies" >> beam.GroupByKey()
            | "KeepFirst" >> beam.ParDo(_KeepFirstFn()).with_outputs(self.DUPLICATES, main=self.ARTICLES)
        )
