"""The SQL kit (sql/newsbeam.sql through reporting.kit): every view and every question, on real outputs."""

import shutil

import duckdb
import pytest

from reporting import kit
from tests.conftest import run_driver, seed_path

VIEWS = (
    "articles",
    "entity_mentions",
    "alerts",
    "stories",
    "story_alerts",
    "story_alert_events",
    "duplicates",
    "rejected",
    "current_stories",
    "current_story_alerts",
    "entity_counts",
)


@pytest.fixture(scope="module")
def output_with_rejects(tmp_path_factory):
    """A run with one good article and two inputs that must be rejected."""
    inputs = tmp_path_factory.mktemp("kit_inputs")
    shutil.copy(seed_path("004"), inputs / "004.txt")
    (inputs / "broken.json").write_text('{"title": "half a record", "text": ', encoding="utf-8")
    (inputs / "empty.txt").write_bytes(b"")
    out = tmp_path_factory.mktemp("kit_output")
    run_driver("--input", str(inputs), "--output", str(out))
    return out


def test_the_sql_file_has_the_views_and_5_to_8_questions():
    blocks = kit.blocks()
    assert {b.name for b in blocks if b.kind == "view"} == set(VIEWS)
    assert 5 <= len(kit.questions()) <= 8
    assert all(b.description for b in blocks if b.kind == "question"), "every question says what it answers"


def test_every_question_runs_on_the_sample_output(sample_output):
    con = kit.connect(sample_output)
    for name, sql in kit.questions().items():
        con.execute(sql).fetchall()  # raises on any error
    assert kit.one(con, "SELECT count(*) FROM rejected") == (0,), "no files: an empty view, not an IO error"


def test_views_match_the_tables(sample_output):
    con = kit.connect(sample_output)
    n_articles = kit.one(con, "SELECT count(*) FROM articles")[0]
    assert n_articles == 10
    # the same numbers as a plain read of the Parquet files
    raw = kit.one(
        duckdb.connect(), f"SELECT count(*) FROM read_parquet('{sample_output}/entity_mentions/*/*.parquet')"
    )[0]
    assert kit.one(con, "SELECT sum(mentions) FROM entity_counts")[0] == raw
    # one current alert per (rule, story)
    assert kit.one(con, "SELECT count(*) = count(DISTINCT (rule_id, story_id)) FROM current_story_alerts")[0]


def test_the_seed_story_answers(sample_output):
    con = kit.connect(sample_output)
    q = kit.questions()
    summit = [r for r in kit.records(con, q["alert_status_changes"]) if r["rule_id"] == "summit_announced"]
    assert [(s["status_before"], s["status_after"]) for s in summit] == [("expected", "scheduled")]
    pairs = {(r[0], r[1]) for r in con.execute(q["co_occurrence"]).fetchall()}
    assert ("Kim Jong Un", "Vladimir Putin") in pairs or ("Vladimir Putin", "Kim Jong Un") in pairs
    con.execute("SET VARIABLE newsbeam_now = TIMESTAMPTZ '2024-06-12 12:00:00+00'")
    due = con.execute(q["events_due_next_14_days"]).fetchall()
    assert any(r[2] == "summit_announced" and str(r[0]) == "2024-06-18" for r in due)


def test_rejected_by_reason(output_with_rejects):
    con = kit.connect(output_with_rejects)
    rows = con.execute(kit.questions()["rejected_by_reason"]).fetchall()
    reasons = {r[1]: r[2] for r in rows}
    assert sum(reasons.values()) == 2, rows
    assert "empty_file" in reasons, rows


def test_a_folder_that_is_not_an_output_is_a_clear_error(tmp_path, capsys):
    assert kit.main(["--output", str(tmp_path)]) == 2
    assert "not a newsbeam output folder" in capsys.readouterr().err
