"""The lookback: what earlier runs wrote to the same output, so that this run continues their stories.

Read by the driver before the pipeline is built: the articles of earlier batches published within
`days` of the newest of them (their bodies, entities and story ids), and the latest version of
every story alert. This batch's own files are left out, so a rerun sees what it saw the first time.
"""

from __future__ import annotations

import datetime as dt
import posixpath
from typing import NamedTuple, Optional

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from schemas import StoryAlert
from transforms.dedup import KnownHashes
from transforms.sink import match_files, part_name, written_by
from transforms.stories import ArticleText, StoryInput, features_of, load_stopwords

_ARTICLE_COLUMNS = [
    "article_id",
    "content_hash",
    "published_at",
    "source",
    "title",
    "body",
    "language",
    "entities",
    "story_id",
]


def _files(output: str, table: str, batch_id: str) -> list[str]:
    # Nothing written yet matches nothing. Any other failure (permissions, a storage error) is raised:
    # an empty lookback would silently start every story and every dedup from scratch.
    # A batch's own files, and those of its parts (a stream's micro-batch run file by file), are not its lookback.
    return [
        p for p in match_files(FileSystems.join(output, table, "dt=*", "part-*.parquet")) if not written_by(p, batch_id)
    ]


def _read(path: str, columns=None) -> pa.Table:
    with FileSystems.open(path) as f:
        return pq.read_table(pa.PythonFile(f), columns=columns)


class Lookback(NamedTuple):
    articles: list[StoryInput]  # earlier articles in the window, with their story ids
    story_alerts: list[StoryAlert]  # the latest version of each story alert
    known_hashes: KnownHashes  # content_hash -> article_id of earlier articles in the window


def read_lookback(output: str, batch_id: str, days: float) -> Lookback:
    return extend_lookback(None, _files(output, "articles", batch_id), _files(output, "story_alerts", batch_id), days)


def extend_lookback(
    earlier: Optional[Lookback], article_files: list[str], story_alert_files: list[str], days: float
) -> Lookback:
    """`earlier` (or nothing) plus the articles and story alerts in these files, cut to `days` before the newest
    article.

    A stream calls this after each micro-batch with only that batch's files, so the lookback is kept
    up to date without reading the whole output again.
    """
    inputs: list[StoryInput] = list(earlier.articles) if earlier else []
    hashes: dict[str, str] = dict(earlier.known_hashes.items()) if earlier else {}
    articles = [_read(p, _ARTICLE_COLUMNS) for p in article_files]
    if articles:
        table = pa.concat_tables(articles)
        table = table.filter(pc.is_valid(table["story_id"]))
        stopwords = load_stopwords()
        for row in table.to_pylist():
            hashes[row["content_hash"]] = row["article_id"]
            entities = row["entities"] or []
            text = ArticleText(
                row["article_id"], row["published_at"], row["source"], row["title"], row["body"], row.get("language")
            )
            feats = features_of(text, [e["entity_id"] for e in entities], stopwords)
            inputs.append(
                StoryInput(feats, tuple((e["entity_id"], e["name"], e["type"]) for e in entities[:20]), row["story_id"])
            )
    if inputs:
        oldest = max(i.features.published_at for i in inputs) - dt.timedelta(days=days)
        by_id = {
            i.features.article_id: i for i in inputs if i.features.published_at >= oldest
        }  # a rerun's copy replaces the first
        inputs = sorted(by_id.values(), key=lambda i: (i.features.published_at, i.features.article_id))
        keep = set(by_id)
        hashes = {h: a for h, a in hashes.items() if a in keep}
    latest: dict[str, StoryAlert] = {a.story_alert_id: a for a in earlier.story_alerts} if earlier else {}
    for path in story_alert_files:
        for row in _read(path).to_pylist():
            if row["story_alert_id"] not in latest or row["version"] > latest[row["story_alert_id"]].version:
                latest[row["story_alert_id"]] = StoryAlert.model_validate(row)
    return Lookback(inputs, list(latest.values()), KnownHashes(hashes.items()))


def with_chunk(lookback: Lookback, article_files: list[str], stories_saved: bool) -> Lookback:
    """The lookback of a chunked run's next chunk: the earlier chunks' content hashes are added, so an exact
    copy in a later chunk refers to the article kept before. Once the story stage has saved its state
    (StoryCheckpoint), earlier articles and story alerts live in that state and are not replayed again.
    """
    pairs = []
    for path in article_files:
        table = _read(path, ["content_hash", "article_id"])
        pairs.extend(zip(table["content_hash"].to_pylist(), table["article_id"].to_pylist()))
    hashes = lookback.known_hashes.with_pairs(pairs)
    if stories_saved:
        return Lookback([], [], hashes)
    return lookback._replace(known_hashes=hashes)


def first_ingested_at(output: str, batch_id: str) -> Optional[dt.datetime]:
    """When this batch (this exact input set) was first ingested into this output, if it was.

    A rerun keeps that time, so rerunning a partition rewrites byte-identical tables.
    """
    for table, column in (("articles", "ingested_at"), ("duplicates", "ingested_at"), ("rejected", "rejected_at")):
        own = [p for p in _files(output, table, "") if posixpath.basename(p) == part_name(batch_id)]
        for path in own:
            values = _read(path, [column])[column]
            if len(values):
                return pc.min(values).as_py()
    return None
