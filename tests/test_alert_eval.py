"""The labelled alert set and its benchmark: schema, article resolution, the recorded split, and a small run."""

import io
import json
from collections import Counter

import pytest

from benchmarks import alert_eval
from tests.conftest import corpus_file

RULES = {"summit_announced", "summit_held", "ceasefire_or_agreement", "sanctions_imposed", "protest", "election"}


@pytest.fixture(scope="module")
def labels():
    return alert_eval.load_labels()


@pytest.fixture(scope="module")
def corpus_dir():
    for name in alert_eval.CORPORA:
        path = corpus_file(name)  # skips, with a clear message, when ../shared/corpus is absent
    return path.parent


def test_label_file_schema_and_coverage(labels):
    articles = {(r.corpus, r.line) for r in labels}
    assert len(articles) >= 240
    assert {r.rule_id for r in labels} >= RULES
    per_article = Counter((r.corpus, r.line) for r in labels)
    assert set(per_article.values()) == {len(RULES)}  # every article is labelled for every rule
    positives = Counter(r.rule_id for r in labels if r.label)
    assert positives["summit_announced"] >= 20 and positives["ceasefire_or_agreement"] >= 10
    for row in labels:
        assert row.label == (row.evidence_hint is not None)
        assert row.reason.strip()


GOOD = {
    "corpus": "bbc_news.jsonl",
    "line": 1,
    "id": "x",
    "content_sha256": "0" * 64,
    "rule_id": "protest",
    "label": True,
    "reason": "a protest",
    "evidence_hint": "Thousands marched",
    "split": "dev",
}


def test_schema_rejects_bad_rows():
    good = GOOD
    alert_eval.Label.model_validate(good)
    for change in ({"evidence_hint": None}, {"split": "test"}, {"content_sha256": "abc"}, {"extra": 1}):
        with pytest.raises(ValueError):
            alert_eval.Label.model_validate({**good, **change})
    with pytest.raises(ValueError):
        alert_eval.Label.model_validate({**good, "label": False})  # a negative carries no evidence


def test_split_is_as_recorded(labels):
    for row in labels:
        assert row.split == alert_eval.split_of(row.corpus, row.id), row.ref
    split = Counter(r.split for r in labels)
    assert 0.25 < split["heldout"] / len(labels) < 0.42  # about a third held out


def test_every_row_resolves_to_its_article_by_hash(labels, corpus_dir):
    lines = alert_eval.read_articles(labels, corpus_dir)
    assert set(lines) == {(r.corpus, r.line) for r in labels}
    for row in labels:
        record = json.loads(lines[(row.corpus, row.line)])
        assert alert_eval.text_sha256(record["text"]) == row.content_sha256
        if row.label:  # the evidence hint is the start of a sentence of that article
            assert row.evidence_hint.rstrip() in " ".join(record["text"].split()), row.ref


def test_a_moved_article_is_refused(labels, corpus_dir):
    row = labels[0]
    moved = row.model_copy(update={"line": row.line + 1})
    with pytest.raises(alert_eval.LabelError):
        alert_eval.read_articles([moved], corpus_dir)


def test_score_counts_and_lists():
    row = alert_eval.Label(**GOOD)
    negative = row.model_copy(update={"line": 2, "label": False, "evidence_hint": None, "reason": "no protest"})

    class Alert:
        evidence_text = "Shares rallied\nagainst the dollar."
        status = "reported"

    table = alert_eval.score([row, negative], {("bbc_news.jsonl", 1): {}, ("bbc_news.jsonl", 2): {"protest": Alert()}})
    t = table["protest"]
    assert (t["tp"], t["fp"], t["fn"], t["tn"]) == (0, 1, 1, 0)
    out = io.StringIO()
    alert_eval.report(table, out)
    text = out.getvalue()
    assert "MISS  bbc_news.jsonl:1 (x)" in text and "Thousands marched" in text
    assert "fired (reported) on: Shares rallied against the dollar." in text


def test_alert_eval_runs_on_a_small_subset(corpus_dir, capsys):
    assert alert_eval.main(["--split", "heldout", "--limit", "4", "--corpus", str(corpus_dir)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("split heldout: 4 articles, 24 labels")
    header = "| rule | labelled | positives | TP | FP | FN | precision | recall |"
    assert header in out
    rows = [line for line in out.splitlines() if line.startswith("| ") and line != header]
    assert {line.split(" | ")[0].lstrip("| ") for line in rows} == RULES
    for line in rows:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[1] == "4" and all(c.isdigit() for c in cells[2:6])
        assert all(c == "—" or 0.0 <= float(c) <= 1.0 for c in cells[6:8])
