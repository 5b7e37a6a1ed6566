"""Schema migrations, applied in order and recorded in ``schema_migrations``.

Append new functions at the end; never edit one that has shipped. Every table that holds
something of a person's carries ``user_id`` so that isolation lives in storage.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable


def m001_conversations(db: sqlite3.Connection) -> None:
    db.execute(
        "CREATE TABLE sessions ("
        " id INTEGER PRIMARY KEY, user_id TEXT NOT NULL, client TEXT NOT NULL,"
        " started_at REAL NOT NULL)"
    )
    db.execute(
        "CREATE TABLE messages ("
        " id INTEGER PRIMARY KEY, user_id TEXT NOT NULL,"
        " session_id INTEGER NOT NULL REFERENCES sessions(id),"
        " role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),"
        " content TEXT NOT NULL,"
        " status TEXT NOT NULL CHECK (status IN ('complete', 'interrupted', 'failed')),"
        " created_at REAL NOT NULL)"
    )
    db.execute("CREATE INDEX messages_by_user ON messages(user_id, id)")


def m002_setup(db: sqlite3.Connection) -> None:
    db.execute(
        "CREATE TABLE setups ("
        " id INTEGER PRIMARY KEY, user_id TEXT NOT NULL, created_at REAL NOT NULL,"
        " user_name TEXT NOT NULL, answers_json TEXT NOT NULL, voice TEXT NOT NULL,"
        " companion_name TEXT NOT NULL, name_reason TEXT NOT NULL)"
    )
    db.execute("CREATE INDEX setups_by_user ON setups(user_id, id)")


Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = [m001_conversations, m002_setup]
