"""Rules in more than one language (issue 26): each language's words fire its rules, and a rule with no words in
a language never fires on it. The cases are in tests/data/rule_cases_languages.yaml."""

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import INGESTED_AT
from transforms.alerts import AlertEngine
from transforms.entities import EntityTagger, TaggerConfig
from transforms.language import LanguageDetector
from transforms.parse import ParseConfig, build_article
from transforms.read import RawInput
from transforms.rules import load_rule_pack

CASES = yaml.safe_load((Path(__file__).parent / "data" / "rule_cases_languages.yaml").read_text(encoding="utf-8"))
PUBLISHED = "2024-06-14T09:00:00Z"


@pytest.fixture(scope="module")
def run():
    tagger = EntityTagger(TaggerConfig())
    engine = AlertEngine(load_rule_pack(), tagger.gazetteer)
    detect = LanguageDetector()

    def alerts(text, lang):
        data = json.dumps({"text": text, "published_at": PUBLISHED, "language": lang}).encode()
        article = build_article(RawInput("/t.json", data, ".json", size=len(data)), ParseConfig(INGESTED_AT), detect)
        (tagged,) = tagger.tag_articles([article])
        return tagged.article, {a.rule_id: a for a in engine(tagged.article, tagged.mentions)}

    return alerts


POSITIVE = [(rule, case) for rule, cases in CASES.items() for case in cases.get("positive", [])]
NEGATIVE = [(rule, case) for rule, cases in CASES.items() for case in cases.get("negative", [])]


@pytest.mark.parametrize("rule, case", POSITIVE, ids=[f"{r}-{c['lang']}-{i}" for i, (r, c) in enumerate(POSITIVE)])
def test_rule_fires_in_its_languages(rule, case, run):
    article, alerts = run(case["text"], case["lang"])
    assert article.language == case["lang"]
    assert rule in alerts, f"{rule} did not fire on {case['text']!r}"
    if "start" in case:
        assert alerts[rule].event_start == case["start"] and alerts[rule].event_end == case["end"]


@pytest.mark.parametrize("rule, case", NEGATIVE, ids=[f"{r}-{c['lang']}-{i}" for i, (r, c) in enumerate(NEGATIVE)])
def test_rule_does_not_fire_on_other_senses(rule, case, run):
    _, alerts = run(case["text"], case["lang"])
    assert rule not in alerts


def test_a_rule_without_words_in_a_language_never_fires_on_it(run):
    pack = load_rule_pack()
    assert "armed_attack" not in {c.rule.id for c in pack.language("fr").rules}
    assert pack.language("vi") is None  # no rule has Vietnamese words: the engine runs none
    text = "Putin tới Bình Nhưỡng ngày 18 tháng 6 trong chuyến thăm cấp nhà nước tới Triều Tiên."
    _, alerts = run(text, "vi")
    assert alerts == {}
    # The English words of a rule do not fire on German text ("die" is an article, not a death).
    _, german = run("Die Regierung sagte, die Gespräche über die Lieferungen würden fortgesetzt.", "de")
    assert "leader_health_or_death" not in german


def test_the_french_visit_names_putin_as_the_actor(run):
    case = CASES["summit_announced"]["positive"][0]
    _, alerts = run(case["text"], "fr")
    alert = alerts["summit_announced"]
    assert alert.status in ("expected", "announced", "scheduled")
    assert alert.event_start == dt.date(2024, 6, 18)
    assert "Q7747" in {a.entity_id for a in alert.actors}  # Vladimir Poutine is Vladimir Putin


@pytest.mark.slow
def test_french_and_russian_reports_fire_the_visit_and_join_the_seeds_story(tmp_path):
    """The driver over the five seeds and the French and Russian reports of the same visit (tests/data/multilang):
    both fire summit_announced for 18-19 June 2024 and land in the seeds' story, which lists their languages."""
    import shutil

    import pyarrow.parquet as pq

    from tests.conftest import SEEDS, run_driver

    inp, out = tmp_path / "in", tmp_path / "out"
    shutil.copytree(SEEDS, inp)
    data = Path(__file__).parent / "data" / "multilang"
    for lang in ("fr", "ru"):
        shutil.copy(data / f"{lang}.txt", inp / f"visit_{lang}.txt")
        (inp / f"visit_{lang}.txt.meta.json").write_text(json.dumps({"published_at": "2024-06-17T08:00:00Z"}))
    run_driver("--input", str(inp), "--output", str(out))
    articles = {Path(a["input_uri"]).stem: a for a in pq.read_table(out / "articles").to_pylist()}
    alerts = [a for a in pq.read_table(out / "alerts").to_pylist() if a["rule_id"] == "summit_announced"]
    by_article = {a["article_id"]: a for a in alerts}
    for lang in ("fr", "ru"):
        article = articles[f"visit_{lang}"]
        assert article["language"] == lang
        alert = by_article[article["article_id"]]
        assert (alert["event_start"], alert["event_end"]) == (dt.date(2024, 6, 18), dt.date(2024, 6, 19)), lang
    stories = {a["story_id"] for a in articles.values()}
    assert len(stories) == 1, {k: a["story_id"] for k, a in articles.items()}
    rows = pq.read_table(out / "stories").to_pylist()
    latest = max(rows, key=lambda r: (r["last_seen"], r["article_count"]))
    assert latest["article_count"] == 7 and {"en", "fr", "ru"} <= set(latest["languages"])
