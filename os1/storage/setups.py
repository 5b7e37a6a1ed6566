"""First-run setup records. Redoing setup adds a record; the newest one is in force and
the older ones stay as history (who she was before)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Literal

from os1.storage.db import Database, Row

Voice = Literal["female", "male"]


@dataclass(frozen=True)
class SetupRecord:
    user_name: str
    answers: dict[str, str]
    voice: Voice
    companion_name: str
    name_reason: str
    created_at: float = field(default_factory=time.time)


class SetupStore:
    def __init__(self, db: Database, user_id: str) -> None:
        self._db = db
        self.user_id = user_id

    def save(self, record: SetupRecord) -> None:
        with self._db.transaction() as tx:
            tx.execute(
                "INSERT INTO setups(user_id, created_at, user_name, answers_json, voice,"
                " companion_name, name_reason) VALUES (?,?,?,?,?,?,?)",
                (
                    self.user_id,
                    record.created_at,
                    record.user_name,
                    json.dumps(record.answers, ensure_ascii=False),
                    record.voice,
                    record.companion_name,
                    record.name_reason,
                ),
            )

    def current(self) -> SetupRecord | None:
        history = self.history(limit=1)
        return history[0] if history else None

    def history(self, limit: int = 100) -> list[SetupRecord]:
        """Newest first."""
        rows = self._db.execute(
            "SELECT * FROM setups WHERE user_id = ? ORDER BY id DESC LIMIT ?",
            (self.user_id, limit),
        ).fetchall()
        return [_to_record(row) for row in rows]


def user_name(db: Database, user_id: str) -> str:
    """What the person asked to be called at setup (how a drafted reply is signed): here,
    beside the setups, so a skill's commands need not reach into her mind for it."""
    setup = SetupStore(db, user_id).current()
    return setup.user_name if setup is not None else "the user"


def _to_record(row: Row) -> SetupRecord:
    return SetupRecord(
        user_name=row["user_name"],
        answers=json.loads(row["answers_json"]),
        voice=row["voice"],
        companion_name=row["companion_name"],
        name_reason=row["name_reason"],
        created_at=row["created_at"],
    )
