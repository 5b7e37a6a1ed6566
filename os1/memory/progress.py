"""How far each stage of the background worker got, per person (a column of
memory_progress): messages kept as moments, messages whose memories were extracted,
memories reflected upon.

Why apart from memories.py: the marks are the worker's bookkeeping, not memories; they
are written in the same transaction as what a stage stored (so a crash never stores
memories without the mark, nor the mark without them), which is all the store has to
know of them.
"""

from __future__ import annotations

from os1.storage.db import Connection, Database

STAGES = {"moments": "last_moment_id", "extracted": "last_message_id",
          "reflected": "last_reflected_id"}


def mark(tx: Connection, user_id: str, up_to: int, stage: str) -> None:
    """``stage`` is done up to id ``up_to``; a mark never goes back."""
    column = _column(stage)
    tx.execute(
        f"INSERT INTO memory_progress(user_id, {column}) VALUES (?, ?)"
        f" ON CONFLICT(user_id) DO UPDATE SET {column} = CASE WHEN"
        f" excluded.{column} > memory_progress.{column} THEN excluded.{column}"
        f" ELSE memory_progress.{column} END",
        (user_id, up_to))


def done_up_to(db: Database, user_id: str, stage: str) -> int:
    """The last id ``stage`` has done for ``user_id`` (0: none)."""
    row = db.execute(f"SELECT {_column(stage)} FROM memory_progress WHERE user_id = ?",
                     (user_id,)).fetchone()
    return 0 if row is None else int(row[0])


def _column(stage: str) -> str:
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; one of {sorted(STAGES)}")
    return STAGES[stage]
