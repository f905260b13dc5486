"""newsbeam's tables: each one's name, record model, partition and sort order, in one place without Beam.

The drivers, the sink, the compaction step, the report and the analyst kit all take the table list from here;
the Arrow schema of each table is derived from its model (schemas/arrow.py).
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import pyarrow as pa
from pydantic import BaseModel

from schemas.arrow import arrow_schema
from schemas.records import Alert, Article, Duplicate, EntityCount, EntityMention, Rejected, Story, StoryAlert


def _published_day(record) -> str:
    return record.published_at.date().isoformat()


def _window_day(record) -> str:
    return record.window_start.date().isoformat()


def _first_seen_day(record) -> str:
    return record.first_seen.date().isoformat()


def _updated_day(record) -> str:
    return record.last_updated.date().isoformat()


def _rejected_day(record) -> str:
    return record.rejected_at.date().isoformat()


@dataclasses.dataclass(frozen=True)
class Table:
    """One table: its records' model, the `dt=` partition a record goes to, and the order its rows are written in."""

    name: str
    model: type[BaseModel]
    partition_of: Callable[[BaseModel], str]
    sort_by: tuple[str, ...]

    @property
    def schema(self) -> pa.Schema:
        return arrow_schema(self.model, self.name)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table("articles", Article, _published_day, ("published_at", "article_id")),
        Table("entity_mentions", EntityMention, _published_day, ("article_id", "start_char", "end_char")),
        Table("entity_counts", EntityCount, _window_day, ("window_start", "entity_id", "update_id")),
        Table("alerts", Alert, _published_day, ("published_at", "rule_id", "alert_id")),
        Table("stories", Story, _first_seen_day, ("first_seen", "story_id")),
        Table("story_alerts", StoryAlert, _first_seen_day, ("first_seen", "story_alert_id")),
        Table("story_alert_events", StoryAlert, _updated_day, ("last_updated", "story_alert_id", "version")),
        Table("duplicates", Duplicate, _published_day, ("duplicate_of", "input_uri", "input_line")),
        Table("rejected", Rejected, _rejected_day, ("input_uri", "input_line", "stage")),
    )
}
