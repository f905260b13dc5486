"""The gazetteer and the tagger's rules: domain knowledge kept as data files, validated when loaded.

Data (package data under transforms/data/):
- gazetteer/countries.csv: alpha2, Wikidata id, the short names the news uses, demonyms. Every
  country pycountry knows is an entry; this file adds ids, news names and demonyms (NORP, with the
  country's id).
- gazetteer/historic_countries.csv: id, name, aliases, demonyms of states that no longer exist and that archives of
  news name (West Germany, the Soviet Union, ...): countries like the others; `id` is the Wikidata QID (each with
  its evidence in qid_sources.csv), a blank one a derived id.
- gazetteer/entities.csv: id, name, type, aliases (|-separated) for people, organizations, news
  agencies, cities and places. `id` is a Wikidata QID where one is recorded; a blank id becomes a
  deterministic id derived from the type and the normalized name, the same id an unknown name of
  that type and form gets.
- gazetteer/qid_sources.csv: id, name, evidence: where each QID added without Wikidata access was
  seen paired with that entity in stored public material (documentation only, not loaded).
- ner_rules.yaml: labels kept, honorifics, facility head words, … (see NerRules).

An alias that names two entries (say "Georgia") is ambiguous: it is not matched, so the model
decides, and nothing is guessed.
"""

from __future__ import annotations

import csv
import hashlib
import re
import unicodedata
from functools import lru_cache
from importlib import resources
from typing import Literal, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

EntityType = Literal["PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW"]
Role = Literal["head_of_state", "head_of_government", "foreign_minister", "minister", "official", "spokesperson"]
LEADER_ROLES = frozenset({"head_of_state", "head_of_government"})
_QID = re.compile(r"^Q\d+$")


class GazetteerError(ValueError):
    """A gazetteer or rules file is malformed: raised at start-up, never mid-run."""


class GazetteerEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str = Field(min_length=1)
    type: EntityType
    aliases: tuple[str, ...] = ()
    roles: tuple[Role, ...] = ()


class NerRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    keep_labels: frozenset[str]
    trim_tokens: frozenset[str]
    honorifics: frozenset[str]
    # Titles that are no part of the name after them: a person span that begins with one is the name alone
    # ("Rabbi Capers Funnye" -> "Capers Funnye"), as CoNLL-2003 and the news write it. Not regnal titles ("Pope
    # Francis", "King Charles"), which are how the person is named.
    person_titles: frozenset[str] = frozenset()
    # A prefix of a former role before a person's name, as spaCy splits it: "ex" of "ex-Beatle Paul McCartney".
    former_prefixes: frozenset[str] = frozenset()
    # Generational suffixes after a surname, without their period: "Robert F. Kennedy Jr." is "Kennedy" for short.
    name_suffixes: frozenset[str] = frozenset()
    historical_markers: frozenset[str]
    facility_heads: frozenset[str]
    product_heads: frozenset[str] = frozenset()
    law_heads: frozenset[str] = frozenset()
    model_number: Optional[re.Pattern] = None  # one token after a maker: a product ("Boeing 777")
    model_makers: frozenset[str] = frozenset()
    magnitude_words: frozenset[str] = frozenset()  # after a number, a sum: "Boeing 500 million" is no model
    flight_number: Optional[re.Pattern] = None  # one token alone: a flight ("MH370"), never an organization
    title_case_min_share: float = Field(ge=0.3, le=1.0)
    headline_function_words: frozenset[str] = frozenset()
    title_case_minor_words: frozenset[str] = frozenset()  # see ner_rules.yaml
    place_modifiers: frozenset[str] = frozenset()
    propagate_types: frozenset[str] = frozenset()


