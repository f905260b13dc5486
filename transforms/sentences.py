"""English sentences and clauses as the alert engine reads them: where sentences end, and whether a verb's subject
joins two parties. The words are data (`transforms/data/sentences.yaml`).

    split_sentences("Mr. Putin arrived. He met Kim.")  ->  [(0, 18), (19, 30)]
    joint_subject(words, verb)                          ->  True for "The EU and the US have agreed"
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from transforms.event_dates import starts_with_month

_BOUNDARY = re.compile(r"[.!?][\"”’')\]]*\s+(?=[\"“‘'(\[]?[A-Z0-9])|\n+")
_DAY = re.compile(r"(?:^|\D)\d{1,2}$")


class SentenceRulesError(ValueError):
    """sentences.yaml cannot be used; the message says where and why."""


class SentenceRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    abbreviations: tuple[str, ...] = Field(min_length=1)
    clause_end: frozenset[str]
    joint_subject_tokens: int = Field(ge=1, le=40)
    passive: frozenset[str]


class _Compiled:
    def __init__(self, rules: SentenceRules):
        self.rules = rules
        words = "|".join(re.escape(w) for w in rules.abbreviations)
        self.abbreviation = re.compile(rf"(?:\b[A-Z]\.)+[A-Z]?$|\b(?:{words})$")


@lru_cache(maxsize=1)
def _rules() -> _Compiled:
    where = "transforms/data/sentences.yaml"
    try:
        text = resources.files("transforms").joinpath("data", "sentences.yaml").read_text(encoding="utf-8")
        return _Compiled(SentenceRules.model_validate(yaml.safe_load(text)))
    except (OSError, yaml.YAMLError) as err:
        raise SentenceRulesError(f"{where}: cannot read: {err}") from None
    except ValidationError as err:
        first = err.errors()[0]
        raise SentenceRulesError(f"{where}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence: ends at . ! ? before a capital, and at line breaks; not after "U.S." or "Mr"."""
    abbreviation = _rules().abbreviation
    spans, start = [], 0
    for m in _BOUNDARY.finditer(text):
        if m.group(0)[0] == "." and abbreviation.search(text[max(start, m.start() - 12) : m.start()]):
            continue
        if m.group(0)[0] == "." and "\n" not in m.group(0) and _ordinal_day(text, m.start(), m.end()):
            continue
        end = m.start() + (0 if m.group(0).startswith("\n") else len(m.group(0).rstrip()))
        if text[start:end].strip():
            spans.append((start, end))
        start = m.end()
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return spans


def _ordinal_day(text: str, dot: int, after: int) -> bool:
    """A day number's full stop before a month ("am 18. Juni"): no sentence ends there."""
    return bool(_DAY.search(text[max(0, dot - 3) : dot])) and starts_with_month(text[after : after + 12])


def joint_subject(words: list[str], verb: int) -> bool:
    """The verb's subject joins two parties ("The EU and the US have agreed to"): an "and" in its clause before it.
    A passive ("a plan had been agreed to") names no parties."""
    rules = _rules().rules
    if verb and words[verb - 1] in rules.passive:
        return False
    for k in range(verb - 1, max(-1, verb - 1 - rules.joint_subject_tokens), -1):
        if words[k] in rules.clause_end:
            return False
        if words[k] == "and":
            return True
    return False
