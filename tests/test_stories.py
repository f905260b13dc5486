"""Stories: near-duplicates, online clustering, stable ids, lookback across runs, story alerts, breaking news."""

import datetime as dt
import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import apache_beam as beam
import duckdb
import numpy
import pytest
from apache_beam.testing.util import assert_that, equal_to

from tests.conftest import ROOT, SAMPLE, SEEDS, corpus_file, make_test_pipeline, run_driver
from transforms.rules import StatusLevel, load_rule_pack
from transforms.stories import (
    MINHASH_SCHEME,
    NUM_PERM,
    ArticleText,
    BreakingConfig,
    NearDuplicateIndex,
    StoryBook,
    StoryClusterer,
    StoryConfig,
    StoryInput,
    features_of,
    load_stopwords,
    minhash_permutations,
    signature,
)

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 6, 12, tzinfo=UTC)
SW = load_stopwords()
QUAKE = (
    "A strong earthquake struck the coast of Chile on Monday, damaging buildings and cutting power to thousands of "
    "homes in the port city."
)
SUMMIT = (
    "Russian President Vladimir Putin will visit North Korea next week for talks with leader Kim Jong Un, "
    "the Kremlin said."
)


_REPORTED_ONLY = {"reported": StatusLevel(status="reported", rank=1, cues=("report",))}


def feats(i, text, t=T0, entities=(), source=None):
    return features_of(ArticleText(f"a{i}", t, source, None, text), entities, SW)


def test_copies_and_light_edits_are_near_duplicates_and_share_the_story():
    base = (SEEDS / "004_ca967a8cb344c277.txt").read_text()
    edited = base.replace("Ahead of his arrival,", "Before he arrives,").replace("approximately 7,000", "about 7,000")
    c = StoryClusterer()
    first = c.add(feats(1, base))
    second = c.add(feats(2, edited, T0 + dt.timedelta(hours=1)))
    assert second.near_duplicate_of == "a1" and second.near_duplicate_score >= 0.8
    assert second.story_id == first.story_id
    third = c.add(feats(3, QUAKE, T0 + dt.timedelta(hours=2)))
    assert third.near_duplicate_of is None and third.story_id != first.story_id


def test_weeks_apart_same_actors_is_a_new_story_and_old_state_expires():
    c = StoryClusterer(StoryConfig(max_gap=dt.timedelta(days=7)))
    ents = ("Q7747", "Q56226", "Q423")
    a = c.add(feats(1, SUMMIT, T0, ents))
    b = c.add(feats(2, SUMMIT.replace("next week", "on Tuesday"), T0 + dt.timedelta(days=2), ents))
    assert a.story_id == b.story_id
    assert c.active_stories() == 1
    later = c.add(
        feats(
            3,
            "Putin and Kim Jong Un signed a defence pact in Pyongyang on Wednesday.",
            T0 + dt.timedelta(days=30),
            ents,
        )
    )
    assert later.story_id != a.story_id
    assert c.active_stories() == 1  # the June story expired: state does not grow with articles seen


def test_size_bounds_evict_the_oldest_articles_and_stories_when_dates_do_not():
    """Undated input shares one time, so nothing expires: the size bounds keep the window's state flat."""
    c = StoryClusterer(StoryConfig(max_window_articles=3, max_active_stories=2))
    texts = [
        QUAKE,
        SUMMIT,
        "Floods closed schools across Bangladesh as monsoon rains continued for a third week in the north.",
        "The central bank raised interest rates by half a point, its steepest rise since the financial crisis began.",
    ]
    firsts = [c.add(feats(i, t)) for i, t in enumerate(texts)]
    assert len({a.story_id for a in firsts}) == 4
    assert c.active_stories() == 2 and len(c._near) == 3 and c.evictions == 3
    assert c.take_left() == [firsts[0].story_id, firsts[1].story_id] and c.take_left() == []
    assert c.add(feats(10, texts[0])).near_duplicate_of is None  # a1 left the window
    assert c.add(feats(11, texts[3])).near_duplicate_of == "a3"
    again = c.add(feats(12, texts[3]))
    assert again.story_id == firsts[3].story_id and again.near_duplicate_of in {"a3", "a11"}


