"""The log of everything she does outside os1 on the user's behalf (send a mail, move
mail to Trash, create an event). An action is logged when she proposes it, before the
user confirms, so the log shows what was offered as well as what was done; the exact
thing confirmed (recipients, text, message ids) is kept in ``detail``, which is also
what an undo works from.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from os1.errors import InputError
from os1.storage.db import Database, Row

Status = Literal["proposed", "done", "failed", "declined", "undone"]
# Which moves are allowed: an action is settled once, and only a done one is undone.
_MOVES: dict[str, tuple[str, ...]] = {
    "done": ("proposed",), "failed": ("proposed",), "declined": ("proposed",),
    "undone": ("done",),
}


@dataclass(frozen=True)
class Action:
    id: int
    kind: str
    summary: str
    status: Status
    detail: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    created_at: float = 0.0
    updated_at: float = 0.0


class ActionLog:
    def __init__(self, db: Database, user_id: str) -> None:
        self._db = db
        self.user_id = user_id

    def propose(self, kind: str, summary: str, detail: dict[str, Any]) -> Action:
        now = time.time()
        with self._db.transaction() as tx:
            row = tx.execute(
                "INSERT INTO actions(user_id, kind, summary, detail, status, created_at,"
                " updated_at) VALUES (?,?,?,?,'proposed',?,?) RETURNING id",
                (self.user_id, kind, summary, json.dumps(detail), now, now)).fetchone()
        return self.get(int(row[0]))

    def settle(self, action_id: int, status: Status, error: str = "",
               detail: dict[str, Any] | None = None) -> Action:
        """Move an action on (proposed -> done/failed/declined, done -> undone); a move
        that isn't allowed (confirming twice, undoing what never happened) is refused."""
        action = self.get(action_id)
        if action.status not in _MOVES[status]:
            raise InputError(f"Action {action_id} is {action.status}; it can't become "
                             f"{status}.")
        with self._db.transaction() as tx:
            tx.execute("UPDATE actions SET status = ?, error = ?, detail = ?, updated_at = ?"
                       " WHERE user_id = ? AND id = ? AND status = ?",
                       (status, error, json.dumps(detail if detail is not None
                                                  else action.detail),
                        time.time(), self.user_id, action_id, action.status))
        return self.get(action_id)

    def get(self, action_id: int) -> Action:
        row = self._db.execute("SELECT * FROM actions WHERE user_id = ? AND id = ?",
                               (self.user_id, action_id)).fetchone()
        if row is None:
            raise InputError(f"There is no action {action_id}.",
                             "See what she has done with: os1 actions")
        return _to_action(row)

    def recent(self, limit: int = 50, kind: str | None = None) -> list[Action]:
        """Newest first."""
        sql, args = "SELECT * FROM actions WHERE user_id = ?", [self.user_id]
        if kind is not None:
            sql, args = sql + " AND kind = ?", [*args, kind]
        rows = self._db.execute(sql + " ORDER BY id DESC LIMIT ?",
                                (*args, max(0, limit))).fetchall()
        return [_to_action(r) for r in rows]


def _to_action(row: Row) -> Action:
    return Action(int(row["id"]), row["kind"], row["summary"], row["status"],
                  json.loads(row["detail"]), row["error"], float(row["created_at"]),
                  float(row["updated_at"]))
