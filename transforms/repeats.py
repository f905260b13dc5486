"""Repeats of a name inside an article: once the resolver has found a name, its unlabelled repeats are the same
entity (one sense per discourse), and so are its capitals in a wire's ALL-CAPS headline.

    propagate(mentions, text, sentence_starts, caps_lines(text, doc_text), rules.propagate_types, rules.name_suffixes)

EntityResolver (transforms/resolver.py) calls it last, on the mentions it resolved.
"""

from __future__ import annotations

import bisect
import dataclasses
import re

from transforms.mentions import Mention

_LOWER_WORD = re.compile(r"\b[a-z][a-z'’-]*\b")


def caps_lines(text: str, doc_text: str) -> list[tuple[int, int]]:
    """The (start, end) of the lines of `text` that model_text title-cased for the model: its ALL-CAPS lines."""
    if text == doc_text:
        return []
    out, pos = [], 0
    for line, seen in zip(text.split("\n"), doc_text.split("\n")):
        if line != seen:
            out.append((pos, pos + len(line)))
        pos += len(line) + 1
    return out


def propagate(
    mentions: list[Mention],
    text: str,
    sentence_starts: list[int],
    caps: list[tuple[int, int]],
    types: frozenset[str],
    suffixes: frozenset[str] = frozenset(),
) -> list[Mention]:
    """Tag unlabelled repeats of a name already found in the article, with the same entity. In an ALL-CAPS line
    (`caps`, from caps_lines: a wire's headline), the name's capitals count too, and so does a person's surname
    ("SHEARER NAMED ENGLAND CAPTAIN" after "Alan Shearer"), unless the article writes it as a common word."""
    taken = sorted((m.start_char, m.end_char) for m in mentions)
    first: dict[str, Mention] = {}
    for m in mentions:
        surface = text[m.start_char : m.end_char]
        if m.type in types and len(surface) > 2 and surface[0].isupper():
            first.setdefault(surface, m)
    forms = [(surface, m, None) for surface, m in first.items()]
    if caps:
        forms += _caps_forms(first, text, caps, suffixes)
    added = []
    for surface, m, lines in forms:
        start = text.find(surface)
        while start >= 0:
            end = start + len(surface)
            next_start = text.find(surface, end)
            inside = lines is None or any(a <= start and end <= b for a, b in lines)
            if inside and not (_is_word_char(text, start - 1) or _is_word_char(text, end)):
                i = bisect.bisect_right(taken, (start, end))
                overlaps = (i > 0 and taken[i - 1][1] > start) or (i < len(taken) and taken[i][0] < end)
                if not overlaps:
                    sentence = bisect.bisect_right(sentence_starts, start) - 1
                    surname = m.type == "PERSON" and len(surface) < m.end_char - m.start_char
                    resolution = "variant" if surname else "repeat" if m.resolution == "model" else m.resolution
                    added.append(
                        dataclasses.replace(
                            m, start_char=start, end_char=end, sentence_index=sentence, resolution=resolution
                        )
                    )
                    bisect.insort(taken, (start, end))
            start = next_start
    return sorted(mentions + added, key=lambda x: x.start_char) if added else mentions


def _caps_forms(first: dict[str, Mention], text: str, caps, suffixes: frozenset[str]) -> list:
    """(form, mention, caps) for the ALL-CAPS forms of the names in `first` found outside those lines: the
    name in capitals, and a person's last word ("SHEARER") when no other person of the article ends with it. A
    form the article also writes in lower case ("MAY", "WHITE") is a word, not the name."""

    def outside(m: Mention) -> bool:
        return not any(a <= m.start_char < b for a, b in caps)

    named = {s: m for s, m in first.items() if outside(m)}
    surnames: dict[str, list[Mention]] = {}
    for surface, m in named.items():
        words = [w for w in surface.split() if w.rstrip(".") not in suffixes]
        if (
            m.type == "PERSON"
            and len(words) > 1
            and len(words[-1]) > 2
            and words[-1].isalpha()
            and words[-1][0].isupper()
        ):
            surnames.setdefault(words[-1], []).append(m)
    forms = {surface.upper(): m for surface, m in named.items() if surface.upper() != surface}
    for word, people in surnames.items():
        if len({m.entity_id for m in people}) == 1 and word.upper() not in forms:
            forms[word.upper()] = people[0]
    lower = set(_LOWER_WORD.findall(text))
    kept = [(f, m, caps) for f, m in forms.items() if not set(f.lower().split()) <= lower]
    return sorted(kept, key=lambda form: -len(form[0]))  # the longest first: "NEW ENGLAND PATRIOTS" before "ENGLAND"


def _is_word_char(text: str, i: int) -> bool:
    return 0 <= i < len(text) and (text[i].isalnum() or text[i] in "-_")
