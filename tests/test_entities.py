import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to

from tests.conftest import INGESTED_AT, make_test_pipeline, seed_path
from transforms.analyze import AnalyzeArticles
from transforms.entities import EntityTagger, TaggerConfig, model_text
from transforms.gazetteer import derived_id, load_gazetteer
from transforms.language import LanguageDetector
from transforms.parse import ParseConfig, build_article
from transforms.read import RawInput

G = load_gazetteer()


def gid(name: str, kind: str) -> str:
    entry = G.lookup(name)
    assert entry is not None and entry.type == kind, name
    return entry.id


@pytest.fixture(scope="module")
def tagger():
    return EntityTagger(TaggerConfig())


@pytest.fixture(scope="module")
def seeds():
    detect = LanguageDetector()
    out = {}
    for prefix in ["000", "001", "002", "003", "004"]:
        path = seed_path(prefix)
        data = path.read_bytes()
        out[prefix] = build_article(RawInput(str(path), data, ".txt", size=len(data)), ParseConfig(INGESTED_AT), detect)
    return out


def _names(tagger, text):
    return {(m.canonical_name, m.type, m.entity_id) for m in tagger.tag([text])[0]}


EXPECTED = {
    "000": [
        "Kim Jong Un",
        "Vladimir Putin",
        "Korean Central News Agency",
        "Yonhap",
        "UN Security Council",
        "North Korea",
        "Russia",
        "Pyongyang",
        "Ukraine",
        "Vietnam",
    ],
    "001": [
        "Kim Jong Un",
        "Vladimir Putin",
        "Dmitry Peskov",
        "Shin Wonsik",
        "NHK",
        "Vedomosti",
        "UN Security Council",
        "North Korea",
        "Russia",
        "Ukraine",
        "Vietnam",
        "Vladivostok",
    ],
    "002": ["Kim Jong Un", "Vladimir Putin", "NHK", "North Korea", "Russia", "Ukraine", "Vietnam"],
    "003": [
        "Kim Jong Un",
        "Vladimir Putin",
        "Shin Wonsik",
        "NHK",
        "UN Security Council",
        "North Korea",
        "Russia",
        "Ukraine",
        "Vietnam",
    ],
    "004": [
        "Kim Jong Un",
        "Vladimir Putin",
        "Shin Wonsik",
        "Andrei Lankov",
        "Kim Jong Il",
        "Kookmin University",
        "UN Security Council",
        "North Korea",
        "Russia",
        "Pyongyang",
        "Ukraine",
    ],
}


@pytest.mark.parametrize("prefix", sorted(EXPECTED))
def test_seed_entities_have_canonical_ids(tagger, seeds, prefix):
    found = {(m.canonical_name, m.entity_id) for m in tagger.tag([seeds[prefix].body])[0]}
    for name in EXPECTED[prefix]:
        entry = G.lookup(name)
        assert (entry.name, entry.id) in found, f"{name} missing from seed {prefix}"


def test_known_ids_are_wikidata_where_recorded():
    assert gid("Vladimir Putin", "PERSON") == "Q7747"
    assert gid("Putin", "PERSON") == "Q7747"
    assert gid("North Korea", "GPE") == "Q423"
    assert gid("U.N. Security Council", "ORG") == "Q37470"
    assert G.lookup("North Korean").id == "Q423" and G.lookup("North Korean").type == "NORP"


def test_no_junk_people_and_no_swallowed_possessives_in_seeds(tagger, seeds):
    for article in seeds.values():
        for m in tagger.tag([article.body])[0]:
            text = article.body[m.start_char : m.end_char]
            assert text == text.strip() and "\n" not in text
            assert not text.endswith(("'s", "’s")), text
            if m.type == "PERSON":
                assert m.canonical_name in {
                    "Kim Jong Un",
                    "Vladimir Putin",
                    "Dmitry Peskov",
                    "Shin Wonsik",
                    "Andrei Lankov",
                    "Kim Jong Il",
                }, m


def test_title_case_headline_does_not_make_people(tagger):
    text = (
        "Putin Poised To Visit North Korea As Kim Hails ‘Unbreakable’ Relationship\n\n"
        "Reports suggest that Russian President Vladimir Putin is preparing to visit North Korea for a summit with "
        "leader Kim Jong Un."
    )
    people = {(text[m.start_char : m.end_char], m.canonical_name) for m in tagger.tag([text])[0] if m.type == "PERSON"}
    assert ("Putin", "Vladimir Putin") in people
    assert all(name in {"Vladimir Putin", "Kim Jong Un"} for _, name in people), people


