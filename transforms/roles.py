"""Officials by role: the titles in `transforms/data/roles.yaml`, found in a sentence's tokens.

    book = load_role_book()
    book.titles(words)  ->  [(first token, end token, RoleDef)]   longest title first, no overlaps

The alert engine (transforms/alerts.py) reads a title as the role of the person named after it, or, with no name
after it, as an actor of its own ("the foreign secretary is to visit"). Titles are lemmas matched in lower case, so
ALL-CAPS wires match too.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from transforms.rules import Phrases

RoleKind = Literal["leader", "senior", "official", "state"]
GroupKind = Literal["government", "armed_group", "state"]
BodyKind = Literal["international_body", "financial_body", "government", "party", "armed_group"]


class RoleBookError(ValueError):
    """roles.yaml cannot be used; the message says where and why."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RoleDef(_Model):
    role: str = Field(pattern=r"^[a-z][a-z_]*$")
    kinds: tuple[RoleKind, ...] = Field(min_length=1)
    titles: tuple[str, ...] = Field(min_length=1)
    titles_in: dict[str, tuple[str, ...]] = {}  # other languages: forms as written, or stems ending in *

    @property
    def stands_alone(self) -> bool:
        """A title without a name is an actor only for senior roles: "the minister", not "the general"."""
        return "senior" in self.kinds


class GroupDef(_Model):
    kind: GroupKind
    words: tuple[str, ...] = Field(min_length=1)
    words_in: dict[str, tuple[str, ...]] = {}


class RoleData(_Model):
    schema_version: Literal[1]
    roles: tuple[RoleDef, ...] = Field(min_length=1)
    groups: tuple[GroupDef, ...] = ()
    bodies: dict[BodyKind, tuple[str, ...]] = {}


class RoleBook:
    """The compiled titles and group nouns; `titles` and `groups` return non-overlapping matches, longest first."""

    def __init__(self, data: RoleData, irregular: dict[str, tuple[str, ...]] | None = None):
        self.data = data
        self._roles = {r.role: r for r in data.roles}
        languages = {"en"} | {c for r in data.roles for c in r.titles_in} | {c for g in data.groups for c in g.words_in}
        self._titles, self._groups = {}, {}
        self._title_role: dict[tuple[str, str], RoleDef] = {}
        self._group_kind: dict[tuple[str, str], str] = {}
        for code in sorted(languages):
            titles = {t: r for r in data.roles for t in (r.titles if code == "en" else r.titles_in.get(code, ()))}
            groups = {w: g.kind for g in data.groups for w in (g.words if code == "en" else g.words_in.get(code, ()))}
            inflection = (irregular or {}) if code == "en" else None
            self._titles[code] = Phrases(tuple(titles), inflection)
            self._groups[code] = Phrases(tuple(groups), inflection)
            self._title_role |= {(code, t): r for t, r in titles.items()}
            self._group_kind |= {(code, w): k for w, k in groups.items()}
        self._body_kind = {name: kind for kind, names in data.bodies.items() for name in names}

    def body_kind(self, name: str) -> str | None:
        """What a gazetteer organization is (international_body, financial_body, government, party, armed_group), by
        its canonical name."""
        return self._body_kind.get(name)

    def role(self, role_id: str) -> RoleDef | None:
        return self._roles.get(role_id)

    def titles(self, words: list[str], language: str = "en") -> list[tuple[int, int, RoleDef]]:
        """Titles in a language's tokens; a language roles.yaml has no words for has none."""
        phrases = self._titles.get(language)
        found = _longest(phrases.find(words)) if phrases else []
        return [(a, b, self._title_role[(language, p)]) for a, b, p in found]

    def groups(self, words: list[str], language: str = "en") -> list[tuple[int, int, str]]:
        phrases = self._groups.get(language)
        found = _longest(phrases.find(words)) if phrases else []
        return [(a, b, self._group_kind[(language, p)]) for a, b, p in found]


def _longest(found: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Matches that overlap keep the longest (then the first)."""
    out: list[tuple[int, int, str]] = []
    for a, b, p in sorted(found, key=lambda m: (m[0] - m[1], m[0])):
        if all(b <= x or y <= a for x, y, _ in out):
            out.append((a, b, p))
    return sorted(out)


@lru_cache(maxsize=1)
def load_role_book() -> RoleBook:
    where = "transforms/data/roles.yaml"
    try:
        data = yaml.safe_load(resources.files("transforms").joinpath("data", "roles.yaml").read_text(encoding="utf-8"))
        return RoleBook(RoleData.model_validate(data))
    except (OSError, yaml.YAMLError) as err:
        raise RoleBookError(f"{where}: cannot read: {err}") from None
    except ValidationError as err:
        first = err.errors()[0]
        raise RoleBookError(f"{where}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
