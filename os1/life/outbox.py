"""The messages she started, per person: written when she decides, said when he next
comes (instead of the chat's greeting), each with the reason it was sent.

Why a table of its own and a unique reason: "no same reason twice" is then the database's
rule, not the model's memory, and it holds across restarts and server workers. A message
whose memory has been forgotten since is dropped before it is shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from os1.life.reasons import Reason
from os1.mind.companion import Companion
from os1.mind.turn import Turn
from os1.storage.db import Database, DuplicateError, Row

COLUMNS = "id, reason_key, kind, text, memory_id, created_at, delivered_at"


@dataclass(frozen=True)
class Outreach:
    id: int
    reason_key: str
    kind: str
    text: str
    memory_id: int | None
    created_at: float
    delivered_at: float | None


class Outbox:
    def __init__(self, db: Database, user_id: str) -> None:
        self._db = db
        self.user_id = user_id

    def add(self, reason: Reason, text: str, at: float) -> Outreach | None:
        """The message for ``reason``; None when that reason was acted on before."""
        try:
            with self._db.transaction() as tx:
                row = tx.execute(
                    "INSERT INTO outreach (user_id, reason_key, kind, text, memory_id,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                    (self.user_id, reason.key, reason.kind, text, reason.memory_id, at),
                ).fetchone()
        except DuplicateError:
            return None
        return Outreach(int(row[0]), reason.key, reason.kind, text, reason.memory_id, at,
                        None)

    def acted_on(self, key: str) -> bool:
        return self._db.execute("SELECT 1 FROM outreach WHERE user_id = ? AND reason_key = ?",
                                (self.user_id, key)).fetchone() is not None

    def started_since(self, since: float) -> int:
        return int(self._db.execute(
            "SELECT COUNT(*) FROM outreach WHERE user_id = ? AND created_at >= ?",
            (self.user_id, since)).fetchone()[0])

    def pending(self) -> list[Outreach]:
        """Undelivered messages, oldest first; any whose memory is gone is deleted."""
        with self._db.transaction() as tx:
            tx.execute(
                "DELETE FROM outreach WHERE user_id = ? AND delivered_at IS NULL"
                " AND memory_id IS NOT NULL AND memory_id NOT IN (SELECT id FROM memories"
                " WHERE user_id = ? AND superseded_by IS NULL)", (self.user_id, self.user_id))
        return self._read("AND delivered_at IS NULL ORDER BY id")

    def delivered(self, ids: list[int], at: float) -> None:
        with self._db.transaction() as tx:
            for outreach_id in ids:
                tx.execute("UPDATE outreach SET delivered_at = ? WHERE user_id = ? AND id = ?"
                           " AND delivered_at IS NULL", (at, self.user_id, outreach_id))

    def recent(self, limit: int = 20) -> list[Outreach]:
        """The newest, newest first."""
        return self._read(f"ORDER BY id DESC LIMIT {int(limit)}")

    def _read(self, rest: str) -> list[Outreach]:
        rows = self._db.execute(f"SELECT {COLUMNS} FROM outreach WHERE user_id = ? {rest}",
                                (self.user_id,)).fetchall()
        return [_outreach(row) for row in rows]


def _outreach(row: Row) -> Outreach:
    return Outreach(int(row[0]), str(row[1]), str(row[2]), str(row[3]),
                    None if row[4] is None else int(row[4]), float(row[5]),
                    None if row[6] is None else float(row[6]))


def said_on_arrival(companion: Companion, outbox: Outbox, now: float) -> Turn | None:
    """What she wrote while he was away, said as he comes back (instead of a greeting),
    and marked delivered; None when nothing waits."""
    waiting = outbox.pending()
    if not waiting:
        return None
    outbox.delivered([o.id for o in waiting], now)
    return companion.say_first(" ".join(o.text for o in waiting))