def test_pickled_state_stops_growing_at_the_window_bound():
    c, book = StoryClusterer(StoryConfig(max_window_articles=40, max_active_stories=10)), StoryBook({})
    lines = corpus_file("bbc_news.jsonl").read_text(encoding="utf-8").splitlines()[:60]
    texts = [json.loads(line)["text"] for line in lines]
    sizes = []
    for copy in range(4):
        for i, text in enumerate(texts):
            f = feats(f"{copy}-{i}", f"{text} Copy {copy}.")
            a = c.add(f)
            for sid in c.take_left():
                book.forget(sid)
            book.add(StoryInput(f, ()), a.story_id, [], prior=False)
        book.begin_update()
        sizes.append(len(pickle.dumps((c, book))))
    assert len(c._near) == 40 and c.active_stories() <= 10 and len(book.stories) <= 10
    assert sizes[3] < 1.1 * sizes[1], sizes  # 60 more articles per copy, the same state


def test_story_book_forgets_a_story_once_its_rows_of_this_update_are_out():
    book = StoryBook(_REPORTED_ONLY)
    book.add(StoryInput(feats(1, SUMMIT), ()), "sty_a", [], prior=False)
    book.add(StoryInput(feats(2, QUAKE), ()), "sty_b", [], prior=True)  # an earlier run's: not touched
    book._set_alert(book_alert("sty_a"))
    book.forget("sty_b")
    assert "sty_b" not in book.stories
    book.forget("sty_a")
    assert [r.story_id for r in book.story_rows()] == ["sty_a"] and [a.story_id for a in book.alert_rows()] == ["sty_a"]
    book.begin_update()
    assert book.stories == {} and book.alerts == {}


def book_alert(story_id):
    from schemas import StoryAlert

    return StoryAlert(
        story_alert_id=f"sal_{story_id}",
        version=1,
        rule_id="summit",
        story_id=story_id,
        title="t",
        severity="high",
        status="reported",
        first_seen=T0,
        last_updated=T0,
        source_count=1,
        article_count=1,
        article_ids=["a1"],
        actors=[],
        evidence_text="e",
        evidence_article_id="a1",
        evidence_start=0,
        evidence_end=1,
        cameo_code="036",
        plover_type="CONSULT",
        confidence=0.5,
        change="new",
    )


