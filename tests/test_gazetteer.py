import re

import pytest

from transforms.gazetteer import GazetteerError, derived_id, load_gazetteer, load_ner_rules, normalize_name, parse_entry


def test_gazetteer_loads_with_valid_ids_and_coverage():
    g = load_gazetteer()
    for entry in g.entries:
        assert re.match(r"^(Q\d+|nb:[a-z_]+:[0-9a-f]{12})$", entry.id), entry
    for name in [
        "North Korea",
        "South Korea",
        "Russia",
        "Pyongyang",
        "Vladivostok",
        "NATO",
        "EU",
        "WTO",
        "IMF",
        "G7",
        "G8",
        "UN",
        "UN Security Council",
        "AFP",
        "Reuters",
        "AP",
        "Yonhap",
        "KCNA",
        "NHK",
        "TASS",
        "Vedomosti",
        "BBC",
        "Xi Jinping",
        "Narendra Modi",
        "Sergei Lavrov",
        "Olaf Scholz",
        "Tony Blair",
    ]:
        assert g.lookup(name) is not None, name
    assert len([e for e in g.entries if e.type == "GPE"]) > 300  # every pycountry country, plus cities


def test_ambiguous_aliases_are_not_guessed():
    g = load_gazetteer()
    assert g.lookup("Kim") is None
    assert g.lookup("Brown") is None


def test_derived_ids_ignore_case_accents_and_possessive():
    assert derived_id("PERSON", "Kim Jong-Un's") == derived_id("PERSON", "kim jong un")
    assert derived_id("PERSON", "Schröder") == derived_id("PERSON", "Schroder")
    assert derived_id("PERSON", "Jordan") != derived_id("GPE", "Jordan")
    assert normalize_name("  U.N.  Security  Council ") == "u n security council"


def test_bad_rows_are_clear_errors():
    with pytest.raises(GazetteerError, match="not a Wikidata QID"):
        parse_entry({"id": "X12", "name": "A", "type": "ORG", "aliases": ""}, "entities.csv line 9")
    with pytest.raises(GazetteerError, match="line 9"):
        parse_entry({"id": "", "name": "A", "type": "ANIMAL", "aliases": ""}, "entities.csv line 9")


def test_rules_load():
    rules = load_ner_rules()
    assert "PERSON" in rules.keep_labels and "DATE" not in rules.keep_labels
    assert "Square" in rules.facility_heads and "Mr" in rules.honorifics


def _gazetteer_csv(name):
    import csv
    from importlib import resources

    text = resources.files("transforms").joinpath("data", "gazetteer", name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def test_entity_qids_are_well_formed_and_unique():
    entities = _gazetteer_csv("entities.csv") + _gazetteer_csv("historic_countries.csv")
    ids = [row["id"] for row in entities if row["id"]]
    assert all(re.fullmatch(r"Q[1-9][0-9]*", i) for i in ids), [i for i in ids if not re.fullmatch(r"Q[1-9][0-9]*", i)]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    country_ids = {row["id"] for row in _gazetteer_csv("countries.csv") if row["id"]}
    assert not set(ids) & country_ids, sorted(set(ids) & country_ids)


def test_every_recorded_qid_source_names_its_row():
    rows = _gazetteer_csv("entities.csv") + _gazetteer_csv("historic_countries.csv")
    by_name = {row["name"]: row["id"] for row in rows}
    sources = _gazetteer_csv("qid_sources.csv")
    assert sources and all(row["evidence"].strip() for row in sources)
    assert [(row["name"], row["id"]) for row in sources if by_name.get(row["name"]) != row["id"]] == []


def test_historic_states_are_countries_with_their_qids():
    """Archives name states that no longer exist: "his West German counterpart" is a country's official."""
    g = load_gazetteer()
    states = (
        ("West Germany", "West German", "Q713750"),
        ("Soviet Union", "Soviet", "Q15180"),
        ("East Germany", "East German", "Q16957"),
    )
    for name, demonym, qid in states:
        state, norp = g.lookup(name), g.lookup(demonym)
        assert state is not None and state.type == "GPE" and state.id == qid
        assert norp is not None and norp.type == "NORP" and norp.id == state.id and state.id in g.country_ids
    assert g.lookup("Germany").id == "Q183" and g.lookup("Federal Republic of Germany").id == "Q183"


def test_country_qids_added_later_name_their_evidence():
    """Every country whose QID came with recorded evidence (country_qid_sources.csv) has that QID in countries.csv,
    and the name is pycountry's: Greenland is Q223, not an id derived from its name."""
    import pycountry

    countries = {row["alpha2"]: row["id"] for row in _gazetteer_csv("countries.csv")}
    sources = _gazetteer_csv("country_qid_sources.csv")
    assert sources and all(row["evidence"].strip() for row in sources)
    assert [row["alpha2"] for row in sources if countries.get(row["alpha2"]) != row["id"]] == []
    for row in sources:
        country = pycountry.countries.get(alpha_2=row["alpha2"])
        assert row["name"] in (getattr(country, "common_name", None), country.name), row
    assert load_gazetteer().lookup("Greenland").id == "Q223"
    ids = [i for i in countries.values() if i]
    assert len(ids) == len(set(ids))
