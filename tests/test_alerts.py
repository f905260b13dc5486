import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.conftest import INGESTED_AT, ROOT, run_driver, seed_path
from transforms.alerts import AlertEngine
from transforms.entities import EntityTagger, TaggerConfig
from transforms.gazetteer import load_gazetteer
from transforms.language import LanguageDetector
from transforms.parse import ParseConfig, build_article
from transforms.read import RawInput
from transforms.rules import RulePackError, load_rule_pack
from transforms.sentences import split_sentences

CASES = yaml.safe_load((Path(__file__).parent / "data" / "rule_cases.yaml").read_text())


@pytest.fixture(scope="module")
def tagger():
    return EntityTagger(TaggerConfig())


@pytest.fixture(scope="module")
def engine():
    return AlertEngine(load_rule_pack(), load_gazetteer())


@pytest.fixture(scope="module")
def detect():
    return LanguageDetector()


def alerts_for(text, tagger, engine, detect, published_at="2024-06-17"):
    data = json.dumps({"text": text, "published_at": published_at}).encode()
    article = build_article(RawInput("/t.json", data, ".json", size=len(data)), ParseConfig(INGESTED_AT), detect)
    (tagged,) = tagger.tag_articles([article])
    return {a.rule_id: a for a in engine(tagged.article, tagged.mentions)}


def test_every_rule_has_negatives_written_first_and_positives():
    pack = load_rule_pack()
    assert len(pack.rules) >= 12
    for compiled in pack.rules:
        cases = CASES[compiled.rule.id]
        assert list(cases) == ["negative", "positive"], compiled.rule.id
        assert len(cases["negative"]) >= 2 and len(cases["positive"]) >= 2
        assert compiled.rule.cameo and compiled.rule.plover


NEGATIVE = [(rule, text) for rule, cases in CASES.items() for text in cases["negative"]]
POSITIVE = [
    (rule, c if isinstance(c, dict) else {"text": c}) for rule, cases in CASES.items() for c in cases["positive"]
]


@pytest.mark.parametrize("rule, text", NEGATIVE, ids=[f"{r}-{i}" for i, (r, _) in enumerate(NEGATIVE)])
def test_rule_does_not_fire_on_other_senses(rule, text, tagger, engine, detect):
    assert rule not in alerts_for(text, tagger, engine, detect)


@pytest.mark.parametrize("rule, case", POSITIVE, ids=[f"{r}-{i}" for i, (r, _) in enumerate(POSITIVE)])
def test_rule_fires_with_status(rule, case, tagger, engine, detect):
    alerts = alerts_for(case["text"], tagger, engine, detect)
    assert rule in alerts, f"{rule} did not fire on: {case['text']}"
    if "status" in case:
        assert alerts[rule].status == case["status"]
    alert = alerts[rule]
    assert case["text"][alert.evidence_start : alert.evidence_end] == alert.evidence_text


def test_relative_dates_are_not_resolved_without_a_publish_date(tagger, engine, detect):
    data = b"Russian President Vladimir Putin will visit North Korea next week, the Kremlin said."
    article = build_article(RawInput("/undated.txt", data, ".txt", size=len(data)), ParseConfig(INGESTED_AT), detect)
    assert article.published_at_source == "ingested"
    (tagged,) = tagger.tag_articles([article])
    (alert,) = [a for a in engine(tagged.article, tagged.mentions) if a.rule_id == "summit_announced"]
    assert alert.event_start is None and alert.event_date_text == "next week"
    assert "no publish date" in alert.event_date_note


def undated_alerts(text, tagger, engine, detect):
    data = text.encode()
    article = build_article(RawInput("/undated.txt", data, ".txt", size=len(data)), ParseConfig(INGESTED_AT), detect)
    assert article.published_at_source == "ingested"
    (tagged,) = tagger.tag_articles([article])
    return {a.rule_id: a for a in engine(tagged.article, tagged.mentions)}


def test_an_undated_article_reads_a_year_before_the_latest_it_names_as_background(tagger, engine, detect):
    recent = "Police arrested hundreds of protesters who gathered in the streets of Lisbon on Saturday."
    assert "protest" in undated_alerts(recent, tagger, engine, detect)
    old = "Police arrested hundreds of protesters who gathered in the streets of Lisbon in 1991.\n\nThe 2005 budget..."
    assert "protest" not in undated_alerts(old, tagger, engine, detect)
    # Written in or after the latest year it names: an event in that year is news, not background.
    latest = "Police arrested hundreds of protesters who gathered in the streets of Lisbon in 2005."
    assert "protest" in undated_alerts(latest, tagger, engine, detect)
    expected = "Thousands of protesters are expected to gather in the streets of Lisbon in 2005."
    assert undated_alerts(expected, tagger, engine, detect)["protest"].status == "expected"  # written before 2005


def test_sentence_splitter_keeps_abbreviations():
    text = "The U.S. and Mr. Kim met. Talks went well!\nNext line here."
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "The U.S. and Mr. Kim met.",
        "Talks went well!",
        "Next line here.",
    ]