def test_wrong_model_labels_are_fixed(tagger, seeds):
    mentions = {seeds["004"].body[m.start_char : m.end_char]: m for m in tagger.tag([seeds["004"].body])[0]}
    assert mentions["Aurus Senat"].type == "PRODUCT"
    square = [m for m in tagger.tag([seeds["000"].body])[0] if m.canonical_name == "Kim Il Sung Square"]
    assert square and square[0].type == "FAC"
    # A facility the gazetteer does not know is still a place, by its head word.
    assert ("Kim Il Sung Stadium", "FAC") in {
        (m.canonical_name, m.type) for m in tagger.tag(["Crowds gathered at Kim Il Sung Stadium on Monday."])[0]
    }


def test_afp_in_byline_or_credit_is_an_organization(tagger):
    for text in [
        "By AFP\n\nKim Jong Un met Vladimir Putin.",
        "Vladimir Smirnov / pool / AFP\n\nKim Jong Un met Vladimir Putin.",
    ]:
        afp = [m for m in tagger.tag([text])[0] if text[m.start_char : m.end_char] == "AFP"]
        assert afp and afp[0].type == "ORG" and afp[0].canonical_name == "Agence France-Presse"


def test_surname_after_full_name_is_the_same_person(tagger):
    text = (
        "Gordon Brown will deliver the budget on Wednesday. Analysts expect Mr Brown to raise spending. "
        "Brown said little."
    )
    mentions = tagger.tag([text])[0]
    brown = [m for m in mentions if text[m.start_char : m.end_char] in ("Gordon Brown", "Brown", "Mr Brown")]
    assert len(brown) == 3 and {m.entity_id for m in brown} == {gid("Gordon Brown", "PERSON")}
    assert [m.resolution for m in brown][1:] == ["variant", "variant"]


def test_bare_kim_takes_the_nearest_preceding_full_name(tagger, seeds):
    body = seeds["004"].body
    kims = [m for m in tagger.tag([body])[0] if body[m.start_char : m.end_char] == "Kim"]
    assert kims, "seed 004 has bare Kims"
    # "gifted Kim a high-end Aurus Senat" comes after "then-leader Kim Jong Il": the historical marker points it away.
    assert all(m.canonical_name == "Kim Jong Un" for m in kims)
    text = "Kim Jong Un met officials. Later, Kim Yo Jong spoke. Kim said the talks went well."
    last = [m for m in tagger.tag([text])[0] if text[m.start_char : m.end_char] == "Kim"]
    assert last and last[-1].canonical_name == "Kim Yo Jong"


def test_a_bare_name_with_no_antecedent_is_not_guessed(tagger):
    text = "Kim said on Monday that the talks went well. Officials in Seoul did not comment."
    kim = [m for m in tagger.tag([text])[0] if text[m.start_char : m.end_char] == "Kim"]
    assert kim and kim[0].resolution == "model"
    assert kim[0].entity_id == derived_id("PERSON", "Kim")
    assert kim[0].entity_id not in {gid("Kim Jong Un", "PERSON"), gid("Kim Jong Il", "PERSON")}


def test_unknown_names_get_deterministic_ids(tagger):
    """An unknown name's id comes from its type and normalized form: one id in every article that gives the name
    that type, whatever else the article holds and whichever batch tags it. The type is the model's reading of the
    context, not the test's: the news model of 2026-12-03 read "Reporters heard from Zorblat Quendyk in Lisbon." as
    an organization, and the one of 2026-12-04 (names only) reads both sentences here so (an invented name of an
    unusual shape; "Lisbon farmer Joao Mendes" is a person to both)."""
    texts = [
        "Zorblat Quendyk, a farmer, spoke to reporters in Lisbon.",
        "Lisbon farmer Zorblat Quendyk said on Monday that he would sell his land.",
    ]
    alone = [tagger.tag([t])[0] for t in texts]
    together = tagger.tag([texts[1], "The weather in Lisbon was fine.", texts[0]])
    found = [{(m.entity_id, m.type) for m in ms if m.canonical_name == "Zorblat Quendyk"} for ms in (*alone, *together)]
    assert found[0] == found[4] and found[1] == found[2] and found[3] == set()
    for mentions in (found[0], found[1]):
        ((entity_id, kind),) = mentions
        assert entity_id == derived_id(kind, "Zorblat Quendyk")


