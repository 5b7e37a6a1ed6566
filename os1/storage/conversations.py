"""The conversation log: append-only, every query scoped to one user."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from os1.storage.db import Database, Row

Status = Literal["complete", "interrupted", "failed"]


@dataclass(frozen=True)
class StoredMessage:
    id: int
    session_id: int
    role: Literal["user", "assistant"]
    content: str
    status: Status
    created_at: float
    client_id: str | None = None  # the client's idempotency key for a message it sent


class ConversationLog:
    def __init__(self, db: Database, user_id: str) -> None:
        self._db = db
        self.user_id = user_id

    def start_session(self, client: str) -> int:
        with self._db.transaction() as tx:
            row = tx.execute(
                "INSERT INTO sessions(user_id, client, started_at) VALUES (?,?,?) RETURNING id",
                (self.user_id, client, time.time()),
            ).fetchone()
        return int(row[0])

    def append(
        self,
        session_id: int,
        role: Literal["user", "assistant"],
        content: str,
        status: Status = "complete",
        at: float | None = None,
        client_id: str | None = None,
    ) -> StoredMessage:
        """``client_id``: the sender's key for this message; a second message of this
        user's with the same key raises ``DuplicateError`` and stores nothing."""
        created = time.time() if at is None else at
        with self._db.transaction() as tx:
            owner = tx.execute(
                "SELECT user_id FROM sessions WHERE id = ?", (session_id,)
            ).fetchone()
            if owner is None or owner[0] != self.user_id:
                raise PermissionError(f"session {session_id} does not belong to this user")
            row = tx.execute(
                "INSERT INTO messages(user_id, session_id, role, content, status, created_at,"
                " client_id) VALUES (?,?,?,?,?,?,?) RETURNING id",
                (self.user_id, session_id, role, content, status, created, client_id),
            ).fetchone()
        return StoredMessage(int(row[0]), session_id, role, content, status, created,
                             client_id)

    def by_client_id(self, client_id: str) -> StoredMessage | None:
        """This user's message sent with ``client_id``, if it was stored."""
        row = self._db.execute(
            "SELECT * FROM messages WHERE user_id = ? AND client_id = ?",
            (self.user_id, client_id),
        ).fetchone()
        return None if row is None else _to_message(row)

    def reply_to(self, message_id: int) -> StoredMessage | None:
        """Her reply to this user's message ``message_id``: the message right after it,
        if that is hers (one turn at a time per person, so nothing else comes between)."""
        row = self._db.execute(
            "SELECT * FROM messages WHERE user_id = ? AND id > ? ORDER BY id LIMIT 1",
            (self.user_id, message_id),
        ).fetchone()
        return None if row is None or row["role"] != "assistant" else _to_message(row)

    def recent(self, limit: int) -> list[StoredMessage]:
        """The last ``limit`` messages, oldest first."""
        rows = self._db.execute(
            "SELECT * FROM messages WHERE user_id = ? ORDER BY id DESC LIMIT ?",
            (self.user_id, limit),
        ).fetchall()
        return [_to_message(row) for row in reversed(rows)]

    def since(self, first_id: int, limit: int) -> list[StoredMessage]:
        """Messages with id >= ``first_id``, oldest first; only the newest ``limit``."""
        rows = self._db.execute(
            "SELECT * FROM messages WHERE user_id = ? AND id >= ? ORDER BY id DESC LIMIT ?",
            (self.user_id, first_id, limit),
        ).fetchall()
        return [_to_message(row) for row in reversed(rows)]

    def after(self, message_id: int, limit: int) -> list[StoredMessage]:
        """The first ``limit`` messages with id > ``message_id``, oldest first (how the
        memory worker walks the log)."""
        rows = self._db.execute(
            "SELECT * FROM messages WHERE user_id = ? AND id > ? ORDER BY id LIMIT ?",
            (self.user_id, message_id, limit),
        ).fetchall()
        return [_to_message(row) for row in rows]

    def before(self, message_id: int, limit: int) -> list[StoredMessage]:
        """The ``limit`` messages just before ``message_id``, oldest first."""
        rows = self._db.execute(
            "SELECT * FROM messages WHERE user_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
            (self.user_id, message_id, limit),
        ).fetchall()
        return [_to_message(row) for row in reversed(rows)]

    def by_ids(self, message_ids: Sequence[int]) -> list[StoredMessage]:
        """This user's messages among ``message_ids`` (another's are not found), oldest
        first: where a memory came from."""
        if not message_ids:
            return []
        marks = ",".join("?" * len(message_ids))
        rows = self._db.execute(
            f"SELECT * FROM messages WHERE user_id = ? AND id IN ({marks}) ORDER BY id",
            (self.user_id, *message_ids),
        ).fetchall()
        return [_to_message(row) for row in rows]

    def forget(self, message_ids: list[int]) -> int:
        """Blank these messages ("forget that"): the text goes, the row stays, marked.
        Returns how many of this user's messages were blanked. As with a forgotten
        memory, the old text is then gone from the database's files too, not only from
        its rows: SQLite kept it in the freed space of the page and in the WAL until a
        checkpoint long after."""
        if not message_ids:
            return 0
        marks = ",".join("?" * len(message_ids))
        self._db.prepare_forget()
        with self._db.transaction() as tx:
            cursor = tx.execute(
                f"UPDATE messages SET content = '', forgotten_at = ? WHERE user_id = ?"
                f" AND id IN ({marks})", (time.time(), self.user_id, *message_ids))
        if cursor.rowcount:
            self._db.scrub_forgotten("messages")
        return cursor.rowcount

    def forgotten(self, message_ids: list[int]) -> set[int]:
        """Which of ``message_ids`` were forgotten (or are not this user's)."""
        if not message_ids:
            return set()
        marks = ",".join("?" * len(message_ids))
        live = {int(r[0]) for r in self._db.execute(
            f"SELECT id FROM messages WHERE user_id = ? AND forgotten_at IS NULL"
            f" AND id IN ({marks})", (self.user_id, *message_ids))}
        return set(message_ids) - live

    def all(self) -> list[StoredMessage]:
        rows = self._db.execute(
            "SELECT * FROM messages WHERE user_id = ? ORDER BY id", (self.user_id,)
        ).fetchall()
        return [_to_message(row) for row in rows]

    def last(self) -> StoredMessage | None:
        recent = self.recent(1)
        return recent[0] if recent else None

    def count(self) -> int:
        row = self._db.execute(
            "SELECT COUNT(*) FROM messages WHERE user_id = ?", (self.user_id,)
        ).fetchone()
        return int(row[0])


def _to_message(row: Row) -> StoredMessage:
    return StoredMessage(
        id=row["id"],
        session_id=row["session_id"],
        role=row["role"],
        content=row["content"],
        status=row["status"],
        created_at=row["created_at"],
        client_id=row["client_id"],
    )
