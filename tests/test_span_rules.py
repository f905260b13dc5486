"""Span rules of the resolver that need no model: brackets and spaced dashes inside a span, names known with their
article ("The Hague"), former roles before a name, and a name's capitals in a wire's ALL-CAPS headline.

Each test builds the model's spans by hand on spaCy's tokenizer, so what is checked is the rule, not a model's
reading of the sentence."""

import pytest
import spacy
from spacy.tokens import Span

from transforms.entities import model_text
from transforms.gazetteer import load_gazetteer, load_ner_rules
from transforms.repeats import caps_lines
from transforms.resolver import EntityResolver
from transforms.spans import bracket_parts, spaced_dash


@pytest.fixture(scope="module")
def resolver():
    return EntityResolver(load_gazetteer(), load_ner_rules(), model_labels_win=True)


def _doc(text):
    return spacy.blank("en")(text)


def _at(doc, word, nth=0):
    return [t.i for t in doc if t.text == word][nth]


def _resolved(resolver, text, spans):
    """(text, type, canonical name) of the resolver's mentions, for the model's spans given as (first word, which
    occurrence of it, length in tokens, label) on the text as the model reads it (ALL-CAPS lines title-cased)."""
    doc_text = model_text(text, frozenset())
    doc = _doc(doc_text)
    ents = [Span(doc, _at(doc, w, nth), _at(doc, w, nth) + n, label=label) for w, nth, n, label in spans]
    doc.ents = sorted(ents, key=lambda e: e.start)
    return [(text[m.start_char : m.end_char], m.type, m.canonical_name) for m in resolver(doc, text, doc_text)]


def test_a_bracket_left_open_gives_balanced_parts():
    """A name and its acronym in brackets are two names; a short tag closed right after the span belongs to it; a
    closing bracket with no opening one ends a part; anything else ends at the open bracket."""
    doc = _doc(
        "the National Association of Purchasing Management ( NAPM ) said ; Mladost ( L ) won ; (Lindsay) Davenport"
    )
    napm = list(doc[_at(doc, "National") : _at(doc, "NAPM") + 1])
    assert [" ".join(t.text for t in p) for p in bracket_parts(napm)] == [
        "National Association of Purchasing Management",
        "NAPM",
    ]
    club = list(doc[_at(doc, "Mladost") : _at(doc, "L") + 1])
    assert [" ".join(t.text for t in p) for p in bracket_parts(club)] == ["Mladost ( L )"]
    pair = list(doc[_at(doc, "Lindsay") : _at(doc, "Davenport") + 1])
    assert [" ".join(t.text for t in p) for p in bracket_parts(pair)] == ["Lindsay", "Davenport"]
    other = _doc("Human Rights Watch ( HRW")  # its acronym: two names
    assert [" ".join(t.text for t in p) for p in bracket_parts(list(other))] == ["Human Rights Watch", "HRW"]
    other = _doc("Amnesty International ( London")  # no acronym, no short tag: the name before the bracket
    assert [" ".join(t.text for t in p) for p in bracket_parts(list(other))] == ["Amnesty International"]
    assert [len(p) for p in bracket_parts(list(_doc("Rad ( B ) Beograd")))] == [5]  # balanced: unchanged
    # only an organization's span takes a tag: a person's party, a place's wire credit are no part of the name
    doc = _doc("John Smith ( R ) said")
    assert [" ".join(t.text for t in p) for p in bracket_parts(list(doc[0:4]), join_tag=False)] == ["John Smith"]
    nested = _doc("Foo ( Bar ( AB ) said")  # what is left before the open bracket is balanced too
    assert [" ".join(t.text for t in p) for p in bracket_parts(list(nested[0:5]))] == ["Foo"]


def test_a_spaced_dash_separates_names_and_a_known_piece_takes_its_type(resolver):
    """ "ROMANIA - Cosmin Contra" glued by the model into one organization: a dash with spaces around it is no part
    of a name, and a piece the gazetteer knows is what the gazetteer says, since the model's label was the glued
    span's. A hyphen inside a word ("Rolls-Royce", "Jong-un") is no such dash."""
    doc = _doc("Romania - Cosmin Contra scored . Kim Jong-un met Rolls-Royce . Kim Jong - un said")
    dashes = [t for t in doc if t.text == "-"]
    assert [spaced_dash(t) for t in dashes] == [True, False, False, True]
    span = Span(doc, 0, 4, label="ORG")
    assert [(p.text, p.label_) for p in resolver._clean(span)] == [("Romania", "GPE"), ("Cosmin Contra", "ORG")]
    kim = _at(doc, "Kim", 1)
    # a lower-case piece is no name, and is not looked up ("un" is no United Nations)
    assert [(p.text, p.label_) for p in resolver._clean(Span(doc, kim, kim + 4, label="PERSON"))] == [
        ("Kim Jong", "PERSON")
    ]
    # a span that only ends in a line break was not cut: the model's label stands ("Chicago" the team)
    doc = _doc("Chicago\nwon")
    assert [(p.text, p.label_) for p in resolver._clean(Span(doc, 0, 2, label="ORG"))] == [("Chicago", "ORG")]