def test_all_caps_lines_are_title_cased_with_the_same_length():
    text = "LEICESTERSHIRE TAKE OVER AT TOP AFTER NATO VICTORY\nNormal Line with UN words."
    out = model_text(text, G.acronyms())
    assert len(out) == len(text)
    assert out.startswith("Leicestershire Take Over At Top After NATO Victory\n")
    assert out.endswith("Normal Line with UN words.")


def test_analyze_articles_transform_offsets_and_summary(seeds):
    articles = list(seeds.values())
    with make_test_pipeline() as p:
        out = (p | beam.Create(articles) | AnalyzeArticles(TaggerConfig(), None))[AnalyzeArticles.ANALYZED]
        assert_that(
            out
            | "OffsetsHold"
            >> beam.FlatMap(lambda t: [t.article.body[m.start_char : m.end_char] == m.text for m in t.mentions])
            | beam.Distinct(),
            equal_to([True]),
            label="offsets",
        )
        assert_that(
            out
            | "TopOf004"
            >> beam.FlatMap(lambda t: [t.article.entities[0].name] if "Aurus Senat" in t.article.body else []),
            equal_to(["North Korea"]),
            label="summary",
        )


def test_sentence_index_counts_sentences_and_lines(tagger):
    text = "Kim Jong Un met Vladimir Putin in Moscow. The U.S. objected.\nXi Jinping spoke in Beijing."
    index = {text[m.start_char : m.end_char]: m.sentence_index for m in tagger.tag([text])[0]}
    assert index["Kim Jong Un"] == index["Moscow"] == 0
    assert index["U.S."] == 1
    assert index["Xi Jinping"] == index["Beijing"] == 2


def test_an_office_of_a_known_place_is_the_place_alone(tagger):
    """The news model tags "Ministers of Brazil" as one organization; an office is no name (EntityResolver rule 8)."""
    text = "The President of the United States met the Ministers of Brazil and the Chairman of Acme Corp."
    mentions = tagger.tag([text])[0]
    by_text = {text[m.start_char : m.end_char]: m.type for m in mentions}
    assert by_text.get("United States") == "GPE" and by_text.get("Brazil") == "GPE"
    assert not any("Ministers" in t or "President" in t for t in by_text)


def test_a_leader_named_by_surname_alone_is_the_leader(tagger):
    """News names leaders by surname ("Trump said"): a short text that never writes the full name still gets the
    leader's id, and a Roman numeral in an ALL-CAPS line is no leader (no two-letter surnames such as "Xi")."""
    text = "Trump said on Monday that he would meet Albanese in Canberra."
    ids = {text[m.start_char : m.end_char]: m.entity_id for m in tagger.tag([text])[0]}
    assert ids.get("Trump") == "Q22686"
    assert ids.get("Albanese") == load_gazetteer().lookup("Anthony Albanese").id
    caps = "CRICKET - DUKE OF NORFOLK'S XI BEAT INDIANS BY SIX WICKETS"
    assert not any(m.entity_id == "Q15031" for m in tagger.tag([caps])[0])


def test_a_title_is_no_part_of_a_persons_name(tagger):
    """CoNLL-2003 and the news write a title before the name, not in it: a person span that begins with one is the
    name alone (EntityResolver rule 1, `person_titles`); an ALL-CAPS possessive is trimmed as a lower-case one."""
    import spacy
    from spacy.tokens import Span

    from transforms.gazetteer import load_ner_rules
    from transforms.resolver import EntityResolver

    resolver = EntityResolver(load_gazetteer(), load_ner_rules())
    doc = spacy.blank("en")("Rabbi Capers Funnye met DAVE BASSETT'S players and Pope Francis.")
    spans = [Span(doc, 0, 3, label="PERSON"), Span(doc, 4, 7, label="PERSON"), Span(doc, 9, 11, label="PERSON")]
    cleaned = [piece.text for span in spans for piece in resolver._clean(span)]
    assert cleaned == ["Capers Funnye", "DAVE BASSETT", "Pope Francis"]  # a regnal or papal title names the person
    text = "Imam Feisal Abdul Rauf spoke in New York on Tuesday."  # the model takes the title in
    people = [text[m.start_char : m.end_char] for m in tagger.tag([text])[0] if m.type == "PERSON"]
    assert people == ["Feisal Abdul Rauf"]


