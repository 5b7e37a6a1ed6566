"""Her memories that have a day (plans he told her, promises of hers), read without the
store's embedder: her own time (os1/life/) looks at them between conversations, where
nothing is searched by meaning and no model needs loading to read a date."""

from __future__ import annotations

from collections.abc import Sequence

from os1.memory.records import COLUMNS, Memory, memory_from_row
from os1.memory.stored_vectors import marks
from os1.storage.db import Database


def dated_memories(db: Database, user_id: str, kinds: Sequence[str], since: float,
                   limit: int = 500) -> list[Memory]:
    """Active memories of ``kinds`` whose day is ``since`` or later, soonest first."""
    if not kinds:
        return []
    rows = db.execute(
        f"SELECT {COLUMNS} FROM memories WHERE user_id = ? AND superseded_by IS NULL"
        f" AND kind IN ({marks(kinds)}) AND event_at >= ? ORDER BY event_at, id LIMIT ?",
        (user_id, *kinds, since, limit)).fetchall()
    return [memory_from_row(row) for row in rows]