@lru_cache(maxsize=1 << 14)  # a pure function of the name, called several times per mention: a few MiB at most
def normalize_name(text: str) -> str:
    """Case-, accent- and spacing-insensitive form of a name: "Kim Jong-Un's" -> "kim jong un"."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"['’]s$", "", text.strip())
    text = re.sub(r"[\s\-‐–—_.]+", " ", text.casefold())
    return text.strip()


def derived_id(entity_type: str, name: str) -> str:
    """The id of a name with no Wikidata id: stable across runs, from its type and normalized form."""
    digest = hashlib.sha256(f"{entity_type}\x1f{normalize_name(name)}".encode("utf-8")).hexdigest()
    return f"nb:{entity_type.lower()}:{digest[:12]}"


def _data_text(*parts: str) -> str:
    return resources.files("transforms").joinpath("data", *parts).read_text(encoding="utf-8")


def _split(value: Optional[str]) -> tuple[str, ...]:
    return tuple(a.strip() for a in (value or "").split("|") if a.strip())


def parse_entry(row: dict, where: str) -> GazetteerEntry:
    try:
        entry_id = (row.get("id") or "").strip()
        if entry_id and not _QID.match(entry_id):
            raise GazetteerError(f"{where}: id {entry_id!r} is not a Wikidata QID (Q followed by digits)")
        return GazetteerEntry(
            id=entry_id or derived_id(row["type"], row["name"]),
            name=row["name"].strip(),
            type=row["type"].strip(),
            aliases=_split(row.get("aliases")),
        )
    except (ValidationError, KeyError) as err:
        raise GazetteerError(f"{where}: {err}") from None


def _country_entries() -> list[GazetteerEntry]:
    import pycountry

    rows = {r["alpha2"]: r for r in csv.DictReader(_data_text("gazetteer", "countries.csv").splitlines())}
    entries = []
    for country in pycountry.countries:
        row = rows.get(country.alpha_2, {})
        news_names = _split(row.get("aliases"))
        official = [getattr(country, a, None) for a in ("common_name", "name", "official_name")]
        names = list(dict.fromkeys([*news_names, *[n for n in official if n and "," not in n and "(" not in n]]))
        if not names:
            continue
        canonical = names[0]
        qid = (row.get("id") or "").strip()
        country_id = qid or derived_id("GPE", canonical)
        entries.append(GazetteerEntry(id=country_id, name=canonical, type="GPE", aliases=tuple(names[1:])))
        demonyms = _split(row.get("demonyms"))
        if demonyms:
            # NORP mentions carry the country's id: "Russian officials" is about Russia.
            entries.append(GazetteerEntry(id=country_id, name=canonical, type="NORP", aliases=demonyms))
    for row in csv.DictReader(_data_text("gazetteer", "historic_countries.csv").splitlines()):
        name, demonyms = row["name"], _split(row["demonyms"])
        country_id = row["id"].strip() or derived_id("GPE", name)
        entries.append(GazetteerEntry(id=country_id, name=name, type="GPE", aliases=_split(row["aliases"])))
        if demonyms:
            entries.append(GazetteerEntry(id=country_id, name=name, type="NORP", aliases=demonyms))
    return entries


class Gazetteer:
    """Entries, and an alias index that knows which aliases are ambiguous."""

    def __init__(self, entries: list[GazetteerEntry], country_ids: frozenset[str] = frozenset()):
        self.entries = entries
        self.country_ids = country_ids
        self.by_id: dict[str, GazetteerEntry] = {}
        candidates: dict[str, dict[tuple[str, str], GazetteerEntry]] = {}
        for entry in entries:
            self.by_id.setdefault(entry.id, entry)
            surface = [entry.name] if entry.type != "NORP" else []
            for alias in (*surface, *entry.aliases):
                candidates.setdefault(alias, {})[(entry.id, entry.type)] = entry
        self.by_alias = {alias: next(iter(found.values())) for alias, found in candidates.items() if len(found) == 1}
        self.ambiguous = frozenset(alias for alias, found in candidates.items() if len(found) > 1)
        normal: dict[str, dict[tuple[str, str], GazetteerEntry]] = {}
        for alias, entry in self.by_alias.items():
            normal.setdefault(normalize_name(alias), {})[(entry.id, entry.type)] = entry
        self.by_normal = {k: next(iter(v.values())) for k, v in normal.items() if len(v) == 1}

    def lookup(self, text: str) -> Optional[GazetteerEntry]:
        """The one entry this surface form names, exactly or after normalization; None if unknown or ambiguous."""
        return self.by_alias.get(text) or self.by_normal.get(normalize_name(text))

    def canonical(self, entity_id: str) -> Optional[GazetteerEntry]:
        return self.by_id.get(entity_id)

    def ruler_patterns(self) -> list[dict]:
        """entity_ruler phrase patterns, one per unambiguous alias (ALL-CAPS lines are title-cased before matching)."""
        return [{"label": e.type, "pattern": alias, "id": e.id} for alias, e in sorted(self.by_alias.items())]

    def acronyms(self) -> frozenset[str]:
        """All-caps aliases (UN, NATO, KCNA): left as they are when an ALL-CAPS line is title-cased."""
        return frozenset(a for a in self.by_alias if a.isupper())


@lru_cache(maxsize=1)
def load_gazetteer() -> Gazetteer:
    rows = csv.DictReader(_data_text("gazetteer", "entities.csv").splitlines())
    entries = [parse_entry(row, f"entities.csv line {i + 2}") for i, row in enumerate(rows)]
    roles: dict[str, tuple[str, ...]] = {}
    for i, row in enumerate(csv.DictReader(_data_text("gazetteer", "roles.csv").splitlines())):
        if not any(e.name == row["name"] for e in entries):
            raise GazetteerError(f"roles.csv line {i + 2}: {row['name']!r} is not a name in entities.csv")
        roles[row["name"]] = _split(row["roles"])
    try:
        entries = [
            GazetteerEntry(**{**e.model_dump(), "roles": roles[e.name]}) if e.name in roles else e for e in entries
        ]
    except ValidationError as err:
        raise GazetteerError(f"roles.csv: {err}") from None
    countries = _country_entries()
    return Gazetteer(countries + entries, frozenset(e.id for e in countries))


@lru_cache(maxsize=1)
def load_ner_rules() -> NerRules:
    try:
        return NerRules.model_validate(yaml.safe_load(_data_text("ner_rules.yaml")))
    except ValidationError as err:
        raise GazetteerError(f"ner_rules.yaml: {err}") from None
