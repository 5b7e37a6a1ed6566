"""Schema version 15: his letters (the letters skill), apart from ``migrations.py`` only
to keep that file readable; the same SQL serves both backends (ids and times differ)."""

from __future__ import annotations

from os1.storage.db import Connection


def letters_schema(id_column: str, time_type: str) -> list[str]:
    """His letters (``letters/library.py``): a letter's text lives only in its versions,
    which are never rewritten, so an edit or her accepted suggestions add a version and
    nothing he wrote is lost. ``letter_edits`` are her suggestions on one version, each
    waiting for his yes or no; ``letter_rejections`` the changes he said no to, which she
    does not suggest again."""
    return [
        f"CREATE TABLE letters ({id_column}, user_id TEXT NOT NULL, title TEXT NOT NULL,"
        " written_for TEXT NOT NULL DEFAULT '', chosen INTEGER NOT NULL DEFAULT 0,"
        " chosen_reason TEXT NOT NULL DEFAULT '',"
        f" created_at {time_type} NOT NULL)",
        "CREATE INDEX letters_by_user ON letters(user_id, id)",
        f"CREATE TABLE letter_versions ({id_column}, user_id TEXT NOT NULL,"
        " letter_id INTEGER NOT NULL REFERENCES letters(id), number INTEGER NOT NULL,"
        f" text TEXT NOT NULL, note TEXT NOT NULL, created_at {time_type} NOT NULL,"
        " UNIQUE (letter_id, number))",
        "CREATE INDEX letter_versions_by_user ON letter_versions(user_id, letter_id)",
        f"CREATE TABLE letter_edits ({id_column}, user_id TEXT NOT NULL,"
        " letter_id INTEGER NOT NULL REFERENCES letters(id), version INTEGER NOT NULL,"
        " number INTEGER NOT NULL, start_at INTEGER NOT NULL, end_at INTEGER NOT NULL,"
        " original TEXT NOT NULL, replacement TEXT NOT NULL, kind TEXT NOT NULL,"
        " reason TEXT NOT NULL, source TEXT NOT NULL,"
        " decision TEXT NOT NULL DEFAULT '' CHECK (decision IN ('', 'accepted', 'rejected')),"
        f" created_at {time_type} NOT NULL)",
        "CREATE INDEX letter_edits_by_user ON letter_edits(user_id, letter_id)",
        f"CREATE TABLE letter_rejections ({id_column}, user_id TEXT NOT NULL,"
        " original TEXT NOT NULL, replacement TEXT NOT NULL, kind TEXT NOT NULL,"
        f" created_at {time_type} NOT NULL, UNIQUE (user_id, original, replacement))",
    ]


def m015_letters(db: Connection) -> None:
    for statement in letters_schema("id INTEGER PRIMARY KEY", "REAL"):
        db.execute(statement)
