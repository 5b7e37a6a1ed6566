"""Forgetting, thoroughly: which rows a forget takes (every version of the memory and,
recursively, every insight drawn from any of them) and taking them, so that no word of
them is left to be found.

Why apart from memories.py: a forget is the one write that deletes, and what it must
reach (versions, derived insights, the next moment's quoted context, the audit trail's
details) is a walk of its own; the store decides when, this module what.
"""

from __future__ import annotations

import time

from os1.memory.records import record_event
from os1.memory.stored_vectors import marks
from os1.storage.db import Connection, Database


def versions(db: Connection | Database, user_id: str, seeds: set[int]) -> set[int]:
    """All versions connected to ``seeds`` through ``superseded_by``, both ways."""
    chain, frontier = set(seeds), set(seeds)
    while frontier:
        listed = marks(frontier)
        rows = db.execute(
            f"SELECT id FROM memories WHERE user_id = ? AND superseded_by IN ({listed})"
            f" UNION SELECT superseded_by FROM memories WHERE user_id = ?"
            f" AND id IN ({listed}) AND superseded_by IS NOT NULL",
            (user_id, *frontier, user_id, *frontier)).fetchall()
        frontier = {int(r[0]) for r in rows} - chain
        chain |= frontier
    return chain


def doomed_by(tx: Connection, user_id: str, memory_id: int) -> set[int]:
    """The versions of ``memory_id`` plus, recursively, every insight derived from any
    memory already in the set (and that insight's versions)."""
    doomed = versions(tx, user_id, {memory_id})
    while True:
        rows = tx.execute(
            f"SELECT memory_id FROM memory_links WHERE user_id = ?"
            f" AND source_id IN ({marks(doomed)})", (user_id, *doomed)).fetchall()
        derived = {int(r[0]) for r in rows} - doomed
        if not derived:
            return doomed
        doomed |= versions(tx, user_id, derived)


def unquote(tx: Connection, user_id: str, doomed: set[int]) -> None:
    """Blank the context of every memory left that quotes a doomed one (the moment
    after a forgotten moment), so its words aren't found through the next one; the
    update trigger takes them out of the FTS index too."""
    tx.execute(
        f"UPDATE memories SET context = '' WHERE user_id = ? AND context != ''"
        f" AND id NOT IN ({marks(doomed)}) AND EXISTS (SELECT 1 FROM memories AS gone"
        f" WHERE gone.user_id = memories.user_id AND gone.id IN ({marks(doomed)})"
        f" AND instr(memories.context, gone.content) > 0)",
        (user_id, *doomed, *doomed))


def delete(tx: Connection, user_id: str, doomed: set[int]) -> int:
    """Delete the doomed memories and their links; the audit trail keeps only "memory N
    was forgotten at T". Returns how many were deleted."""
    ids, listed, at = tuple(doomed), marks(doomed), time.time()
    tx.execute(f"UPDATE memory_events SET detail = NULL WHERE user_id = ?"
               f" AND memory_id IN ({listed})", (user_id, *ids))
    tx.execute(f"DELETE FROM memory_links WHERE user_id = ? AND (memory_id IN ({listed})"
               f" OR source_id IN ({listed}))", (user_id, *ids, *ids))
    # One statement: versions point at each other, and a foreign key is checked at the
    # end of the statement, when the whole chain is gone.
    cursor = tx.execute(f"DELETE FROM memories WHERE +user_id = ? AND id IN ({listed})",
                        (user_id, *ids))
    for gone in sorted(doomed):
        record_event(tx, user_id, gone, "forgotten", at)
    return int(cursor.rowcount)
