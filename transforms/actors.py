"""Who acts in a sentence: its entity mentions, the officials named by their title, and the nouns for a government.

    ActorFinder(gazetteer, load_role_book())(mentions, words, tokens, offset)  ->  [Actor]

Each actor has kinds a rule's actor constraint reads (docs/rules.md):
- a person: `person`, plus the kinds of their role (roles.yaml): a title just before the name ("U.S. Secretary of
  State George Shultz") or at the start of the name's span ("Pope Francis", where the model took the title in),
  else the role the gazetteer records for them;
- a title with no name after it is an actor of its own when the role is senior ("the foreign secretary is to
  visit", "finance ministers meet"), with an id from its role and country;
- the country a title belongs to is the country or demonym just before it ("Russian President", "Japan's foreign
  minister"), right after it ("le président russe", "Президент России") or after "of" ("the foreign minister of
  Japan"); a title that belongs to a company ("Acme
  president John Smith", "president of Acme") gives its holder no public role;
- a country (or its demonym): `country`, `state`, and `place` (or `group` for a demonym);
- an organization: `organization` and `group`, plus `international_body`, `government` (and `state`), `party` or
  `armed_group` when roles.yaml's `bodies` lists it; any other organization (a company, a club) is none of those;
- a noun for a government, an armed group or states ("the government", "rebels", "the two countries").

An actor that stands for several parties (`many`: a plural title with no name, "finance ministers"; an international
body; "the two countries") counts one more toward a rule's `min_distinct`: "EU ministers meet" is a meeting.
"""

from __future__ import annotations

import bisect
import dataclasses
from typing import Optional

from schemas import EntityMention
from transforms.gazetteer import Gazetteer
from transforms.roles import RoleBook, RoleDef
from transforms.rules import tokenize
from transforms.text import stable_id

TITLE_GAP_TOKENS = 2  # "Foreign Secretary, Jack Straw": a name this close after a title holds it
OWNER_GAP_TOKENS = 2  # "Japan's foreign minister": a country this close before a title owns it
_OWNER_SKIP = frozenset({"'s", "'", "the", "a", "an", ","})


@dataclasses.dataclass(frozen=True)
class Actor:
    entity_id: str
    name: str
    type: str  # the entity type (PERSON, GPE, ORG, NORP, …)
    kinds: frozenset[str]
    role: Optional[str] = None
    role_country: Optional[str] = None  # the entity id of the country the role belongs to, where stated
    mention: Optional[EntityMention] = None
    many: bool = False  # stands for several parties: "finance ministers", "the two countries", the G7 or the EU


