"""Schema version 16: what she makes (the compose and draw skills), apart from
``migrations.py`` only to keep that file readable; the same SQL serves both backends."""

from __future__ import annotations

from os1.storage.db import Connection


def making_schema(id_column: str, time_type: str) -> list[str]:
    """A made thing (``making/works.py``): what it is about and the moment it came from;
    its versions are never rewritten, so "slower" adds one and the first stays. A
    version keeps its source (ABC or SVG text) in the row, so an export carries the piece
    itself; ``character`` is a piece's (JSON), ``plan`` a drawing's composition
    (one element a line); ``files`` names its rendered files in ``artefacts`` by role (JSON)."""
    return [
        f"CREATE TABLE works ({id_column}, user_id TEXT NOT NULL,"
        " kind TEXT NOT NULL CHECK (kind IN ('music', 'drawing')), title TEXT NOT NULL,"
        " about TEXT NOT NULL, moment TEXT NOT NULL DEFAULT '',"
        f" created_at {time_type} NOT NULL)",
        "CREATE INDEX works_by_user ON works(user_id, id)",
        f"CREATE TABLE work_versions ({id_column}, user_id TEXT NOT NULL,"
        " work_id INTEGER NOT NULL REFERENCES works(id), number INTEGER NOT NULL,"
        " request TEXT NOT NULL, her_words TEXT NOT NULL, source TEXT NOT NULL,"
        " character TEXT NOT NULL DEFAULT '', plan TEXT NOT NULL DEFAULT '',"
        " files TEXT NOT NULL DEFAULT '{}',"
        f" created_at {time_type} NOT NULL, UNIQUE (work_id, number))",
        "CREATE INDEX work_versions_by_user ON work_versions(user_id, work_id)",
    ]


def m016_making(db: Connection) -> None:
    for statement in making_schema("id INTEGER PRIMARY KEY", "REAL"):
        db.execute(statement)
