"""Alert rule packs: the YAML schema (pydantic), a safe loader, and the compiled matcher.

A pack (see docs/rules.md and transforms/data/rules/default.yaml) has shared vocabularies
(`cue_sets`, `status_levels`, titles, irregular verb forms) and `rules`. Every word or phrase
in it is written as a lemma: the loader expands each into its inflected forms ("visit" ->
visits, visited, visiting), so matching by surface form is matching by lemma. A bad pack is
a RulePackError at start-up, with the place in the file that is wrong.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

ActorKind = Literal[
    "leader",
    "senior",
    "official",
    "state",
    "person",
    "country",
    "organization",
    "international_body",
    "financial_body",
    "government",
    "armed_group",
    "party",
    "place",
    "group",
]
Status = str
_TOKEN = re.compile(r"\w+(?:[-'’]\w+)*|n't|[^\w\s]")
_CAMEO = re.compile(r"^(\d{2,4}|n/a)$")


class RulePackError(ValueError):
    """The rule pack cannot be used; the message says where and why."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StatusLevel(_Model):
    """One status an alert can have, as data: alerts, the story book and the report read these fields, so a new
    level in a pack gets the behaviour its pack gives it, never a default typed in code."""

    status: str
    rank: int = Field(ge=0)  # strength: the strongest status cue near a trigger wins
    terminal: bool = False  # a denial, cancellation or postponement: replaces any earlier status of a story alert
    official: bool = False  # announced or firmer: after a terminal status, only an official one replaces it again
    confidence: float = Field(0.0, ge=-1, le=1)  # this status's term in an alert's confidence score
    color: str = Field("#999999", pattern=r"^#[0-9a-fA-F]{6}$")  # the report's colour for it
    prospective: bool = False  # says the event is still to come (expected, scheduled): never for a past date
    cues: tuple[str, ...]


class ActorConstraint(_Model):
    kinds: tuple[ActorKind, ...]
    min_distinct: int = Field(ge=0, le=10)
    require_kind: tuple[ActorKind, ...] = ()  # at least one actor of one of these kinds

    @field_validator("require_kind", mode="before")
    @classmethod
    def _one_or_more(cls, value):
        return () if value is None else (value,) if isinstance(value, str) else value


class LanguageRule(_Model):
    """A rule's words in a language other than English. Words are not inflected: list the forms, or end a word
    with * to match every word it begins ("визит*" matches визит, визита, визитом)."""

    triggers: tuple[str, ...] = Field(min_length=1)
    require_any: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    exclude_near: tuple[str, ...] = ()


class PackLanguage(_Model):
    """A language's shared words: negations, the status levels' cues (by status) and the cue sets."""

    negations: tuple[str, ...] = ()
    status_cues: dict[str, tuple[str, ...]] = {}
    cue_sets: dict[str, tuple[str, ...]] = {}


class Rule(_Model):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    description: str
    cameo: tuple[str, ...] = Field(min_length=1)
    plover: str
    severity: Literal["low", "medium", "high", "critical"]
    tense: Literal["future", "past", "any"] = "any"
    triggers: tuple[str, ...] = Field(min_length=1)
    require_any: tuple[str, ...] = ()
    cue_triggers: tuple[str, ...] = ()  # triggers that state the event ("X and Y agreed to"): no cue needed (English)
    window_tokens: Optional[int] = Field(
        None, ge=1, le=60, description="Cues must lie this close to the trigger; None: the whole sentence."
    )
    date_is_cue: bool = False  # a date within the window stands for a required cue ("elections next Sunday")
    exclude_near: tuple[str, ...] = ()  # exclusions that count only within exclude_window_tokens of a trigger
    # ... and those that count there only when no future frame ("will be", "to be") comes right before them: "is
    # travelling to" says a visit is under way, "will be travelling to" that it is planned (English)
    exclude_near_present: tuple[str, ...] = ()
    exclude_undated: tuple[str, ...] = ()  # exclusions that hold only when no date near a trigger is the rule's cue
    exclude_window_tokens: int = Field(4, ge=1, le=60, description="How near a trigger `exclude_near` words count.")
    actors: ActorConstraint
    exclude: tuple[str, ...] = ()
    not_status: tuple[str, ...] = ()  # statuses that say the event is not taking place ("called off"): no alert
    languages: dict[str, LanguageRule] = {}  # the rule in other languages; a language not listed never fires it

    @field_validator("cameo")
    @classmethod
    def _cameo_codes(cls, codes):
        for code in codes:
            if not _CAMEO.match(code):
                raise ValueError(f"CAMEO code {code!r} must be 2-4 digits, or n/a where CAMEO has no category")
        return codes