class ActorFinder:
    def __init__(self, gazetteer: Gazetteer, book: RoleBook):
        self._gaz = gazetteer
        self._book = book

    def article_roles(
        self, body: str, sentences: list[tuple[int, int]], mentions: list[EntityMention], language: str = "en"
    ) -> dict:
        """entity id -> the titled Actor of each person whose title the article states somewhere: "Venezuelan
        President Hugo Chavez" makes "Mr Chavez, who is visiting China" a head of state too."""
        known: dict[str, Actor] = {}
        people = [m for m in mentions if m.type == "PERSON"]
        for start, end in sentences:
            inside = [m for m in mentions if start <= m.start_char and m.end_char <= end]
            if not any(m.type == "PERSON" and m.entity_id not in known for m in inside):
                continue
            tokens = tokenize(body[start:end])
            for actor in self(inside, [t for t, _, _ in tokens], tokens, start, None, language):
                if actor.role and actor.mention is not None and actor.entity_id not in known:
                    known[actor.entity_id] = actor
        return known if people else {}

    def __call__(  # noqa: PLR0913
        self,
        mentions: list[EntityMention],
        words: list[str],
        tokens: list,
        offset: int,
        known: dict | None = None,
        language: str = "en",
    ) -> list[Actor]:
        starts = [s + offset for _, s, _ in tokens]
        spans = [self._token_span(m, starts) for m in mentions]
        titles = self._book.titles(words, language)
        held: set[int] = set()
        actors = []
        for m, (i, j) in zip(mentions, spans):
            actor = self._mention_actor(m)
            if m.type == "PERSON":
                # a title just before the name, or one the model took into the name's span ("Pope Francis")
                k = next(
                    (k for k, t in enumerate(titles) if 0 <= i - t[1] <= TITLE_GAP_TOKENS or (t[0] == i and t[1] < j)),
                    None,
                )
                if k is not None:
                    held.add(k)
                    actor = self._with_title(actor, titles[k], mentions, spans, words)
                elif known and m.entity_id in known:
                    titled = known[m.entity_id]
                    actor = dataclasses.replace(
                        actor, kinds=actor.kinds | titled.kinds, role=titled.role, role_country=titled.role_country
                    )
                else:
                    actor = self._with_gazetteer_role(actor)
            actors.append(actor)
        for k, title in enumerate(titles):
            inside = any(i < title[1] and title[0] < j for i, j in spans)
            if k not in held and not inside and title[2].stands_alone:
                actor = self._title_actor(title, mentions, spans, words, language)
                if actor is not None:
                    actors.append(actor)
        for a, b, kind in self._book.groups(words, language):
            if not any(i < b and a < j for i, j in spans):
                name = " ".join(words[a:b])
                kinds = {kind, "state"} if kind in ("government", "state") else {kind, "group"}
                many = kind == "state"  # "the two countries"
                actors.append(Actor(stable_id("grp_", kind, name), name, "NORP", frozenset(kinds), many=many))
        return actors

    @staticmethod
    def _token_span(m: EntityMention, starts: list[int]) -> tuple[int, int]:
        return bisect.bisect_left(starts, m.start_char), bisect.bisect_left(starts, m.end_char)

    def _mention_actor(self, m: EntityMention) -> Actor:
        entry = self._gaz.canonical(m.entity_id)
        name = entry.name if entry else m.canonical_name
        kinds: set[str] = set()
        if m.type == "PERSON":
            kinds.add("person")
        elif m.type in ("GPE", "NORP") and m.entity_id in self._gaz.country_ids:
            kinds |= {"country", "state", "group" if m.type == "NORP" else "place"}
        elif m.type in ("GPE", "LOC", "FAC"):
            kinds.add("place")
        elif m.type == "ORG":
            kinds |= {"organization", "group"}
            body = self._book.body_kind(name)
            if body:
                kinds |= {body, "state"} if body == "government" else {body}
        elif m.type == "NORP":
            kinds.add("group")
        return Actor(m.entity_id, name, m.type, frozenset(kinds), mention=m, many="international_body" in kinds)

    def _with_gazetteer_role(self, actor: Actor) -> Actor:
        entry = self._gaz.canonical(actor.entity_id)
        roles = [r for r in (self._book.role(x) for x in (entry.roles if entry else ())) if r]
        if not roles:
            return actor
        return dataclasses.replace(actor, kinds=actor.kinds | set(roles[0].kinds), role=roles[0].role)

    def _with_title(self, actor: Actor, title, mentions, spans, words) -> Actor:
        owner = self._owner(title, mentions, spans, words)
        if owner is not None and not self._is_public(owner):
            return actor  # a company's president or chairman holds no public role
        role: RoleDef = title[2]
        country = owner.entity_id if owner is not None and owner.entity_id in self._gaz.country_ids else None
        return dataclasses.replace(actor, kinds=actor.kinds | set(role.kinds), role=role.role, role_country=country)

    def _title_actor(self, title, mentions, spans, words, language) -> Optional[Actor]:
        a, b, role = title
        owner = self._owner(title, mentions, spans, words)
        if owner is not None and not self._is_public(owner):
            return None
        country = owner.entity_id if owner is not None and owner.entity_id in self._gaz.country_ids else None
        entry = self._gaz.canonical(country) if country else None
        written = " ".join(words[a:b])
        name = f"{written} ({entry.name})" if entry else written
        plural = language == "en" and _plural(words[b - 1], role)
        return Actor(
            stable_id("role_", role.role, country or ""),
            name,
            "PERSON",
            frozenset(role.kinds),
            role.role,
            country,
            many=plural,
        )

    def _is_public(self, m: EntityMention) -> bool:
        if m.entity_id in self._gaz.country_ids or m.type in ("GPE", "NORP", "LOC"):
            return True
        entry = self._gaz.canonical(m.entity_id)
        return m.type == "ORG" and self._book.body_kind(entry.name if entry else m.canonical_name) is not None

    @staticmethod
    def _owner(title, mentions, spans, words) -> Optional[EntityMention]:
        """The country or organization a title belongs to: just before it, or after "of"."""
        a, b, _ = title
        for m, (i, j) in zip(mentions, spans):
            if m.type not in ("GPE", "NORP", "ORG"):
                continue
            between = words[j:a]
            if j <= a and a - j <= OWNER_GAP_TOKENS and all(w in _OWNER_SKIP for w in between):
                return m
            if i > b and words[b] == "of" and all(w in _OWNER_SKIP for w in words[b + 1 : i]):
                return m
            if i == b and m.type in ("GPE", "NORP"):  # "le président russe", "Президент России"
                return m
        return None


def _plural(word: str, role: RoleDef) -> bool:
    """An English title written in the plural ("finance ministers"): its last word is none of the role's titles' own
    last words ("minister of foreign affairs" ends in an s and is one official)."""
    return word.endswith("s") and word not in {t.split()[-1] for t in role.titles}
