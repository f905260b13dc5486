"""Spans before resolution: where sentences start, and the merge of the gazetteer's matches with the model's
entities (``gazetteer_merge``, spaCy's entity_ruler ``ents_filter``), cut at line breaks unless a name is wrapped
over two lines. transforms/resolver.py resolves what comes out.
"""

from __future__ import annotations

from typing import Iterable

import numpy
from spacy.tokens import Span
from spacy.util import registry


def sentence_starts_of(doc, text: str) -> list[int]:
    """Character offsets where sentences start in `text` (the doc's text): after a token ".", "!" or "?" and after
    a line break.

    A vectorised stand-in for spaCy's rule-based sentencizer (same rule, on token arrays), used only
    for `sentence_index`; "U.S." is one token, so abbreviations of that kind do not end a sentence.
    """
    if len(doc) == 0:
        return [0]
    vocab = doc.vocab.strings
    orth = doc.to_array("ORTH")
    ends = numpy.isin(orth, [vocab["."], vocab["!"], vocab["?"]])
    idx = doc.to_array("IDX")
    starts = [0] + [int(i) for i in idx[1:][ends[:-1]]]
    pos = text.find("\n")
    while pos >= 0:
        starts.append(pos + 1)
        pos = text.find("\n", pos + 1)
    stripped = set()
    for start in starts:  # a sentence starts at its first visible character: ".\n" is one boundary, not two
        while start < len(text) and text[start].isspace():
            start += 1
        stripped.add(start)
    return sorted(stripped)


PLACE_TYPES = frozenset({"GPE", "LOC", "FAC"})
GAZETTEER_SPANS = "gazetteer"  # doc.spans key: every gazetteer match, also those the merge set aside
MODEL_PERSON = "model:PERSON"  # kb_id of a gazetteer place the model read as a person (gazetteer_merge)


def gazetteer_merge(entities: Iterable[Span], matches: Iterable[Span]) -> list[Span]:
    """The model's entities and the gazetteer's matches, without overlaps: longest first, and on a tie the
    gazetteer's, so a known name wins over a model span it overlaps or contains ("Kremlin", "Yonhap"), while a longer
    name the model found keeps a known name inside it ("Chicago Cubs", "Air France"). A city or country name the
    model tagged ORG over exactly the same tokens stays the model's (a team, or a government named by its capital).
    A model span across a line break is its pieces: no name runs from a credit line into the next paragraph ("AFP" +
    "North" of "North Korean")."""
    model = [piece for e in entities for piece in _line_pieces(e)]
    exact_org = {(e.start, e.end) for e in model if e.label_ == "ORG"}
    exact_person = {(e.start, e.end) for e in model if e.label_ == "PERSON"}
    candidates = [
        (_read_as_person(m) if (m.start, m.end) in exact_person and m.label_ in PLACE_TYPES else m, 0)
        for m in matches
        if not (m.label_ == "GPE" and (m.start, m.end) in exact_org)
    ]
    candidates += [(e, 1) for e in model]
    candidates.sort(key=lambda c: (-(c[0].end - c[0].start), c[1], c[0].start))
    taken: set[int] = set()
    out = []
    for span, _ in candidates:
        if not taken.intersection(range(span.start, span.end)):
            out.append(span)
            taken.update(range(span.start, span.end))
    return out


def _read_as_person(match: Span) -> Span:
    """A known place the model tagged PERSON over the same tokens: still the place, marked (kb_id) so that the
    resolver can take it for a person named in full earlier in the article ("Michael Jordan ... Jordan scored")."""
    return Span(match.doc, match.start, match.end, label=match.label, span_id=match.id, kb_id=MODEL_PERSON)


WRAPPED_LINE_CHARS = 40  # a line that hard wrapping broke is long; a list of one name a line, or a byline, is not


