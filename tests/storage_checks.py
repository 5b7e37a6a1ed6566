"""Looks behind the stores, at what the database itself holds, on either backend."""

from __future__ import annotations

from os1.storage.db import Database
from os1.storage.sqlite import SQLiteDatabase


def fts_hits(db: Database, word: str) -> list[int]:
    """What the full-text index itself holds (SQLite's FTS5 table, PostgreSQL's tsvector)."""
    sql = ("SELECT rowid FROM memories_fts WHERE memories_fts MATCH ?" if db.backend == "sqlite"
           else "SELECT id FROM memories WHERE search @@ plainto_tsquery('english', ?)")
    return sorted(int(r[0]) for r in db.execute(sql, (f'"{word}"',)))


def dump(db: Database) -> str:
    """Every row of every table, as text."""
    if isinstance(db, SQLiteDatabase):
        return "\n".join(db.connection.iterdump())
    tables = [r[0] for r in db.execute("SELECT table_name FROM information_schema.tables"
                                       " WHERE table_schema = current_schema()")]
    return "\n".join(str(r[0]) for table in tables
                     for r in db.execute(f"SELECT CAST(t AS TEXT) FROM {table} AS t"))
