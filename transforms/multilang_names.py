"""The gazetteer's names in languages other than English: each language's gazetteer (aliases.csv, pycountry's
translated country names), the word keys names are matched on (inflection.yaml: natasha's lemmatizer for Russian,
suffix rules elsewhere, characters for Chinese and Japanese), and the matcher that finds them in a text.
transforms/multilang.py runs them beside each language's own NER model.
"""

from __future__ import annotations

import csv
import dataclasses
import gettext
import re
import unicodedata
from functools import lru_cache
from typing import Callable, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from transforms.gazetteer import (
    Gazetteer,
    GazetteerEntry,
    GazetteerError,
    _data_text,
    _split,
    load_gazetteer,
)

# The languages whose country names come from pycountry's ISO 3166 translations, and each one's gettext locale.
COUNTRY_NAME_LOCALES = {
    "ru": "ru",
    "uk": "uk",
    "fr": "fr",
    "de": "de",
    "es": "es",
    "it": "it",
    "pt": "pt",
    "pl": "pl",
    "tr": "tr",
    "ar": "ar",
    "zh": "zh_CN",
    "ja": "ja",
    "ko": "ko",
    "vi": "vi",
}
# Scripts written without spaces between words: one character is one token.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+")
PREFIX = 3


class Inflection(BaseModel):
    """inflection.yaml: how one language's words are reduced to match keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lemmatizer: Optional[str] = Field(None, pattern="^natasha$")
    suffixes: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    min_stem: int = Field(3, ge=1)
    letters: dict[str, str] = Field(default_factory=dict)
    source: str = Field(min_length=1)


class AliasRow(BaseModel):
    """aliases.csv: one entity's names in one language, and where that list comes from (sources.yaml)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    type: str
    lang: str = Field(pattern="^[a-z]{2,3}$")
    aliases: tuple[str, ...] = Field(min_length=1)
    source: str


@lru_cache(maxsize=1)
def alias_sources() -> dict[str, str]:
    return yaml.safe_load(_data_text("gazetteer", "sources.yaml"))


@lru_cache(maxsize=1)
def inflection_rules() -> dict[str, Inflection]:
    try:
        raw = yaml.safe_load(_data_text("gazetteer", "inflection.yaml"))["languages"]
        return {lang: Inflection.model_validate(rule) for lang, rule in raw.items()}
    except (ValidationError, KeyError, TypeError) as err:
        raise GazetteerError(f"inflection.yaml: {err}") from None


@lru_cache(maxsize=1)
def alias_rows() -> tuple[AliasRow, ...]:
    rows, sources = [], alias_sources()
    for i, row in enumerate(csv.DictReader(_data_text("gazetteer", "aliases.csv").splitlines())):
        where = f"aliases.csv line {i + 2}"
        try:
            parsed = AliasRow(**{**row, "aliases": _split(row.get("aliases"))})
        except ValidationError as err:
            raise GazetteerError(f"{where}: {err}") from None
        if parsed.source not in sources:
            raise GazetteerError(f"{where}: source {parsed.source!r} is not a key of sources.yaml")
        rows.append(parsed)
    return tuple(rows)


def country_names(lang: str) -> dict[str, list[str]]:
    """alpha-2 -> the country's names in `lang` from pycountry's ISO 3166-1 translations (none when the catalogue has
    no translation: an untranslated name is the English one, which the gazetteer has already)."""
    import pycountry

    locale = COUNTRY_NAME_LOCALES.get(lang)
    if locale is None:
        return {}
    try:
        catalogue = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[locale])
    except OSError:
        return {}
    out: dict[str, list[str]] = {}
    for country in pycountry.countries:
        names = []
        for field in ("common_name", "name", "official_name"):
            english = getattr(country, field, None)
            if not english:
                continue
            name = re.sub(r"\s*\([^)]*\)", "", catalogue.gettext(english)).strip()
            if name and name != english and "," not in name and name not in names:
                names.append(name)
        if names:
            out[country.alpha_2] = names
    return out


@lru_cache(maxsize=32)
def load_language_gazetteer(lang: str) -> Gazetteer:
    """The gazetteer for text in `lang`: every entry with its English names (they appear in any language: "Kim Jong
    Un", "NATO") and its names in `lang`. Ambiguity is decided within the language, as for English."""
    import pycountry

    base = load_gazetteer()
    extra: dict[tuple[str, str], list[str]] = {}
    by_name = {(e.name, e.type): e for e in base.entries}
    for alpha2, names in country_names(lang).items():
        country = pycountry.countries.get(alpha_2=alpha2)
        entry = next((e for e in base.entries if e.type == "GPE" and country.name in (e.name, *e.aliases)), None)
        if entry is None:
            entry = next(
                (e for e in base.entries if e.type == "GPE" and getattr(country, "common_name", "") == e.name), None
            )
        if entry is not None:
            extra.setdefault((entry.name, entry.type), []).extend(names)
    for row in alias_rows():
        if (row.name, row.type) not in by_name:
            raise GazetteerError(f"aliases.csv: {row.name!r} ({row.type}) is not an entry of the gazetteer")
        if row.lang == lang:
            extra.setdefault((row.name, row.type), []).extend(row.aliases)
    entries = [
        GazetteerEntry(**{**e.model_dump(), "aliases": tuple(dict.fromkeys((*e.aliases, *extra[(e.name, e.type)])))})
        if (e.name, e.type) in extra
        else e
        for e in base.entries
    ]
    return Gazetteer(entries, base.country_ids)


