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
BodyKind = Literal["international_body", "government", "party"]


class RoleBookError(ValueError):
    """roles.yaml cannot be used; the message says where and why."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RoleDef(_Model):
    role: str = Field(pattern=r"^[a-z][a-z_]*$")
    kinds: tuple[RoleKind, ...] = Field(min_length=1)
    titles: tuple[str, ...] = Field(min_length=1)

    @property
    def stands_alone(self) -> bool:
        """A title without a name is an actor only for senior roles: "the minister", not "the general"."""
        return "senior" in self.kinds


class GroupDef(_Model):
    kind: GroupKind
    words: tuple[str, ...] = Field(min_length=1)


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
        self._titles = Phrases(tuple(t for r in data.roles for t in r.titles), irregular or {})
        self._title_role = {t: r for r in data.roles for t in r.titles}
        self._groups = Phrases(tuple(w for g in data.groups for w in g.words), irregular or {})
        self._group_kind = {w: g.kind for g in data.groups for w in g.words}
        self._body_kind = {name: kind for kind, names in data.bodies.items() for name in names}

    def body_kind(self, name: str) -> str | None:
        """What a gazetteer organization is (international_body, government, party), by its canonical name."""
        return self._body_kind.get(name)

    def role(self, role_id: str) -> RoleDef | None:
        return self._roles.get(role_id)

    def titles(self, words: list[str], lo: int = 0, hi: int | None = None) -> list[tuple[int, int, RoleDef]]:
        return [(a, b, self._title_role[p]) for a, b, p in _longest(self._titles.find(words, lo, hi))]

    def groups(self, words: list[str]) -> list[tuple[int, int, str]]:
        return [(a, b, self._group_kind[p]) for a, b, p in _longest(self._groups.find(words))]


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