def test_products_are_not_organizations_and_companies_are_not_people(tagger):
    """Consumer products that news names like companies, and companies the model reads as people, are in the
    gazetteer with their type."""
    text = (
        "Samsung said its new Galaxy phone would outsell the iPhone. Samsung shares rose 2 percent in Seoul, and "
        "analysts said support for LTE and Wi-Fi had helped."
    )
    by_text = {}
    for m in tagger.tag([text])[0]:
        by_text.setdefault(text[m.start_char : m.end_char], set()).add(m.type)
    assert by_text.get("Samsung") == {"ORG"}
    for product in ("Galaxy", "iPhone", "LTE", "Wi-Fi"):
        assert by_text.get(product, {"PRODUCT"}) == {"PRODUCT"}, product


def test_no_model_span_runs_across_a_line_break():
    """A span from a credit line into the next paragraph ("AFP" + "North") is its pieces, so the known "North
    Korean" after the break wins over the piece it overlaps (gazetteer_merge)."""
    import spacy
    from spacy.tokens import Span

    from transforms.spans import gazetteer_merge

    doc = spacy.blank("en")("Photo: AFP\n\nNorth Korean leader Kim Jong Un")
    words = [t.text for t in doc]
    afp, north = words.index("AFP"), words.index("North")
    merged = gazetteer_merge(
        [Span(doc, afp, north + 1, label="GPE")], [Span(doc, north, north + 2, label="NORP", span_id="x")]
    )
    assert sorted((s.text, s.label_) for s in merged) == [("AFP", "GPE"), ("North Korean", "NORP")]


def test_a_headline_verb_is_no_part_of_a_known_place(tagger):
    """In a line in either title case, a place span that is a known place with capitalized words before it is the
    known place (rule 9); a word that begins place names stays in ("Greater London")."""
    import spacy
    from spacy.tokens import Span

    from transforms.gazetteer import load_ner_rules
    from transforms.resolver import EntityResolver
    from transforms.spans import GAZETTEER_SPANS

    gazetteer = load_gazetteer()
    resolver = EntityResolver(gazetteer, load_ner_rules(), model_labels_win=True)
    doc = spacy.blank("en")("Putin to Visit North Korea and Lift Greater London")
    known = [("North Korea", 3, 5), ("London", 8, 9)]
    doc.spans[GAZETTEER_SPANS] = [
        Span(doc, s, e, label="GPE", span_id=gazetteer.lookup(name).id) for name, s, e in known
    ]
    visit, new = Span(doc, 2, 5, label="GPE"), Span(doc, 7, 9, label="GPE")
    assert [c[0].text for c in resolver._verb_before_place(doc, visit)] == ["North Korea"]
    assert resolver._verb_before_place(doc, new) == []
    lines = "Putin to Visit North Korea, Vietnam – Report\nPutin said he would visit North Korea and Vietnam."
    assert resolver._headlines.is_title_case(lines, [0, lines.index("\n") + 1], 0)
    assert not resolver._headlines.is_title_case(lines, [0, lines.index("\n") + 1], 1)
    text = "Putin to Visit North Korea, Vietnam – Report\n\nPutin said on Monday that he would travel in June."
    places = {text[m.start_char : m.end_char] for m in tagger.tag([text])[0] if m.type == "GPE"}
    assert "North Korea" in places and not any("Visit" in p for p in places)


def test_laws_flights_and_aircraft_are_not_organizations():
    """A name ending in a law's head word is a law, a flight number is a flight, and a maker followed by a model
    number is a product (`law_heads`, `flight_number`, `model_number`, `model_makers` in ner_rules.yaml)."""
    import spacy
    from spacy.tokens import Span

    from transforms.gazetteer import load_ner_rules
    from transforms.resolver import EntityResolver

    resolver = EntityResolver(load_gazetteer(), load_ner_rules())
    doc = spacy.blank("en")(
        "the Defense of Marriage Act , Flight MH370 , MH17 , a Boeing 777 , Somerset 296 , EU27 , 2014 , "
        "Barclays 500 , Airbus 300 million"
    )
    words = [t.text for t in doc]

    def relabel(first: str, n: int, label: str = "ORG") -> tuple[str, str]:
        span, new = resolver._relabel(Span(doc, words.index(first), words.index(first) + n, label=label))
        return span.text, new

    assert relabel("Defense", 4) == ("Defense of Marriage Act", "LAW")
    assert relabel("Flight", 2) == ("Flight MH370", "PRODUCT")
    assert relabel("MH17", 1, "PERSON") == ("MH17", "PRODUCT")
    assert relabel("Boeing", 1) == ("Boeing 777", "PRODUCT")
    assert relabel("Somerset", 1) == ("Somerset", "ORG")  # a team's score: Somerset makes no aircraft
    assert relabel("Barclays", 1) == ("Barclays", "ORG")  # a bank is no maker
    assert relabel("Airbus", 1) == ("Airbus", "ORG")  # a sum, not a model
    assert relabel("EU27", 1) == ("EU27", "ORG")  # the letters are a name the gazetteer knows
    assert relabel("2014", 1) == ("2014", "ORG")  # a year is no flight


