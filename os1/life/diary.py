"""What she did with her own time and what it cost, per person: the record ``os1 life``
shows, and the ledger her budget is kept by (model seconds spent since his midnight).

Why every decision is written here, a "not now" too: he can see why she did or didn't
message him, and none of it ever reaches a conversation.
"""

from __future__ import annotations

from dataclasses import dataclass

from os1.storage.db import Database

MAX_DETAIL_CHARS = 500


@dataclass(frozen=True)
class Entry:
    at: float
    what: str
    detail: str
    model_s: float


class LifeLog:
    def __init__(self, db: Database, user_id: str) -> None:
        self._db = db
        self.user_id = user_id

    def add(self, what: str, detail: str, at: float, model_s: float = 0.0) -> None:
        with self._db.transaction() as tx:
            tx.execute("INSERT INTO life_log (user_id, at, what, detail, model_s)"
                       " VALUES (?, ?, ?, ?, ?)",
                       (self.user_id, at, what, detail[:MAX_DETAIL_CHARS], model_s))

    def spent_since(self, since: float) -> float:
        """Model seconds spent from ``since`` on."""
        row = self._db.execute("SELECT COALESCE(SUM(model_s), 0) FROM life_log"
                               " WHERE user_id = ? AND at >= ?", (self.user_id, since)).fetchone()
        return float(row[0])

    def recent(self, limit: int = 20) -> list[Entry]:
        """The newest, newest first."""
        rows = self._db.execute(
            "SELECT at, what, detail, model_s FROM life_log WHERE user_id = ?"
            f" ORDER BY at DESC, id DESC LIMIT {int(limit)}", (self.user_id,)).fetchall()
        return [Entry(float(r[0]), str(r[1]), str(r[2]), float(r[3])) for r in rows]