# --- keys: a word as the matcher compares it ----------------------------------------------------------------------


class Keyer:
    """`keyer(text)` -> [(start, end, key)] for the words of `text`, reduced by the language's inflection rules."""

    def __init__(self, lang: str):
        self.lang = lang
        self.rule = inflection_rules().get(lang)
        self._letters = str.maketrans(self.rule.letters) if self.rule and self.rule.letters else None
        self._lemma: Optional[Callable[[str], str]] = None
        if self.rule and self.rule.lemmatizer == "natasha":
            self._lemma = natasha_lemmatizer()
        self.key = lru_cache(maxsize=1 << 15)(self._key)
        # With a lemmatizer (a dictionary look-up, about 1 ms a word in pure Python), only the words that can match: an
        # inflected form shares its first letters with its normal form, so a word whose first PREFIX letters begin no
        # alias word keeps its own form (AliasMatcher sets this).
        self.prefixes: Optional[frozenset[str]] = None

    def _key(self, word: str) -> str:
        word = unicodedata.normalize("NFC", word).casefold()
        word = "".join(c for c in word if not unicodedata.combining(c))
        if self._letters:
            word = word.translate(self._letters)
        if self._lemma is not None:
            word = self._lemma(word)
            if self._letters:
                word = word.translate(self._letters)
        rule = self.rule
        if rule is not None:
            for suffix in sorted(rule.suffixes, key=len, reverse=True):
                if word.endswith(suffix) and len(word) - len(suffix) >= rule.min_stem:
                    word = word[: -len(suffix)]
                    break
            for prefix in sorted(rule.prefixes, key=len, reverse=True):
                if word.startswith(prefix) and len(word) - len(prefix) >= rule.min_stem:
                    word = word[len(prefix) :]
                    break
        return word

    def __call__(self, text: str) -> list[tuple[int, int, str]]:
        return [(m.start(), m.end(), self.key(m.group(0))) for m in _TOKEN.finditer(text)]

    def text_keys(self, text: str) -> list[tuple[int, int, str]]:
        """As calling the keyer, for an article's text: a word no alias word can begin with is not lemmatized."""
        if self.prefixes is None:
            return self(text)
        out = []
        for m in _TOKEN.finditer(text):
            word = m.group(0)
            plain = word.casefold().translate(self._letters) if self._letters else word.casefold()
            out.append((m.start(), m.end(), self.key(word) if plain[:PREFIX] in self.prefixes else plain))
        return out


@lru_cache(maxsize=1)
def natasha_lemmatizer() -> Callable[[str], str]:
    """A word's normal form from natasha's MorphVocab (pymorphy2's Russian dictionary; plain pymorphy2.MorphAnalyzer()
    fails on Python 3.11, natasha's subclass does not): the most likely parse's."""
    from natasha import MorphVocab

    vocab = MorphVocab()

    def lemma(word: str) -> str:
        parses = vocab.parse(word)
        return parses[0].normal_form if parses else word

    return lemma


# --- the gazetteer's names in a text ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Match:
    start: int
    end: int
    entry: GazetteerEntry


class AliasMatcher:
    """Every unambiguous alias of a language gazetteer, as key sequences; `find(text)` gives the longest matches,
    left to right, that do not overlap. An alias written with a capital matches only text that starts with one
    ("Nga" is Russia, "nga" is not)."""

    def __init__(self, gazetteer: Gazetteer, keyer: Keyer):
        self.keyer = keyer
        self.index: dict[tuple[str, ...], tuple[GazetteerEntry, bool]] = {}
        ambiguous: set[tuple[str, ...]] = set()
        for alias, entry in gazetteer.by_alias.items():
            keys = tuple(k for _, _, k in keyer(alias))
            if not keys:
                continue
            capital = alias[:1].isupper()
            found = self.index.get(keys)
            if found is not None and (found[0].id, found[0].type) != (entry.id, entry.type):
                ambiguous.add(keys)
            self.index[keys] = (entry, capital and (found[1] if found else True))
        for keys in ambiguous:
            del self.index[keys]
        self.longest = max((len(k) for k in self.index), default=0)
        if keyer.rule is not None and keyer.rule.lemmatizer:
            keyer.prefixes = frozenset(k[:PREFIX] for keys in self.index for k in keys)

    def find(self, text: str, tokens: Optional[list] = None) -> list[Match]:
        tokens = tokens if tokens is not None else self.keyer.text_keys(text)
        out, i = [], 0
        while i < len(tokens):
            for n in range(min(self.longest, len(tokens) - i), 0, -1):
                hit = self.index.get(tuple(t[2] for t in tokens[i : i + n]))
                if hit is not None and (not hit[1] or text[tokens[i][0]].isupper()):
                    out.append(Match(tokens[i][0], tokens[i + n - 1][1], hit[0]))
                    i += n
                    break
            else:
                i += 1
        return out

    def lookup(self, text: str) -> Optional[GazetteerEntry]:
        """The entry whose alias is exactly `text`, word for word on keys."""
        hit = self.index.get(tuple(k for _, _, k in self.keyer(text)))
        return hit[0] if hit else None
