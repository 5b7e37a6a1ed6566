"""Which people her memory has work for on a server, and which worker does it.

Several ``os1 serve`` workers may share one PostgreSQL database; two writing the same
person's memories at once would store every moment twice, so a worker first claims the
person (a lease in ``memory_claims`` that lapses at ``until``: a worker that died frees
its people by itself).
"""

from __future__ import annotations

import time

from os1.storage.accounts import ACCOUNT_PREFIX
from os1.storage.db import Database


def people_behind(db: Database) -> list[str]:
    """The user ids of the accounts with messages her memory has not yet read (said
    before a crash or a restart)."""
    rows = db.execute(
        "SELECT DISTINCT m.user_id FROM messages AS m"
        " LEFT JOIN memory_progress AS p ON p.user_id = m.user_id"
        " WHERE m.user_id LIKE ? AND m.id > COALESCE(p.last_message_id, 0)",
        (ACCOUNT_PREFIX + "%",)).fetchall()
    return [str(row[0]) for row in rows]


def claim(db: Database, user_id: str, holder: str, until: float) -> bool:
    """Take (or renew) the right to write ``user_id``'s memories until ``until``; False
    while another holder's claim lasts."""
    with db.transaction() as tx:
        cursor = tx.execute(
            "INSERT INTO memory_claims(user_id, holder, until) VALUES (?,?,?)"
            " ON CONFLICT(user_id) DO UPDATE SET holder = excluded.holder,"
            " until = excluded.until WHERE memory_claims.holder = excluded.holder"
            " OR memory_claims.until < ?", (user_id, holder, until, time.time()))
        return cursor.rowcount == 1


def release(db: Database, user_id: str, holder: str) -> None:
    """Give ``user_id`` up, if ``holder`` still holds them."""
    with db.transaction() as tx:
        tx.execute("DELETE FROM memory_claims WHERE user_id = ? AND holder = ?",
                   (user_id, holder))