class RulePack(_Model):
    schema_version: Literal[1]
    irregular: dict[str, tuple[str, ...]] = {}
    negations: tuple[str, ...] = ()
    # Words that put the phrase right after them in the future ("will be", "is to be"): see Rule.exclude_near_present
    future_frames: tuple[str, ...] = ()
    status_window_tokens: int = Field(10, ge=1, le=60, description="Status cues count only this close to the trigger.")
    status_levels: tuple[StatusLevel, ...] = Field(min_length=1)
    cue_sets: dict[str, tuple[str, ...]] = {}
    languages: dict[str, PackLanguage] = {}  # ISO 639-1 code -> that language's shared words (English: above)
    rules: tuple[Rule, ...] = Field(min_length=1)

    def _language(self, code: str, rule: Rule) -> PackLanguage:
        if code not in self.languages:
            raise ValueError(f"rule {rule.id} has words in {code!r}, which the pack's languages does not define")
        return self.languages[code]

    @model_validator(mode="after")
    def _references(self):
        ids = [r.id for r in self.rules]
        if len(ids) != len(set(ids)):
            raise ValueError(f"rule ids must be unique: {sorted({i for i in ids if ids.count(i) > 1})}")
        statuses = {level.status for level in self.status_levels}
        for code, lang in self.languages.items():
            unknown = sorted(set(lang.status_cues) - statuses)
            if unknown:
                raise ValueError(f"languages.{code}.status_cues: {unknown} are not statuses of status_levels")
        for rule in self.rules:
            unknown = sorted(set(rule.not_status) - statuses)
            if unknown:
                raise ValueError(f"rule {rule.id}: not_status {unknown} are not statuses of status_levels")
            for code, words in [("en", rule), *rule.languages.items()]:
                sets = self.cue_sets if code == "en" else self._language(code, rule).cue_sets
                fields = ("triggers", "cue_triggers", "require_any", "exclude", "exclude_near")
                for field in (*fields, "exclude_near_present", "exclude_undated"):
                    for word in getattr(words, field, ()):
                        if word.startswith("@") and word[1:] not in sets:
                            raise ValueError(
                                f"rule {rule.id} ({code}): {field} names cue set {word!r}, which is not defined"
                            )
        return self


# --- inflection: lemmas to surface forms -------------------------------------------------------

_VOWELS = "aeiou"


def inflect(lemma: str, irregular: dict[str, tuple[str, ...]]) -> set[str]:
    """The surface forms of a one-word lemma: noun plural, verb -s/-ed/-ing, plus the irregular ones."""
    w = lemma.lower()
    if "-" in w:  # test-fire -> test-fired: inflect the last part
        head, _, tail = w.rpartition("-")
        return {f"{head}-{form}" for form in inflect(tail, irregular)}
    forms = {w, *irregular.get(w, ())}
    if len(w) < 3 or not w.isalpha():
        return forms
    if w.endswith(("s", "x", "z", "ch", "sh")):
        forms |= {w + "es"}
    elif w.endswith("y") and w[-2] not in _VOWELS:
        forms |= {w[:-1] + "ies", w[:-1] + "ied"}
    else:
        forms |= {w + "s"}
    stem = w[:-1] if w.endswith("e") else w
    forms |= {stem + "ed", stem + "ing", w + "d" if w.endswith("e") else w + "ed"}
    if len(w) >= 3 and w[-1] not in _VOWELS + "wxy" and w[-2] in _VOWELS and w[-3] not in _VOWELS and len(w) <= 5:
        forms |= {w + w[-1] + "ed", w + w[-1] + "ing"}  # ship -> shipped, plan -> planning
    if w.endswith("l") and w[-2] in _VOWELS:
        forms |= {w + "led", w + "ling"}  # cancel -> cancelled (British spelling)
    return forms


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """(lower-cased token, start, end) for words, contractions and punctuation."""
    return [(m.group(0).lower().replace("’", "'"), m.start(), m.end()) for m in _TOKEN.finditer(text)]


