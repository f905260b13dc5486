"""Nothing one article does can stop a run: failures become rejected rows, long texts are tagged whole.

The failure tests inject a fault into one real step (the step raises for the one article that carries a
marker) and run the real driver in this process on the in-process FnApiRunner, so the patched step is
the one that runs. Everything else is real: the spaCy model, the rule pack, Parquet read back.
"""

import json
import os
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from tests.conftest import SEEDS, run_driver, seed_path

MARKER = "POISON-PILL-7f3a"


def _poison_file(folder: Path) -> Path:
    path = folder / "poison.txt"
    path.write_text(f"Kim Jong Un met Vladimir Putin in Pyongyang on Tuesday, officials said. {MARKER}\n")
    return path


def _inputs(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for seed in sorted(SEEDS.iterdir()):  # the articles and their .meta.json sidecars
        (folder / seed.name).write_bytes(seed.read_bytes())
    _poison_file(folder)
    return folder


def _raise_for_marker(original):
    def patched(self, article, *args, **kwargs):
        if MARKER in article.body:
            raise RuntimeError("injected fault for the poison article")
        return original(self, article, *args, **kwargs)

    return patched


def _run_in_process(folder: Path, out: Path) -> int:
    from pipelines import news_pipeline

    return news_pipeline.run(["--input", str(folder), "--output", str(out), "--runner", "FnApiRunner"])


def _rows(out: Path, table: str) -> list[dict]:
    files = sorted((out / table).glob("dt=*/*.parquet"))
    return [row for f in files for row in pq.read_table(f).to_pylist()]


def _patch_tagger(monkeypatch):
    from transforms.entities import EntityTagger

    original = EntityTagger.tag_articles

    def patched(self, articles):
        if any(MARKER in a.body for a in articles):
            raise RuntimeError("injected fault for the poison article")
        return original(self, articles)

    monkeypatch.setattr(EntityTagger, "tag_articles", patched)


def _patch_alerts(monkeypatch):
    from transforms.alerts import AlertEngine

    monkeypatch.setattr(AlertEngine, "__call__", _raise_for_marker(AlertEngine.__call__))


def _patch_story_features(monkeypatch):
    from transforms import analyze

    original = analyze.story_input

    def patched(tagged, stopwords):
        if MARKER in tagged.article.body:
            raise RuntimeError("injected fault for the poison article")
        return original(tagged, stopwords)

    monkeypatch.setattr(analyze, "story_input", patched)


@pytest.mark.slow
@pytest.mark.parametrize(
    "patch, stage, error_type",
    [
        (_patch_tagger, "tag", "tag_failed"),
        (_patch_alerts, "alerts", "alerts_failed"),
        (_patch_story_features, "stories", "story_features_failed"),
    ],
    ids=["tag", "alerts", "story-features"],
)
def test_an_article_that_fails_a_step_is_one_rejected_row_and_the_run_commits(
    tmp_path, monkeypatch, patch, stage, error_type
):
    folder, out = _inputs(tmp_path), tmp_path / "out"
    patch(monkeypatch)
    assert _run_in_process(folder, out) == 0
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["reconciled"] is True
    assert (manifest["inputs_seen"], manifest["articles"], manifest["rejected"]) == (6, 5, 1)
    assert manifest["counts"][f"rejected_{stage}"] == 1
    assert manifest["rejected_by_stage"] == {stage: 1}
    (rejected,) = _rows(out, "rejected")
    poison = folder / "poison.txt"
    assert (rejected["stage"], rejected["error_type"], rejected["input_uri"]) == (stage, error_type, str(poison))
    assert rejected["original_bytes"] == poison.read_bytes() and not rejected["original_truncated"]
    assert "RuntimeError: injected fault" in rejected["message"] and "report it" in rejected["message"]
    # Nothing of the rejected article is written anywhere else; the seeds are all there, with their alerts.
    articles = _rows(out, "articles")
    assert sorted(a["input_uri"] for a in articles) == sorted(str(folder / s.name) for s in SEEDS.glob("*.txt"))
    ids = {a["article_id"] for a in articles}
    assert {m["article_id"] for m in _rows(out, "entity_mentions")} <= ids
    alerts = _rows(out, "alerts")
    assert alerts and {a["article_id"] for a in alerts} <= ids


@pytest.mark.slow
def test_an_article_row_that_cannot_be_converted_for_parquet_is_rejected_at_write(tmp_path, monkeypatch):
    from transforms import sink

    original = sink.to_arrow_table

    def patched(rows, model, table):
        rows = list(rows)
        if table == "articles" and any(MARKER in r["body"] for r in rows):
            raise ValueError("injected fault: a value Arrow cannot hold")
        return original(rows, model, table)

    monkeypatch.setattr(sink, "to_arrow_table", patched)
    folder, out = _inputs(tmp_path), tmp_path / "out"
    assert _run_in_process(folder, out) == 0
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["reconciled"] is True and (manifest["articles"], manifest["rejected"]) == (5, 1)
    (rejected,) = _rows(out, "rejected")
    assert (rejected["stage"], rejected["error_type"]) == ("write", "write_failed")
    assert rejected["original_bytes"] == (folder / "poison.txt").read_bytes()


@pytest.mark.slow
def test_an_article_the_story_stage_fails_on_keeps_its_rows_in_a_story_of_its_own(tmp_path, monkeypatch):
    from transforms.stories import FLAG_STORY_FAILED, StoryClusterer

    original = StoryClusterer.add

    def patched(self, features, story_id=None):
        if features.article_id == poison_id:
            raise RuntimeError("injected fault in the story stage")
        return original(self, features, story_id=story_id)

    folder, out = _inputs(tmp_path), tmp_path / "out"
    from transforms.text import clean_text, content_hash, stable_id

    poison_id = stable_id("art_", content_hash(clean_text((folder / "poison.txt").read_text())))
    monkeypatch.setattr(StoryClusterer, "add", patched)
    assert _run_in_process(folder, out) == 0
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["reconciled"] is True and (manifest["articles"], manifest["rejected"]) == (6, 0)
    by_id = {a["article_id"]: a for a in _rows(out, "articles")}
    assert FLAG_STORY_FAILED in by_id[poison_id]["quality_flags"]
    assert by_id[poison_id]["story_id"] == stable_id("sty_", poison_id)
    seed_stories = {a["story_id"] for i, a in by_id.items() if i != poison_id}
    assert len(seed_stories) == 1  # the seeds are still one story


def _long_body(target_bytes: int) -> str:
    """Real news paragraphs repeated, each numbered, to `target_bytes`; the last paragraph names new people."""
    paragraphs = [p for p in seed_path("001").read_text().split("\n\n") if len(p) > 200]
    out, size, n = [], 0, 0
    while size < target_bytes - 2_000:
        text = f"({n}) {paragraphs[n % len(paragraphs)]}"
        out.append(text)
        size += len(text.encode("utf-8")) + 2
        n += 1
    out.append("In a final note, Angela Merkel spoke with Emmanuel Macron in Berlin about the visit.")
    return "\n\n".join(out)


@pytest.mark.slow
def test_a_two_megabyte_article_gets_entities_over_its_whole_body(tmp_path):
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    body = _long_body(1_900_000)
    assert 1_800_000 < len(body.encode("utf-8")) < 2_000_000  # under the default --max_body_bytes
    (folder / "long.txt").write_text(body)
    (folder / "seed.txt").write_bytes(seed_path("000").read_bytes())
    proc = run_driver("--input", str(folder), "--output", str(out))
    assert "E088" not in proc.stderr
    manifest = json.loads((out / "_manifest.json").read_text())
    assert (manifest["articles"], manifest["rejected"], manifest["reconciled"]) == (2, 0, True)
    stored = duckdb.sql(
        f"SELECT article_id, body FROM read_parquet('{out}/articles/*/*.parquet') WHERE length(body) > 1000000"
    ).fetchall()
    ((article_id, stored_body),) = stored
    mentions = [m for m in _rows(out, "entity_mentions") if m["article_id"] == article_id]
    assert all(stored_body[m["start_char"] : m["end_char"]] == m["text"] for m in mentions)
    last = max(m["start_char"] for m in mentions)
    assert last > len(stored_body) - 100  # the last paragraph's names were found
    assert {"Angela Merkel", "Emmanuel Macron", "Berlin"} <= {
        m["text"] for m in mentions if m["start_char"] > len(stored_body) - 200
    }
    paragraphs = stored_body.count("\n\n") + 1
    assert len(mentions) > paragraphs  # every paragraph of a news text names someone or somewhere


def test_a_long_text_read_in_pieces_gives_the_mentions_it_gives_whole():
    from transforms.entities import EntityTagger, TaggerConfig

    text = "\n\n".join(seed_path(p).read_text() for p in ("000", "001", "002"))
    whole = EntityTagger(TaggerConfig(piece_chars=1_000_000)).tag([text])[0]
    pieces = EntityTagger(TaggerConfig(piece_chars=1_500)).tag([text])[0]
    assert len(text) > 4 * 1_500

    def key(mentions):
        return sorted((m.start_char, m.end_char, m.entity_id, m.type, m.sentence_index, m.resolution) for m in mentions)

    assert len(whole) > 100 and key(pieces) == key(whole)


@pytest.mark.slow
def test_a_file_name_that_is_not_utf8_is_stored_with_its_bytes_escaped(tmp_path):
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    name = os.fsdecode(b"caf\xe9.txt")  # Latin-1 on disk: Python gives the byte as a lone surrogate
    (folder / name).write_bytes(seed_path("000").read_bytes())
    (folder / os.fsdecode(b"empty-\xff.txt")).write_bytes(b"")
    run_driver("--input", str(folder), "--output", str(out))
    manifest = json.loads((out / "_manifest.json").read_text())
    assert (manifest["articles"], manifest["rejected"], manifest["reconciled"]) == (1, 1, True)
    (article,) = _rows(out, "articles")
    (rejected,) = _rows(out, "rejected")
    assert article["input_uri"].endswith("/caf\\xe9.txt") and rejected["input_uri"].endswith("/empty-\\xff.txt")
