"""EntityResolver: what the tagger does after the model, in general ways, once the gazetteer's names are merged with
the model's entities (``gazetteer_merge`` in transforms/spans.py): spans cleaned and relabelled, headline junk
dropped (transforms/headlines.py), name variants resolved inside an article, unknown names given ids from their
form. See EntityResolver's docstring for the rules and their limits; transforms/entities.py runs the model and then
this.
"""

from __future__ import annotations

import bisect
from collections import Counter
from typing import Iterable

from spacy.tokens import Span

from transforms.gazetteer import Gazetteer, NerRules, derived_id, normalize_name
from transforms.headlines import HeadlineRules
from transforms.mentions import Mention
from transforms.repeats import caps_lines, propagate
from transforms.spans import (
    GAZETTEER_SPANS,
    MODEL_PERSON,
    PLACE_TYPES,
    bracket_parts,
    name_words,
    sentence_starts_of,
    spaced_dash,
    wrapped_name,
)


def _compatible(label: str, entry_type: str) -> bool:
    """Whether a model label and a gazetteer type can name the same entity: the same type, two kinds of place, or a
    demonym (NORP) of a country."""
    if label == entry_type or {label, entry_type} <= PLACE_TYPES:
        return True
    return label == "NORP" and entry_type in ("GPE", "NORP")


def _names_article(tokens) -> bool:
    """A capitalized "The" inside a sentence, after a lower-case word or an opening bracket ("at The Oval", "( The
    Hague )", ", The Wall Street Journal reported"), is part of the name after it, unless the gazetteer knows the name
    without it and not with it (", The Pentagon said": EntityResolver._known_without_the). At a line's or sentence's
    start, or after a capitalized word (a Title-Case headline's "Visits The Kremlin"), it is an article like any
    other."""
    first = tokens[0]
    if first.text != "The" or len(tokens) < 2 or first.i == 0:
        return False
    before = first.doc[first.i - 1].text
    return before.islower() and before.isalpha() or before in ("(", ",")


