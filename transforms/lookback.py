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
from transforms.sink import part_name
from transforms.stories import StoryInput, _stopwords, features_of

_ARTICLE_COLUMNS = ["article_id", "content_hash", "published_at", "source", "title", "body", "entities", "story_id"]


def _files(output: str, table: str, batch_id: str) -> list[str]:
    pattern = FileSystems.join(output, table, "dt=*", "part-*.parquet")
    try:
        matches = FileSystems.match([pattern])[0].metadata_list
    except Exception:  # nothing written yet: Beam raises for a pattern under a missing folder
        return []
    own = part_name(batch_id)
    return sorted(m.path for m in matches if posixpath.basename(m.path) != own)


def _read(path: str, columns=None) -> pa.Table:
    with FileSystems.open(path) as f:
        return pq.read_table(pa.PythonFile(f), columns=columns)


class Lookback(NamedTuple):
    articles: list[StoryInput]  # earlier articles in the window, with their story ids
    story_alerts: list[StoryAlert]  # the latest version of each story alert
    known_hashes: dict[str, str]  # content_hash -> article_id of earlier articles in the window


def read_lookback(output: str, batch_id: str, days: float) -> Lookback:
    articles = [_read(p, _ARTICLE_COLUMNS) for p in _files(output, "articles", batch_id)]
    inputs: list[StoryInput] = []
    known: dict[str, str] = {}
    if articles:
        table = pa.concat_tables(articles)
        table = table.filter(pc.is_valid(table["story_id"]))
        if table.num_rows:
            newest = pc.max(table["published_at"]).as_py()
            table = table.filter(pc.greater_equal(table["published_at"], pa.scalar(newest - dt.timedelta(days=days), table["published_at"].type)))
            stopwords = _stopwords()
            for row in table.to_pylist():
                known[row["content_hash"]] = row["article_id"]
                entities = row["entities"] or []
                feats = features_of(row["article_id"], row["published_at"], row["source"], row["title"], row["body"], [e["entity_id"] for e in entities], stopwords)
                inputs.append(StoryInput(feats, tuple((e["entity_id"], e["name"], e["type"]) for e in entities[:20]), row["story_id"]))
    latest: dict[str, dict] = {}
    for path in _files(output, "story_alerts", batch_id):
        for row in _read(path).to_pylist():
            if row["story_alert_id"] not in latest or row["version"] > latest[row["story_alert_id"]]["version"]:
                latest[row["story_alert_id"]] = row
    return Lookback(inputs, [StoryAlert.model_validate(r) for r in latest.values()], known)


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