def test_central_banks_outlets_airlines_and_clubs_are_known_organizations(tagger):
    """Organizations that news names every day have the gazetteer's ids and type, whatever the model reads."""
    gazetteer = load_gazetteer()
    text = (
        "The Fed and the European Central Bank held rates, Le Monde and Der Spiegel reported. Verizon and "
        "Malaysia Airlines shares fell. Manchester City beat Bayern Munich in Madrid."
    )
    found = {text[m.start_char : m.end_char]: (m.type, m.entity_id) for m in tagger.tag([text])[0]}
    for name in (
        "Fed",
        "European Central Bank",
        "Le Monde",
        "Der Spiegel",
        "Verizon",
        "Malaysia Airlines",
        "Manchester City",
        "Bayern Munich",
    ):
        assert found.get(name) == ("ORG", gazetteer.lookup(name).id), name
    assert found.get("Madrid", ("GPE",))[0] == "GPE"


def test_a_known_place_read_as_a_person_named_earlier_is_that_person():
    """ "Michael Jordan ... Jordan scored": a known place that the model reads as a person, and that a person named in
    full earlier ends with, is that person; with no such person before it, or read as a place, it is the place."""
    import spacy
    from spacy.tokens import Span

    from transforms.gazetteer import load_ner_rules
    from transforms.resolver import EntityResolver
    from transforms.spans import GAZETTEER_SPANS, gazetteer_merge

    gazetteer = load_gazetteer()
    resolver = EntityResolver(gazetteer, load_ner_rules(), model_labels_win=True)
    jordan = gazetteer.lookup("Jordan")
    text = "Jordan won .\nMichael Jordan scored .\nJordan said .\nJordan voted ."
    doc = spacy.blank("en")(text)
    at = [i for i, t in enumerate(doc) if t.text == "Jordan"]  # 4 of them: place, in the name, person, place
    model = [Span(doc, at[0], at[0] + 1, label="PERSON"), Span(doc, at[1] - 1, at[1] + 1, label="PERSON")]
    model += [Span(doc, at[2], at[2] + 1, label="PERSON"), Span(doc, at[3], at[3] + 1, label="GPE")]
    matches = [Span(doc, i, i + 1, label="GPE", span_id=jordan.id) for i in at]
    doc.spans[GAZETTEER_SPANS] = matches
    doc.ents = gazetteer_merge(model, matches)
    found = [(text[m.start_char : m.end_char], m.type) for m in resolver(doc, text, text)]
    assert found == [("Jordan", "GPE"), ("Michael Jordan", "PERSON"), ("Jordan", "PERSON"), ("Jordan", "GPE")]