STEM_KEY = 2  # letters of a stem that index it; every stem (x*) has at least this many
# A phrase word `_` matches one hyphenated modifier: "on a _ visit to" holds "on a two-day visit to" and "on a
# week-long visit to", the durations and extents news puts before a visit, not any word ("a planned visit").
MODIFIER = object()
_MODIFIER_WORD = frozenset({"_"})


class Phrases:
    """A set of lemma phrases compiled for matching over token lists. With `irregular` (English), the last word of
    each is inflected; without it (other languages) words match as written, and a word ending in * matches every
    token it begins. A word `_` (not the first) matches one hyphenated word ("on a _ visit to": "on a two-day visit
    to")."""

    def __init__(self, phrases: tuple[str, ...], irregular: Optional[dict[str, tuple[str, ...]]]):
        self.patterns: dict[str, list[tuple[tuple, str]]] = {}
        # A phrase whose first word is a stem (x*), indexed by the stem's first STEM_KEY letters: a token's own first
        # letters find the few stems it can begin with, so most tokens cost one dict lookup, as exact words do.
        self.prefixed: dict[str, list[tuple[str, tuple, str]]] = {}
        for phrase in phrases:
            if irregular is None:
                slots = [w[:-1].lower() if w.endswith("*") else frozenset({w.lower()}) for w in phrase.split()]
                if any(isinstance(s, str) and len(s) < STEM_KEY for s in slots):
                    raise ValueError(f"{phrase!r}: a stem (word*) needs at least {STEM_KEY} letters")
            else:
                words = [t for t, _, _ in tokenize(phrase)]
                if not words:
                    continue
                slots = [frozenset({w}) for w in words[:-1]] + [frozenset(inflect(words[-1], irregular))]
                if len(words) == 1 and len(words[0]) > 3:
                    slots = [frozenset(inflect(words[0], irregular))]
            if not slots:
                continue
            slots = [MODIFIER if s == _MODIFIER_WORD else s for s in slots]
            if slots[0] is MODIFIER or phrase.split()[-1] == "_":
                raise ValueError(f"{phrase!r}: the modifier slot _ stands between words, not first or last")
            if isinstance(slots[0], str):
                self.prefixed.setdefault(slots[0][:STEM_KEY], []).append((slots[0], tuple(slots), phrase))
                continue
            for first in slots[0]:
                self.patterns.setdefault(first, []).append((tuple(slots), phrase))

    def find(self, tokens: list[str], lo: int = 0, hi: Optional[int] = None) -> list[tuple[int, int, str]]:
        """(first token, end token, phrase) of every match inside tokens[lo:hi]."""
        hi = len(tokens) if hi is None else hi
        window = tokens[lo:hi]
        if self.patterns.keys().isdisjoint(window) and (
            not self.prefixed or self.prefixed.keys().isdisjoint(t[:STEM_KEY] for t in window)
        ):
            return []  # most sentences hold no phrase: one pass in C, not in Python
        found = []
        for i in range(lo, hi):
            candidates = list(self.patterns.get(tokens[i], ()))
            stems = self.prefixed.get(tokens[i][:STEM_KEY], ()) if self.prefixed else ()
            candidates += [(slots, p) for stem, slots, p in stems if tokens[i].startswith(stem)]
            for slots, phrase in candidates:
                end = i + len(slots)
                if end <= hi and all(_fits(slots[k], tokens[i + k]) for k in range(1, len(slots))):
                    found.append((i, end, phrase))
        return found

    def __bool__(self):
        return bool(self.patterns or self.prefixed)


def _fits(slot, token: str) -> bool:
    if slot is MODIFIER:
        return "-" in token.strip("-")
    return token in slot if isinstance(slot, frozenset) else token.startswith(slot)