def test_a_bad_rule_pack_is_a_clear_error(tmp_path):
    pack = yaml.safe_load((ROOT / "transforms" / "data" / "rules" / "default.yaml").read_text())
    pack["rules"][0]["severity"] = "apocalyptic"
    pack["rules"][1]["require_any"] = ["@nowhere"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(pack))
    with pytest.raises(RulePackError) as err:
        load_rule_pack(str(bad))
    assert "severity" in str(err.value)
    unknown = tmp_path / "unknown.yaml"
    pack["rules"][0]["severity"] = "high"
    unknown.write_text(yaml.safe_dump(pack))
    with pytest.raises(RulePackError, match="@nowhere"):
        load_rule_pack(str(unknown))
    boolean = tmp_path / "bool.yaml"
    boolean.write_text(
        (ROOT / "transforms" / "data" / "rules" / "default.yaml").read_text().replace('"no", never', "no, never")
    )
    with pytest.raises(RulePackError, match="negations"):
        load_rule_pack(str(boolean))  # YAML reads a bare `no` as false: caught at load, not mid-run
    status = tmp_path / "status.yaml"
    pack["rules"][1]["require_any"] = []
    pack["rules"][1]["not_status"] = ["abandoned"]
    status.write_text(yaml.safe_dump(pack))
    with pytest.raises(RulePackError, match="not_status"):
        load_rule_pack(str(status))


@pytest.mark.slow
def test_driver_refuses_a_bad_rule_pack_at_start_up(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema_version: 1\nrules: []\n")
    proc = run_driver("--output", str(tmp_path / "out"), "--rules", str(bad), check=False)
    assert proc.returncode == 2 and "invalid rule pack" in proc.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_seed_alerts_end_to_end(sample_output):
    rows = duckdb.sql(f"""
        SELECT a.input_uri, al.* FROM read_parquet('{sample_output}/alerts/*/*.parquet', hive_partitioning=true) al
        JOIN read_parquet('{sample_output}/articles/*/*.parquet', hive_partitioning=true) a
        USING (article_id)""").fetchdf()
    summit = {Path(r.input_uri).name[:3]: r for r in rows[rows.rule_id == "summit_announced"].itertuples()}
    assert sorted(summit) == ["000", "001", "002", "003", "004"]
    s4 = summit["004"]
    assert s4.status in ("announced", "scheduled")
    assert (str(s4.event_start)[:10], str(s4.event_end)[:10]) == ("2024-06-18", "2024-06-19")
    actor_ids = {a["entity_id"] for a in s4.actors}
    assert {"Q7747", "Q56226"} <= actor_ids  # Vladimir Putin, Kim Jong Un
    assert s4.location in ("Q423", "Q18808")  # North Korea or Pyongyang
    assert "scheduled for June 18–19" in s4.evidence_text
    for seed in ("000", "001", "002", "003"):
        assert summit[seed].status in ("reported", "expected"), seed
    arms = {Path(r.input_uri).name[:3]: r.status for r in rows[rows.rule_id == "arms_transfer_alleged"].itertuples()}
    assert arms["001"] == "denied" and arms["003"] == "denied"
    assert {"000", "002", "004"} <= set(arms)
    log = [json.loads(line) for line in (sample_output / "alerts.jsonl").read_text().splitlines()]
    log = [e for e in log if e["event"] == "alert"]
    assert len(log) == len(rows) and {r["alert_id"] for r in log} == set(rows.alert_id)


@pytest.mark.slow
def test_rerun_appends_nothing_to_the_alerts_log(tmp_path):
    run_driver("--output", str(tmp_path))
    first = (tmp_path / "alerts.jsonl").read_text()
    run_driver("--output", str(tmp_path))
    assert (tmp_path / "alerts.jsonl").read_text() == first


def test_check_rules_explains_a_sentence_a_user_types():
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.check_rules",
            "--all",
            "--published_at",
            "2024-06-17",
            "--text",
            (
                "North Korean state media announced Monday that Putin's visit is scheduled for June 18-19. "
                "Leeds visit Chelsea in the league on Saturday."
            ),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "[FIRED] summit_announced" in proc.stdout
    assert "status: scheduled" in proc.stdout and "2024-06-18 .. 2024-06-19" in proc.stdout
    assert "excluded by 'league'" in proc.stdout


def test_detect_alerts_transform(tagger, detect):
    import apache_beam as beam
    from apache_beam.testing.util import assert_that, equal_to

    from tests.conftest import make_test_pipeline
    from transforms.analyze import AnalyzeArticles
    from transforms.entities import TaggerConfig

    path = seed_path("004")
    data = path.read_bytes()
    sidecar = Path(str(path) + ".meta.json").read_text()
    article = build_article(
        RawInput(str(path), data, ".txt", size=len(data), sidecar=sidecar), ParseConfig(INGESTED_AT), detect
    )
    with make_test_pipeline() as p:
        analysis = p | beam.Create([article]) | AnalyzeArticles(TaggerConfig(), None)
        alerts = analysis[AnalyzeArticles.ANALYZED] | beam.FlatMap(lambda a: a.alerts)
        assert_that(
            alerts
            | beam.Filter(lambda a: a.rule_id == "summit_announced")
            | beam.Map(lambda a: (a.status, str(a.event_start), str(a.event_end))),
            equal_to([("scheduled", "2024-06-18", "2024-06-19")]),
        )


def test_a_modifier_slot_matches_one_hyphenated_word_only():
    from transforms.rules import Phrases, tokenize

    phrases = Phrases(("on a _ visit to",), {})

    def found(text):
        return [p for _, _, p in phrases.find([t for t, _, _ in tokenize(text)])]

    assert found("He is on a two-day visit to Paris.") == ["on a _ visit to"]
    assert found("She was on a week-long visit to Kenya.") == ["on a _ visit to"]
    assert found("He will go on a planned visit to Paris.") == []  # any word is no duration
    assert found("He is on a visit to Paris.") == []  # the slot holds one word: list the phrase without it too
    for bad in ("_ visit", "on a _"):
        with pytest.raises(ValueError, match="modifier slot"):
            Phrases((bad,), {})
