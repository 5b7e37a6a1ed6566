"""Schema version 17: her own time (os1/life/), apart from ``migrations.py`` only to keep
that file readable; the same SQL serves both backends."""

from __future__ import annotations

from os1.storage.db import Connection


def life_schema(id_column: str, time_type: str) -> list[str]:
    """His rules for her time (JSON, the defaults until he sets one); every message she
    started, with why (``reason_key`` is unique per person: no reason twice) and the memory
    it came from, undelivered until he sees it; and what she did with her time and what it
    cost (``model_s``: seconds of model time)."""
    return [
        "CREATE TABLE life_rules (user_id TEXT PRIMARY KEY, rules TEXT NOT NULL,"
        f" updated_at {time_type} NOT NULL)",
        f"CREATE TABLE outreach ({id_column}, user_id TEXT NOT NULL,"
        " reason_key TEXT NOT NULL, kind TEXT NOT NULL, text TEXT NOT NULL,"
        f" memory_id INTEGER, created_at {time_type} NOT NULL, delivered_at {time_type},"
        " UNIQUE (user_id, reason_key))",
        "CREATE INDEX outreach_by_user ON outreach(user_id, id)",
        f"CREATE TABLE life_log ({id_column}, user_id TEXT NOT NULL, at {time_type} NOT NULL,"
        " what TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '',"
        " model_s REAL NOT NULL DEFAULT 0)",
        "CREATE INDEX life_log_by_user ON life_log(user_id, at)",
    ]


def m017_life(db: Connection) -> None:
    for statement in life_schema("id INTEGER PRIMARY KEY", "REAL"):
        db.execute(statement)
