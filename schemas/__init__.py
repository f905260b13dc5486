"""Record models of newsbeam's tables and the Arrow schemas derived from them."""

from schemas.arrow import SCHEMA_VERSION, arrow_schema, to_arrow_table
from schemas.records import (
    Alert,
    AlertActor,
    Article,
    ArticleEntity,
    Duplicate,
    EntityCount,
    EntityMention,
    PublishedAtSource,
    Rejected,
    Sidecar,
    Stage,
    Story,
    StoryAlert,
    StoryAlertRef,
    StoryEntity,
)

__all__ = [
    "Alert",
    "AlertActor",
    "SCHEMA_VERSION",
    "Article",
    "ArticleEntity",
    "EntityCount",
    "EntityMention",
    "Duplicate",
    "PublishedAtSource",
    "Rejected",
    "Sidecar",
    "Stage",
    "Story",
    "StoryAlert",
    "StoryAlertRef",
    "StoryEntity",
    "arrow_schema",
    "to_arrow_table",
]
