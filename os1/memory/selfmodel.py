"""Her self-model: traits, interests, opinions and wants, one versioned history per person
she knows in ``os1 chat`` (a relationship shapes her, and stays private to it); on a
server, one for everyone (``shared_self``).

Why versions and not an updated row: "how have you changed?" is a question she should be
able to answer, and ``os1 self --history`` shows each change with its reason and the
insights it came from.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, fields

from os1.data import read_toml
from os1.storage.db import Database, Row

MAX_ITEMS = 6
MAX_ITEM_CHARS = 160
ASPECTS = ("traits", "interests", "opinions", "wants")


@dataclass(frozen=True)
class SelfModel:
    traits: tuple[str, ...] = ()
    interests: tuple[str, ...] = ()
    opinions: tuple[str, ...] = ()
    wants: tuple[str, ...] = ()

    @classmethod
    def from_mapping(cls, data: object) -> SelfModel:
        """Lenient: unknown keys, non-lists and blank items are dropped, lists are capped,
        so a model's sloppy JSON can't store a broken self."""
        source = data if isinstance(data, dict) else {}
        return cls(**{aspect: _items(source.get(aspect)) for aspect in ASPECTS})

    @classmethod
    def seed(cls) -> SelfModel:
        return cls.from_mapping(read_toml("self.toml"))

    def as_lines(self) -> str:
        """The five-line form the model reads and writes (see prompts/grow.txt)."""
        return "\n".join(f"{aspect.capitalize()}: {'; '.join(getattr(self, aspect))}"
                         for aspect in ASPECTS)

    def to_json(self) -> str:
        return json.dumps({f.name: list(getattr(self, f.name)) for f in fields(self)})

    def describe(self) -> str:
        """First-person lines for her system prompt."""
        parts = [("I am", self.traits), ("Lately I'm interested in", self.interests),
                 ("I believe", self.opinions), ("I want", self.wants)]
        return "\n".join(f"{lead}: {'; '.join(items)}." for lead, items in parts if items)

    def changes_from(self, before: SelfModel) -> list[str]:
        """What is new ("+ interests: jazz") and what went ("- traits: shy")."""
        out: list[str] = []
        for aspect in ASPECTS:
            old, new = getattr(before, aspect), getattr(self, aspect)
            out += [f"+ {aspect}: {item}" for item in new if item not in old]
            out += [f"- {aspect}: {item}" for item in old if item not in new]
        return out


@dataclass(frozen=True)
class SelfVersion:
    id: int
    created_at: float
    model: SelfModel
    reason: str
    sources: tuple[int, ...]


class SelfHistory:
    """The versions of her self-model for one user; version 1 is the seed from
    ``self.toml``, written the first time it is asked for."""

    def __init__(self, db: Database, user_id: str,
                 clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self.user_id = user_id
        self._clock = clock

    def current(self) -> SelfVersion:
        row = self._db.execute(
            "SELECT * FROM self_versions WHERE user_id = ? ORDER BY id DESC LIMIT 1",
            (self.user_id,)).fetchone()
        if row is None:
            return self._write(SelfModel.seed(), "Who I was when we met.", ())
        return _to_version(row)

    def history(self) -> list[SelfVersion]:
        self.current()
        rows = self._db.execute(
            "SELECT * FROM self_versions WHERE user_id = ? ORDER BY id", (self.user_id,))
        return [_to_version(r) for r in rows]

    def update(self, model: SelfModel, reason: str, sources: tuple[int, ...]) -> SelfVersion | None:
        """A new version if ``model`` differs from the current one, else None."""
        if model == self.current().model or not any(getattr(model, a) for a in ASPECTS):
            return None
        return self._write(model, " ".join(reason.split())[:500] or "I changed.", sources)

    def _write(self, model: SelfModel, reason: str, sources: tuple[int, ...]) -> SelfVersion:
        at = self._clock()
        with self._db.transaction() as tx:
            row = tx.execute(
                "INSERT INTO self_versions(user_id, created_at, model_json, reason, source_ids)"
                " VALUES (?,?,?,?,?) RETURNING id",
                (self.user_id, at, model.to_json(), reason, json.dumps(list(sources)))).fetchone()
        return SelfVersion(int(row[0]), at, model, reason, sources)


def _items(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    cleaned = (" ".join(str(v).split())[:MAX_ITEM_CHARS] for v in value)
    return tuple(dict.fromkeys(c for c in cleaned if c))[:MAX_ITEMS]


def _to_version(row: Row) -> SelfVersion:
    return SelfVersion(int(row["id"]), float(row["created_at"]),
                       SelfModel.from_mapping(json.loads(row["model_json"])), str(row["reason"]),
                       tuple(int(s) for s in json.loads(row["source_ids"])))