class EntityResolver:
    """Turns a spaCy Doc's entities into mentions with canonical ids. The rules, in order:

    1. Spans are trimmed of possessives, quotes and articles at their ends ("Kim's" -> "Kim") and
       split at line breaks, so no mention swallows "'s" or "\\n\\n"; a person's span loses a title at its start
       that is no part of the name (`person_titles`: "Rabbi Capers Funnye" -> "Capers Funnye").
    2. A name followed by a facility head word ("… Square", "… Airport") is a FAC; one followed by
       a product noun ("Aurus Senat limousine") is a PRODUCT.
    3. A span whose text the gazetteer knows takes the gazetteer's id, name and type: known
       names override model labels ("AFP" is an organization wherever it stands). With the news
       model (model_labels_win), a model span takes the entry only when the types agree: "Chicago"
       that the model calls ORG is a team with an id of its own, not the city.
    4. In a Title-Case line (a headline or subheading), a PERSON or ORG span the gazetteer does not
       know is dropped unless the same name is an entity elsewhere in the article in ordinary
       sentence case: "Putin Poised To Visit" and "Kim Hails Ties" are not people.
    5. Name variants. A one-word person name, or one after an honorific ("Putin", "Kim",
       "Mr Brown"), resolves to the nearest preceding full name in the article whose first or last
       word it is (Korean names put the family name first, Western ones last). When the nearest is
       marked as a past office holder ("then-leader Kim Jong Il", "the late …") and another
       candidate exists, the other is taken.
       With the news model, a place label stands (one "Lebed Chechnya" mistake makes no "Chechnya" a person).
       Limits: this is about nearness, not meaning. An article that names two Kims and then writes
       "Kim" about the earlier one resolves it to the later one. A bare name with no full name
       before it is not guessed: it gets an id of its own, derived from its form.
    6. Within an article, the same unknown name keeps one label (the majority of its mentions), when
       majority_labels is on (off by default with the news model, which reads context).
    7. Unknown names get a deterministic id from their type and normalized form.
    8. A model PERSON or ORG span that is an office of a place, honorifics before "of" and a known place after it
       ("Ministers of Brazil"), is the place alone: no organization or person of that name.
    9. In a line in either title case (rule 4's, or minor words in lower case and no sentence end: "Putin to Visit
       North Korea, Vietnam – Report"), a place span the gazetteer does not know that is a known place with
       capitalized words before it is the known place ("Visit North Korea" -> "North Korea"), unless a word before
       it begins place names (`place_modifiers`: "New South Wales", "Northern Ireland").
    Before all of these, a model span across a line break is cut at it (`gazetteer_merge`); in clean-up, a span is
    also cut at a spaced dash and where its brackets do not pair (`bracket_parts`), and a piece the gazetteer
    knows takes its type. Last, a name's unlabelled repeats are the same entity (transforms/repeats.py).
    """

    def __init__(
        self,
        gazetteer: Gazetteer,
        rules: NerRules,
        model_labels_win: bool = False,
        majority_labels: bool = True,
        model_name: str = "",
    ):
        self._gaz = gazetteer
        self._model_name = model_name
        self._model_labels_win = model_labels_win
        self._majority = majority_labels
        self._rules = rules.model_copy(
            update={"historical_markers": frozenset(m.lower() for m in rules.historical_markers)}
        )
        self._headlines = HeadlineRules(self._rules)

    def __call__(self, doc, text: str, doc_text: str) -> list[Mention]:
        """The mentions of `text`, whose model text `doc_text` (model_text of it) the model read as `doc`. The caller
        has that string already: doc.text is the same one, rebuilt from the tokens at each access."""
        sentence_starts = sentence_starts_of(doc, doc_text)
        spans = [piece for ent in doc.ents if ent.label_ in self._rules.keep_labels for piece in self._clean(ent)]
        # Headlines as the model read them: an ALL-CAPS headline is one too, title-cased (model_text).
        line_starts, headline = self._headlines.lines(doc_text)
        caps_headline = (
            [h and not w for h, w in zip(headline, self._headlines.lines(text)[1])] if doc_text != text else []
        )
        lines = [bisect.bisect_right(line_starts, s.start_char) - 1 for s in spans]
        in_headline = [headline[k] for k in lines]
        sentence_case = self._headlines.sentence_case_names(spans, in_headline)
        candidates = []
        taken_until = 0  # a head word or model number joined to the span before ("Boeing" + "777") is no entity itself
        for original, original_in_headline, line in zip(spans, in_headline, lines):
            if original.start < taken_until:
                continue
            if self._office_of_place(original):  # "Ministers of Brazil": an office and a place, not a name
                candidates.extend(self._known_inside(doc, original))
                continue
            if original.label_ in PLACE_TYPES and not original.ent_id_:
                known = self._verb_before_place(doc, original)  # "Visit North Korea" in "Putin to Visit North Korea"
                if known and (original_in_headline or self._headlines.is_title_case(text, line_starts, line)):
                    candidates.extend(known)
                    continue
            span, label = self._relabel(original)
            taken_until = max(taken_until, span.end)
            if label != original.label_:  # a head word outranks a name inside it: Kim Il Sung Square is no person
                entry = self._gaz.lookup(span.text)
                entry = entry if entry is not None and entry.type == label else None
            elif span.ent_id_:  # the gazetteer's own span
                entry = self._gaz.canonical(span.ent_id_)
            else:
                entry = self._gaz.lookup(span.text)
                if entry is not None and self._model_labels_win and not _compatible(label, entry.type):
                    entry = None
            named = label in ("PERSON", "ORG") or (label == "LAW" and original.label_ in ("PERSON", "ORG"))
            if entry is None and named and original_in_headline:  # a head word does not save headline junk
                if not self._headlines.seen(span, sentence_case):
                    # dropped; a known name inside it stays ("Putin" of "Putin Poised"), or else the longest part
                    # the article names in its sentences ("Woods" of "Woods Makes Pro Debut"); a name in an ALL-CAPS
                    # headline is only trimmed so (a team the article names no other way stays: "BRADFORD")
                    inside = self._known_inside(doc, original) or self._headlines.seen_inside(span, sentence_case)
                    if inside or not (caps_headline and caps_headline[line]):
                        candidates.extend(inside)
                        continue
            candidates.append((span, label, entry))
        labels = self._majority_labels(candidates) if self._majority else {}
        mentions: list[Mention] = []
        full_names: list[tuple[int, list[str], str, str, bool]] = []  # (start, words, id, name, historical)
        for span, label, entry in candidates:
            start, end = span.start_char, span.end_char
            sentence = bisect.bisect_right(sentence_starts, start) - 1
            person = self._person_named_earlier(span, entry, full_names)
            if person is not None:
                mention = Mention(person[2], person[3], "PERSON", start, end, sentence, "variant")
            elif entry is not None:
                mention = Mention(
                    entry.id, entry.name, label if label == "NORP" else entry.type, start, end, sentence, "gazetteer"
                )
            else:
                label = labels.get(normalize_name(span.text), label)
                mention = self._resolve_unknown(span, label, full_names, sentence)
            mention.source = "gazetteer" if span.ent_id_ else self._model_name  # the ruler's spans carry an id
            if mention.type == "PERSON":  # matched by its first or last word: "Kennedy" of "Robert F. Kennedy Jr."
                words = name_words(span, self._rules.honorifics, self._rules.name_suffixes)
                if len(words) > 1:
                    full_names.append(
                        (start, words, mention.entity_id, mention.canonical_name, self._historical(span, doc_text))
                    )
            mentions.append(mention)
        mentions = self._headlines.variants(mentions, text, line_starts, headline)
        lines = caps_lines(text, doc_text)
        return propagate(mentions, text, sentence_starts, lines, self._rules.propagate_types, self._rules.name_suffixes)

    def _known_inside(self, doc, span) -> list:
        """Candidates for the gazetteer's matches inside `span` (longest first, not overlapping), from the matches
        gazetteer_merge set aside in doc.spans; none when the tagger has no such key (gazetteer_first)."""
        if GAZETTEER_SPANS not in doc.spans:
            return []
        inside = [m for m in doc.spans[GAZETTEER_SPANS] if span.start <= m.start and m.end <= span.end]
        out, taken = [], set()
        for m in sorted(inside, key=lambda m: (m.start - m.end, m.start)):
            entry = self._gaz.canonical(m.id_)
            if entry is not None and not taken.intersection(range(m.start, m.end)):
                out.append((Span(doc, m.start, m.end, label=m.label_, span_id=m.id), entry.type, entry))
                taken.update(range(m.start, m.end))
        return sorted(out, key=lambda c: c[0].start)

    # --- span clean-up -----------------------------------------------------------------------

    def _clean(self, ent) -> Iterable:
        pieces, current = [], []
        wrapped = wrapped_name(ent)
        for token in ent:
            if (token.is_space or "\n" in token.text) and not (wrapped and token.text == "\n") or spaced_dash(token):
                pieces.append(current)
                current = []
            else:
                current.append(token)
        pieces.append(current)
        cut_here = sum(1 for piece in pieces if piece) > 1
        for tokens in pieces:
            while tokens and (tokens[0].text in self._rules.trim_tokens or tokens[0].is_punct):
                if _names_article(tokens) and not self._known_without_the(tokens):  # "at The Oval"
                    break
                if self._named_with_the(tokens):  # "The Hague", "The Gambia"
                    break
                tokens = tokens[1:]
            while tokens and (
                tokens[-1].text in self._rules.trim_tokens or tokens[-1].is_punct and tokens[-1].text != "."
            ):
                tokens = tokens[:-1]
            if ent.label_ == "PERSON":  # "Rabbi Capers Funnye" is Capers Funnye
                tokens = self._without_titles(tokens)
            parts = bracket_parts(tokens, join_tag=ent.label_ == "ORG")
            cut = cut_here or len(parts) > 1 or (parts and parts[0][-1].i < tokens[-1].i)
            for part in parts:
                if not any(c.isalpha() for t in part for c in t.text):
                    continue
                if cut and not any(c.isupper() for t in part for c in t.text):
                    continue  # a lower-case piece of a cut span is no name
                span = Span(ent.doc, part[0].i, part[-1].i + 1, label=ent.label, span_id=ent.id, kb_id=ent.kb_id)
                entry = self._gaz.lookup(span.text) if cut and not ent.ent_id_ else None
                if entry is not None and entry.type != ent.label_:
                    # the model's label was for the glued span: a known piece is what the gazetteer says
                    span = Span(ent.doc, span.start, span.end, label=entry.type)
                yield span

    def _without_titles(self, tokens: list) -> list:
        """A person's tokens without the titles before the name, and without a former role ("ex-Beatle Paul
        McCartney", spaCy's "ex", "-", "Beatle": the role is one word, or runs to the last title in it, "ex-New York
        Mayor Rudy Giuliani")."""
        titles = self._rules.person_titles
        while len(tokens) > 1 and tokens[0].text in titles:
            tokens = tokens[1:]
        if len(tokens) > 3 and tokens[0].lower_ in self._rules.former_prefixes and tokens[1].text == "-":
            rest = tokens[2:]
            titled = [k for k, t in enumerate(rest[:-1]) if t.text in titles]
            tokens = rest[titled[-1] + 1 :] if titled else rest[1:]
        return tokens

    def _named_with_the(self, tokens) -> bool:
        """Whether the tokens, from a "The", are a name the gazetteer knows with its article ("The Hague")."""
        if tokens[0].lower_ != "the" or len(tokens) < 2:
            return False
        entry = self._gaz.lookup(tokens[0].doc[tokens[0].i : tokens[-1].i + 1].text)
        return entry is not None and entry.name.startswith("The ")

    def _known_without_the(self, tokens) -> bool:
        """Whether the gazetteer knows the name after "The" and not with it: "the Pentagon" keeps its entry."""
        doc = tokens[0].doc
        rest, whole = doc[tokens[1].i : tokens[-1].i + 1], doc[tokens[0].i : tokens[-1].i + 1]
        return self._gaz.lookup(rest.text) is not None and self._gaz.lookup(whole.text) is None

    def _office_of_place(self, span) -> bool:
        """A model PERSON or ORG span that names an office, not a holder or a body: honorifics (or their plurals)
        before "of" and a place the gazetteer knows after it ("Ministers of Brazil", "President of the United
        States"). The place alone is the entity (rule 8)."""
        if span.ent_id_ or span.label_ not in ("PERSON", "ORG"):
            return False
        words = [t.text for t in span]
        if "of" not in words[1:]:
            return False
        k = words.index("of")
        honorifics = self._rules.honorifics
        if not all(w in honorifics or (w.endswith("s") and w[:-1] in honorifics) for w in words[:k]):
            return False
        tail = words[k + 1 :]
        tail = tail[1:] if tail[:1] in (["the"], ["The"]) else tail
        entry = self._gaz.lookup(" ".join(tail)) if tail else None
        return entry is not None and entry.type in ("GPE", "LOC")

    def _relabel(self, span):
        """(span, label) after the head-word rules: "Kim Il Sung" + "Square" -> FAC; "Aurus Senat" + "limousine" ->
        PRODUCT; "Defense of Marriage Act" -> LAW; "MH370" and "Boeing" + "777" -> PRODUCT."""
        label = span.label_
        if label not in ("PERSON", "ORG", "GPE"):
            return span, label
        doc = span.doc
        if span[-1].text in self._rules.facility_heads:
            return span, "FAC"
        if len(span) > 1 and span[-1].text in self._rules.law_heads:
            return span, "LAW"
        if self._flight(span):
            return span, "PRODUCT"
        nxt = doc[span.end] if span.end < len(doc) else None
        if nxt is not None and label == "ORG" and self._model_of_maker(span, nxt):
            return Span(doc, span.start, span.end + 1, label="PRODUCT"), "PRODUCT"
        if nxt is not None and nxt.text in self._rules.facility_heads:
            return Span(doc, span.start, span.end + 1, label="FAC"), "FAC"
        if nxt is not None and label == "PERSON" and nxt.text.lower() in self._rules.product_heads:
            return span, "PRODUCT"
        return span, label

    def _flight(self, span) -> bool:
        """ "MH370", "Flight MH370": an airline's code and a number, not a name the gazetteer knows ("EU27", "UK20")."""
        code = self._rules.flight_number
        if code is None or not (len(span) == 1 or (len(span) == 2 and span[0].lower_ == "flight")):
            return False
        word = span[-1].text
        return bool(code.match(word)) and self._gaz.lookup(word) is None and self._gaz.lookup(word[:2]) is None

    def _model_of_maker(self, span, nxt) -> bool:
        """ "Boeing 777": a maker of `model_makers` and a model number that is no sum ("Boeing 500 million") and no
        part of a name (a number or product the model found there is joined; the caller skips it)."""
        model = self._rules.model_number
        if model is None or span.text not in self._rules.model_makers or not model.match(nxt.text):
            return False
        after = nxt.doc[nxt.i + 1].lower_ if nxt.i + 1 < len(nxt.doc) else ""
        return after not in self._rules.magnitude_words and nxt.ent_type_ in ("", "PRODUCT", "CARDINAL")

    def _verb_before_place(self, doc, span) -> list:
        """Rule 9: the known places inside a place span the gazetteer does not know, when all they leave out is
        capitalized words before them that do not begin place names; else none."""
        if self._gaz.lookup(span.text) is not None:
            return []
        known = [c for c in self._known_inside(doc, span) if c[1] in PLACE_TYPES]
        if not known or known[-1][0].end != span.end:
            return []
        inside = {i for c in known for i in range(c[0].start, c[0].end)}
        extra = [t for t in span if t.i not in inside]
        if any(t.i > known[0][0].start for t in extra):  # words between the known places: one longer name
            return []
        if not extra or any(not t.text[:1].isupper() or t.text in self._rules.place_modifiers for t in extra):
            return []
        return known

    # --- variants and ids --------------------------------------------------------------------

    def _name_words(self, span) -> list[str]:
        return name_words(span, self._rules.honorifics)

    def _historical(self, span, doc_text: str) -> bool:
        """True when the two words before the name mark a past holder: "then-leader", "the late", "former"."""
        before = doc_text[max(0, span.start_char - 30) : span.start_char].lower().split()[-2:]
        markers = self._rules.historical_markers
        return any(w in markers or any(w.startswith(m) for m in markers if m.endswith("-")) for w in before)

    def _resolve_unknown(self, span, label: str, full_names, sentence: int) -> Mention:
        start, end = span.start_char, span.end_char
        words = self._name_words(span)
        # A one-word name that is the first or last word of a person named earlier is that person,
        # whatever label the model gave it ("Alexander Lebed … Lebed said" is no organization).
        # With a model whose labels win (gazetteer_first=False), a place label stands: "Lebed Chechnya" mistaken for a
        # person once does not make every "Chechnya" one.
        variant_ok = not (self._model_labels_win and label in PLACE_TYPES) and len(words) == 1
        if label == "PERSON" or (variant_ok and any(words[0] in (f[1][0], f[1][-1]) for f in full_names)):
            chosen = self._variant(words, full_names)
            if chosen is not None:
                return Mention(chosen[2], chosen[3], "PERSON", start, end, sentence, "variant")
            if label == "PERSON":
                name = " ".join(words) or span.text
                return Mention(derived_id("PERSON", name), name, "PERSON", start, end, sentence, "model")
        return Mention(derived_id(label, span.text), span.text, label, start, end, sentence, "model")

    @staticmethod
    def _variant(words: list[str], full_names):
        """The person named in full earlier whose first or last word is the one-word name `words` (the nearest, or
        another when the nearest is a past office holder); None when there is none."""
        if len(words) != 1:
            return None
        found = [f for f in reversed(full_names) if words[0] in (f[1][0], f[1][-1])]
        if not found:
            return None
        chosen = found[0]
        if chosen[4]:
            others = [f for f in found if f[2] != chosen[2] and not f[4]]
            chosen = others[0] if others else chosen
        return chosen

    def _person_named_earlier(self, span, entry, full_names):
        """A known place that the model read as a person, and that is the first or last word of a person the article
        named in full before it, is that person ("Michael Jordan ... Jordan scored 30"): two readings agree against
        the gazetteer's. Without a full name before it the place stands ("England" the team is no person)."""
        if entry is None or span.kb_id_ != MODEL_PERSON or entry.type not in PLACE_TYPES:
            return None
        return self._variant(self._name_words(span), full_names)

    @staticmethod
    def _majority_labels(candidates) -> dict[str, str]:
        votes: dict[str, Counter] = {}
        for span, label, entry in candidates:
            if entry is None:
                votes.setdefault(normalize_name(span.text), Counter())[label] += 1
        return {name: counter.most_common(1)[0][0] for name, counter in votes.items() if len(counter) > 1}