def test_a_name_wrapped_over_two_lines_is_one_person():
    """Hard-wrapped wire copy and lists break names at a fixed width ("Vladimir\\nPutin"): a person span over one
    line break between capitalized words is one name; any other break ends a name (the "AFP\\n\\nNorth" case)."""
    import spacy
    from spacy.tokens import Span

    from transforms.gazetteer import load_ner_rules
    from transforms.resolver import EntityResolver
    from transforms.spans import GAZETTEER_SPANS, gazetteer_merge, wrapped_name

    gazetteer = load_gazetteer()
    resolver = EntityResolver(gazetteer, load_ner_rules(), model_labels_win=True)
    text = (
        "Officials said the talks in Beijing with President Vladimir\nPutin , and the bowlers Glenn McGrath and Ricky\n"
        "Ponting 12 , Photo AFP\n\nNorth of"
    )
    doc = spacy.blank("en")(text)
    words = [t.text for t in doc]
    vladimir, ricky, afp = words.index("Vladimir"), words.index("Ricky"), words.index("AFP")
    model = [
        Span(doc, vladimir, vladimir + 3, label="PERSON"),
        Span(doc, ricky, ricky + 3, label="PERSON"),
        Span(doc, afp, afp + 3, label="PERSON"),
    ]
    assert [wrapped_name(s) for s in model] == [True, True, False]  # a paragraph break ends a name
    assert not wrapped_name(Span(doc, ricky, ricky + 4, label="PERSON"))  # "12": no name
    short = spacy.blank("en")("Ricky Ponting\nShane Warne\nBy John Smith\nMoscow")  # one name a line; a byline
    assert not wrapped_name(Span(short, 0, 5, label="PERSON"))
    assert not wrapped_name(Span(short, 7, 11, label="PERSON"))
    assert not wrapped_name(Span(doc, afp, afp + 3, label="GPE"))
    doc.spans[GAZETTEER_SPANS] = []
    doc.ents = gazetteer_merge(model[:2], [])
    found = [(m.canonical_name, m.entity_id) for m in resolver(doc, text, text)]
    assert found[0] == ("Vladimir Putin", gazetteer.lookup("Vladimir Putin").id)
    assert found[1][0] == "Ricky Ponting"


def test_a_headline_keeps_the_name_the_text_gives_and_drops_the_verbs_glued_to_it():
    """In a headline (ALL-CAPS ones included, as the model reads them title-cased), a person span the gazetteer does
    not know is cut to the part the article names in its sentences ("Woods Makes Pro Debut" -> "Woods"), and a
    one-word name there is the person the text names after it (rule 4)."""
    import spacy
    from spacy.tokens import Span

    from transforms.entities import model_text
    from transforms.gazetteer import load_ner_rules
    from transforms.resolver import EntityResolver

    resolver = EntityResolver(load_gazetteer(), load_ner_rules(), model_labels_win=True)
    text = "GOLF - WOODS MAKES PRO DEBUT IN MILWAUKEE , BRADFORD WIN .\nTiger Woods played on Thursday ."
    doc_text = model_text(text, frozenset())
    doc = spacy.blank("en")(doc_text)
    words = [t.text for t in doc]
    woods, bradford, tiger = words.index("Woods"), words.index("Bradford"), words.index("Tiger")
    doc.ents = [
        Span(doc, woods, woods + 4, label="PERSON"),
        Span(doc, bradford, bradford + 1, label="ORG"),
        Span(doc, tiger, tiger + 2, label="PERSON"),
    ]
    found = [(text[m.start_char : m.end_char], m.type, m.canonical_name) for m in resolver(doc, text, doc_text)]
    # a name the text gives no other way stays in an ALL-CAPS headline: it is only trimmed, never dropped
    assert found == [
        ("WOODS", "PERSON", "Tiger Woods"),
        ("BRADFORD", "ORG", "Bradford"),
        ("Tiger Woods", "PERSON", "Tiger Woods"),
    ]


def test_a_capitalized_the_inside_a_sentence_is_part_of_the_name():
    """ "at The Oval", "( The Hague )": the article belongs to the name; at a sentence's start, or after a capitalized
    headline word, it is trimmed as before."""
    import spacy
    from spacy.tokens import Span

    from transforms.gazetteer import load_ner_rules
    from transforms.resolver import EntityResolver

    resolver = EntityResolver(load_gazetteer(), load_ner_rules())
    doc = spacy.blank("en")("The Pentagon said Surrey won at The Oval . Putin Visits The Kremlin")
    words = [t.text for t in doc]
    spans = [Span(doc, 0, 2, label="ORG"), Span(doc, 6, 8, label="FAC"), Span(doc, 11, 13, label="ORG")]
    assert [words[6], words[11]] == ["The", "The"]
    assert [p.text for s in spans for p in resolver._clean(s)] == ["Pentagon", "The Oval", "Kremlin"]
    doc = spacy.blank("en")("officials , The Pentagon said , The Wall Street Journal reported")
    spans = [Span(doc, 2, 4, label="ORG"), Span(doc, 6, 10, label="ORG")]
    # the gazetteer knows "Pentagon" and not "The Pentagon": its entry wins; it knows the Journal with "The"
    assert [p.text for s in spans for p in resolver._clean(s)] == ["Pentagon", "The Wall Street Journal"]
