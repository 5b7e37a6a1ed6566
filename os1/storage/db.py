"""The embedded SQLite database: WAL mode, ordered migrations recorded in a table.

Why WAL and FULL sync: a second ``os1`` process may read while the first writes, and a
message the user saw acknowledged must survive a crash or power cut.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from os1.errors import StorageError
from os1.storage.migrations import MIGRATIONS

BUSY_TIMEOUT_S = 30.0


class Database:
    """One connection to the user's database; create with ``Database.open``."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self.connection = connection
        self.path = path

    @classmethod
    def open(cls, path: Path, migrate: bool = True) -> Database:
        """``migrate=False``: a reader of a database already migrated by its opener (it
        skips the migration check, which takes the write lock for a moment)."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
            connection.execute("PRAGMA foreign_keys=ON")
            database = cls(connection, path)
            if migrate:
                database.migrate()
        except sqlite3.DatabaseError as exc:
            raise StorageError(
                f"Can't open the database at {path}: {exc}.",
                "If the file is damaged, move it aside (os1 starts a new one) and keep the copy.",
            ) from exc
        except OSError as exc:
            raise StorageError(f"Can't create the data directory {path.parent}: {exc}.") from exc
        return database

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that takes the write lock up front, so two processes
        never interleave half-done writes (the second waits up to BUSY_TIMEOUT_S)."""
        try:
            self.connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StorageError(
                f"The database {self.path} stayed locked for {BUSY_TIMEOUT_S:.0f} s: {exc}.",
                "Another os1 process is writing; try again in a moment.",
            ) from exc
        try:
            yield self.connection
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        else:
            self.connection.execute("COMMIT")

    def schema_version(self) -> int:
        row = self.connection.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    def migrate(self) -> None:
        self.connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
        )
        with self.transaction() as tx:
            row = tx.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
            current = int(row[0] or 0)
            if current > len(MIGRATIONS):
                raise StorageError(
                    f"The database {self.path} has schema version {current}, newer than this "
                    f"os1 understands ({len(MIGRATIONS)}).",
                    "Upgrade os1 to open it.",
                )
            for version, migration in enumerate(MIGRATIONS, start=1):
                if version > current:
                    migration(tx)
                    tx.execute(
                        "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?,?,?)",
                        (version, migration.__name__, time.time()),
                    )

    def close(self) -> None:
        self.connection.close()