def test_a_name_known_with_its_article_keeps_it(resolver):
    """ "The Hague" and "The Gambia" are named with "The", at a sentence's start as well; other names lose it."""
    doc = _doc("The Hague ruled . The Gambia voted . The Kremlin said")
    spans = [Span(doc, 0, 2, label="GPE"), Span(doc, 4, 6, label="GPE"), Span(doc, 8, 10, label="ORG")]
    assert [p.text for s in spans for p in resolver._clean(s)] == ["The Hague", "The Gambia", "Kremlin"]
    # "Hague" alone is William Hague as often as the city: no such alias
    assert load_gazetteer().lookup("Hague") is None
    text = "Mr Hague said so ."
    doc = _doc(text)
    doc.ents = [Span(doc, 1, 2, label="PERSON")]
    assert [(m.type, m.canonical_name) for m in resolver(doc, text, text)] == [("PERSON", "Hague")]


def test_a_former_role_before_a_name_is_no_part_of_it(resolver):
    """The role after "ex-" is one word, or runs to the last title in it."""
    doc = _doc(
        "ex-Beatle Paul McCartney and Ex-Yankee Randy Velarde , former President Bill Clinton , "
        "ex-New York Mayor Rudy Giuliani , ex-U.S. Sen. John Smith"
    )
    spans = [
        Span(doc, 0, 5, label="PERSON"),
        Span(doc, _at(doc, "Ex"), _at(doc, "Velarde") + 1, label="PERSON"),
        Span(doc, _at(doc, "former"), _at(doc, "Clinton") + 1, label="PERSON"),
        Span(doc, _at(doc, "ex", 1), _at(doc, "Giuliani") + 1, label="PERSON"),
        Span(doc, _at(doc, "ex", 2), _at(doc, "Smith") + 1, label="PERSON"),
    ]
    found = [p.text for s in spans for p in resolver._clean(s)]
    assert found == ["Paul McCartney", "Randy Velarde", "Bill Clinton", "Rudy Giuliani", "John Smith"]


def test_an_all_caps_headline_names_whom_the_article_names(resolver):
    """A wire's ALL-CAPS headline that the model read without a name: the name's capitals there are the article's
    entity, and so is a person's surname alone, but not a word the article also writes in lower case."""
    text = (
        "SOCCER - SHEARER NAMED AS ENGLAND CAPTAIN , MAY STAY\n"
        "Alan Shearer was named England captain on Friday . Theresa May said he may stay ."
    )
    assert caps_lines(text, model_text(text, frozenset())) == [(0, text.index("\n"))]
    found = _resolved(resolver, text, [("Alan", 0, 2, "PERSON"), ("England", 1, 1, "GPE"), ("Theresa", 0, 2, "PERSON")])
    assert found[:2] == [("SHEARER", "PERSON", "Alan Shearer"), ("ENGLAND", "GPE", "England")]
    assert "MAY" not in [f[0] for f in found]  # "may" is a word of the article
    assert [f[0] for f in found][2:] == ["Alan Shearer", "England", "Theresa May"]


def test_an_all_caps_headline_takes_the_longest_name_and_a_surname_before_its_suffix(resolver):
    """ "NEW YORK KNICKS" is the team before "NEW YORK" is the city; "Robert F. Kennedy Jr." is KENNEDY, and "JR."
    is nobody."""
    text = "KENNEDY JR. CHEERS NEW YORK KNICKS\nRobert F. Kennedy Jr. saw in New York the New York Knicks win ."
    found = _resolved(resolver, text, [("Robert", 0, 4, "PERSON"), ("New", 2, 3, "ORG"), ("New", 1, 2, "GPE")])
    assert found[:2] == [("KENNEDY", "PERSON", "Robert F. Kennedy Jr."), ("NEW YORK KNICKS", "ORG", "New York Knicks")]
    assert "JR." not in [f[0] for f in found]