class CompiledRule:
    """A rule's words compiled for one language (English: the rule's own fields; others: `rule.languages`)."""

    def __init__(self, rule: Rule, pack: RulePack, language: str = "en"):
        self.rule = rule
        self.language = language
        english = language == "en"
        words = rule if english else rule.languages[language]
        sets = pack.cue_sets if english else pack.languages[language].cue_sets
        irregular = pack.irregular if english else None

        def expand(items):
            out = []
            for w in items:
                out.extend(sets[w[1:]] if w.startswith("@") else [w])
            return tuple(out)

        cue_triggers = expand(rule.cue_triggers) if english else ()
        self.triggers = Phrases(expand(words.triggers) + cue_triggers, irregular)
        self.cue_triggers = frozenset(cue_triggers)
        self.require = Phrases(expand(words.require_any), irregular)
        self.exclude = Phrases(expand(words.exclude), irregular)
        self.exclude_near = Phrases(expand(words.exclude_near), irregular)
        self.exclude_near_present = Phrases(expand(rule.exclude_near_present if english else ()), irregular)
        self.exclude_undated = Phrases(expand(words.exclude_undated if english else ()), irregular)
        # The triggers' past-tense forms ("met", "visited", "held"): for a past-tense rule a trigger in one of these
        # is the evidence of tense its required cues otherwise give. English only: elsewhere the cues say it.
        self.past_forms = frozenset(
            form
            for phrase in (expand(rule.triggers) if english else ())
            for last in [tokenize(phrase)[-1][0]]
            for form in inflect(last, pack.irregular)
            if form.endswith("ed") or form in pack.irregular.get(last, ())
        )


class CompiledLanguage:
    """Everything the engine needs for one language: its rules, negations and status cues."""

    def __init__(self, pack: RulePack, language: str):
        english = language == "en"
        words = None if english else pack.languages[language]
        self.language = language
        self.rules = [CompiledRule(r, pack, language) for r in pack.rules if english or language in r.languages]
        self.negations = Phrases(pack.negations, {}) if english else Phrases(words.negations, None)
        self.future_frames = Phrases(pack.future_frames if english else (), None)  # matched as written
        self.status = [
            (level, Phrases(level.cues, pack.irregular))
            if english
            else (level, Phrases(words.status_cues.get(level.status, ()), None))
            for level in pack.status_levels
        ]


class CompiledPack:
    def __init__(self, pack: RulePack):
        self.pack = pack
        self.by_language = {code: CompiledLanguage(pack, code) for code in ["en", *sorted(pack.languages)]}
        english = self.by_language["en"]
        self.rules, self.negations, self.status = english.rules, english.negations, english.status
        self.levels = {level.status: level for level in pack.status_levels}

    def language(self, code: Optional[str]) -> Optional[CompiledLanguage]:
        """The rules for an article's language; None when the pack has no words in it (then nothing fires)."""
        return self.by_language.get(code or "en")


def _format_error(err: ValidationError, where: str) -> str:
    lines = []
    for e in err.errors()[:10]:
        loc = ".".join(str(p) for p in e["loc"])
        lines.append(f"  {loc}: {e['msg']}")
    return f"{where}: invalid rule pack\n" + "\n".join(lines)


def load_rule_pack(path: Optional[str] = None) -> CompiledPack:
    """Load, validate and compile a rule pack: the default one, or a user's YAML file."""
    where = path or "transforms/data/rules/default.yaml"
    try:
        text = (
            Path(path).read_text(encoding="utf-8")
            if path
            else resources.files("transforms").joinpath("data", "rules", "default.yaml").read_text(encoding="utf-8")
        )
        data = yaml.safe_load(text)
    except (OSError, yaml.YAMLError) as err:
        raise RulePackError(f"{where}: cannot read the rule pack: {err}") from None
    if not isinstance(data, dict):
        raise RulePackError(f"{where}: a rule pack is a YAML mapping with schema_version, status_levels and rules")
    try:
        return CompiledPack(RulePack.model_validate(data))
    except ValidationError as err:
        raise RulePackError(_format_error(err, where)) from None
    except ValueError as err:  # a word the matcher cannot compile (a stem too short)
        raise RulePackError(f"{where}: invalid rule pack: {err}") from None


@lru_cache(maxsize=4)
def cached_rule_pack(path: Optional[str] = None) -> CompiledPack:
    return load_rule_pack(path)
