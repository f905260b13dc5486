"""Headlines, for the resolver's rules 4 and 9: which lines are headlines in either title case, which names an
article gives in its sentences (a headline's name is kept, or cut to that part), and a headline's one-word person
as the person the text names after it. Words and shares are data (`ner_rules.yaml`).
"""

from __future__ import annotations

import bisect
import dataclasses

from spacy.tokens import Span

from transforms.gazetteer import NerRules, normalize_name
from transforms.mentions import Mention
from transforms.spans import name_words


def names_word(mention: Mention, text: str, word: str) -> bool:
    """Whether a person's mention is the one-word name `word` (casefolded), or a full name that begins or ends with
    it ("Kim" of "Kim Jong Un", "Woods" of "Tiger Woods")."""
    words = text[mention.start_char : mention.end_char].casefold().split()
    return bool(words) and (words == [word] or (len(words) > 1 and word in (words[0], words[-1])))


class HeadlineRules:
    """The headline tests of one rule set (NerRules)."""

    def __init__(self, rules: NerRules):
        self._rules = rules

    def lines(self, text: str) -> tuple[list[int], list[bool]]:
        """Start offset of each line, and whether it is a Title-Case headline; computed once per text."""
        starts, flags, pos = [], [], 0
        for line in text.split("\n"):
            starts.append(pos)
            flags.append(self.is_headline(line))
            pos += len(line) + 1
        return starts, flags

    def is_title_case(self, text: str, line_starts: list[int], k: int) -> bool:
        """Whether line k of `text` is in the other title case (rule 9): at least 4 words, no sentence end, minor
        words aside the words capitalized ("Putin to Visit North Korea, Vietnam – Report")."""
        end = line_starts[k + 1] - 1 if k + 1 < len(line_starts) else len(text)
        line = text[line_starts[k] : end]
        words = [w for w in line.split() if any(c.isalpha() for c in w)]
        if len(words) < 4 or line.rstrip(" )]*#\"”'’").endswith((".", "?", "!")):
            return False
        content = [w for w in words if w.lower() not in self._rules.title_case_minor_words]
        capitalized = sum(1 for w in content if w.lstrip("‘'\"“([*#")[:1].isupper())
        return bool(content) and capitalized >= self._rules.title_case_min_share * len(content)

    def is_headline(self, line: str) -> bool:
        words = [w for w in line.split() if any(c.isalpha() for c in w)]
        if len(words) < 4 or not any(w in self._rules.headline_function_words for w in words[1:]):
            return False
        capitalized = sum(1 for w in words if w.lstrip("‘'\"“(")[:1].isupper())
        return capitalized >= self._rules.title_case_min_share * len(words)

    def sentence_case_names(self, spans, in_headline) -> dict[str, str]:
        """Normalized name -> label of the entities found outside headlines, and each word of a person's full name
        as that person's ("Harrison" of "Audley Harrison"), for rule 4."""
        names: dict[str, str] = {}
        for span, headline in zip(spans, in_headline):
            if not headline:
                names[normalize_name(span.text)] = span.label_
        for span, headline in zip(spans, in_headline):
            if not headline and span.label_ == "PERSON":
                words = name_words(span, self._rules.honorifics, self._rules.name_suffixes)
                for word in words[1:] if len(words) > 1 else []:
                    names.setdefault(normalize_name(word), "PERSON")
        return names

    @staticmethod
    def seen(span, names: dict[str, str]) -> bool:
        """Whether the article names `span` in its sentences: the whole name, or each of its words as a name or a
        word of one ("Roberto Duran" where the text has "Roberto" and "Duran")."""
        if normalize_name(span.text) in names:
            return True
        words = [t.text for t in span if t.is_alpha]
        return len(words) > 1 and all(normalize_name(w) in names for w in words)

    @staticmethod
    def seen_inside(span, names: dict[str, str]) -> list:
        """The longest run of words inside a headline span that the article names in its sentences, with the label
        it has there: a headline's verbs and nouns glued to a name fall away ("Lentini Moves" -> "Lentini")."""
        for size in range(len(span) - 1, 0, -1):
            for start in range(span.start, span.end - size + 1):
                part = span.doc[start : start + size]
                label = names.get(normalize_name(part.text)) if part[0].text[:1].isupper() else None
                if label in ("PERSON", "ORG"):
                    return [(Span(span.doc, part.start, part.end, label=label), label, None)]
        return []

    @staticmethod
    def variants(mentions: list[Mention], text: str, line_starts, headline) -> list[Mention]:
        """A headline names people before the text introduces them ("Kim Hails Ties ..." above "Kim Jong Un ...
        Kim made"): a one-word person in a headline with no antecedent is the first person after it that the same
        word names, alone or as the first or last word of a full name."""
        out = list(mentions)
        for i, m in enumerate(out):
            surface = text[m.start_char : m.end_char]
            if m.type != "PERSON" or m.resolution != "model" or len(surface.split()) != 1:
                continue
            if not headline[bisect.bisect_right(line_starts, m.start_char) - 1]:
                continue
            word = surface.casefold()
            later = next((x for x in out[i + 1 :] if x.type == "PERSON" and names_word(x, text, word)), None)
            if later is not None:
                out[i] = dataclasses.replace(
                    m, entity_id=later.entity_id, canonical_name=later.canonical_name, resolution="variant"
                )
        return out
