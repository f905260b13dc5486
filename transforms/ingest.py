"""IngestArticles and WriteTables: the batch chain from input files to staged Parquet tables.

    uris | IngestArticles(config)            -> {'articles', 'entity_mentions', 'alerts', 'duplicates', 'rejected'}
    tables | WriteTables(staging, batch_id)  -> staged Parquet, one file per table and partition
"""
from __future__ import annotations

from typing import Optional

import apache_beam as beam

from transforms.alerts import DetectAlerts
from transforms.dedup import DeduplicateArticles
from transforms.entities import TaggerConfig, TagEntities
from transforms.parse import ParseArticles, ParseConfig
from transforms.read import ReadInputs
from transforms.sink import TABLES, WriteTable


class IngestArticles(beam.PTransform):
    """PCollection[str uri] -> dict of PCollections keyed by table name."""

    def __init__(self, config: ParseConfig, tagger: TaggerConfig = TaggerConfig(), rules_path: Optional[str] = None):
        super().__init__()
        self._config = config
        self._tagger = tagger
        self._rules_path = rules_path
        self._max_input_bytes = 4 * config.max_body_bytes  # room for markup around a body at the cap

    def expand(self, uris):
        read = uris | "Read" >> ReadInputs(self._max_input_bytes, self._config.ingested_at)
        parsed = (
            read[ReadInputs.RECORDS]
            | "SpreadRecords" >> beam.Reshuffle()  # one big JSONL file must not pin parsing to one worker
            | "Parse" >> ParseArticles(self._config)
        )
        deduped = parsed[ParseArticles.ARTICLES] | "Deduplicate" >> DeduplicateArticles()
        tagged = deduped[DeduplicateArticles.ARTICLES] | "TagEntities" >> TagEntities(self._tagger)
        rejected = (read[ReadInputs.REJECTED], parsed[ParseArticles.REJECTED]) | "AllRejected" >> beam.Flatten()
        return {
            "articles": tagged | "Articles" >> beam.Map(lambda t: t.article),
            "entity_mentions": tagged | "Mentions" >> beam.FlatMap(lambda t: t.mentions),
            "alerts": tagged | "DetectAlerts" >> DetectAlerts(self._rules_path),
            "duplicates": deduped[DeduplicateArticles.DUPLICATES],
            "rejected": rejected,
        }


class WriteTables(beam.PTransform):
    """dict[table name, PCollection] -> one staged Parquet file per table and partition."""

    def __init__(self, staging: str, batch_id: str):
        super().__init__()
        self._staging = staging
        self._batch_id = batch_id

    def expand(self, tables):
        written = [
            records | f"Write_{name}" >> WriteTable(TABLES[name], self._staging, self._batch_id)
            for name, records in sorted(tables.items())
        ]
        return written | "AllWritten" >> beam.Flatten()