def _bbc_minhashes(n: int) -> list[tuple[str, bytes]]:
    """n BBC articles and light edits of a third of them (near-duplicates of their originals)."""
    lines = corpus_file("bbc_news.jsonl").read_text(encoding="utf-8").splitlines()[:n]
    texts = [json.loads(line)["text"] for line in lines]
    texts += [t.replace(" the ", " a ", 2) for t in texts[: n // 3]]
    return [(f"a{i}", feats(i, t).minhash) for i, t in enumerate(texts)]


def test_near_duplicate_index_finds_what_datasketch_finds_and_forgets_what_is_removed():
    from datasketch import MinHash, MinHashLSH

    items = _bbc_minhashes(300)
    ours, theirs = NearDuplicateIndex(0.8), MinHashLSH(threshold=0.8, num_perm=NUM_PERM)
    minhash = {
        key: MinHash(
            num_perm=NUM_PERM,
            seed=1,
            scheme=MINHASH_SCHEME,
            permutations=minhash_permutations(),
            hashvalues=signature(mh).astype(numpy.uint64),
        )
        for key, mh in items
    }
    for key, mh in items:
        ours.insert(key, signature(mh))
        theirs.insert(key, minhash[key])
    found = {key: ours.query(signature(mh)) for key, mh in items}
    assert found == {key: set(theirs.query(minhash[key])) for key, _ in items}
    assert sum(len(f) > 1 for f in found.values()) >= 100  # the edited copies find their originals
    for key, _ in items[:150]:
        ours.remove(key)
        theirs.remove(key)
    assert len(ours) == len(items) - 150
    assert {key: ours.query(signature(mh)) for key, mh in items} == {
        key: set(theirs.query(minhash[key])) for key, _ in items
    }
    with pytest.raises(ValueError):
        ours.insert(items[-1][0], signature(items[-1][1]))  # an article is indexed once


def test_a_pickled_near_duplicate_index_works_in_another_process(tmp_path):
    ((key, mh),) = _bbc_minhashes(1)
    index = NearDuplicateIndex(0.8)
    index.insert(key, signature(mh))
    (tmp_path / "index.pkl").write_bytes(pickle.dumps((index, mh)))
    code = (
        "import pickle; from transforms.stories import signature; "
        f"index, mh = pickle.load(open({str(tmp_path / 'index.pkl')!r}, 'rb')); "
        "print(sorted(index.query(signature(mh))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        check=True,
    ).stdout
    assert out.strip() == f"[{key!r}]"  # band keys are a stable hash, not Python's per-process hash()


def test_story_alert_status_rules():
    book = StoryBook(load_rule_pack().levels)
    assert book._replaces("scheduled", "expected") and not book._replaces("expected", "scheduled")
    assert book._replaces("denied", "scheduled")
    assert not book._replaces("reported", "denied") and book._replaces("announced", "denied")


def test_breaking_story_fires_on_a_jump_over_its_own_baseline():
    from tests.test_alerts import alerts_for  # noqa: F401  (same engine; here only the book matters)

    book = StoryBook(
        _REPORTED_ONLY,
        BreakingConfig(window=dt.timedelta(hours=6), baseline=dt.timedelta(hours=48), factor=3, min_articles=3),
    )
    from transforms.stories import StoryInput

    def add(i, hours):
        book.add(StoryInput(feats(i, SUMMIT, T0 + dt.timedelta(hours=hours)), ()), "sty_x", [], prior=False)

    for i, h in enumerate([0, 10, 20, 30]):  # one article every ten hours: the baseline
        add(i, h)
    assert not any(a.rule_id == "breaking_story" for a in book.alerts.values())
    for i, h in enumerate([40, 41, 42, 43], start=10):  # four in four hours
        add(i, h)
    (breaking,) = [a for a in book.alerts.values() if a.rule_id == "breaking_story"]
    assert breaking.story_id == "sty_x" and breaking.version == 1


def test_assign_stories_transform_groups_in_event_time():
    from transforms.stories import AssignStories, StoryInput

    inputs = [
        StoryInput(feats(2, SUMMIT.replace("next week", "soon"), T0 + dt.timedelta(hours=3), ("Q7747", "Q56226")), ()),
        StoryInput(feats(1, SUMMIT, T0, ("Q7747", "Q56226")), ()),
        StoryInput(feats(3, QUAKE, T0 + dt.timedelta(hours=5)), ()),
    ]
    with make_test_pipeline() as p:
        out = (
            p | "In" >> beam.Create(inputs),
            p | "NoAlerts" >> beam.Create([]),
            p | "NoRestored" >> beam.Create([]),
        ) | AssignStories()
        assert_that(
            out.assignments | beam.Map(lambda a: (a.article_id, a.story_id)),
            equal_to([("a1", "sty_" + _id("a1")), ("a2", "sty_" + _id("a1")), ("a3", "sty_" + _id("a3"))]),
        )


def _id(article_id):
    from transforms.text import stable_id

    return stable_id("", article_id)


def _stories(out: Path):
    return duckdb.sql(f"SELECT * FROM read_parquet('{out}/stories/*/*.parquet', hive_partitioning=true)").fetchdf()


def _article_stories(out: Path) -> dict:
    rows = duckdb.sql(
        f"SELECT input_uri, story_id FROM read_parquet('{out}/articles/*/*.parquet', hive_partitioning=true)"
    ).fetchall()
    return {Path(uri).name: sid for uri, sid in rows}


@pytest.mark.slow
def test_seeds_form_one_story_with_one_summit_story_alert(sample_output):
    stories = _article_stories(sample_output)
    seed_stories = {sid for name, sid in stories.items() if name.startswith(("000_", "001_", "002_", "003_", "004_"))}
    assert len(seed_stories) == 1
    (story_id,) = seed_stories
    row = _stories(sample_output).set_index("story_id").loc[story_id]
    assert row.article_count == 5 and row.source_count == 1 and list(row.sources) == ["themoscowtimes.com"]
    assert story_id not in {
        sid for name, sid in stories.items() if name.startswith(("2024-06-20", "newsplease", "ceasefire"))
    }
    summit = duckdb.sql(f"""SELECT status, version, event_start, event_end, article_count
                            FROM read_parquet('{sample_output}/story_alerts/*/*.parquet')
                            WHERE rule_id = 'summit_announced' AND story_id = '{story_id}'""").fetchall()
    assert len(summit) == 1
    status, version, start, end, articles = summit[0]
    assert (
        status in ("announced", "scheduled")
        and (str(start), str(end)) == ("2024-06-18", "2024-06-19")
        and articles == 5
    )
    log = [json.loads(line) for line in (sample_output / "alerts.jsonl").read_text().splitlines()]
    summit_events = [
        e
        for e in log
        if e["event"] == "story_alert" and e["rule_id"] == "summit_announced" and e["story_id"] == story_id
    ]
    assert [e["change"] for e in summit_events][0] == "new" and len(summit_events) == version
    assert all(e["change"] != "new" for e in summit_events[1:])  # updates, not new alerts
    per_article = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{sample_output}/alerts/*/*.parquet') "
        f"WHERE story_id = '{story_id}' AND rule_id = 'summit_announced'"
    ).fetchall()[0][0]
    assert per_article == 5  # the per-article rows stay, with story_id filled


@pytest.mark.slow
def test_rerun_gives_identical_story_ids(sample_output, tmp_path):
    run_driver("--input", str(SAMPLE), "--output", str(tmp_path))
    assert _article_stories(tmp_path) == _article_stories(sample_output)


@pytest.mark.slow
def test_second_batch_extends_the_first_batch_story_without_alerting_it_again(tmp_path):
    first, second = tmp_path / "day1", tmp_path / "day2"
    first.mkdir(), second.mkdir()
    for path in SEEDS.iterdir():
        (second if path.name.startswith("004_") else first).joinpath(path.name).write_bytes(path.read_bytes())
    out = tmp_path / "out"
    run_driver("--input", str(first), "--output", str(out))
    day1 = _article_stories(out)
    (story_id,) = set(day1.values())
    log1 = (out / "alerts.jsonl").read_text().splitlines()
    run_driver("--input", str(second), "--output", str(out))
    both = _article_stories(out)
    assert both["004_ca967a8cb344c277.txt"] == story_id
    latest = _stories(out).sort_values("article_count").iloc[-1]
    assert latest.story_id == story_id and latest.article_count == 5
    new_lines = [json.loads(line) for line in (out / "alerts.jsonl").read_text().splitlines()[len(log1) :]]
    summit = [e for e in new_lines if e["event"] == "story_alert" and e["rule_id"] == "summit_announced"]
    assert summit and all(e["change"] != "new" for e in summit)  # yesterday's story alert is updated, not alerted again
    assert summit[-1]["status"] in ("announced", "scheduled")


@pytest.mark.slow
def test_an_unrelated_article_starts_a_new_story(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for path in SEEDS.glob("00[01]_*"):
        shutil.copy(path, inputs / path.name)
    (inputs / "quake.json").write_text(
        json.dumps({"title": "Quake in Chile", "text": QUAKE, "published_at": "2024-06-12T10:00:00Z"})
    )
    run_driver("--input", str(inputs), "--output", str(tmp_path / "out"))
    stories = _article_stories(tmp_path / "out")
    assert stories["000_26a13f8ebd929105.txt"] == stories["001_799f9b8c3eae584f.txt"] != stories["quake.json"]