def wrapped_name(span: Span) -> bool:
    """A person's name that hard-wrapped text breaks over two lines ("Vladimir\nPutin", as wire copy and lists wrap
    at a fixed width): one line break, after a line of at least WRAPPED_LINE_CHARS characters, capitalized words
    without digits on both sides, one of the two sides a single word, at most three words. Any other line break in
    a span ends a name: "Ricky Ponting\nShane Warne" in a list of one name a line, "By John Smith\nMoscow"."""
    breaks = [t for t in span if "\n" in t.text]
    if span.label_ != "PERSON" or len(breaks) != 1 or breaks[0].text != "\n":
        return False
    cut = breaks[0].i
    if cut in (span.start, span.end - 1):
        return False
    before, after = [t.text for t in span if t.i < cut], [t.text for t in span if t.i > cut]
    if min(len(before), len(after)) != 1 or len(before) + len(after) > 3:
        return False
    if not all(w[:1].isupper() and not any(c.isdigit() for c in w) for w in before + after):
        return False
    text = span.doc.text
    line_end = span.doc[cut].idx
    return line_end - (text.rfind("\n", 0, line_end) + 1) >= WRAPPED_LINE_CHARS


def _line_pieces(span: Span) -> list[Span]:
    """`span` cut at its line-break tokens, with its label (itself when it holds none, or when it is a wrapped
    name)."""
    breaks = [t.i for t in span if "\n" in t.text]
    if not breaks or wrapped_name(span):  # most spans hold no break: the wrap test only for those that do
        return [span]
    bounds = [span.start - 1, *breaks, span.end]
    return [Span(span.doc, a + 1, b, label=span.label) for a, b in zip(bounds, bounds[1:]) if b > a + 1]


@registry.misc("newsbeam.gazetteer_merge.v1")
def make_gazetteer_merge():
    return gazetteer_merge


def name_words(span, honorifics: frozenset[str], suffixes: frozenset[str] = frozenset()) -> list[str]:
    """The words of a name, without punctuation, line breaks, honorifics before it ("Mr Brown" -> ["Brown"]) or a
    generational suffix after it ("Robert F. Kennedy Jr." -> [..., "Kennedy"])."""
    words = [t.text for t in span if not (t.is_punct or t.is_space)]
    while words and words[0] in honorifics:
        words = words[1:]
    while len(words) > 1 and words[-1].rstrip(".") in suffixes:
        words = words[:-1]
    return words


def bracket_parts(tokens: list, join_tag: bool = True) -> list[list]:
    """A span whose brackets do not pair, in balanced parts. A closing bracket with no opening one ends a part.
    For the last bracket the model left open: a name and its acronym are two names
    ("National Association of Purchasing Management ( NAPM" -> the name, and "NAPM"); with `join_tag` (an
    organization's span), a short tag closed right after the span belongs to it ("Mladost ( L" -> "Mladost ( L )", a
    club told from its namesakes; a person's party or a place's wire credit does not: "John Smith ( R"); anything
    else ends at the bracket. What is left before the bracket is balanced the same way."""
    depth = 0
    for k, t in enumerate(tokens):  # a closing bracket with no opening one in the span: "Lindsay ) Davenport"
        depth += (t.text == "(") - (t.text == ")")
        if depth < 0:
            return [p for p in (*bracket_parts(tokens[:k], join_tag), *bracket_parts(tokens[k + 1 :], join_tag)) if p]
    opens = [k for k, t in enumerate(tokens) if t.text == "("]
    if not opens or any(t.text == ")" for t in tokens[opens[-1] :]):
        return [tokens] if tokens else []
    k = opens[-1]
    before, inner = tokens[:k], tokens[k + 1 :]
    if len(inner) == 1 and inner[0].text.isupper() and inner[0].text.isalpha():
        initials = "".join(t.text[0] for t in before if t.text[:1].isupper())
        if len(initials) > 1 and inner[0].text == initials:
            return [*bracket_parts(before, join_tag), inner]
    doc = tokens[0].doc
    end = tokens[-1].i + 1
    short = 1 <= len(inner) <= 2 and all(len(t.text) <= 3 for t in inner)
    if join_tag and short and end < len(doc) and doc[end].text == ")" and "(" not in (t.text for t in before):
        return [tokens + [doc[end]]]
    return bracket_parts(before, join_tag)


def spaced_dash(token) -> bool:
    """A dash with a space on each side: a separator between names ("Romania - Cosmin Contra"), no part of one."""
    if token.text not in ("-", "–", "—") or not token.whitespace_ or token.i == 0:
        return False
    return bool(token.nbor(-1).whitespace_)
